//! The order engine over the wire: fills against the fake's quotes, resting and triggered orders, IOC,
//! brackets and one-cancels-other groups, modify, cancel, cOID refusal, live order rows and trades.

use crate::client::{dec, lmt, mkt, order_id, start, Api, AAPL, ACCT, ES};
use fakes::ibkr::{FakeIbkr, FakeIbkrOptions};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_market_order_fills_at_the_ask_and_moves_position_cash_and_trades() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let (status, body) = api.place(json!([mkt(AAPL, "BUY", 10)])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["order_status"], "Filled");
    assert_eq!(fake.position(ACCT, AAPL), dec("10"));
    // 1,000,000 - 10 x 185.44 - 1 commission.
    assert_eq!(fake.cash(ACCT), Some(dec("998144.6")));
    let (_, trades) = api.get("/iserver/account/trades").await;
    assert_eq!(trades.as_array().map(Vec::len), Some(1));
    assert_eq!(trades[0]["side"], "B");
    assert_eq!(trades[0]["price"], "185.44");
    assert_eq!(trades[0]["size"], 10);
    assert_eq!(trades[0]["conid"], "265598");
    assert_eq!(trades[0]["commission"], "1");
    assert!(trades[0]["order_description"]
        .as_str()
        .unwrap_or("")
        .starts_with("Bot 10 @ 185.44"));
}

#[tokio::test]
async fn selling_through_a_long_position_reverses_it() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    api.place_one(mkt(AAPL, "BUY", 10)).await;
    api.place_one(mkt(AAPL, "SELL", 25)).await;
    assert_eq!(fake.position(ACCT, AAPL), dec("-15"));
    let (_, rows) = api.get(&format!("/portfolio/{ACCT}/positions/0")).await;
    assert_eq!(rows[0]["position"], -15);
    assert_eq!(rows[0]["avgPrice"], 185.42);
}

#[tokio::test]
async fn a_future_settles_profit_not_price() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    api.place_one(mkt(ES, "BUY", 1)).await;
    // Only the commission left the account.
    assert_eq!(fake.cash(ACCT), Some(dec("999999")));
    fake.set_price(ES, dec("5022.25"), dec("5022.5"));
    api.place_one(mkt(ES, "SELL", 1)).await;
    // (5022.25 - 5012.50) x 50 = 487.5 profit, minus two commissions.
    assert_eq!(fake.cash(ACCT), Some(dec("1000485.5")));
}

#[tokio::test]
async fn a_limit_order_rests_until_the_market_reaches_it() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let id = api.place_one(lmt(AAPL, "BUY", 5, 180.0)).await;
    let row = api.live_order(id).await;
    assert_eq!(row["status"], "Submitted");
    assert_eq!(row["orderType"], "Limit");
    assert_eq!(row["origOrderType"], "LIMIT");
    // The model types quantities and prices as strings.
    assert_eq!(row["totalSize"], "5.0");
    assert_eq!(row["remainingQuantity"], "5.0");
    assert_eq!(row["price"], "180.00");
    assert_eq!(row["conid"], "265598");
    fake.set_price(AAPL, dec("179.90"), dec("179.95"));
    let row = api.live_order(id).await;
    assert_eq!(row["status"], "Filled");
    assert_eq!(row["filledQuantity"], "5.0");
    assert_eq!(row["avgPrice"], "179.95");
}

#[tokio::test]
async fn stops_trigger_at_their_price() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let stop = api
        .place_one(json!({ "conid": AAPL, "orderType": "STP", "side": "SELL", "quantity": 1, "auxPrice": 180, "tif": "GTC" }))
        .await;
    let stop_limit = api
        .place_one(
            json!({ "conid": AAPL, "orderType": "STOP_LIMIT", "side": "SELL", "quantity": 1,
                          "auxPrice": 181, "price": 180.5, "tif": "GTC" }),
        )
        .await;
    assert_eq!(api.live_order(stop).await["status"], "PreSubmitted");
    assert_eq!(api.live_order(stop_limit).await["status"], "PreSubmitted");
    // The bid falls to 180.80: the stop limit (stop 181) triggers, and a bid above its limit 180.50
    // fills it; the stop at 180 is not reached yet.
    fake.set_price(AAPL, dec("180.80"), dec("180.85"));
    assert_eq!(api.live_order(stop).await["status"], "PreSubmitted");
    assert_eq!(api.live_order(stop_limit).await["status"], "Filled");
    fake.set_price(AAPL, dec("179.50"), dec("179.55"));
    let row = api.live_order(stop).await;
    assert_eq!(row["status"], "Filled");
    assert_eq!(row["avgPrice"], "179.50");
}

#[tokio::test]
async fn an_unfilled_ioc_order_is_cancelled_at_once() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let (_, body) = api
        .place(json!([{ "conid": AAPL, "orderType": "LMT", "side": "BUY", "quantity": 1, "price": 150, "tif": "IOC" }]))
        .await;
    assert_eq!(body[0]["order_status"], "Cancelled");
}

