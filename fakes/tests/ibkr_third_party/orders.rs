//! The order engine through the resources: place (market fills at once, limit waits for the price),
//! duplicate CustomerOrderId refused and never placed twice, look-up by id, modify under a new id (the
//! old one Replaced), cancel, trades and their `since` rules, positions, summary, impact, secdef and
//! market data.

use crate::client::*;
use chrono::TimeDelta;
use fakes::ibkr_third_party::next_refresh;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::json;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn orders_path() -> String {
    format!("/accounts/{ALICE_ACCT}/orders")
}

#[tokio::test]
async fn a_market_order_fills_at_the_ask_and_moves_position_cash_and_trades() {
    let (fake, c) = relaxed().await;
    let s = c.granted(&fake, "alice").await;
    let cash = fake.cash(ALICE_ACCT).unwrap();
    let placed = c
        .call(
            &s,
            Method::POST,
            &orders_path(),
            Some(
                &json!({"CustomerOrderId": 1001, "ContractId": AAPL, "Side": "1", "OrderType": "1",
                         "OrderQty": 10, "TimeInForce": "0", "OutsideRTH": "N"}),
            ),
        )
        .await;
    assert_eq!(placed.status, 200, "{}", placed.body);
    let o = &placed.body[0];
    assert_eq!(o["CustomerOrderId"], 1001);
    assert_eq!(o["Status"], "2");
    assert_eq!(o["FilledQuantity"], 10);
    assert_eq!(o["RemainingQuantity"], 0);
    assert_eq!(o["AvgPrice"], 187.52);
    assert_eq!(o["Ticker"], "AAPL");
    assert_eq!(o["ListingExchange"], "NASDAQ");
    assert_eq!(o["TransactionTime"].as_str().unwrap().len(), 17);
    assert_eq!(fake.position(ALICE_ACCT, AAPL), d("10"));
    // 10 x 187.52 + 1.00 minimum commission.
    assert_eq!(fake.cash(ALICE_ACCT).unwrap(), cash - d("1876.20"));

    let positions = c.get(&s, &format!("/accounts/{ALICE_ACCT}/positions")).await;
    assert_eq!(
        positions.body,
        json!([{"ContractId": AAPL, "Position": 10, "AverageCost": 187.52}])
    );
    let trades = c.get(&s, &format!("/accounts/{ALICE_ACCT}/trades")).await;
    assert_eq!(trades.status, 200);
    let t = &trades.body[0];
    assert_eq!(
        (
            t["CustomerOrderId"].clone(),
            t["TradePrice"].clone(),
            t["TradeSize"].clone()
        ),
        (json!(1001), json!(187.52), json!(10))
    );
    assert!(t["ExecId"].as_str().is_some_and(|e| !e.is_empty()));
    assert_eq!(t["Commission"], 1);
    let summary = c.get(&s, &format!("/accounts/{ALICE_ACCT}/summary")).await;
    assert_eq!(summary.body["Currency"], "USD");
    // Marked at the mid 187.51: 1875.10 of stock.
    assert_eq!(summary.body["GrossPositionValue"], 1875.1);
    assert_eq!(summary.body["UnrealizedPnL"], -0.1);
    let cash_now = summary.body["TotalCashValue"].as_f64().unwrap();
    assert!((summary.body["NetLiquidation"].as_f64().unwrap() - (cash_now + 1875.1)).abs() < 1e-6);
}

