//! The bridge on the Capital.com backend against the fake Capital.com: instruments and quotes, every order
//! type with brackets, modify, cancel, rejections with their reason, netting and hedging positions, partial
//! close, reverse, executions, order history and leverage.

use crate::support;

use axum::http::Method;
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use support::capital::{self, HEDGE, NET};
use support::{dec, TestApp};

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

async fn individual(app: &TestApp, token: &str) -> Vec<Value> {
    app.get(
        token,
        &format!("/accounts/{HEDGE}/individualPositions?locale=en"),
        "IndividualPositionsResponse",
    )
    .await
    .as_array()
    .cloned()
    .unwrap_or_default()
}

#[tokio::test]
async fn instruments_and_quotes_come_from_the_market_details() {
    let (_fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    let list = app
        .get(
            &token,
            &format!("/accounts/{NET}/instruments?locale=en"),
            "InstrumentsResponse",
        )
        .await;
    let list = list.as_array().unwrap();
    let eurusd = list
        .iter()
        .find(|i| i["name"] == "EURUSD")
        .expect("EURUSD offered");
    assert_eq!(eurusd["type"], "forex");
    assert_eq!(dec(&eurusd["minTick"]), d("0.00001"));
    assert_eq!(dec(&eurusd["pipSize"]), d("0.0001"));
    assert!(dec(&eurusd["minQty"]) > Decimal::ZERO);
    assert!(dec(&eurusd["maxQty"]) > dec(&eurusd["minQty"]));
    let quotes = app
        .get(
            &token,
            &format!("/quotes?locale=en&accountId={NET}&symbols=EURUSD,NOPE"),
            "QuotesResponse",
        )
        .await;
    let quotes = quotes.as_array().unwrap();
    assert_eq!(quotes[0]["s"], "ok");
    assert!(dec(&quotes[0]["v"]["ask"]) > dec(&quotes[0]["v"]["bid"]));
    assert_eq!(quotes[1]["s"], "error");
    let mapping = app.send(Method::GET, "/mapping", None, None).await;
    assert!(mapping.body["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["s"] == "CAPITALCOM:EURUSD" && m["f"][0] == "EURUSD"));
}

#[tokio::test]
async fn market_order_with_brackets_opens_a_deal_and_lists_its_legs() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    let id = app
        .place(
            &token,
            NET,
            "instrument=EURUSD&qty=1000&side=buy&type=market&stopLoss=1.05&takeProfit=1.15",
        )
        .await;
    let deals = fake.positions(NET);
    assert_eq!(deals.len(), 1);
    assert_eq!((deals[0].direction.as_str(), deals[0].size), ("BUY", d("1000")));
    assert_eq!(
        (deals[0].stop_level, deals[0].profit_level),
        (Some(d("1.05")), Some(d("1.15")))
    );
    let order = app.order(&token, NET, &id).await;
    assert_eq!(order["status"], "filled");
    assert_eq!(dec(&order["avgPrice"]), deals[0].level);
    let pos = app.positions(&token, NET).await;
    assert_eq!(pos.len(), 1);
    assert_eq!(
        (pos[0]["id"].as_str(), pos[0]["side"].as_str()),
        (Some("EURUSD"), Some("buy"))
    );
    let orders = app.orders(&token, NET).await;
    let legs: Vec<&Value> = orders.iter().filter(|o| o["parentType"] == "position").collect();
    assert_eq!(legs.len(), 2, "{orders:?}");
    assert!(legs
        .iter()
        .all(|o| o["parentId"] == "EURUSD" && o["side"] == "sell"));
}

#[tokio::test]
async fn trailing_and_guaranteed_stops_map_to_the_deal_fields() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    let id = app
        .place(
            &token,
            NET,
            "instrument=EURUSD&qty=1000&side=buy&type=market&trailingStopPips=25",
        )
        .await;
    let deal = fake.positions(NET).pop().expect("a deal");
    assert!(deal.trailing_stop);
    assert_eq!(deal.stop_distance.map(|d| d.abs()), Some(d("0.0025")));
    assert_eq!(app.order(&token, NET, &id).await["status"], "filled");
    let legs: Vec<Value> = app
        .orders(&token, NET)
        .await
        .into_iter()
        .filter(|o| o["parentType"] == "position")
        .collect();
    assert_eq!(legs.len(), 1);
    assert_eq!(legs[0]["isTrailingStop"], true);
    assert_eq!(dec(&legs[0]["trailingStopPips"]), d("25"));

    app.place(
        &token,
        NET,
        "instrument=GOLD&qty=1&side=buy&type=market&guaranteedStop=1900",
    )
    .await;
    let gold = fake
        .positions(NET)
        .into_iter()
        .find(|p| p.epic == "GOLD")
        .unwrap();
    assert!(gold.guaranteed_stop);
    assert_eq!(gold.stop_level, Some(d("1900")));

    // AAPL has no trailing stops on Capital.com: refused before anything is sent.
    let msg = app
        .refused(
            Method::POST,
            &token,
            &format!("/accounts/{NET}/orders?locale=en"),
            Some("instrument=AAPL&qty=1&side=buy&type=market&trailingStopPips=50"),
        )
        .await;
    assert_eq!(msg, "Trailing stops are not available on AAPL.");
    assert_eq!(fake.positions(NET).len(), 2);
}

#[tokio::test]
async fn limit_and_stop_orders_are_working_orders_that_can_be_modified_and_cancelled() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    let limit = app
        .place(
            &token,
            NET,
            "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.0&stopLoss=0.95&takeProfit=1.1&durationType=GTC",
        )
        .await;
    let gtt = chrono::Utc::now().timestamp() + 86_400;
    let stop = app
        .place(
            &token,
            NET,
            &format!("instrument=GOLD&qty=1&side=sell&type=stop&stopPrice=1000&durationType=GTT&durationDateTime={gtt}"),
        )
        .await;
    let working = fake.working_orders(NET);
    assert_eq!(working.len(), 2);
    let gold = working.iter().find(|w| w.epic == "GOLD").unwrap();
    assert_eq!(
        (gold.order_type.as_str(), gold.direction.as_str()),
        ("STOP", "SELL")
    );
    assert!(gold.good_till_date.is_some());
    let o = app.order(&token, NET, &limit).await;
    assert_eq!(
        (o["status"].as_str(), o["type"].as_str()),
        (Some("working"), Some("limit"))
    );
    assert_eq!(dec(&o["limitPrice"]), d("1.0"));
    let s = app.order(&token, NET, &stop).await;
    assert_eq!(s["duration"]["type"], "GTT");
    let legs: Vec<Value> = app
        .orders(&token, NET)
        .await
        .into_iter()
        .filter(|o| o["parentId"] == limit.as_str())
        .collect();
    assert_eq!(legs.len(), 2);
    assert!(legs
        .iter()
        .all(|l| l["status"] == "inactive" && l["parentType"] == "order"));

    // Modify the limit price and the stop loss.
    app.put(
        &token,
        &format!("/accounts/{NET}/orders/{limit}?locale=en"),
        "qty=1000&limitPrice=1.01&stopLoss=0.96&takeProfit=1.1",
    )
    .await;
    let w = fake
        .working_orders(NET)
        .into_iter()
        .find(|w| w.deal_id == limit)
        .unwrap();
    assert_eq!((w.level, w.stop_level), (d("1.01"), Some(d("0.96"))));
    // The size of a working order cannot change upstream: refused with a reason, nothing changed.
    let msg = app
        .refused(
            Method::PUT,
            &token,
            &format!("/accounts/{NET}/orders/{limit}?locale=en"),
            Some("qty=2000&limitPrice=1.01"),
        )
        .await;
    assert!(msg.contains("quantity"), "{msg}");

    app.delete(&token, &format!("/accounts/{NET}/orders/{stop}?locale=en"), None)
        .await;
    assert_eq!(fake.working_orders(NET).len(), 1);
    let cancelled = app.order(&token, NET, &stop).await;
    assert_eq!(cancelled["status"], "cancelled");
    let gone = app
        .refused(
            Method::DELETE,
            &token,
            &format!("/accounts/{NET}/orders/{stop}?locale=en"),
            None,
        )
        .await;
    assert!(
        gone.contains("no longer working") || gone.contains("not a working order"),
        "{gone}"
    );
}