#[tokio::test]
async fn a_bracket_waits_for_its_parent_and_its_legs_cancel_each_other() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let (status, body) = api
        .place(json!([
            { "conid": AAPL, "orderType": "LMT", "side": "BUY", "quantity": 2, "price": 180, "tif": "GTC", "cOID": "entry-1" },
            { "conid": AAPL, "orderType": "LMT", "side": "SELL", "quantity": 2, "price": 190, "tif": "GTC", "cOID": "tp-1", "parentId": "entry-1" },
            { "conid": AAPL, "orderType": "STP", "side": "SELL", "quantity": 2, "auxPrice": 175, "tif": "GTC", "cOID": "sl-1", "parentId": "entry-1" },
        ]))
        .await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<i64> = body.as_array().unwrap().iter().map(order_id).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(api.live_order(ids[0]).await["status"], "Submitted");
    assert_eq!(api.live_order(ids[1]).await["status"], "PreSubmitted");
    // The take profit would fill at this price, but waits for its parent.
    fake.set_price(AAPL, dec("179.90"), dec("179.95"));
    assert_eq!(api.live_order(ids[0]).await["status"], "Filled");
    assert_eq!(api.live_order(ids[1]).await["status"], "Submitted");
    assert_eq!(api.live_order(ids[2]).await["status"], "PreSubmitted");
    assert_eq!(fake.position(ACCT, AAPL), dec("2"));
    fake.set_price(AAPL, dec("190.10"), dec("190.12"));
    assert_eq!(api.live_order(ids[1]).await["status"], "Filled");
    assert_eq!(api.live_order(ids[2]).await["status"], "Cancelled");
    assert_eq!(fake.position(ACCT, AAPL), dec("0"));
    assert_eq!(api.live_order(ids[1]).await["order_ref"], "tp-1");
}

#[tokio::test]
async fn a_single_group_is_one_cancels_other() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let (_, body) = api
        .place(json!([
            { "conid": AAPL, "orderType": "LMT", "side": "BUY", "quantity": 1, "price": 180, "tif": "GTC", "isSingleGroup": true },
            { "conid": AAPL, "orderType": "STP", "side": "BUY", "quantity": 1, "auxPrice": 190, "tif": "GTC", "isSingleGroup": true },
        ]))
        .await;
    let ids: Vec<i64> = body.as_array().unwrap().iter().map(order_id).collect();
    fake.set_price(AAPL, dec("191"), dec("191.02"));
    assert_eq!(api.live_order(ids[1]).await["status"], "Filled");
    assert_eq!(api.live_order(ids[0]).await["status"], "Cancelled");
}

#[tokio::test]
async fn a_used_coid_is_refused_and_no_order_is_doubled() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let mut ticket = lmt(AAPL, "BUY", 1, 180.0);
    ticket["cOID"] = json!("tv-42");
    api.place_one(ticket.clone()).await;
    let (status, body) = api.place(json!([ticket])).await;
    assert_eq!(status, 200);
    assert_eq!(body["error"], "Local order ID=tv-42 is already registered.");
    assert_eq!(fake.order_count(), 1);
}

#[tokio::test]
async fn a_bare_array_body_is_accepted_too() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let (status, body) = api
        .post(
            &format!("/iserver/account/{ACCT}/orders"),
            json!([mkt(AAPL, "BUY", 1)]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["order_status"], "Filled");
}

#[tokio::test]
async fn bad_tickets_get_a_clear_error() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let (status, body) = api
        .place(json!([{ "conid": AAPL, "orderType": "LMT", "side": "BUY", "quantity": 1, "tif": "DAY" }]))
        .await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap_or("").contains("price required"));
    let (status, _) = api
        .post(
            "/iserver/account/U999/orders",
            json!({ "orders": [mkt(AAPL, "BUY", 1)] }),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(fake.order_count(), 0);
}

#[tokio::test]
async fn modify_changes_a_working_order_and_may_fill_it() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let id = api.place_one(lmt(AAPL, "BUY", 3, 180.0)).await;
    let path = format!("/iserver/account/{ACCT}/order/{id}");
    let (status, body) = api.post(&path, lmt(AAPL, "BUY", 4, 181.5)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["order_status"], "Submitted");
    let row = api.live_order(id).await;
    assert_eq!(row["price"], "181.50");
    assert_eq!(row["totalSize"], "4.0");
    let (_, body) = api.post(&path, lmt(AAPL, "BUY", 4, 186.0)).await;
    assert_eq!(body[0]["order_status"], "Filled");
    let (status, body) = api.post(&path, lmt(AAPL, "BUY", 4, 187.0)).await;
    assert_eq!(status, 200);
    assert!(body["error"].as_str().unwrap_or("").contains("Filled"));
}

