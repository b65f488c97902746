//! Positions: create -> confirm -> list, netting versus hedging, validation codes, rejected confirms,
//! amend, close and triggered stops.

use crate::client::{dec, login, num, start};
use serde_json::{json, Value};

fn buy(epic: &str, size: &str) -> Value {
    json!({ "epic": epic, "direction": "BUY", "size": dec(size) })
}

fn sell(epic: &str, size: &str) -> Value {
    json!({ "epic": epic, "direction": "SELL", "size": dec(size) })
}

#[tokio::test]
async fn a_deal_is_confirmed_and_listed() {
    let fake = start().await;
    let c = login(&fake).await;
    let (status, answer) = c.post("/positions", buy("EURUSD", "1000")).await;
    assert_eq!(status, 200);
    let reference = answer["dealReference"].as_str().unwrap_or_default().to_string();
    assert!(
        reference.starts_with("o_") && reference.len() == 38,
        "{reference}"
    );

    let confirm = c.confirm(&answer["dealReference"]).await;
    assert_eq!(confirm["dealStatus"], "ACCEPTED");
    assert_eq!(confirm["status"], "OPEN");
    assert_eq!(confirm["reason"], "SUCCESS");
    assert_eq!(confirm["dealReference"], reference.as_str());
    assert_eq!(num(&confirm["level"]), dec("1.08518"));
    assert_eq!(num(&confirm["size"]), dec("1000"));
    assert_eq!(confirm["direction"], "BUY");
    let affected = confirm["affectedDeals"].as_array().cloned().unwrap_or_default();
    assert_eq!(affected.len(), 1);
    assert_eq!(affected[0]["status"], "OPENED");
    let deal_id = affected[0]["dealId"].as_str().unwrap_or_default().to_string();
    assert_ne!(confirm["dealId"].as_str(), Some(deal_id.as_str()));

    fake.set_price("EURUSD", dec("1.08612"), dec("1.08618"));
    let (status, body) = c.get("/positions").await;
    assert_eq!(status, 200);
    let entry = &body["positions"][0];
    let p = &entry["position"];
    assert_eq!(p["dealId"], deal_id.as_str());
    assert_eq!(p["dealReference"], format!("p_{deal_id}"));
    assert_eq!(p["workingOrderId"], confirm["dealId"]);
    assert_eq!(num(&p["size"]), dec("1000"));
    assert_eq!(num(&p["level"]), dec("1.08518"));
    assert_eq!(num(&p["upl"]), dec("0.94"));
    assert_eq!(p["leverage"], 30);
    assert_eq!(p["currency"], "USD");
    assert_eq!(p["guaranteedStop"], false);
    assert!(p["createdDateUTC"].as_str().is_some_and(|d| d.len() == 23));
    assert_ne!(p["createdDate"], p["createdDateUTC"]);
    assert_eq!(entry["market"]["epic"], "EURUSD");
    assert_eq!(entry["market"]["marketStatus"], "TRADEABLE");
    assert_eq!(num(&entry["market"]["bid"]), dec("1.08612"));

    let (status, single) = c.get(&format!("/positions/{deal_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(single["position"]["dealId"], deal_id.as_str());
    let (status, body) = c.get("/positions/unknown").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("error.not-found.dealId"))
    );
    let (status, body) = c.get("/confirms/o_unknown").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("error.not-found.dealReference"))
    );

    let held = fake.positions("ACC-NET");
    assert_eq!(held.len(), 1);
    assert_eq!(
        (held[0].deal_id.as_str(), held[0].direction.as_str()),
        (deal_id.as_str(), "BUY")
    );
    let balance = c.get("/accounts").await.1["accounts"][0]["balance"].clone();
    assert_eq!(num(&balance["profitLoss"]), dec("0.94"));
}

