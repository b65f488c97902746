//! Working orders: create, list shape, fill via `set_price`, amend, delete and expiry.

use crate::client::{dec, login, num, start};
use chrono::TimeDelta;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_limit_order_fills_when_the_price_crosses_it() {
    let fake = start().await;
    let c = login(&fake).await;
    let confirm = c
        .deal(
            "/workingorders",
            json!({ "epic": "GOLD", "direction": "BUY", "size": 1, "level": 2000, "type": "LIMIT",
                    "stopLevel": 1990, "profitLevel": 2050 }),
        )
        .await;
    assert_eq!(
        (confirm["dealStatus"].as_str(), confirm["status"].as_str()),
        (Some("ACCEPTED"), Some("OPEN"))
    );
    let order_id = confirm["dealId"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        confirm["affectedDeals"],
        json!([{ "dealId": order_id, "status": "OPENED" }])
    );

    let (status, body) = c.get("/workingorders").await;
    assert_eq!(status, 200);
    let entry = &body["workingOrders"][0];
    let data = &entry["workingOrderData"];
    assert_eq!(data["dealId"], order_id.as_str());
    assert_eq!(
        (data["direction"].as_str(), data["orderType"].as_str()),
        (Some("BUY"), Some("LIMIT"))
    );
    assert_eq!(
        (num(&data["orderSize"]), num(&data["orderLevel"])),
        (dec("1"), dec("2000"))
    );
    assert_eq!(data["timeInForce"], "GOOD_TILL_CANCELLED");
    assert_eq!(
        (num(&data["stopDistance"]), num(&data["profitDistance"])),
        (dec("-10"), dec("50"))
    );
    assert_eq!(data["currencyCode"], "USD");
    assert!(data.get("goodTillDate").is_none());
    assert_eq!(entry["marketData"]["epic"], "GOLD");

    // Not crossed yet: the offer stays above 2000.
    fake.set_price("GOLD", dec("2010.00"), dec("2010.30"));
    assert_eq!(fake.working_orders("ACC-NET").len(), 1);
    fake.set_price("GOLD", dec("1999.40"), dec("1999.70"));
    assert!(fake.working_orders("ACC-NET").is_empty());
    let held = fake.positions("ACC-NET");
    assert_eq!(held.len(), 1);
    assert_eq!(
        (held[0].level, held[0].stop_level, held[0].profit_level),
        (dec("1999.70"), Some(dec("1990")), Some(dec("2050")))
    );
    let p = &c.get("/positions").await.1["positions"][0]["position"];
    assert_eq!(p["workingOrderId"], order_id.as_str());

    let activity = c.get(&format!("/history/activity?dealId={order_id}")).await.1;
    let statuses: Vec<&str> = activity["activities"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["status"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(statuses, vec!["EXECUTED", "ACCEPTED"]);
}

#[tokio::test]
async fn stop_orders_and_sells_fill_on_their_side() {
    let fake = start().await;
    let c = login(&fake).await;
    c.switch("ACC-HEDGE").await;
    let order = |dir: &str, kind: &str, level: &str| json!({ "epic": "EURUSD", "direction": dir, "size": 1000, "level": dec(level), "type": kind });
    for body in [
        order("BUY", "STOP", "1.0900"),
        order("SELL", "LIMIT", "1.0900"),
        order("SELL", "STOP", "1.0800"),
        order("BUY", "LIMIT", "1.0800"),
    ] {
        assert_eq!(c.deal("/workingorders", body).await["dealStatus"], "ACCEPTED");
    }
    fake.set_price("EURUSD", dec("1.09000"), dec("1.09006"));
    let left: Vec<(String, String)> = fake
        .working_orders("ACC-HEDGE")
        .into_iter()
        .map(|o| (o.direction, o.order_type))
        .collect();
    assert_eq!(
        left,
        vec![("SELL".into(), "STOP".into()), ("BUY".into(), "LIMIT".into())]
    );
    fake.set_price("EURUSD", dec("1.07990"), dec("1.07996"));
    assert!(fake.working_orders("ACC-HEDGE").is_empty());
    assert_eq!(fake.positions("ACC-HEDGE").len(), 4);
}

#[tokio::test]
async fn amend_delete_and_expiry() {
    let fake = start().await;
    let c = login(&fake).await;
    let past = (fake.now() - TimeDelta::hours(1))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let soon = (fake.now() + TimeDelta::hours(1))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let base = json!({ "epic": "AAPL", "direction": "SELL", "size": 2, "level": 190, "type": "LIMIT" });
    let with = |key: &str, value: serde_json::Value| {
        let mut b = base.clone();
        b[key] = value;
        b
    };
    let (status, body) = c.post("/workingorders", with("goodTillDate", json!(past))).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.not-in-future.goodTillDate"))
    );
    let (status, body) = c
        .post("/workingorders", with("goodTillDate", json!("2030-01-01")))
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.invalid.goodTillDate"))
    );
    let (status, body) = c.post("/workingorders", with("type", json!("MARKET"))).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.invalid.type"))
    );
    let mut no_level = base.clone();
    no_level.as_object_mut().map(|o| o.remove("level"));
    let (status, body) = c.post("/workingorders", no_level).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.null.level"))
    );

    let created = c.deal("/workingorders", with("goodTillDate", json!(soon))).await;
    let id = created["dealId"].as_str().unwrap_or_default().to_string();
    let data = c.get("/workingorders").await.1["workingOrders"][0]["workingOrderData"].clone();
    assert_eq!(data["timeInForce"], "GOOD_TILL_DATE");
    assert_eq!(data["goodTillDateUTC"], format!("{soon}.000"));

    let (status, answer) = c
        .put(
            &format!("/workingorders/{id}"),
            json!({ "level": 191, "stopDistance": 4 }),
        )
        .await;
    assert_eq!(status, 200);
    assert!(answer["dealReference"]
        .as_str()
        .is_some_and(|r| r.starts_with("o_")));
    assert_eq!(c.confirm(&answer["dealReference"]).await["status"], "AMENDED");
    let held = fake.working_orders("ACC-NET");
    assert_eq!(
        (held[0].level, held[0].stop_level),
        (dec("191"), Some(dec("195")))
    );
    assert_eq!(held[0].good_till_date.as_deref(), Some(soon.as_str()));

    // Past its goodTillDate on the fake clock, the order is gone.
    fake.advance_clock(Duration::from_secs(2 * 3600));
    let c = login(&fake).await;
    assert_eq!(c.get("/workingorders").await.1["workingOrders"], json!([]));
    let expired = c.get(&format!("/history/activity?dealId={id}")).await.1;
    assert_eq!(expired["activities"][0]["status"], "EXPIRED");

    let created = c.deal("/workingorders", base.clone()).await;
    let id = created["dealId"].as_str().unwrap_or_default().to_string();
    let (status, answer) = c.delete(&format!("/workingorders/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(c.confirm(&answer["dealReference"]).await["status"], "DELETED");
    let (status, body) = c.delete(&format!("/workingorders/{id}")).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("error.not-found.dealId"))
    );
    let (status, _) = c
        .put(&format!("/workingorders/{id}"), json!({ "level": 191 }))
        .await;
    assert_eq!(status, 404);
}
