//! Positions and the account state through the bridge on the fake IBKR gateway: a position opened,
//! partly closed, closed and reversed (an opposite order of twice the size: IBKR has no native reverse),
//! with TradingView's positions, executions and state (balance, equity, P/L) matching the fake's ledger.

use crate::support;

use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use support::fake_ibkr::FakeIbkr;
use support::ibkr::{self, next_refresh, AAPL, ACCT};
use support::{dec, TestApp};

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// The fake's `BASE` ledger row of the account, read over HTTP as the bridge reads it.
async fn ledger(fake: &FakeIbkr) -> Value {
    let url = format!("{}/portfolio/{ACCT}/ledger", fake.base_url);
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    body["BASE"].clone()
}

/// TradingView's state of the account matches the fake's ledger.
async fn state_matches_the_ledger(fake: &FakeIbkr, app: &TestApp, token: &str) {
    let state = app.state(token, ACCT).await;
    let base = ledger(fake).await;
    assert_eq!(
        dec(&state["balance"]),
        dec(&base["cashbalance"]),
        "{state} vs {base}"
    );
    assert_eq!(
        dec(&state["balance"]),
        fake.cash(ACCT).unwrap().round_dp(2),
        "the balance is the fake's cash"
    );
    assert_eq!(
        dec(&state["equity"]),
        dec(&base["netliquidationvalue"]),
        "{state} vs {base}"
    );
    assert_eq!(
        dec(&state["unrealizedPl"]),
        dec(&base["unrealizedpnl"]),
        "{state} vs {base}"
    );
}

async fn aapl(app: &TestApp, token: &str) -> Option<(Decimal, String, Decimal)> {
    app.positions(token, ACCT)
        .await
        .into_iter()
        .find(|p| p["instrument"] == "AAPL")
        .map(|p| {
            (
                dec(&p["qty"]),
                p["side"].as_str().unwrap().to_owned(),
                dec(&p["avgPrice"]),
            )
        })
}

#[tokio::test]
async fn a_position_opens_closes_in_part_closes_and_reverses_with_the_state_matching_the_ledger() {
    let (fake, app) = ibkr::start().await;
    let token = app.login().await;
    let cash = fake.cash(ACCT).unwrap();
    let (_, ask) = fake.quote(AAPL).unwrap();
    app.place(&token, ACCT, "instrument=AAPL&qty=10&side=buy&type=market")
        .await;
    assert_eq!(fake.position(ACCT, AAPL), d("10"));
    assert!(
        fake.cash(ACCT).unwrap() < cash,
        "the purchase and its commission were paid"
    );
    // Prices move: the unrealised P/L follows (in the bridge's next refresh: IBKR allows one per 5 s).
    fake.set_price(AAPL, d("190.00"), d("190.02"));
    next_refresh().await;
    assert_eq!(aapl(&app, &token).await, Some((d("10"), "buy".into(), ask)));
    state_matches_the_ledger(&fake, &app, &token).await;

    let path = format!("/accounts/{ACCT}/positions/AAPL?locale=en");
    app.delete(&token, &path, Some("amount=4")).await;
    assert_eq!(fake.position(ACCT, AAPL), d("6"), "partial close");
    app.delete(&token, &path, None).await;
    assert_eq!(fake.position(ACCT, AAPL), Decimal::ZERO, "closed");

    // Reverse as TradingView does it without a native reverse: an opposite order of twice the size.
    app.place(&token, ACCT, "instrument=AAPL&qty=3&side=buy&type=market")
        .await;
    app.place(&token, ACCT, "instrument=AAPL&qty=6&side=sell&type=market")
        .await;
    assert_eq!(fake.position(ACCT, AAPL), d("-3"));
    next_refresh().await;
    let (qty, side, _) = aapl(&app, &token).await.expect("a short position");
    assert_eq!((qty, side.as_str()), (d("3"), "sell"));
    state_matches_the_ledger(&fake, &app, &token).await;

    let executions = app
        .get(
            &token,
            &format!("/accounts/{ACCT}/executions?locale=en&instrument=AAPL"),
            "ExecutionsResponse",
        )
        .await;
    let executions = executions.as_array().unwrap();
    assert_eq!(executions.len(), fake.execution_count(), "{executions:?}");
    let bought: Decimal = executions
        .iter()
        .map(|e| {
            if e["side"] == "buy" {
                dec(&e["qty"])
            } else {
                -dec(&e["qty"])
            }
        })
        .sum();
    assert_eq!(bought, d("-3"), "the executions add up to the position");
}