#[tokio::test]
async fn a_duplicate_customer_order_id_is_refused_and_never_placed_twice() {
    let (fake, c) = relaxed().await;
    let s = c.granted(&fake, "alice").await;
    let order = json!({"CustomerOrderId": 7, "ContractId": AAPL, "Side": "1", "OrderType": "2",
                       "OrderQty": 5, "Price": 150, "TimeInForce": "1"});
    assert_eq!(
        c.call(&s, Method::POST, &orders_path(), Some(&order))
            .await
            .status,
        200
    );
    let dup = c.call(&s, Method::POST, &orders_path(), Some(&order)).await;
    assert_eq!(
        (dup.status, dup.body.clone()),
        (400, json!({"error": "Duplicate CustomerOrderId"}))
    );
    assert_eq!(fake.orders_with_id(ALICE_ACCT, 7), 1);
    assert_eq!(fake.place_requests(ALICE_ACCT, 7), 2);
    let ledger = fake.ledger();
    assert_eq!(ledger.orders.len(), 1);
    assert_eq!(ledger.requests[&("POST".to_string(), orders_path())], 2);
    // The same id on another user's account is another order.
    let b = c.granted(&fake, "bob").await;
    let theirs = c
        .call(
            &b,
            Method::POST,
            &format!("/accounts/{BOB_ACCT}/orders"),
            Some(&order),
        )
        .await;
    assert_eq!(theirs.status, 200);
    // Bad bodies are refused with the reason.
    for (body, why) in [
        (
            json!({"ContractId": AAPL, "Side": "1", "OrderType": "1", "OrderQty": 1}),
            "CustomerOrderId missing",
        ),
        (
            json!({"CustomerOrderId": 8, "ContractId": AAPL, "Side": "1", "OrderType": "2", "OrderQty": 1}),
            "Price is required for a limit order",
        ),
        (
            json!({"CustomerOrderId": 9007199254740992_i64, "ContractId": AAPL, "Side": "1", "OrderType": "1", "OrderQty": 1}),
            "CustomerOrderId must be an integer from 1 to 2^53-1",
        ),
        (
            json!({"CustomerOrderId": 9, "Ticker": "ZZZ", "ListingExchange": "NASDAQ", "InstrumentType": "STK", "Side": "1", "OrderType": "1", "OrderQty": 1}),
            "No security definition found",
        ),
    ] {
        let r = c.call(&s, Method::POST, &orders_path(), Some(&body)).await;
        assert_eq!((r.status, r.body["error"].as_str()), (400, Some(why)), "{body}");
    }
}

#[tokio::test]
async fn a_limit_order_waits_then_modify_replaces_it_and_cancel_ends_the_replacement() {
    let (fake, c) = relaxed().await;
    let s = c.granted(&fake, "alice").await;
    let placed = c
        .call(
            &s,
            Method::POST,
            &orders_path(),
            Some(&json!({"CustomerOrderId": 20, "Ticker": "MSFT", "ListingExchange": "NASDAQ", "InstrumentType": "STK",
                         "Side": "1", "OrderType": "2", "OrderQty": 3, "Price": 400, "TimeInForce": "1"})),
        )
        .await;
    assert_eq!(placed.body[0]["Status"], "0", "{}", placed.body);
    assert_eq!(placed.body[0]["ContractId"], 272_093);

    let modified = c
        .call(
            &s,
            Method::PUT,
            &format!("{}/20", orders_path()),
            Some(&json!({"CustomerOrderId": 21, "ContractId": 272_093, "Side": "1", "OrderType": "2", "OrderQty": 4, "Price": 405})),
        )
        .await;
    assert_eq!(modified.status, 200, "{}", modified.body);
    assert_eq!(
        modified.body,
        json!([{"OrigCustomerOrderId": "20", "CustomerOrderId": "21", "OrderQty": 4, "Price": 405, "Side": "1",
                "Status": "5", "Warning": "", "OrderType": "2"}])
    );
    assert_eq!(
        c.get(&s, &format!("{}/20", orders_path())).await.body[0]["Status"],
        "5"
    );
    let new = c.get(&s, &format!("{}/21", orders_path())).await;
    assert_eq!(
        (
            new.body[0]["Status"].clone(),
            new.body[0]["RemainingQuantity"].clone()
        ),
        (json!("0"), json!(4))
    );
    assert_eq!(c.get(&s, &format!("{}/99", orders_path())).await.body, json!([]));
    let list = c.get(&s, &orders_path()).await;
    assert_eq!(list.body.as_array().unwrap().len(), 2, "working + replaced today");
    // The ledger tells a replacement from a placement.
    let replaces: Vec<(i64, Option<i64>)> = fake
        .ledger()
        .orders
        .iter()
        .map(|o| (o.customer_order_id, o.replaces))
        .collect();
    assert_eq!(replaces, vec![(20, None), (21, Some(20))]);
    // Modifying the replaced order is refused.
    let stale = c
        .call(
            &s,
            Method::PUT,
            &format!("{}/20", orders_path()),
            Some(&json!({"CustomerOrderId": 22, "OrderQty": 1})),
        )
        .await;
    assert_eq!(stale.status, 400);

    let cancelled = c
        .call(&s, Method::DELETE, &format!("{}/21", orders_path()), None)
        .await;
    assert_eq!(cancelled.status, 200);
    assert_eq!(
        cancelled.body,
        json!([{"CustomerOrderId": "21", "Symbol": "MSFT", "OrderQty": 4, "Price": 405, "Side": "1", "Status": "4",
                "Warning": "", "OrderType": "2"}])
    );
    let again = c
        .call(&s, Method::DELETE, &format!("{}/21", orders_path()), None)
        .await;
    assert_eq!(
        (again.status, again.body["error"].as_str()),
        (400, Some("Order is not working"))
    );
    fake.set_price(272_093, d("399"), d("399.5"));
    assert_eq!(fake.trade_count(), 0, "a cancelled order never fills");
}

