//! v20 orders: market fills, pending orders filling on a price move, rejects with documented reasons,
//! cancels for margin and halts, `@clientID` lookup, replace and cancel, GTD expiry.

use crate::client::{dec, start, Client, HEDGE, NET};
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn a_market_order_fills_at_the_ask_and_opens_a_trade() {
    let fake = start().await;
    let c = Client::new(&fake);
    let body = c
        .order(
            NET,
            json!({
                "type": "MARKET",
                "instrument": "EUR_USD",
                "units": "1000",
                "clientExtensions": { "id": "my-1", "tag": "tv" },
            }),
        )
        .await;
    let create = &body["orderCreateTransaction"];
    assert_eq!(create["type"], "MARKET_ORDER");
    assert_eq!(create["id"], "3");
    assert_eq!(create["timeInForce"], "FOK");
    assert_eq!(create["positionFill"], "DEFAULT");
    assert_eq!(create["reason"], "CLIENT_ORDER");
    assert_eq!(create["accountID"], NET);
    assert_eq!(create["batchID"], "3");
    let fill = &body["orderFillTransaction"];
    assert_eq!(fill["type"], "ORDER_FILL");
    assert_eq!(fill["orderID"], "3");
    assert_eq!(fill["clientOrderID"], "my-1");
    assert_eq!(fill["price"], "1.08526");
    assert_eq!(fill["units"], "1000");
    assert_eq!(fill["reason"], "MARKET_ORDER");
    assert_eq!(fill["tradeOpened"]["tradeID"], "4");
    assert_eq!(fill["tradeOpened"]["units"], "1000");
    assert_eq!(fill["accountBalance"], "100000.0000");
    assert_eq!(body["relatedTransactionIDs"], json!(["3", "4"]));
    assert_eq!(body["lastTransactionID"], "4");
    let trades = fake.trades(NET);
    assert_eq!(trades.len(), 1);
    assert_eq!((trades[0].id.as_str(), trades[0].units), ("4", dec("1000")));
    let orders = fake.orders(NET);
    assert_eq!(orders[0].state, "FILLED");
    assert_eq!(orders[0].client_id.as_deref(), Some("my-1"));

    // The order is found by its client id too.
    let (status, found) = c.get(&format!("/v3/accounts/{NET}/orders/@my-1")).await;
    assert_eq!(status, 200);
    assert_eq!(found["order"]["id"], "3");
    assert_eq!(found["order"]["state"], "FILLED");
    assert_eq!(found["order"]["fillingTransactionID"], "4");
    assert_eq!(found["order"]["tradeOpenedID"], "4");
    let (status, body) = c.get(&format!("/v3/accounts/{NET}/orders/@nobody")).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("ORDER_DOESNT_EXIST"))
    );
}

/// Posts an order expected to be rejected; returns (status, body).
async fn rejected(c: &Client, order: Value) -> (u16, Value) {
    c.post(&format!("/v3/accounts/{NET}/orders"), json!({ "order": order }))
        .await
}

