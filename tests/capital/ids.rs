//! One Capital.com order, one id: what `placeOrder` answers is the id `/orders`, `/executions` (`orderId`)
//! and `/ordersHistory` show, for market orders, working orders that fill, orders that only reduce a netting
//! position and reversals, and the same ids come back from a bridge that restarted (they are read from the
//! activity history, not remembered).

use crate::support;

use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use support::capital::{self, HEDGE, NET};
use support::TestApp;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

async fn executions(app: &TestApp, token: &str, account: &str) -> Vec<Value> {
    app.get(
        token,
        &format!("/accounts/{account}/executions?locale=en"),
        "ExecutionsResponse",
    )
    .await
    .as_array()
    .cloned()
    .unwrap_or_default()
}

async fn history(app: &TestApp, token: &str, account: &str) -> Vec<Value> {
    app.get(
        token,
        &format!("/accounts/{account}/ordersHistory?locale=en"),
        "OrdersHistoryResponse",
    )
    .await
    .as_array()
    .cloned()
    .unwrap_or_default()
}

/// The `orderId`s of the executions, and the ids of the finished orders.
async fn ids(app: &TestApp, token: &str, account: &str) -> (Vec<String>, Vec<String>) {
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let ex = executions(app, token, account)
        .await
        .iter()
        .map(|e| text(e, "orderId"))
        .collect();
    let hist = history(app, token, account)
        .await
        .iter()
        .map(|o| text(o, "id"))
        .collect();
    (ex, hist)
}

#[tokio::test]
async fn a_market_order_has_one_id_everywhere() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    let id = app
        .place(&token, HEDGE, "instrument=GOLD&qty=1&side=buy&type=market")
        .await;
    assert!(!id.starts_with("o_"), "not the order's deal reference: {id}");
    assert_eq!(app.order(&token, HEDGE, &id).await["status"], "filled");
    let (ex, hist) = ids(&app, &token, HEDGE).await;
    assert_eq!(ex, [id.as_str()]);
    assert_eq!(hist, [id.as_str()]);
    // The id is the deal the order opened, which the individual position shows too.
    assert_eq!(fake.positions(HEDGE)[0].deal_id, id);

    // A bridge that restarted knows nothing of this session, and still shows the same ids.
    let restarted = TestApp::with_broker(app.config.clone(), capital::broker(&app.config));
    let token = capital::login(&restarted).await;
    assert_eq!(ids(&restarted, &token, HEDGE).await, (vec![id.clone()], vec![id]));
}

#[tokio::test]
async fn a_working_order_that_fills_keeps_its_id() {
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
    assert_eq!(app.order(&token, NET, &id).await["status"], "filled");
    let (ex, hist) = ids(&app, &token, NET).await;
    assert_eq!(ex, [id.as_str()], "the fill references the working order");
    assert_eq!(hist, [id.as_str()]);
    let order = &history(&app, &token, NET).await[0];
    assert_eq!(
        (order["status"].as_str(), order["type"].as_str()),
        (Some("filled"), Some("limit"))
    );
    let restarted = TestApp::with_broker(app.config.clone(), capital::broker(&app.config));
    let token = capital::login(&restarted).await;
    assert_eq!(ids(&restarted, &token, NET).await, (vec![id.clone()], vec![id]));
}

#[tokio::test]
async fn reducing_and_reversing_orders_keep_one_id() {
    let (_fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    let opened = app
        .place(&token, NET, "instrument=GOLD&qty=3&side=buy&type=market")
        .await;
    // Only reduces the netting position: the order is its close of the deal.
    let reduced = app
        .place(&token, NET, "instrument=GOLD&qty=1&side=sell&type=market")
        .await;
    assert!(reduced.starts_with(&format!("{opened}.close.")), "{reduced}");
    assert_eq!(app.order(&token, NET, &reduced).await["status"], "filled");
    // Closes the rest and opens a short one: one order, the deal it opened.
    let reversed = app
        .place(&token, NET, "instrument=GOLD&qty=4&side=sell&type=market")
        .await;
    assert_eq!(app.order(&token, NET, &reversed).await["status"], "filled");
    let ex = executions(&app, &token, NET).await;
    let of = |id: &str| ex.iter().filter(|e| e["orderId"] == id).count();
    assert_eq!((of(&opened), of(&reduced), of(&reversed)), (1, 1, 2), "{ex:?}");
    let hist = history(&app, &token, NET).await;
    let listed: Vec<&str> = hist
        .iter()
        .map(|o| o["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(listed, [reversed.as_str(), reduced.as_str(), opened.as_str()]);
    let rev = &hist[0];
    assert_eq!(
        (rev["side"].as_str(), support::dec(&rev["qty"])),
        (Some("sell"), d("4"))
    );
    assert_eq!(app.positions(&token, NET).await[0]["side"], "sell");
}

#[tokio::test]
async fn a_rejected_order_has_one_id_too() {
    let (_fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    // Far beyond the funds: Capital.com confirms the deal as rejected.
    let id = app
        .place(&token, NET, "instrument=BTCUSD&qty=90&side=buy&type=market")
        .await;
    assert_eq!(app.order(&token, NET, &id).await["status"], "rejected");
    let hist = history(&app, &token, NET).await;
    assert_eq!(hist.len(), 1, "{hist:?}");
    assert_eq!(
        (hist[0]["id"].as_str(), hist[0]["status"].as_str()),
        (Some(id.as_str()), Some("rejected"))
    );
}