#[tokio::test]
async fn limit_and_stop_orders_fill_when_the_price_crosses() {
    let (fake, c) = relaxed().await;
    let s = c.granted(&fake, "alice").await;
    let place = |body: serde_json::Value| {
        let c = &c;
        let s = &s;
        async move { c.call(s, Method::POST, &orders_path(), Some(&body)).await }
    };
    place(json!({"CustomerOrderId": 30, "ContractId": AAPL, "Side": "1", "OrderType": "2", "OrderQty": 2, "Price": 180, "TimeInForce": "1"})).await;
    place(json!({"CustomerOrderId": 31, "ContractId": AAPL, "Side": "2", "OrderType": "3", "OrderQty": 1, "StopPrice": 170, "TimeInForce": "1"})).await;
    let ioc = place(json!({"CustomerOrderId": 32, "ContractId": AAPL, "Side": "1", "OrderType": "2", "OrderQty": 1, "Price": 100, "TimeInForce": "3"})).await;
    assert_eq!(ioc.body[0]["Status"], "4", "an IOC that cannot fill is cancelled");
    fake.set_price(AAPL, d("179.90"), d("179.95"));
    assert_eq!(fake.order_status(ALICE_ACCT, 30).as_deref(), Some("2"));
    assert_eq!(fake.order_status(ALICE_ACCT, 31).as_deref(), Some("0"));
    fake.set_price(AAPL, d("169.00"), d("169.10"));
    assert_eq!(fake.order_status(ALICE_ACCT, 31).as_deref(), Some("2"));
    assert_eq!(fake.position(ALICE_ACCT, AAPL), d("1"));
    let order = c.get(&s, &format!("{}/31", orders_path())).await;
    assert_eq!(
        (
            order.body[0]["StopPrice"].clone(),
            order.body[0]["AvgPrice"].clone()
        ),
        (json!(170), json!(169))
    );
}