#[tokio::test]
async fn working_order_fills_when_the_market_reaches_it() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    let id = app
        .place(
            &token,
            NET,
            "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.0",
        )
        .await;
    assert_eq!(app.order(&token, NET, &id).await["status"], "working");
    fake.set_price("EURUSD", d("0.99990"), d("0.99995"));
    let order = app.order(&token, NET, &id).await;
    assert_eq!(order["status"], "filled", "{order}");
    assert_eq!(app.positions(&token, NET).await.len(), 1);
}

#[tokio::test]
async fn upstream_refusals_reach_the_user_with_their_reason() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    // A stop loss on the wrong side is a validation error naming the limit.
    let msg = app
        .refused(
            Method::POST,
            &token,
            &format!("/accounts/{NET}/orders?locale=en"),
            Some("instrument=EURUSD&qty=1000&side=buy&type=market&stopLoss=1.2"),
        )
        .await;
    assert!(msg.to_lowercase().contains("stop loss"), "{msg}");
    assert!(fake.positions(NET).is_empty());
    // A deal the market refuses (far beyond the funds) becomes a rejected order with the reason.
    let id = app
        .place(&token, NET, "instrument=BTCUSD&qty=90&side=buy&type=market")
        .await;
    let order = app.order(&token, NET, &id).await;
    assert_eq!(order["status"], "rejected", "{order}");
    assert!(
        order["message"]["text"].as_str().is_some_and(|t| !t.is_empty()),
        "{order}"
    );
    assert!(fake.positions(NET).is_empty());
}