#[tokio::test]
async fn invalid_orders_are_rejected_with_the_documented_reasons() {
    let fake = start().await;
    let c = Client::new(&fake);
    let m = |units: &str| json!({ "type": "MARKET", "instrument": "EUR_USD", "units": units });
    let cases = [
        (m("0"), "UNITS_INVALID"),
        (m("abc"), "UNITS_INVALID"),
        (m("1.5"), "UNITS_PRECISION_EXCEEDED"),
        (m("1000000000"), "UNITS_LIMIT_EXCEEDED"),
        (
            json!({ "type": "MARKET", "instrument": "EUR_USD" }),
            "UNITS_MISSING",
        ),
        (
            json!({ "type": "MARKET", "instrument": "FOO_BAR", "units": "1" }),
            "INSTRUMENT_UNKNOWN",
        ),
        (json!({ "type": "MARKET", "units": "1" }), "INSTRUMENT_MISSING"),
        (
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "1", "timeInForce": "GTC" }),
            "TIME_IN_FORCE_INVALID",
        ),
        (
            json!({ "type": "LIMIT", "instrument": "EUR_USD", "units": "1", "price": "-1" }),
            "PRICE_INVALID",
        ),
        (
            json!({ "type": "LIMIT", "instrument": "EUR_USD", "units": "1", "price": "1.000001" }),
            "PRICE_PRECISION_EXCEEDED",
        ),
        (
            json!({ "type": "LIMIT", "instrument": "EUR_USD", "units": "1" }),
            "PRICE_MISSING",
        ),
        (
            json!({ "type": "LIMIT", "instrument": "EUR_USD", "units": "1", "price": "1.05", "timeInForce": "GTD" }),
            "TIME_IN_FORCE_GTD_TIMESTAMP_MISSING",
        ),
        (
            json!({ "type": "LIMIT", "instrument": "EUR_USD", "units": "1", "price": "1.05",
                    "timeInForce": "GTD", "gtdTime": "2020-01-01T00:00:00Z" }),
            "TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST",
        ),
        (
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "1",
                    "stopLossOnFill": { "price": "1.07", "guaranteed": true } }),
            "STOP_LOSS_ON_FILL_GUARANTEED_NOT_ALLOWED",
        ),
        (
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "1",
                    "stopLossOnFill": { "price": "1.07", "distance": "0.01" } }),
            "STOP_LOSS_ON_FILL_PRICE_AND_DISTANCE_BOTH_SPECIFIED",
        ),
        (
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "1",
                    "takeProfitOnFill": { "timeInForce": "GTC" } }),
            "TAKE_PROFIT_ON_FILL_PRICE_MISSING",
        ),
        (
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "1",
                    "trailingStopLossOnFill": { "distance": "0.0001" } }),
            "TRAILING_STOP_LOSS_ON_FILL_PRICE_DISTANCE_MINIMUM_NOT_MET",
        ),
    ];
    for (order, reason) in cases {
        let (status, body) = rejected(&c, order.clone()).await;
        assert_eq!(status, 400, "{order}: {body}");
        assert_eq!(body["errorCode"], reason, "{order}: {body}");
        assert_eq!(body["orderRejectTransaction"]["rejectReason"], reason);
        assert!(body["errorMessage"].as_str().is_some_and(|m| !m.is_empty()));
        let ty = body["orderRejectTransaction"]["type"]
            .as_str()
            .unwrap_or_default();
        assert!(ty.ends_with("_ORDER_REJECT"), "{ty}");
        assert_eq!(body["lastTransactionID"], body["orderRejectTransaction"]["id"]);
    }
    // XAU_USD trades whole units only, at least one.
    let (_, body) = rejected(
        &c,
        json!({ "type": "MARKET", "instrument": "XAU_USD", "units": "0.5" }),
    )
    .await;
    assert_eq!(body["errorCode"], "UNITS_PRECISION_EXCEEDED");
    // The documented enum spells the minimum reason this way.
    let mut opts = crate::client::options();
    opts.instruments[0].minimum_trade_size = dec("100");
    let small = fakes::oanda::FakeOanda::start(opts).await;
    let (_, body) = rejected(&Client::new(&small), m("10")).await;
    assert_eq!(body["errorCode"], "UNITS_MIMIMUM_NOT_MET");
    // Unreadable requests get a plain 400 without a transaction.
    let (status, body) = c
        .post(
            &format!("/v3/accounts/{NET}/orders"),
            json!({ "order": { "type": "BOGUS" } }),
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.get("orderRejectTransaction").is_none());
    assert!(fake.trades(NET).is_empty());
}

#[tokio::test]
async fn a_client_id_can_be_used_once() {
    let fake = start().await;
    let c = Client::new(&fake);
    let order = json!({ "type": "LIMIT", "instrument": "EUR_USD", "units": "10", "price": "1.05",
                        "clientExtensions": { "id": "dup" } });
    c.order(NET, order.clone()).await;
    let (status, body) = rejected(&c, order).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("CLIENT_ORDER_ID_ALREADY_EXISTS"))
    );
}

#[tokio::test]
async fn market_orders_are_cancelled_for_missing_margin_and_halted_markets() {
    let fake = start().await;
    let c = Client::new(&fake);
    // 10 000 000 EUR at 2% needs about 217 000 USD of margin; the account has 100 000.
    let body = c
        .order(
            NET,
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "10000000" }),
        )
        .await;
    assert_eq!(body["orderCreateTransaction"]["type"], "MARKET_ORDER");
    assert_eq!(body["orderCancelTransaction"]["reason"], "INSUFFICIENT_MARGIN");
    assert!(body.get("orderFillTransaction").is_none());
    fake.set_halted("EUR_USD", true);
    let body = c
        .order(
            NET,
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "1" }),
        )
        .await;
    assert_eq!(body["orderCancelTransaction"]["reason"], "MARKET_HALTED");
    assert!(fake.trades(NET).is_empty());
    let states: Vec<String> = fake.orders(NET).into_iter().map(|o| o.state).collect();
    assert_eq!(states, ["CANCELLED", "CANCELLED"]);
    // A price bound the market is beyond cancels too.
    fake.set_halted("EUR_USD", false);
    let body = c
        .order(
            NET,
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "1", "priceBound": "1.08000" }),
        )
        .await;
    assert_eq!(body["orderCancelTransaction"]["reason"], "BOUNDS_VIOLATION");
}

