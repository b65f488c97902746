//! OANDA v20 trading through the bridge against the fake OANDA: market and pending orders with their
//! brackets, modifications that keep TradingView's order id, cancels, guaranteed stops, refusals with
//! OANDA's reason, trades as individual positions (brackets, partial and full close), net positions,
//! FIFO reversal and hedging, executions and order history, and placements that are never doubled.
//!
//! Every TradingView answer is checked against the schemas by the `TestApp` helpers; the tests also look
//! at what reached OANDA (`fake.requests()`) and at the fake's own books.

use crate::support;

mod history;
mod modify;
mod no_doubles;
mod orders;
mod pending;
mod positions;
mod refusals;

use axum::http::Method;
use rust_decimal::Decimal;
use serde_json::Value;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;
use support::fake_oanda::{FakeOanda, LoggedRequest};
use support::TestApp;

/// A decimal from its text.
pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("{s} is a decimal: {e}"))
}

/// The placement path of `account` with TradingView's `requestId`.
pub fn orders_path(account: &str, request_id: &str) -> String {
    format!("/accounts/{account}/orders?locale=en&requestId={request_id}")
}

/// The comment of the orders bridge user `login` places: the bridge's tag and the user's mark.
pub fn mark(login: &str) -> String {
    format!(
        "tvbridge user {}",
        tvbridge::upstream::order_ids::owner_mark(login)
    )
}

/// Places an order with a `requestId` (the bridge's client order id is then `tvb-<requestId>`) and
/// returns the TradingView order id.
pub async fn place(app: &TestApp, token: &str, account: &str, request_id: &str, form: &str) -> String {
    let d = app
        .post(
            token,
            &orders_path(account, request_id),
            form,
            "PostOrderResponse",
        )
        .await;
    d["orderId"]
        .as_str()
        .unwrap_or_else(|| panic!("orderId in {d}"))
        .to_owned()
}

/// A placement that must be refused (HTTP 200, `s:error`); returns `errmsg`.
pub async fn refused_place(
    app: &TestApp,
    token: &str,
    account: &str,
    request_id: &str,
    form: &str,
) -> String {
    app.refused(Method::POST, token, &orders_path(account, request_id), Some(form))
        .await
}

/// A list endpoint of `account` (`individualPositions`, `netPositions`, `executions`, `ordersHistory`).
pub async fn list(app: &TestApp, token: &str, account: &str, what: &str, def: &str) -> Vec<Value> {
    app.get(token, &format!("/accounts/{account}/{what}?locale=en"), def)
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

pub async fn individual(app: &TestApp, token: &str, account: &str) -> Vec<Value> {
    list(
        app,
        token,
        account,
        "individualPositions",
        "IndividualPositionsResponse",
    )
    .await
}

pub async fn net(app: &TestApp, token: &str, account: &str) -> Vec<Value> {
    list(app, token, account, "netPositions", "NetPositionsResponse").await
}

pub async fn executions(app: &TestApp, token: &str, account: &str) -> Vec<Value> {
    list(app, token, account, "executions", "ExecutionsResponse").await
}

pub async fn orders_history(app: &TestApp, token: &str, account: &str) -> Vec<Value> {
    list(app, token, account, "ordersHistory", "OrdersHistoryResponse").await
}

/// The `/orders` entry with id `id`, if listed.
pub async fn find_order(app: &TestApp, token: &str, account: &str, id: &str) -> Option<Value> {
    app.orders(token, account)
        .await
        .into_iter()
        .find(|o| o["id"] == id)
}

/// The `/orders` entry with id `id`; panics when it is not listed.
pub async fn listed(app: &TestApp, token: &str, account: &str, id: &str) -> Value {
    find_order(app, token, account, id)
        .await
        .unwrap_or_else(|| panic!("{id} in /orders of {account}"))
}

/// Ids of `/orders`, sorted.
pub async fn order_ids(app: &TestApp, token: &str, account: &str) -> Vec<String> {
    let mut ids: Vec<String> = app
        .orders(token, account)
        .await
        .iter()
        .filter_map(|o| o["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// `items` as owned strings, sorted (to compare with [`order_ids`]).
pub fn sorted(items: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    out.sort();
    out
}

/// Requests that reached the fake with `method` on a path ending with `suffix`.
pub fn sent<'a>(requests: &'a [LoggedRequest], method: &str, suffix: &str) -> Vec<&'a LoggedRequest> {
    requests
        .iter()
        .filter(|r| r.method == method && r.path.ends_with(suffix))
        .collect()
}

/// The JSON bodies of `PUT`/`POST` requests on a path ending with `suffix`, oldest first.
pub fn bodies(fake: &FakeOanda, method: &str, suffix: &str) -> Vec<Value> {
    sent(&fake.requests(), method, suffix)
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("JSON body of {r:?}: {e}")))
        .collect()
}

/// The one element of `items`.
pub fn only<T: std::fmt::Debug>(mut items: Vec<T>) -> T {
    assert_eq!(items.len(), 1, "exactly one expected: {items:?}");
    items.remove(0)
}

/// Polls `check` every 25 ms until it gives a value (for changes made on the fake's side, which the
/// bridge sees once its 300 ms account snapshot is renewed); panics after 5 s naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A JSON number as an exact decimal (see [`support::dec`]).
pub fn num(v: &Value) -> Decimal {
    support::dec(v)
}
