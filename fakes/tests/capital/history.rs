//! Activity and transaction history: shapes, order, windows and filters.

use crate::client::{dec, login, num, start};
use serde_json::{json, Value};
use std::time::Duration;

fn list(body: &Value, key: &str) -> Vec<Value> {
    body[key].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn activity_has_the_documented_shape_newest_first() {
    let fake = start().await;
    let c = login(&fake).await;
    let opened = c
        .deal(
            "/positions",
            json!({ "epic": "GOLD", "direction": "BUY", "size": 1, "profitLevel": 2100 }),
        )
        .await;
    let id = opened["affectedDeals"][0]["dealId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    fake.advance_clock(Duration::from_secs(5));
    c.delete(&format!("/positions/{id}")).await;

    let plain = c.get("/history/activity").await.1;
    let acts = list(&plain, "activities");
    assert_eq!(acts.len(), 2);
    let keys = |v: &Value| {
        let mut k: Vec<String> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(
        keys(&acts[0]),
        ["date", "dateUTC", "dealId", "epic", "source", "status", "type"]
    );
    assert!(
        acts[0]["dateUTC"].as_str() > acts[1]["dateUTC"].as_str(),
        "newest first"
    );
    assert_eq!(
        (acts[0]["type"].as_str(), acts[0]["status"].as_str()),
        (Some("POSITION"), Some("ACCEPTED"))
    );
    assert_eq!(acts[0]["source"], "USER");
    assert_ne!(acts[0]["date"], acts[0]["dateUTC"]);

    let detailed = c
        .get(&format!("/history/activity?detailed=true&dealId={id}"))
        .await
        .1;
    let acts = list(&detailed, "activities");
    assert_eq!(acts.len(), 2);
    let open = &acts[1]["details"];
    assert_eq!(open["dealReference"], format!("p_{id}"));
    assert_eq!(open["marketName"], "Gold");
    assert_eq!(open["currency"], "USD");
    assert_eq!(
        (num(&open["size"]), open["direction"].as_str()),
        (dec("1"), Some("BUY"))
    );
    assert_eq!(num(&open["level"]), dec("2034.82"));
    assert_eq!(open["guaranteedStop"], false);
    assert_eq!(num(&open["profitLevel"]), dec("2100"));
    let close = &acts[0]["details"];
    assert_eq!(
        (close["direction"].as_str(), num(&close["level"])),
        (Some("SELL"), dec("2034.52"))
    );
}

#[tokio::test]
async fn activity_windows_and_filters() {
    let fake = start().await;
    let c = login(&fake).await;
    let start = fake.now();
    c.deal(
        "/positions",
        json!({ "epic": "GOLD", "direction": "BUY", "size": 1 }),
    )
    .await;
    c.deal(
        "/positions",
        json!({ "epic": "EURUSD", "direction": "BUY", "size": 5 }),
    )
    .await;

    let (status, body) = c.get("/history/activity?from=2022-01-17").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.invalid.from"))
    );
    let (status, body) = c.get("/history/activity?to=yesterday").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.invalid.to"))
    );

    let from = (start - chrono::TimeDelta::seconds(1)).format("%Y-%m-%dT%H:%M:%S");
    let all = c.get(&format!("/history/activity?from={from}")).await.1;
    assert_eq!(list(&all, "activities").len(), 2);
    let gold = c
        .get("/history/activity?filter=epic==GOLD,OIL_CRUDE;type==POSITION")
        .await
        .1;
    assert_eq!(list(&gold, "activities").len(), 1);
    let not_user = c.get("/history/activity?filter=source!=USER").await.1;
    assert_eq!(list(&not_user, "activities").len(), 0);
    assert_eq!(c.get("/history/activity?filter=colour==red").await.0, 400);

    // Eleven minutes later the default ten-minute window is empty; an explicit range still finds them.
    fake.advance_clock(Duration::from_secs(11 * 60));
    let c = login(&fake).await;
    assert_eq!(list(&c.get("/history/activity").await.1, "activities").len(), 0);
    assert_eq!(
        list(&c.get("/history/activity?lastPeriod=900").await.1, "activities").len(),
        2
    );
    assert_eq!(
        list(
            &c.get(&format!("/history/activity?from={from}")).await.1,
            "activities"
        )
        .len(),
        2
    );
    assert_eq!(c.get("/history/activity?lastPeriod=100000").await.0, 400);
}

#[tokio::test]
async fn transactions_carry_sizes_as_strings() {
    let fake = start().await;
    let c = login(&fake).await;
    let deposit = list(
        &c.get("/history/transactions?type=DEPOSIT").await.1,
        "transactions",
    );
    assert_eq!(deposit.len(), 1);
    assert_eq!(deposit[0]["size"], "10000.0");
    assert_eq!(deposit[0]["note"], "Deposit");
    assert!(deposit[0].get("instrumentName").is_none());

    let opened = c
        .deal(
            "/positions",
            json!({ "epic": "GOLD", "direction": "BUY", "size": 2 }),
        )
        .await;
    fake.set_price("GOLD", dec("2040.57"), dec("2040.87"));
    let id = opened["affectedDeals"][0]["dealId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    c.delete(&format!("/positions/{id}")).await;
    let trades = list(&c.get("/history/transactions?type=TRADE").await.1, "transactions");
    assert_eq!(trades.len(), 1);
    let t = &trades[0];
    assert_eq!(
        (t["size"].as_str(), t["instrumentName"].as_str()),
        (Some("11.5"), Some("GOLD"))
    );
    assert_eq!(
        (t["transactionType"].as_str(), t["currency"].as_str()),
        (Some("TRADE"), Some("USD"))
    );
    assert!(t["dateUtc"].is_string() && t["reference"].is_string());
    assert_eq!(fake.cash("ACC-NET"), Some(dec("10011.5")));
}