#[tokio::test]
async fn pending_orders_wait_for_the_market_and_fill_when_crossed() {
    let fake = start().await;
    let c = Client::new(&fake);
    let body = c
        .order(
            NET,
            json!({
                "type": "LIMIT", "instrument": "EUR_USD", "units": "-500", "price": "1.09000",
                "takeProfitOnFill": { "price": "1.08000" },
                "stopLossOnFill": { "distance": "0.00500" },
            }),
        )
        .await;
    assert_eq!(body["orderCreateTransaction"]["type"], "LIMIT_ORDER");
    assert_eq!(body["orderCreateTransaction"]["timeInForce"], "GTC");
    assert_eq!(body["orderCreateTransaction"]["triggerCondition"], "DEFAULT");
    assert!(body.get("orderFillTransaction").is_none());
    let (_, pending) = c.get(&format!("/v3/accounts/{NET}/pendingOrders")).await;
    assert_eq!(pending["orders"][0]["state"], "PENDING");
    assert_eq!(pending["orders"][0]["price"], "1.09000");
    // Not crossed yet: a sell limit needs the bid at or above its price.
    fake.set_price("EUR_USD", dec("1.08990"), dec("1.09004"));
    assert!(fake.trades(NET).is_empty());
    fake.set_price("EUR_USD", dec("1.09010"), dec("1.09024"));
    let trades = fake.trades(NET);
    assert_eq!(trades.len(), 1);
    assert_eq!(trades[0].units, dec("-500"));
    assert_eq!(trades[0].price, dec("1.09010"));
    assert_eq!(trades[0].take_profit, Some(dec("1.08000")));
    assert_eq!(trades[0].stop_loss, Some(dec("1.09510")));
    let txs = fake.transactions(NET);
    let types: Vec<&str> = txs.iter().filter_map(|t| t["type"].as_str()).collect();
    assert_eq!(
        &types[types.len() - 3..],
        ["ORDER_FILL", "TAKE_PROFIT_ORDER", "STOP_LOSS_ORDER"]
    );
    let fill = &txs[txs.len() - 3];
    assert_eq!(fill["reason"], "LIMIT_ORDER");
    assert_eq!(txs[txs.len() - 1]["reason"], "ON_FILL");
    assert_eq!(txs[txs.len() - 1]["orderFillTransactionID"], fill["id"]);
    // Dependent orders are listed as pending orders with their trade id.
    let (_, list) = c.get(&format!("/v3/accounts/{NET}/orders")).await;
    let kinds: Vec<&str> = list["orders"]
        .as_array()
        .map(|l| l.iter().filter_map(|o| o["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["STOP_LOSS", "TAKE_PROFIT"]);
    assert_eq!(list["orders"][0]["tradeID"], fill["tradeOpened"]["tradeID"]);
    let (_, all) = c
        .get(&format!("/v3/accounts/{NET}/orders?state=ALL&count=2"))
        .await;
    assert_eq!(all["orders"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        c.get(&format!("/v3/accounts/{NET}/orders?count=501")).await.0,
        400
    );
}

#[tokio::test]
async fn a_marketable_limit_fills_at_once_and_ioc_orders_lapse() {
    let fake = start().await;
    let c = Client::new(&fake);
    let body = c
        .order(
            NET,
            json!({ "type": "LIMIT", "instrument": "EUR_USD", "units": "100", "price": "1.09000" }),
        )
        .await;
    // Filled at the better market price.
    assert_eq!(body["orderFillTransaction"]["price"], "1.08526");
    let body = c
        .order(
            NET,
            json!({ "type": "LIMIT", "instrument": "EUR_USD", "units": "100", "price": "1.07000", "timeInForce": "IOC" }),
        )
        .await;
    assert_eq!(body["orderCancelTransaction"]["reason"], "TIME_IN_FORCE_EXPIRED");
}

#[tokio::test]
async fn orders_are_replaced_and_cancelled_by_id_or_client_id() {
    let fake = start().await;
    let c = Client::new(&fake);
    let body = c
        .order(
            HEDGE,
            json!({ "type": "STOP", "instrument": "USD_JPY", "units": "100", "price": "151.000",
                    "clientExtensions": { "id": "stop-1" } }),
        )
        .await;
    let old = body["orderCreateTransaction"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, body) = c
        .put(
            &format!("/v3/accounts/{HEDGE}/orders/@stop-1"),
            json!({ "order": { "type": "STOP", "instrument": "USD_JPY", "units": "200", "price": "151.500" } }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let cancel = &body["orderCancelTransaction"];
    let create = &body["orderCreateTransaction"];
    assert_eq!(cancel["orderID"], old.as_str());
    assert_eq!(cancel["reason"], "CLIENT_REQUEST_REPLACED");
    assert_eq!(cancel["replacedByOrderID"], create["id"]);
    assert_eq!(create["replacesOrderID"], old.as_str());
    assert_eq!(create["cancellingTransactionID"], cancel["id"]);
    assert_eq!(create["reason"], "REPLACEMENT");
    assert_eq!(create["price"], "151.500");
    // The replacement keeps the client id, so the same specifier finds it.
    let (_, found) = c.get(&format!("/v3/accounts/{HEDGE}/orders/@stop-1")).await;
    assert_eq!(found["order"]["id"], create["id"]);
    assert_eq!(found["order"]["replacesOrderID"], old.as_str());
    let (_, old_order) = c.get(&format!("/v3/accounts/{HEDGE}/orders/{old}")).await;
    assert_eq!(old_order["order"]["state"], "CANCELLED");
    assert_eq!(old_order["order"]["replacedByOrderID"], create["id"]);

    let (status, body) = c
        .put(&format!("/v3/accounts/{HEDGE}/orders/@stop-1/cancel"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["orderCancelTransaction"]["reason"], "CLIENT_REQUEST");
    // Cancelling again: the order is no longer pending.
    let (status, body) = c
        .put(&format!("/v3/accounts/{HEDGE}/orders/@stop-1/cancel"), json!({}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        body["orderCancelRejectTransaction"]["type"],
        "ORDER_CANCEL_REJECT"
    );
    assert_eq!(body["errorCode"], "ORDER_DOESNT_EXIST");
    let (status, _) = c
        .put(&format!("/v3/accounts/{HEDGE}/orders/999/cancel"), json!({}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn gtd_orders_lapse_at_their_time() {
    let fake = start().await;
    let c = Client::new(&fake);
    let gtd = (fake.now() + chrono::Duration::minutes(30)).to_rfc3339();
    c.order(
        NET,
        json!({ "type": "LIMIT", "instrument": "EUR_USD", "units": "1", "price": "1.05000",
                "timeInForce": "GTD", "gtdTime": gtd }),
    )
    .await;
    assert_eq!(fake.orders(NET)[0].state, "PENDING");
    fake.advance_clock(Duration::from_secs(31 * 60));
    assert_eq!(fake.orders(NET)[0].state, "CANCELLED");
    let last = fake.transactions(NET).last().cloned().unwrap_or_default();
    assert_eq!(last["type"], "ORDER_CANCEL");
    assert_eq!(last["reason"], "TIME_IN_FORCE_EXPIRED");
}

#[tokio::test]
async fn hostile_input_is_refused_and_the_fake_keeps_serving() {
    let fake = start().await;
    let c = Client::new(&fake);
    let huge = "79228162514264337593543950335";
    let cases = [
        (
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": huge }),
            "UNITS_INVALID",
        ),
        (
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "1e3" }),
            "UNITS_INVALID",
        ),
        (
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": 10 }),
            "",
        ),
        (
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "-10",
                    "stopLossOnFill": { "distance": huge } }),
            "STOP_LOSS_ON_FILL_DISTANCE_INVALID",
        ),
        (
            json!({ "type": "STOP", "instrument": "EUR_USD", "units": "1", "price": huge }),
            "PRICE_INVALID",
        ),
        (
            json!({ "type": "LIMIT", "instrument": "EUR_USD", "units": "1", "price": "1.05",
                    "timeInForce": "GTD", "gtdTime": "99999999999999999999" }),
            "TIME_IN_FORCE_GTD_TIMESTAMP_MISSING",
        ),
        (
            json!({ "type": "MARKET", "instrument": "EUR_USD", "units": "1",
                    "clientExtensions": { "id": 7 } }),
            "CLIENT_ORDER_ID_INVALID",
        ),
    ];
    for (order, reason) in cases {
        let (status, body) = rejected(&c, order.clone()).await;
        if reason.is_empty() {
            // A JSON number is read like the string OANDA documents.
            assert_eq!(status, 201, "{order}: {body}");
        } else {
            assert_eq!(
                (status, body["errorCode"].as_str()),
                (400, Some(reason)),
                "{order}: {body}"
            );
        }
    }
    let raw = reqwest::Client::new()
        .post(format!("{}/v3/accounts/{NET}/orders", fake.rest_url))
        .bearer_auth(crate::client::TOKEN)
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(raw.status().as_u16(), 400);
    for query in [
        "from=0001-01-01T00:00:00Z",
        "from=-99999999999",
        "count=99999999999",
        "to=garbage",
    ] {
        let (status, _) = c.get(&format!("/v3/instruments/EUR_USD/candles?{query}")).await;
        assert_eq!(status, 400, "{query}");
    }
    let (status, _) = c
        .form(
            reqwest::Method::POST,
            &format!("/v1/accounts/{}/orders", crate::client::V1),
            &[
                ("instrument", "EUR_USD"),
                ("units", huge),
                ("side", "buy"),
                ("type", "market"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(c.get(&format!("/v3/accounts/{NET}/summary")).await.0, 200);
}