#[tokio::test]
async fn cancel_acknowledges_then_the_order_is_cancelled() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let id = api.place_one(lmt(AAPL, "BUY", 1, 180.0)).await;
    let path = format!("/iserver/account/{ACCT}/order/{id}");
    let (status, body) = api.delete(&path).await;
    assert_eq!(status, 200);
    assert_eq!(body["msg"], "Request was submitted");
    assert_eq!(body["order_id"], id.to_string());
    assert_eq!(api.live_order(id).await["status"], "Cancelled");
    let (_, body) = api.delete(&path).await;
    assert!(body["error"].as_str().unwrap_or("").contains("Cancelled"));
    let (_, body) = api.delete(&format!("/iserver/account/{ACCT}/order/1")).await;
    assert_eq!(body["error"], "OrderID 1 doesn't exist");
}

#[tokio::test]
async fn a_cancel_shows_pending_cancel_while_it_is_in_flight() {
    let fake = FakeIbkr::start(FakeIbkrOptions {
        cancel_latency: Duration::from_millis(400),
        ..FakeIbkrOptions::relaxed()
    })
    .await;
    let api = Api::ready(&fake).await;
    let id = api.place_one(lmt(AAPL, "BUY", 1, 180.0)).await;
    api.delete(&format!("/iserver/account/{ACCT}/order/{id}")).await;
    assert_eq!(api.live_order(id).await["status"], "PendingCancel");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(api.live_order(id).await["status"], "Cancelled");
}

#[tokio::test]
async fn whatif_previews_without_placing() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let (status, body) = api
        .post(
            &format!("/iserver/account/{ACCT}/orders/whatif"),
            json!({ "orders": [mkt(AAPL, "BUY", 100)] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["amount"]["amount"], "18,544.00 USD");
    assert_eq!(body["amount"]["commission"], "1.00 USD");
    assert_eq!(body["equity"]["current"], "1,000,000.00");
    assert_eq!(body["position"]["after"], 100);
    assert!(body["initial"]["change"].is_string());
    assert_eq!(fake.order_count(), 0);
}

#[tokio::test]
async fn the_status_of_one_order_can_be_read() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let mut ticket = lmt(AAPL, "SELL", 2, 200.0);
    ticket["cOID"] = json!("x-1");
    let id = api.place_one(ticket).await;
    let (status, body) = api.get(&format!("/iserver/account/order/status/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["order_status"], "Submitted");
    assert_eq!(body["order_ref"], "x-1");
    assert_eq!(body["total_size"], "2.0");
    assert_eq!(body["limit_price"], "200.00");
}

#[tokio::test]
async fn orders_wait_for_the_market_to_open() {
    let mut options = FakeIbkrOptions {
        idle_expiry: Duration::from_secs(10 * 86_400),
        ..FakeIbkrOptions::relaxed()
    };
    for c in &mut options.contracts {
        c.hours = fakes::ibkr::FakeContract::usual_hours(&c.sec_type);
    }
    // Saturday 2026-12-05 12:00 UTC: every market is shut.
    options.now = chrono::DateTime::from_timestamp(1_796_472_000, 0);
    let fake = FakeIbkr::start(options).await;
    fake.freeze_clock();
    let api = Api::ready(&fake).await;
    let (_, body) = api.place(json!([mkt(AAPL, "BUY", 1)])).await;
    assert_eq!(body[0]["order_status"], "PreSubmitted");
    let id = order_id(&body[0]);
    // Monday 14:31 UTC, and a new quote: the order fills.
    fake.advance_clock(Duration::from_secs(2 * 86_400 + 2 * 3_600 + 31 * 60));
    fake.set_price(AAPL, dec("185.50"), dec("185.52"));
    assert_eq!(api.live_order(id).await["status"], "Filled");
}

#[tokio::test]
async fn day_orders_end_with_the_trading_day_and_gtc_orders_stay() {
    let mut options = FakeIbkrOptions {
        idle_expiry: Duration::from_secs(10 * 86_400),
        ..FakeIbkrOptions::relaxed()
    };
    options.contracts[0].hours = fakes::ibkr::FakeContract::usual_hours("STK");
    // Monday 2026-12-07 15:00 UTC, AAPL trading.
    options.now = chrono::DateTime::from_timestamp(1_796_601_600 + 15 * 3_600, 0);
    let fake = FakeIbkr::start(options).await;
    fake.freeze_clock();
    let api = Api::ready(&fake).await;
    let mut day = lmt(AAPL, "BUY", 1, 180.0);
    day["tif"] = json!("DAY");
    let day = api.place_one(day).await;
    let gtc = api.place_one(lmt(AAPL, "BUY", 1, 180.0)).await;
    fake.advance_clock(Duration::from_secs(5 * 3_600));
    assert_eq!(api.live_order(day).await["status"], "Submitted");
    fake.advance_clock(Duration::from_secs(3_600));
    assert_eq!(api.live_order(day).await["status"], "Cancelled");
    assert_eq!(api.live_order(gtc).await["status"], "Submitted");
}
