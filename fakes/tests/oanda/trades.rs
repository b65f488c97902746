//! Trades and positions: FIFO netting versus hedging, partial and full trade closes, dependent orders
//! (on fill, set on the trade, triggered by the market) and position closes.

use crate::client::{dec, start, Client, HEDGE, NET};
use serde_json::json;

#[tokio::test]
async fn a_netting_account_reduces_the_oldest_trades_first() {
    let fake = start().await;
    let c = Client::new(&fake);
    c.market(NET, "EUR_USD", 100).await;
    c.market(NET, "EUR_USD", 200).await;
    fake.set_price("EUR_USD", dec("1.08626"), dec("1.08640"));
    // Selling 250 closes the first trade (100) and reduces the second by 150.
    let fill = c.market(NET, "EUR_USD", -250).await;
    assert_eq!(fill["price"], "1.08626");
    let closed = fill["tradesClosed"].as_array().cloned().unwrap_or_default();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["tradeID"], "4");
    assert_eq!(closed[0]["units"], "-100");
    // (1.08626 - 1.08526) × 100.
    assert_eq!(closed[0]["realizedPL"], "0.1000");
    assert_eq!(fill["tradeReduced"]["tradeID"], "6");
    assert_eq!(fill["tradeReduced"]["units"], "-150");
    assert!(fill.get("tradeOpened").is_none());
    assert_eq!(fill["pl"], "0.2500");
    assert_eq!(fill["accountBalance"], "100000.2500");
    let trades = fake.trades(NET);
    assert_eq!(trades.len(), 1);
    assert_eq!((trades[0].id.as_str(), trades[0].units), ("6", dec("50")));
    assert_eq!(fake.balance(NET), Some(dec("100000.25")));
    // Selling more than the position flips it: the rest opens a short trade.
    let fill = c.market(NET, "EUR_USD", -80).await;
    assert_eq!(fill["tradesClosed"][0]["tradeID"], "6");
    assert_eq!(fill["tradeOpened"]["units"], "-30");
    let (_, pos) = c.get(&format!("/v3/accounts/{NET}/positions/EUR_USD")).await;
    assert_eq!(pos["position"]["long"]["units"], "0");
    assert_eq!(pos["position"]["short"]["units"], "-30");
    // 0.1 + 0.15 + 0.05 realized on the long side.
    assert_eq!(pos["position"]["pl"], "0.3000");
    assert_eq!(pos["position"]["long"]["pl"], "0.3000");
}

#[tokio::test]
async fn a_hedging_account_opens_a_trade_per_fill() {
    let fake = start().await;
    let c = Client::new(&fake);
    c.market(HEDGE, "EUR_USD", 100).await;
    let fill = c.market(HEDGE, "EUR_USD", -100).await;
    assert!(fill.get("tradesClosed").is_none());
    assert_eq!(fill["tradeOpened"]["units"], "-100");
    let units: Vec<_> = fake.trades(HEDGE).iter().map(|t| t.units).collect();
    assert_eq!(units, [dec("100"), dec("-100")]);
    let (_, pos) = c.get(&format!("/v3/accounts/{HEDGE}/openPositions")).await;
    let p = &pos["positions"][0];
    assert_eq!(p["long"]["units"], "100");
    assert_eq!(p["short"]["units"], "-100");
    assert_eq!(p["long"]["tradeIDs"], json!(["4"]));
    // REDUCE_FIRST makes a hedging fill reduce like a netting one.
    let body = c
        .order(
            HEDGE,
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "100", "positionFill": "REDUCE_FIRST" }),
        )
        .await;
    assert_eq!(body["orderFillTransaction"]["tradesClosed"][0]["tradeID"], "6");
}