#[tokio::test]
async fn netting_positions_close_partially_reverse_and_close() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    app.place(&token, NET, "instrument=GOLD&qty=3&side=buy&type=market")
        .await;
    let path = format!("/accounts/{NET}/positions/GOLD?locale=en");
    app.delete(&token, &path, Some("amount=1")).await;
    let pos = app.positions(&token, NET).await;
    assert_eq!(
        (dec(&pos[0]["qty"]), pos[0]["side"].as_str()),
        (d("2"), Some("buy"))
    );
    // Reverse in one request: the position is now short the same size.
    app.put(&token, &path, "side=sell").await;
    let pos = app.positions(&token, NET).await;
    assert_eq!(
        (dec(&pos[0]["qty"]), pos[0]["side"].as_str()),
        (d("2"), Some("sell"))
    );
    // Brackets on the whole position.
    app.put(&token, &path, "stopLoss=2200&takeProfit=1900").await;
    assert!(fake
        .positions(NET)
        .iter()
        .all(|p| p.stop_level == Some(d("2200")) && p.profit_level == Some(d("1900"))));
    app.delete(&token, &path, None).await;
    assert!(app.positions(&token, NET).await.is_empty());
    assert!(fake.positions(NET).is_empty());
    let execs = app
        .get(
            &token,
            &format!("/accounts/{NET}/executions?locale=en"),
            "ExecutionsResponse",
        )
        .await;
    assert!(execs.as_array().unwrap().len() >= 3, "{execs}");
    let history = app
        .get(
            &token,
            &format!("/accounts/{NET}/ordersHistory?locale=en"),
            "OrdersHistoryResponse",
        )
        .await;
    assert!(history
        .as_array()
        .unwrap()
        .iter()
        .all(|o| ["filled", "cancelled", "rejected"].contains(&o["status"].as_str().unwrap_or(""))));
}

#[tokio::test]
async fn hedging_accounts_keep_every_deal() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
    let hedge = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == HEDGE)
        .expect("hedging account listed")
        .clone();
    assert_eq!(hedge["config"]["supportMultiposition"], true);
    assert_eq!(hedge["config"]["supportGuaranteedStop"], false);
    app.place(&token, HEDGE, "instrument=GOLD&qty=1&side=buy&type=market")
        .await;
    app.place(&token, HEDGE, "instrument=GOLD&qty=2&side=sell&type=market")
        .await;
    let deals = individual(&app, &token).await;
    assert_eq!(deals.len(), 2, "{deals:?}");
    let net = app
        .get(
            &token,
            &format!("/accounts/{HEDGE}/netPositions?locale=en"),
            "NetPositionsResponse",
        )
        .await;
    let net = net.as_array().unwrap();
    assert_eq!(
        (dec(&net[0]["longQty"]), dec(&net[0]["shortQty"])),
        (d("1"), d("2"))
    );
    // The netting account saw none of it (the account was switched and switched back per request).
    assert!(fake.positions(NET).is_empty());
    let long = deals.iter().find(|p| p["side"] == "buy").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.put(
        &token,
        &format!("/accounts/{HEDGE}/individualPositions/{long}?locale=en"),
        "stopLoss=1900",
    )
    .await;
    assert_eq!(
        fake.positions(HEDGE)
            .iter()
            .find(|p| p.deal_id == long)
            .unwrap()
            .stop_level,
        Some(d("1900"))
    );
    let partial = app
        .refused(
            Method::DELETE,
            &token,
            &format!("/accounts/{HEDGE}/individualPositions/{long}?locale=en"),
            Some("amount=0.5"),
        )
        .await;
    assert!(!partial.is_empty());
    app.delete(
        &token,
        &format!("/accounts/{HEDGE}/individualPositions/{long}?locale=en"),
        None,
    )
    .await;
    assert_eq!(fake.positions(HEDGE).len(), 1);
}

