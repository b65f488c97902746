//! The legacy v1 API: accounts, rates (instruments, prices, candles), orders, trades, positions and
//! transactions, with JSON numbers, form bodies and `{"code","message","moreInfo"}` errors.

use crate::client::{start, Client, V1};
use reqwest::Method;
use serde_json::{json, Value};

fn path(rest: &str) -> String {
    format!("/v1/accounts/{V1}{rest}")
}

#[tokio::test]
async fn account_and_rates() {
    let fake = start().await;
    let c = Client::new(&fake);
    let (status, a) = c.get(&path("")).await;
    assert_eq!(status, 200);
    assert_eq!(a["accountId"], 7654321);
    assert_eq!(a["balance"], 100000);
    assert_eq!(a["marginAvail"], 100000);
    assert_eq!(a["openTrades"], 0);
    assert_eq!(a["accountCurrency"], "USD");

    let (status, body) = c.get("/v1/instruments").await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(1)));
    assert_eq!(body["message"], "Invalid or malformed argument: accountId");
    let (_, body) = c
        .get(&format!(
            "/v1/instruments?accountId={V1}&instruments=AUD_CAD%2CEUR_USD"
        ))
        .await;
    assert_eq!(body["code"], 2, "an unknown instrument is refused: {body}");
    let (_, body) = c
        .get(&format!("/v1/instruments?accountId={V1}&instruments=EUR_USD"))
        .await;
    assert_eq!(
        body,
        json!({ "instruments": [{ "instrument": "EUR_USD", "displayName": "EUR/USD", "pip": "0.0001", "maxTradeUnits": 100000000 }] })
    );
    let (_, body) = c
        .get(&format!(
            "/v1/instruments?accountId={V1}&instruments=USD_JPY&fields=precision%2CmarginRate%2Chalted%2CinterestRate%2CmaxTrailingStop"
        ))
        .await;
    let jpy = &body["instruments"][0];
    assert_eq!(jpy["precision"], "0.001");
    assert_eq!(jpy["marginRate"], 0.04);
    assert_eq!(jpy["halted"], false);
    assert_eq!(jpy["maxTrailingStop"], 10000);
    assert!(jpy["interestRate"]["JPY"]["bid"].is_number());
    assert!(jpy.get("pip").is_none());

    fake.set_halted("XAU_USD", true);
    let (_, body) = c.get("/v1/prices?instruments=EUR_USD%2CXAU_USD").await;
    let p = &body["prices"];
    assert_eq!(p[0]["bid"], 1.08512);
    assert_eq!(p[0]["ask"], 1.08526);
    assert!(p[0].get("status").is_none());
    assert_eq!(p[1]["status"], "halted");
    assert_eq!(c.get("/v1/prices").await.0, 400);
}

#[tokio::test]
async fn candles_in_bidask_and_midpoint() {
    let fake = start().await;
    let c = Client::new(&fake);
    let (status, body) = c
        .get("/v1/candles?instrument=EUR_USD&count=2&candleFormat=midpoint&granularity=D&dailyAlignment=0&alignmentTimezone=America%2FNew_York&start=2025-07-01T00%3A00%3A00Z")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["granularity"], "D");
    let candles = body["candles"].as_array().cloned().unwrap_or_default();
    assert_eq!(candles[0]["time"], "2025-06-30T04:00:00.000000Z");
    assert!(candles[0]["openMid"].is_number());
    assert_eq!(candles[0]["complete"], true);
    let (_, body) = c
        .get("/v1/candles?instrument=EUR_USD&start=2014-06-19T15%3A47%3A40Z&end=2014-06-19T15%3A47%3A50Z")
        .await;
    assert_eq!(body["granularity"], "S5");
    let candles = body["candles"].as_array().cloned().unwrap_or_default();
    assert_eq!(candles.len(), 2);
    assert_eq!(candles[1]["time"], "2014-06-19T15:47:45.000000Z");
    for key in [
        "openBid", "openAsk", "highBid", "highAsk", "lowBid", "lowAsk", "closeBid", "closeAsk", "volume",
    ] {
        assert!(candles[0][key].is_number(), "{key}");
    }
    // M3 exists in v1; more than 5000 candles do not.
    assert_eq!(
        c.get("/v1/candles?instrument=EUR_USD&granularity=M3&count=2")
            .await
            .0,
        200
    );
    let (status, body) = c.get("/v1/candles?instrument=EUR_USD&count=5001").await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Invalid or malformed argument: count"))
    );
    assert_eq!(
        c.get("/v1/candles?instrument=EUR_USD&candleFormat=ohlc").await.0,
        400
    );
}