#[tokio::test]
async fn trades_close_partially_then_fully() {
    let fake = start().await;
    let c = Client::new(&fake);
    let fill = c.market(NET, "USD_JPY", 1000).await;
    let id = fill["tradeOpened"]["tradeID"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, body) = c
        .put(
            &format!("/v3/accounts/{NET}/trades/{id}/close"),
            json!({ "units": "400" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let create = &body["orderCreateTransaction"];
    assert_eq!(create["type"], "MARKET_ORDER");
    assert_eq!(create["reason"], "TRADE_CLOSE");
    assert_eq!(create["units"], "-400");
    assert_eq!(create["tradeClose"], json!({ "tradeID": id, "units": "400" }));
    let fill = &body["orderFillTransaction"];
    assert_eq!(fill["reason"], "MARKET_ORDER_TRADE_CLOSE");
    assert_eq!(fill["tradeReduced"]["units"], "-400");
    let (_, trade) = c.get(&format!("/v3/accounts/{NET}/trades/{id}")).await;
    assert_eq!(trade["trade"]["currentUnits"], "600");
    assert_eq!(trade["trade"]["initialUnits"], "1000");
    assert_eq!(trade["trade"]["state"], "OPEN");
    // More than the trade holds is refused.
    let (status, body) = c
        .put(
            &format!("/v3/accounts/{NET}/trades/{id}/close"),
            json!({ "units": "601" }),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errorCode"], "CLOSE_TRADE_UNITS_EXCEED_TRADE_SIZE");
    assert_eq!(body["orderRejectTransaction"]["type"], "MARKET_ORDER_REJECT");
    // ALL is the default.
    let (status, body) = c
        .put(&format!("/v3/accounts/{NET}/trades/{id}/close"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["orderFillTransaction"]["tradesClosed"][0]["units"], "-600");
    let (_, trade) = c.get(&format!("/v3/accounts/{NET}/trades/{id}")).await;
    assert_eq!(trade["trade"]["state"], "CLOSED");
    assert!(trade["trade"]["closeTime"].is_string());
    assert_eq!(
        trade["trade"]["closingTransactionIDs"].as_array().map(Vec::len),
        Some(2)
    );
    let (status, body) = c
        .put(&format!("/v3/accounts/{NET}/trades/{id}/close"), json!({}))
        .await;
    assert_eq!((status, body["errorCode"].as_str()), (404, Some("NO_SUCH_TRADE")));
    let (_, closed) = c.get(&format!("/v3/accounts/{NET}/trades?state=CLOSED")).await;
    assert_eq!(closed["trades"][0]["id"], id.as_str());
    let (_, open) = c.get(&format!("/v3/accounts/{NET}/openTrades")).await;
    assert_eq!(open["trades"], json!([]));
}

#[tokio::test]
async fn stop_loss_and_take_profit_close_their_trade_when_the_market_reaches_them() {
    let fake = start().await;
    let c = Client::new(&fake);
    let body = c
        .order(
            NET,
            json!({
                "type": "MARKET", "instrument": "EUR_USD", "units": "1000",
                "stopLossOnFill": { "price": "1.08000" },
                "takeProfitOnFill": { "price": "1.09000" },
                "tradeClientExtensions": { "id": "t-1" },
            }),
        )
        .await;
    let trade_id = body["orderFillTransaction"]["tradeOpened"]["tradeID"].clone();
    let (_, trade) = c.get(&format!("/v3/accounts/{NET}/trades/@t-1")).await;
    assert_eq!(trade["trade"]["id"], trade_id);
    assert_eq!(trade["trade"]["stopLossOrder"]["price"], "1.08000");
    assert_eq!(trade["trade"]["takeProfitOrder"]["price"], "1.09000");
    assert_eq!(trade["trade"]["stopLossOrder"]["state"], "PENDING");
    // A long trade's stop triggers on the bid: 1.08005 is not low enough, 1.07990 is (and fills there).
    fake.set_price("EUR_USD", dec("1.08005"), dec("1.08019"));
    assert_eq!(fake.trades(NET).len(), 1);
    fake.set_price("EUR_USD", dec("1.07990"), dec("1.08004"));
    assert!(fake.trades(NET).is_empty());
    let txs = fake.transactions(NET);
    let n = txs.len();
    assert_eq!(txs[n - 2]["type"], "ORDER_FILL");
    assert_eq!(txs[n - 2]["reason"], "STOP_LOSS_ORDER");
    assert_eq!(txs[n - 2]["price"], "1.07990");
    assert_eq!(txs[n - 1]["type"], "ORDER_CANCEL");
    assert_eq!(txs[n - 1]["reason"], "LINKED_TRADE_CLOSED");
    // (1.07990 - 1.08526) × 1000.
    assert_eq!(txs[n - 2]["pl"], "-5.3600");
    let kinds: Vec<(String, String)> = fake.orders(NET).into_iter().map(|o| (o.kind, o.state)).collect();
    assert_eq!(
        kinds,
        [
            ("MARKET".to_string(), "FILLED".to_string()),
            ("TAKE_PROFIT".to_string(), "CANCELLED".to_string()),
            ("STOP_LOSS".to_string(), "FILLED".to_string()),
        ]
    );
}

#[tokio::test]
async fn a_trailing_stop_follows_the_price_and_never_moves_back() {
    let fake = start().await;
    let c = Client::new(&fake);
    let body = c
        .order(
            NET,
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "100",
                    "trailingStopLossOnFill": { "distance": "0.00100" } }),
        )
        .await;
    let trade = body["orderFillTransaction"]["tradeOpened"]["tradeID"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let stop = |fake: &fakes::oanda::FakeOanda| {
        fake.orders(NET)
            .into_iter()
            .find(|o| o.kind == "TRAILING_STOP_LOSS")
            .and_then(|o| o.price)
    };
    assert_eq!(stop(&fake), Some(dec("1.08426")));
    fake.set_price("EUR_USD", dec("1.08700"), dec("1.08714"));
    assert_eq!(stop(&fake), Some(dec("1.08600")));
    fake.set_price("EUR_USD", dec("1.08650"), dec("1.08664"));
    assert_eq!(stop(&fake), Some(dec("1.08600")));
    let (_, t) = c.get(&format!("/v3/accounts/{NET}/trades/{trade}")).await;
    assert_eq!(
        t["trade"]["trailingStopLossOrder"]["trailingStopValue"],
        "1.08600"
    );
    assert_eq!(t["trade"]["trailingStopLossOrder"]["distance"], "0.00100");
    fake.set_price("EUR_USD", dec("1.08590"), dec("1.08604"));
    assert!(fake.trades(NET).is_empty());
    let fill = fake
        .transactions(NET)
        .into_iter()
        .rev()
        .find(|t| t["type"] == "ORDER_FILL")
        .unwrap_or_default();
    assert_eq!(fill["reason"], "TRAILING_STOP_LOSS_ORDER");
}

#[tokio::test]
async fn dependent_orders_are_set_replaced_and_cancelled_on_the_trade() {
    let fake = start().await;
    let c = Client::new(&fake);
    let fill = c.market(NET, "EUR_USD", -1000).await;
    let id = fill["tradeOpened"]["tradeID"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = format!("/v3/accounts/{NET}/trades/{id}/orders");
    let (status, body) = c
        .put(
            &path,
            json!({ "takeProfit": { "price": "1.08000" }, "stopLoss": { "distance": "0.00300" } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["takeProfitOrderTransaction"]["type"], "TAKE_PROFIT_ORDER");
    assert_eq!(body["takeProfitOrderTransaction"]["tradeID"], id.as_str());
    assert_eq!(body["takeProfitOrderTransaction"]["reason"], "CLIENT_ORDER");
    // A short trade opened at the bid 1.08512: stop 0.003 above.
    assert_eq!(body["stopLossOrderTransaction"]["price"], "1.08812");
    assert_eq!(fake.trades(NET)[0].stop_loss, Some(dec("1.08812")));
    let (status, body) = c
        .put(
            &path,
            json!({ "takeProfit": { "price": "1.07500" }, "stopLoss": null }),
        )
        .await;
    assert_eq!(status, 200);
    let old_tp = &body["takeProfitOrderCancelTransaction"];
    assert_eq!(old_tp["reason"], "CLIENT_REQUEST_REPLACED");
    assert_eq!(body["takeProfitOrderTransaction"]["reason"], "REPLACEMENT");
    assert_eq!(
        body["takeProfitOrderTransaction"]["replacesOrderID"],
        old_tp["orderID"]
    );
    assert_eq!(body["stopLossOrderCancelTransaction"]["reason"], "CLIENT_REQUEST");
    assert!(body.get("stopLossOrderTransaction").is_none());
    let trade = &fake.trades(NET)[0];
    assert_eq!((trade.take_profit, trade.stop_loss), (Some(dec("1.07500")), None));
    // Bad details are rejected with nothing changed.
    let (status, body) = c
        .put(
            &path,
            json!({ "stopLoss": { "price": "1.09", "distance": "0.01" } }),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errorCode"],
        "STOP_LOSS_ORDER_PRICE_AND_DISTANCE_BOTH_SPECIFIED"
    );
    assert_eq!(
        body["stopLossOrderRejectTransaction"]["type"],
        "STOP_LOSS_ORDER_REJECT"
    );
    let (status, body) = c
        .put(
            &path,
            json!({ "stopLoss": { "price": "1.09", "guaranteed": true } }),
        )
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("STOP_LOSS_ORDER_GUARANTEED_NOT_ALLOWED"))
    );
    let (status, _) = c
        .put(&format!("/v3/accounts/{NET}/trades/999/orders"), json!({}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn guaranteed_stops_need_an_account_that_allows_them_and_fill_at_their_price() {
    let mut opts = crate::client::options();
    opts.accounts[0].guaranteed_stops = true;
    let fake = fakes::oanda::FakeOanda::start(opts).await;
    let c = Client::new(&fake);
    let (_, summary) = c.get(&format!("/v3/accounts/{NET}/summary")).await;
    assert_eq!(summary["account"]["guaranteedStopLossOrderMode"], "ALLOWED");
    c.order(
        NET,
        json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "100",
                "stopLossOnFill": { "price": "1.08000", "guaranteed": true } }),
    )
    .await;
    // The market gaps through the stop; a guaranteed stop still fills at its price.
    fake.set_price("EUR_USD", dec("1.07000"), dec("1.07014"));
    let fill = fake
        .transactions(NET)
        .into_iter()
        .rev()
        .find(|t| t["type"] == "ORDER_FILL")
        .unwrap_or_default();
    assert_eq!(fill["reason"], "STOP_LOSS_ORDER");
    assert_eq!(fill["price"], "1.08000");
}

#[tokio::test]
async fn positions_close_by_side_and_refuse_what_is_not_there() {
    let fake = start().await;
    let c = Client::new(&fake);
    c.market(HEDGE, "GBP_USD", 300).await;
    c.market(HEDGE, "GBP_USD", -100).await;
    let path = format!("/v3/accounts/{HEDGE}/positions/GBP_USD/close");
    let (status, body) = c.put(&path, json!({ "longUnits": "ALL" })).await;
    assert_eq!(status, 200, "{body}");
    let create = &body["longOrderCreateTransaction"];
    assert_eq!(create["reason"], "POSITION_CLOSEOUT");
    assert_eq!(
        create["longPositionCloseout"],
        json!({ "instrument": "GBP_USD", "units": "ALL" })
    );
    assert_eq!(
        body["longOrderFillTransaction"]["reason"],
        "MARKET_ORDER_POSITION_CLOSEOUT"
    );
    assert_eq!(body["longOrderFillTransaction"]["units"], "-300");
    assert!(body.get("shortOrderCreateTransaction").is_none());
    let units: Vec<_> = fake.trades(HEDGE).iter().map(|t| t.units).collect();
    assert_eq!(units, [dec("-100")]);
    // Nothing long is left.
    let (status, body) = c.put(&path, json!({ "longUnits": "ALL" })).await;
    assert_eq!(status, 400);
    assert_eq!(body["errorCode"], "CLOSEOUT_POSITION_DOESNT_EXIST");
    assert_eq!(
        body["longOrderRejectTransaction"]["rejectReason"],
        "CLOSEOUT_POSITION_DOESNT_EXIST"
    );
    let (status, body) = c.put(&path, json!({ "shortUnits": "150" })).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("CLOSEOUT_POSITION_UNITS_EXCEED_POSITION_SIZE"))
    );
    let (status, body) = c.put(&path, json!({ "shortUnits": "40" })).await;
    assert_eq!(status, 200);
    assert_eq!(body["shortOrderFillTransaction"]["units"], "40");
    assert_eq!(fake.trades(HEDGE)[0].units, dec("-60"));
    assert_eq!(c.put(&path, json!({})).await.0, 400);
    // Every instrument ever traded stays in /positions; /openPositions only lists open ones.
    c.put(&path, json!({ "shortUnits": "ALL" })).await;
    let (_, all) = c.get(&format!("/v3/accounts/{HEDGE}/positions")).await;
    assert_eq!(all["positions"][0]["instrument"], "GBP_USD");
    let (_, open) = c.get(&format!("/v3/accounts/{HEDGE}/openPositions")).await;
    assert_eq!(open["positions"], json!([]));
}