#[tokio::test]
async fn leverage_is_read_and_set_per_instrument_type() {
    let (_fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    let q = "instrument=EURUSD&side=buy&orderType=market";
    let get = format!("/accounts/{NET}/getLeverage?locale=en");
    let info = app.post(&token, &get, q, "GetLeverageResponse").await;
    assert!(dec(&info["max"]) >= dec(&info["leverage"]));
    let min = dec(&info["min"]);
    let preview = app
        .post(
            &token,
            &format!("/accounts/{NET}/previewLeverage?locale=en"),
            &format!("{q}&leverage={}", dec(&info["max"]) + Decimal::ONE),
            "PreviewLeverageResponse",
        )
        .await;
    assert!(
        preview["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{preview}"
    );
    let set = app
        .post(
            &token,
            &format!("/accounts/{NET}/setLeverage?locale=en"),
            &format!("{q}&leverage={min}"),
            "SetLeverageResponse",
        )
        .await;
    assert_eq!(dec(&set["leverage"]), min);
    let again = app.post(&token, &get, q, "GetLeverageResponse").await;
    assert_eq!(dec(&again["leverage"]), min);
}

#[tokio::test]
async fn market_details_and_missing_conversion_markets_are_cached() {
    let mut options = support::fake_capital::FakeOptions::default();
    options.users[0].accounts[0].currency = "EUR".into();
    let (fake, app) = capital::start_with(options, "", "").await;
    let token = capital::login(&app).await;
    let path = format!("/accounts/{NET}/instruments?locale=en");
    let first = app.get(&token, &path, "InstrumentsResponse").await;
    // USD instruments on a EUR account: pip values converted through EURUSD (USDEUR does not exist).
    let gold = first
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "GOLD")
        .unwrap();
    assert!(dec(&gold["pipValue"]) < dec(&gold["pipSize"]), "{gold}");
    let markets =
        |fake: &support::fake_capital::FakeCapital| capital::count(&fake.requests(), "GET", "/markets");
    let before = markets(&fake);
    app.get(&token, &path, "InstrumentsResponse").await;
    assert_eq!(
        markets(&fake),
        before,
        "the second listing needs no market request"
    );
}

#[tokio::test]
async fn a_market_navigation_node_supplies_the_instruments() {
    let (_fake, app) = capital::start("market_node = \"hierarchy_v1.currencies_group\"", "").await;
    let token = capital::login(&app).await;
    let list = app
        .get(
            &token,
            &format!("/accounts/{NET}/instruments?locale=en"),
            "InstrumentsResponse",
        )
        .await;
    let mut names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["EURUSD", "GBPUSD"]);
    let mapping = app.send(Method::GET, "/mapping", None, None).await;
    assert_eq!(mapping.body["symbols"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn one_bracket_leg_is_moved_or_removed_on_its_own() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    app.place(
        &token,
        NET,
        "instrument=EURUSD&qty=1000&side=buy&type=market&stopLoss=1.05&takeProfit=1.15",
    )
    .await;
    let deal = fake.positions(NET).pop().unwrap().deal_id;
    app.put(
        &token,
        &format!("/accounts/{NET}/orders/{deal}.tp?locale=en"),
        "qty=1000&limitPrice=1.12",
    )
    .await;
    let p = fake.positions(NET).pop().unwrap();
    assert_eq!((p.stop_level, p.profit_level), (Some(d("1.05")), Some(d("1.12"))));
    app.delete(
        &token,
        &format!("/accounts/{NET}/orders/{deal}.sl?locale=en"),
        None,
    )
    .await;
    let p = fake.positions(NET).pop().unwrap();
    assert_eq!((p.stop_level, p.profit_level), (None, Some(d("1.12"))));
    let legs: Vec<Value> = app
        .orders(&token, NET)
        .await
        .into_iter()
        .filter(|o| o["parentType"] == "position")
        .collect();
    assert_eq!(legs.len(), 1);
    assert_eq!(legs[0]["id"], format!("{deal}.tp"));
    let unknown = app
        .refused(
            Method::DELETE,
            &token,
            &format!("/accounts/{NET}/orders/nope.sl?locale=en"),
            None,
        )
        .await;
    assert_eq!(
        unknown,
        "Order nope.sl is unknown: no working order or open position has deal id nope."
    );
}