#[tokio::test]
async fn trades_since_must_be_within_the_past_seven_days() {
    let (fake, c) = relaxed().await;
    let mut s = c.granted(&fake, "alice").await;
    fake.freeze_clock();
    let now = fake.now();
    let fix = |t: chrono::DateTime<chrono::Utc>| t.format("%Y%m%d-%H:%M:%S").to_string();
    let trades = |s: &Session, q: String| {
        let c = &c;
        let s = s.clone();
        async move { c.get(&s, &format!("/accounts/{ALICE_ACCT}/trades{q}")).await }
    };
    c.call(&s, Method::POST, &orders_path(), Some(&json!({"CustomerOrderId": 40, "ContractId": EURUSD, "Side": "2", "OrderType": "1", "OrderQty": 20000})))
        .await;
    assert_eq!(
        trades(&s, format!("?since={}", fix(now + TimeDelta::minutes(1))))
            .await
            .status,
        400
    );
    assert_eq!(
        trades(&s, format!("?since={}", fix(now - TimeDelta::days(8))))
            .await
            .status,
        400
    );
    assert_eq!(trades(&s, "?since=yesterday".into()).await.status, 400);
    let week = trades(&s, format!("?since={}", fix(now - TimeDelta::days(6)))).await;
    assert_eq!(week.body.as_array().unwrap().len(), 1);
    assert_eq!(week.body[0]["Currency"], "USD");
    assert_eq!(week.body[0]["Commission"], 2);
    // Without `since`: the past 24 hours.
    fake.set_clock(now + TimeDelta::hours(25));
    // A day later the live session token has expired too: a new one.
    let (_, lst) = c.live_session_token(&s.access_token, &s.secret).await;
    s.lst = lst.unwrap();
    assert_eq!(trades(&s, String::new()).await.body, json!([]));
    assert_eq!(
        trades(&s, format!("?since={}", fix(now - TimeDelta::hours(1))))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(next_refresh(now) > now);
}

#[tokio::test]
async fn secdef_snapshot_components_and_impact() {
    let (fake, c) = relaxed().await;
    let s = c.granted(&fake, "alice").await;
    let by_conid = c.get(&s, "/secdef?conid=265598").await;
    assert_eq!(
        by_conid.body,
        json!({"ContractId": 265598, "Ticker": "AAPL", "SecurityType": "STK", "Exchange": "NASDAQ",
               "CompanyName": "APPLE INC", "Currency": "USD"})
    );
    let ibm = c
        .get(&s, "/secdef?ticker=IBM&exchange=NYSE&instrumentType=STK")
        .await;
    assert_eq!(ibm.body["ContractId"], IBM);
    let fx = c
        .get(&s, "/secdef?ticker=EUR&currency=USD&instrumentType=CASH")
        .await;
    assert_eq!(fx.body["ContractId"], EURUSD);
    let unknown = c.get(&s, "/secdef?conid=1").await;
    assert_eq!(
        (unknown.status, unknown.body["error"].as_str()),
        (400, Some("No security definition found"))
    );

    let snap = c
        .get(&s, &format!("/marketdata/snapshot?conids={AAPL},{IBM}"))
        .await;
    assert_eq!(snap.status, 200);
    assert_eq!(snap.body[0]["Temporality"], 0);
    assert_eq!(snap.body[0]["Bid"]["price"], 187.5);
    assert_eq!(snap.body[0]["Offer"]["price"], 187.52);
    assert_eq!(snap.body[1]["Temporality"], 1, "IBM is delayed");
    fake.set_delayed(IBM, false);
    let snap = c.get(&s, &format!("/marketdata/snapshot?conids={IBM}")).await;
    assert_eq!(snap.body[0]["Temporality"], 0);
    let bits = snap.body[0]["Bid"]["market"].as_u64().unwrap();
    let comp = c
        .get(&s, &format!("/marketdata/exchange_component?conids={IBM}"))
        .await;
    let mapping = comp.body[0]["mapping"].as_array().unwrap();
    let named: Vec<&str> = mapping
        .iter()
        .filter(|m| bits & (1 << m["bit"].as_u64().unwrap()) != 0)
        .map(|m| m["exchange"].as_str().unwrap())
        .collect();
    assert_eq!(named, ["NYSE"]);

    let impact = c
        .call(
            &s,
            Method::POST,
            &format!("/accounts/{ALICE_ACCT}/order_impact"),
            Some(&json!({"ContractId": AAPL, "Side": "1", "OrderType": "2", "OrderQty": 100, "Price": 187})),
        )
        .await;
    assert_eq!(impact.status, 200, "{}", impact.body);
    assert_eq!(impact.body["InitMarginBefore"], 0);
    assert_eq!(impact.body["InitMargin"], 4687.75);
    assert_eq!(impact.body["Commission"], 1);
    assert_eq!(fake.ledger().orders.len(), 0, "impact places nothing");
}

#[tokio::test]
async fn moving_prices_tick_the_quotes_and_keep_the_spread() {
    let options = fakes::ibkr_third_party::FakeIbkrThirdPartyOptions {
        moving_seed: Some(20_240_101),
        ..fakes::ibkr_third_party::FakeIbkrThirdPartyOptions::relaxed()
    };
    let fake = fakes::ibkr_third_party::FakeIbkrThirdParty::start(options).await;
    let first = fake.quote(AAPL).unwrap();
    // A second's move is often under a cent, so a few seconds may leave the quote where it was, and
    // about one start in two hundred is back at the same cent an hour later: jump the fake clock an hour
    // at a time, a few times at most, and look a couple of seconds after each jump.
    let mut moved = false;
    'jumps: for _ in 0..6 {
        fake.advance_clock(std::time::Duration::from_secs(3_600));
        for _ in 0..12 {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            let (bid, ask) = fake.quote(AAPL).unwrap();
            assert_eq!(ask - bid, d("0.02"), "the spread is kept");
            if (bid, ask) != first {
                moved = true;
                break 'jumps;
            }
        }
    }
    assert!(moved, "AAPL never moved from {first:?}");
}