async fn market(c: &Client, side: &str, units: &str) -> (u16, Value) {
    c.form(
        Method::POST,
        &path("/orders"),
        &[
            ("instrument", "EUR_USD"),
            ("units", units),
            ("side", side),
            ("type", "market"),
        ],
    )
    .await
}

#[tokio::test]
async fn market_orders_open_and_close_trades_fifo() {
    let fake = start().await;
    let c = Client::new(&fake);
    let (status, body) = c
        .form(
            Method::POST,
            &path("/orders"),
            &[
                ("instrument", "EUR_USD"),
                ("units", "2"),
                ("side", "buy"),
                ("type", "market"),
                ("stopLoss", "1.08000"),
                ("trailingStop", "20"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["instrument"], "EUR_USD");
    assert_eq!(body["price"], 1.08526);
    let opened = &body["tradeOpened"];
    assert_eq!(opened["units"], 2);
    assert_eq!(opened["side"], "buy");
    assert_eq!(opened["stopLoss"], 1.08);
    assert_eq!(opened["takeProfit"], 0);
    assert_eq!(opened["trailingStop"], 20);
    assert_eq!(body["tradesClosed"], json!([]));
    assert_eq!(body["tradeReduced"], json!({}));
    let first = opened["id"].as_u64().unwrap_or_default();
    let (_, second) = market(&c, "buy", "3").await;
    let second = second["tradeOpened"]["id"].as_u64().unwrap_or_default();
    // Selling 4 closes the first trade and reduces the second: v1 accounts never hedge.
    let (status, body) = market(&c, "sell", "4").await;
    assert_eq!(status, 200);
    assert_eq!(body["tradeOpened"], json!({}));
    assert_eq!(
        body["tradesClosed"],
        json!([{ "id": first, "units": 2, "side": "buy" }])
    );
    assert_eq!(body["tradeReduced"]["id"], second);
    assert_eq!(body["tradeReduced"]["units"], 2);
    let (_, trades) = c.get(&path("/trades")).await;
    assert_eq!(trades["trades"].as_array().map(Vec::len), Some(1));
    assert_eq!(trades["trades"][0]["units"], 1);
    // The first trade's stop loss died with it.
    let states: Vec<String> = fake.orders(V1).into_iter().map(|o| o.state).collect();
    assert!(states.iter().all(|s| s != "PENDING"), "{states:?}");

    let (status, body) = market(&c, "buy", "100000000").await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "Insufficient margin available");
    let (status, body) = market(&c, "hold", "1").await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Invalid or malformed argument: side"))
    );
    let (status, body) = market(&c, "buy", "1.5").await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(1)));
}

