//! What happened, as TradingView reads it: executions per trade (opening or closing it), final orders in
//! `/orders` for the rest of the session (filled, cancelled, rejected, a triggered bracket) and in
//! `/ordersHistory` for good; the closing orders OANDA makes for a close request are not orders of the user.

use super::support::oanda::{self, V20};
use super::support::TestApp;
use super::{d, eventually, executions, find_order, num, order_ids, orders_history, place, refused_place};
use axum::http::Method;
use serde_json::Value;
use std::time::Duration;

/// (id, status) of every listed order, sorted by id.
fn statuses(orders: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = orders
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap_or_default().to_string(),
                o["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    out.sort();
    out
}

async fn fills(app: &TestApp, token: &str) -> Vec<(String, bool, String, String, String)> {
    executions(app, token, V20)
        .await
        .iter()
        .map(|e| {
            (
                e["orderId"].as_str().unwrap_or_default().to_string(),
                e["isClose"].as_bool().unwrap_or_default(),
                e["positionId"].as_str().unwrap_or_default().to_string(),
                e["side"].as_str().unwrap_or_default().to_string(),
                num(&e["qty"]).to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn executions_and_final_orders_tell_what_happened() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    place(
        &app,
        &token,
        V20,
        "open",
        "instrument=EURUSD&qty=1000&side=buy&type=market",
    )
    .await;
    let trade = fake.trades(V20)[0].id.clone();
    let limit = place(
        &app,
        &token,
        V20,
        "lim",
        "instrument=EURUSD&qty=500&side=sell&type=limit&limitPrice=1.09",
    )
    .await;
    app.delete(&token, &format!("/accounts/{V20}/orders/{limit}?locale=en"), None)
        .await;
    refused_place(
        &app,
        &token,
        V20,
        "huge",
        "instrument=EURUSD&qty=100000000&side=buy&type=market",
    )
    .await;
    // FIFO: a sell reduces the open buy trade.
    place(
        &app,
        &token,
        V20,
        "reduce",
        "instrument=EURUSD&qty=400&side=sell&type=market",
    )
    .await;
    // A trade whose take profit is reached.
    place(
        &app,
        &token,
        V20,
        "gbp",
        "instrument=GBPUSD&qty=1000&side=buy&type=market&takeProfit=1.27",
    )
    .await;
    let gbp = fake
        .trades(V20)
        .into_iter()
        .find(|t| t.instrument == "GBP_USD")
        .expect("the GBP trade")
        .id;
    fake.set_price("GBP_USD", d("1.27010"), d("1.27028"));
    // The rest of the EUR trade is closed from the position: OANDA makes a closing order for it.
    app.delete(
        &token,
        &format!("/accounts/{V20}/individualPositions/{trade}?locale=en"),
        None,
    )
    .await;
    assert!(fake.trades(V20).is_empty());
    let closing = fake
        .orders(V20)
        .into_iter()
        .rfind(|o| o.kind == "MARKET")
        .expect("OANDA's closing order")
        .id;

    let tp = format!("{gbp}.tp");
    let listed = eventually("the triggered take profit", || async {
        let orders = app.orders(&token, V20).await;
        orders.iter().any(|o| o["id"] == tp.as_str()).then_some(orders)
    })
    .await;
    assert_eq!(
        statuses(&listed),
        pairs(&[
            ("@tvb-gbp", "filled"),
            ("@tvb-huge", "rejected"),
            ("@tvb-lim", "cancelled"),
            ("@tvb-open", "filled"),
            ("@tvb-reduce", "filled"),
            (&tp, "filled"),
        ]),
        "no closing order of OANDA's among them"
    );
    let leg = find_order(&app, &token, V20, &tp).await.expect("the take profit");
    assert_eq!(
        (
            leg["parentId"].as_str(),
            leg["parentType"].as_str(),
            leg["side"].as_str()
        ),
        (Some(gbp.as_str()), Some("position"), Some("sell"))
    );
    assert_eq!(
        (num(&leg["filledQty"]), num(&leg["avgPrice"])),
        (d("1000"), d("1.2701"))
    );
    let history = orders_history(&app, &token, V20).await;
    assert_eq!(statuses(&history), statuses(&listed));
    let ids: Vec<&str> = history.iter().filter_map(|o| o["id"].as_str()).collect();
    assert_eq!(ids[0], tp, "newest first");
    assert_eq!(ids[ids.len() - 1], "@tvb-open");

    // Executions, newest first: each names its trade and whether it closed (part of) it.
    let s = |x: &str| x.to_string();
    assert_eq!(
        fills(&app, &token).await,
        [
            (closing, true, trade.clone(), s("sell"), s("600")),
            (tp.clone(), true, gbp.clone(), s("sell"), s("1000")),
            (s("@tvb-gbp"), false, gbp.clone(), s("buy"), s("1000")),
            (s("@tvb-reduce"), true, trade.clone(), s("sell"), s("400")),
            (s("@tvb-open"), false, trade.clone(), s("buy"), s("1000")),
        ]
    );
    let all = executions(&app, &token, V20).await;
    assert_eq!(num(&all[3]["price"]), d("1.08512"), "a sell fills at the bid");
    assert_eq!(num(&all[4]["price"]), d("1.08526"), "a buy fills at the ask");
    let for_gbp = app
        .get(
            &token,
            &format!("/accounts/{V20}/executions?locale=en&instrument=GBPUSD&maxCount=1"),
            "ExecutionsResponse",
        )
        .await;
    assert_eq!(for_gbp.as_array().map(Vec::len), Some(1));
    assert_eq!(for_gbp[0]["positionId"], gbp.as_str());

    // A new session: final orders of the last one are history, not orders any more.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let r = app.send(Method::POST, "/logout", Some(&token), None).await;
    assert_eq!(r.body["s"], "ok", "{}", r.body);
    let token = oanda::login(&app, V20).await;
    assert!(order_ids(&app, &token, V20).await.is_empty());
    assert_eq!(
        statuses(&orders_history(&app, &token, V20).await),
        statuses(&listed)
    );
}