#[tokio::test]
async fn netting_reduces_the_oldest_deals_first() {
    let fake = start().await;
    let c = login(&fake).await;
    let first = c.deal("/positions", buy("EURUSD", "300")).await;
    let second = c.deal("/positions", buy("EURUSD", "200")).await;
    let id = |confirm: &Value| {
        confirm["affectedDeals"][0]["dealId"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let (first, second) = (id(&first), id(&second));
    assert_eq!(fake.positions("ACC-NET").len(), 2);

    let reduce = c.deal("/positions", sell("EURUSD", "400")).await;
    assert_eq!(reduce["status"], "PARTIALLY_CLOSED");
    assert_eq!(
        reduce["affectedDeals"],
        json!([{ "dealId": first, "status": "FULLY_CLOSED" }, { "dealId": second, "status": "PARTIALLY_CLOSED" }])
    );
    let held = fake.positions("ACC-NET");
    assert_eq!(held.len(), 1);
    assert_eq!(
        (held[0].deal_id.as_str(), held[0].size),
        (second.as_str(), dec("100"))
    );

    let flip = c.deal("/positions", sell("EURUSD", "300")).await;
    assert_eq!(flip["status"], "OPEN");
    let affected = flip["affectedDeals"].as_array().cloned().unwrap_or_default();
    assert_eq!(affected.len(), 2);
    assert_eq!(affected[0], json!({ "dealId": second, "status": "FULLY_CLOSED" }));
    assert_eq!(affected[1]["status"], "OPENED");
    let held = fake.positions("ACC-NET");
    assert_eq!(held.len(), 1);
    assert_eq!((held[0].direction.as_str(), held[0].size), ("SELL", dec("200")));

    // Each close is a TRADE transaction; the spread cost 0.06 per 1000 units.
    let tx = c.get("/history/transactions").await.1["transactions"].clone();
    let trades: Vec<&Value> = tx
        .as_array()
        .map(|t| t.iter().filter(|t| t["transactionType"] == "TRADE").collect())
        .unwrap_or_default();
    assert_eq!(trades.len(), 3);
    assert!(trades
        .iter()
        .all(|t| t["size"].is_string() && t["note"] == "Trade closed"));
}

#[tokio::test]
async fn hedging_opens_a_position_per_deal() {
    let fake = start().await;
    let c = login(&fake).await;
    c.switch("ACC-HEDGE").await;
    c.deal("/positions", buy("GOLD", "1")).await;
    let opposite = c.deal("/positions", sell("GOLD", "1")).await;
    assert_eq!(opposite["status"], "OPEN");
    assert_eq!(opposite["affectedDeals"][0]["status"], "OPENED");
    assert_eq!(num(&opposite["level"]), dec("2034.52"));
    let held = fake.positions("ACC-HEDGE");
    assert_eq!(held.len(), 2);
    assert_eq!(
        (held[0].direction.as_str(), held[1].direction.as_str()),
        ("BUY", "SELL")
    );
    assert!(fake.positions("ACC-NET").is_empty());
    assert_eq!(
        c.get("/positions").await.1["positions"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn request_validation_codes() {
    let fake = start().await;
    let c = login(&fake).await;
    let cases = [
        (json!({ "direction": "BUY", "size": 1 }), 400, "error.null.epic"),
        (json!({ "epic": "GOLD", "size": 1 }), 400, "error.null.direction"),
        (
            json!({ "epic": "GOLD", "direction": "UP", "size": 1 }),
            400,
            "error.invalid.direction",
        ),
        (
            json!({ "epic": "GOLD", "direction": "BUY" }),
            400,
            "error.null.size",
        ),
        (
            json!({ "epic": "NOPE", "direction": "BUY", "size": 1 }),
            404,
            "error.not-found.epic",
        ),
        // GOLD bid 2034.52, band 0.05% .. 30%.
        (
            json!({ "epic": "GOLD", "direction": "BUY", "size": 1, "stopLevel": 1 }),
            400,
            "error.invalid.stoploss.minvalue: 1424.17",
        ),
        (
            json!({ "epic": "GOLD", "direction": "BUY", "size": 1, "stopLevel": 2034 }),
            400,
            "error.invalid.stoploss.maxvalue: 2033.5",
        ),
        (
            json!({ "epic": "GOLD", "direction": "BUY", "size": 1, "profitLevel": 5000 }),
            400,
            "error.invalid.takeprofit.maxvalue: 2644.87",
        ),
        (
            json!({ "epic": "GOLD", "direction": "SELL", "size": 1, "stopLevel": 2034 }),
            400,
            "error.invalid.stoploss.minvalue: 2035.84",
        ),
        (
            json!({ "epic": "GOLD", "direction": "BUY", "size": 1, "trailingStop": true }),
            400,
            "error.null.stopDistance",
        ),
    ];
    for (body, status, code) in cases {
        let (s, answer) = c.post("/positions", body.clone()).await;
        assert_eq!((s, answer["errorCode"].as_str()), (status, Some(code)), "{body}");
    }
    assert!(fake.positions("ACC-NET").is_empty());

    let ok = c
        .deal(
            "/positions",
            json!({ "epic": "GOLD", "direction": "BUY", "size": 1, "stopDistance": 20, "profitLevel": 2100 }),
        )
        .await;
    assert_eq!(ok["dealStatus"], "ACCEPTED");
    assert_eq!(num(&ok["stopLevel"]), dec("2014.82"));
    assert_eq!(num(&ok["profitLevel"]), dec("2100"));
}

#[tokio::test]
async fn market_rules_reject_in_the_confirm() {
    let fake = start().await;
    let c = login(&fake).await;
    let cases = [
        (buy("EURUSD", "10"), "MINIMUM_ORDER_SIZE_ERROR"),
        (buy("GOLD", "5000"), "MAXIMUM_ORDER_SIZE_ERROR"),
        (buy("GOLD", "1.05"), "SIZE_INCREMENT"),
        (buy("US100", "400"), "INSUFFICIENT_FUNDS"),
        (
            json!({ "epic": "AAPL", "direction": "BUY", "size": 1, "trailingStop": true, "stopDistance": 5 }),
            "TRAILING_STOP_NOT_ALLOWED",
        ),
    ];
    for (body, reason) in cases {
        let confirm = c.deal("/positions", body.clone()).await;
        assert_eq!(confirm["dealStatus"], "REJECTED", "{body}");
        assert_eq!(confirm["reason"], reason, "{body}");
        assert_eq!(confirm["affectedDeals"], json!([]));
    }
    assert!(fake.positions("ACC-NET").is_empty());
    let rejected = c.get("/history/activity?filter=status==REJECTED").await.1;
    assert_eq!(rejected["activities"].as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn amend_and_close() {
    let fake = start().await;
    let c = login(&fake).await;
    let opened = c.deal("/positions", buy("GOLD", "2")).await;
    let id = opened["affectedDeals"][0]["dealId"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let (status, body) = c
        .put(&format!("/positions/{id}"), json!({ "stopLevel": 3000 }))
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.invalid.stoploss.maxvalue: 2033.5"))
    );
    let (status, body) = c
        .put(&format!("/positions/{id}"), json!({ "profitLevel": 1 }))
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.invalid.takeprofit.minvalue: 2035.54"))
    );
    let (status, body) = c.put("/positions/unknown", json!({ "stopLevel": 2000 })).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("error.not-found.dealId"))
    );

    let (status, answer) = c
        .put(
            &format!("/positions/{id}"),
            json!({ "stopLevel": 2000, "profitLevel": 2100 }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["dealReference"], format!("p_{id}"));
    let amended = c.confirm(&answer["dealReference"]).await;
    assert_eq!(
        (amended["status"].as_str(), amended["dealStatus"].as_str()),
        (Some("AMENDED"), Some("ACCEPTED"))
    );
    let held = fake.positions("ACC-NET");
    assert_eq!(
        (held[0].stop_level, held[0].profit_level),
        (Some(dec("2000")), Some(dec("2100")))
    );

    // Fields left out are removed.
    c.put(&format!("/positions/{id}"), json!({ "profitLevel": 2200 }))
        .await;
    let held = fake.positions("ACC-NET");
    assert_eq!(
        (held[0].stop_level, held[0].profit_level),
        (None, Some(dec("2200")))
    );

    let (status, answer) = c.delete(&format!("/positions/{id}")).await;
    assert_eq!(status, 200);
    let closed = c.confirm(&answer["dealReference"]).await;
    assert_eq!(closed["status"], "CLOSED");
    assert_eq!(
        closed["affectedDeals"],
        json!([{ "dealId": id, "status": "FULLY_CLOSED" }])
    );
    assert_eq!(num(&closed["level"]), dec("2034.52"));
    assert!(fake.positions("ACC-NET").is_empty());
    assert_eq!(c.delete(&format!("/positions/{id}")).await.0, 404);
    // The spread (0.30) on 2 units was lost.
    assert_eq!(fake.cash("ACC-NET"), Some(dec("9999.40")));
}

#[tokio::test]
async fn price_moves_trigger_stops_and_profits() {
    let fake = start().await;
    let c = login(&fake).await;
    c.switch("ACC-HEDGE").await;
    let long = c
        .deal(
            "/positions",
            json!({ "epic": "GOLD", "direction": "BUY", "size": 1, "stopLevel": 2000, "profitLevel": 2100 }),
        )
        .await;
    let trailing = c
        .deal("/positions", json!({ "epic": "GOLD", "direction": "SELL", "size": 1, "trailingStop": true, "stopDistance": 10 }))
        .await;
    let long_id = long["affectedDeals"][0]["dealId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let trail_id = trailing["affectedDeals"][0]["dealId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(num(&trailing["stopLevel"]), dec("2044.52"));

    // Down 20: the short's trailing stop follows to 2024.82 (offer 2014.82 + 10).
    fake.set_price("GOLD", dec("2014.52"), dec("2014.82"));
    let held = fake.positions("ACC-HEDGE");
    assert_eq!(held.len(), 2);
    let short = held.iter().find(|p| p.deal_id == trail_id).cloned();
    assert_eq!(short.and_then(|p| p.stop_level), Some(dec("2024.82")));

    // Down through the long's stop: it closes; the short does not.
    fake.set_price("GOLD", dec("1999.50"), dec("1999.80"));
    let held = fake.positions("ACC-HEDGE");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].deal_id, trail_id);
    // Back up through the trailing stop (now 2009.80): the short closes too.
    fake.set_price("GOLD", dec("2010.00"), dec("2010.30"));
    assert!(fake.positions("ACC-HEDGE").is_empty());

    let activity = c.get("/history/activity?detailed=true").await.1["activities"].clone();
    let closes: Vec<(String, String)> = activity
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|x| x["source"] == "SL" || x["source"] == "TP")
                .map(|x| {
                    (
                        x["dealId"].as_str().unwrap_or("").to_string(),
                        x["source"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        closes,
        vec![(trail_id, "SL".to_string()), (long_id, "SL".to_string())]
    );
}

#[tokio::test]
async fn guaranteed_stops() {
    let fake = start().await;
    let c = login(&fake).await;
    // Guaranteed stops keep at least 1% away: 2034.52 - 20.35 = 2014.17 at most.
    let body =
        json!({ "epic": "GOLD", "direction": "BUY", "size": 1, "guaranteedStop": true, "stopLevel": 2020 });
    let (status, answer) = c.post("/positions", body).await;
    assert_eq!(
        (status, answer["errorCode"].as_str()),
        (400, Some("error.invalid.stoploss.maxvalue: 2014.17"))
    );
    let (status, answer) = c
        .post(
            "/positions",
            json!({ "epic": "GOLD", "direction": "BUY", "size": 1, "guaranteedStop": true }),
        )
        .await;
    assert_eq!(
        (status, answer["errorCode"].as_str()),
        (400, Some("error.null.stopLevel"))
    );
    let body =
        json!({ "epic": "GOLD", "direction": "BUY", "size": 1, "guaranteedStop": true, "stopLevel": 2000 });
    let confirm = c.deal("/positions", body.clone()).await;
    assert_eq!(
        (
            confirm["dealStatus"].as_str(),
            confirm["guaranteedStop"].as_bool()
        ),
        (Some("ACCEPTED"), Some(true))
    );
    // A gap through a guaranteed stop still closes at the stop level.
    fake.set_price("GOLD", dec("1950.00"), dec("1950.30"));
    assert!(fake.positions("ACC-NET").is_empty());
    assert_eq!(fake.cash("ACC-NET"), Some(dec("9965.18")));

    // Not on a hedging account.
    c.switch("ACC-HEDGE").await;
    fake.set_price("GOLD", dec("2034.52"), dec("2034.82"));
    let confirm = c.deal("/positions", body).await;
    assert_eq!(
        (confirm["dealStatus"].as_str(), confirm["reason"].as_str()),
        (Some("REJECTED"), Some("GUARANTEED_STOP_NOT_ALLOWED"))
    );
}

#[tokio::test]
async fn under_the_other_reading_omitted_stop_fields_are_kept() {
    let fake = fakes::capital::FakeCapital::start(fakes::capital::FakeOptions {
        omitted_stops_kept: true,
        ..crate::client::relaxed()
    })
    .await;
    let c = login(&fake).await;
    let opened = c.deal("/positions", buy("GOLD", "2")).await;
    let id = opened["affectedDeals"][0]["dealId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    c.put(
        &format!("/positions/{id}"),
        json!({ "stopLevel": 2000, "profitLevel": 2100 }),
    )
    .await;
    // Only the take profit sent: the stop stays.
    c.put(&format!("/positions/{id}"), json!({ "profitLevel": 2200 }))
        .await;
    let held = fake.positions("ACC-NET");
    assert_eq!(
        (held[0].stop_level, held[0].profit_level),
        (Some(dec("2000")), Some(dec("2200")))
    );
    // Nothing sent keeps everything; there is no field that removes a stop.
    let (status, _) = c.put(&format!("/positions/{id}"), json!({})).await;
    assert_eq!(status, 200);
    let held = fake.positions("ACC-NET");
    assert_eq!(
        (held[0].stop_level, held[0].profit_level),
        (Some(dec("2000")), Some(dec("2200")))
    );
    // A flag left out keeps its value, a flag sent changes it: a trailing stop becomes a plain one.
    c.put(
        &format!("/positions/{id}"),
        json!({ "trailingStop": true, "stopDistance": 10 }),
    )
    .await;
    let held = fake.positions("ACC-NET");
    assert!(held[0].trailing_stop && held[0].stop_distance == Some(dec("10")));
    c.put(&format!("/positions/{id}"), json!({ "profitLevel": 2150 }))
        .await;
    assert!(
        fake.positions("ACC-NET")[0].trailing_stop,
        "left out: still trailing"
    );
    c.put(
        &format!("/positions/{id}"),
        json!({ "trailingStop": false, "stopLevel": 2010 }),
    )
    .await;
    let held = fake.positions("ACC-NET");
    assert_eq!(
        (held[0].trailing_stop, held[0].stop_level, held[0].profit_level),
        (false, Some(dec("2010")), Some(dec("2150")))
    );
    // Working orders read the same way.
    let created = c
        .deal(
            "/workingorders",
            json!({ "epic": "AAPL", "direction": "SELL", "size": 2, "level": 190, "type": "LIMIT",
                    "stopLevel": 195, "profitLevel": 185 }),
        )
        .await;
    let order = created["dealId"].as_str().unwrap_or_default().to_string();
    c.put(&format!("/workingorders/{order}"), json!({ "level": 191 }))
        .await;
    let held = fake.working_orders("ACC-NET");
    assert_eq!(
        (held[0].level, held[0].stop_level, held[0].profit_level),
        (dec("191"), Some(dec("195")), Some(dec("185")))
    );
}