#[tokio::test]
async fn pending_orders_are_listed_changed_and_cancelled() {
    let fake = start().await;
    let c = Client::new(&fake);
    let expiry = (fake.now() + chrono::Duration::days(1)).to_rfc3339();
    let (status, body) = c
        .form(
            Method::POST,
            &path("/orders"),
            &[
                ("instrument", "EUR_USD"),
                ("units", "10"),
                ("side", "sell"),
                ("type", "limit"),
                ("price", "1.09500"),
                ("expiry", &expiry),
                ("takeProfit", "1.08000"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let opened = &body["orderOpened"];
    assert_eq!(opened["side"], "sell");
    assert_eq!(opened["takeProfit"], 1.08);
    assert_eq!(opened["stopLoss"], 0);
    assert_eq!(opened["upperBound"], 0);
    let id = opened["id"].as_u64().unwrap_or_default();
    let (_, list) = c.get(&path("/orders")).await;
    assert_eq!(list["orders"][0]["id"], id);
    assert_eq!(list["orders"][0]["type"], "limit");
    assert_eq!(list["orders"][0]["price"], 1.095);
    let (status, order) = c
        .form(
            Method::PATCH,
            &path(&format!("/orders/{id}")),
            &[("price", "1.09600"), ("units", "20")],
        )
        .await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(
        (order["price"].clone(), order["units"].clone()),
        (json!(1.096), json!(20))
    );
    let (status, gone) = c
        .call(Method::DELETE, &path(&format!("/orders/{id}")), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(gone["id"], id);
    assert_eq!(gone["price"], 1.096);
    let (status, body) = c.get(&path(&format!("/orders/{id}"))).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(43)));
    assert_eq!(body["message"], "Order not found");
    // A pending order needs a price and an expiry.
    let (status, body) = c
        .form(
            Method::POST,
            &path("/orders"),
            &[
                ("instrument", "EUR_USD"),
                ("units", "1"),
                ("side", "buy"),
                ("type", "stop"),
                ("price", "1.1"),
            ],
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Invalid or malformed argument: expiry"))
    );
    let types: Vec<String> = fake
        .transactions(V1)
        .iter()
        .filter_map(|t| t["type"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        types,
        [
            "TRANSFER_FUNDS",
            "LIMIT_ORDER_CREATE",
            "ORDER_UPDATE",
            "ORDER_CANCEL"
        ]
    );
}

#[tokio::test]
async fn trades_and_positions() {
    let fake = start().await;
    let c = Client::new(&fake);
    let (_, body) = market(&c, "sell", "5").await;
    let id = body["tradeOpened"]["id"].as_u64().unwrap_or_default();
    let (status, trade) = c
        .form(
            Method::PATCH,
            &path(&format!("/trades/{id}")),
            &[
                ("stopLoss", "1.09000"),
                ("takeProfit", "1.08000"),
                ("trailingStop", "50"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{trade}");
    assert_eq!(trade["side"], "sell");
    assert_eq!(trade["stopLoss"], 1.09);
    assert_eq!(trade["takeProfit"], 1.08);
    assert_eq!(trade["trailingStop"], 50);
    // Short at the bid 1.08512: the trailing stop starts 50 pips above.
    assert_eq!(trade["trailingAmount"], 1.09012);
    let (status, _) = c
        .form(
            Method::PATCH,
            &path(&format!("/trades/{id}")),
            &[("stopLoss", "1.00000")],
        )
        .await;
    assert_eq!(status, 400, "a short trade's stop below the market is refused");
    let (status, trade) = c
        .form(
            Method::PATCH,
            &path(&format!("/trades/{id}")),
            &[("takeProfit", "0")],
        )
        .await;
    assert_eq!((status, trade["takeProfit"].clone()), (200, json!(0)));

    let (_, positions) = c.get(&path("/positions")).await;
    assert_eq!(
        positions,
        json!({ "positions": [{ "instrument": "EUR_USD", "units": 5, "side": "sell", "avgPrice": 1.08512 }] })
    );
    let (_, closed) = c
        .call(Method::DELETE, &path(&format!("/trades/{id}")), None)
        .await;
    assert_eq!(closed["id"], id);
    assert_eq!(closed["side"], "sell");
    assert_eq!(closed["price"], 1.08526);
    // (1.08512 - 1.08526) × 5.
    assert_eq!(closed["profit"], -0.0007);
    let (status, body) = c.get(&path(&format!("/trades/{id}"))).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(63)));
    let (status, body) = c.get(&path("/positions/EUR_USD")).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(14)));

    market(&c, "buy", "3").await;
    market(&c, "buy", "4").await;
    let (_, position) = c.get(&path("/positions/EUR_USD")).await;
    assert_eq!(position["units"], 7);
    let (status, body) = c.call(Method::DELETE, &path("/positions/EUR_USD"), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["totalUnits"], 7);
    assert_eq!(body["ids"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["price"], 1.08512);
    assert!(fake.trades(V1).is_empty());
}

#[tokio::test]
async fn transactions_newest_first() {
    let fake = start().await;
    let c = Client::new(&fake);
    market(&c, "buy", "2").await;
    let (_, body) = c
        .form(
            Method::POST,
            &path("/orders"),
            &[
                ("instrument", "EUR_USD"),
                ("units", "2"),
                ("side", "sell"),
                ("type", "market"),
            ],
        )
        .await;
    let closed = body["tradesClosed"][0]["id"].as_u64().unwrap_or_default();
    let (status, body) = c.get(&path("/transactions")).await;
    assert_eq!(status, 200);
    let txs = body["transactions"].as_array().cloned().unwrap_or_default();
    let types: Vec<&str> = txs.iter().filter_map(|t| t["type"].as_str()).collect();
    assert_eq!(
        types,
        ["MARKET_ORDER_CREATE", "MARKET_ORDER_CREATE", "TRANSFER_FUNDS"]
    );
    let newest = &txs[0];
    assert_eq!(newest["accountId"], 7654321);
    assert_eq!(newest["side"], "sell");
    assert_eq!(newest["tradesClosed"][0]["id"], closed);
    assert!(newest["id"].is_u64());
    assert!(newest["pl"].is_number());
    assert_eq!(
        txs[1]["tradeOpened"]["id"], txs[1]["id"],
        "a trade takes its fill's id"
    );
    let (_, one) = c.get(&path("/transactions?count=1")).await;
    assert_eq!(one["transactions"].as_array().map(Vec::len), Some(1));
    let first = txs[2]["id"].as_u64().unwrap_or_default();
    let (_, got) = c.get(&path(&format!("/transactions/{first}"))).await;
    assert_eq!(got["type"], "TRANSFER_FUNDS");
    assert_eq!(got["amount"], 100000);
    let (status, body) = c.get(&path("/transactions/1")).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(13)));
    let (status, _) = c.get(&path("/transactions?count=501")).await;
    assert_eq!(status, 400);
}
