//! Account summaries as account heads and TradingView account state.

use super::fixtures::{account, parse, ACCOUNT_ID};
use super::*;
use crate::backends::oanda::venue::AccountHead;
use rust_decimal_macros::dec;
use serde_json::json;

#[test]
fn a_summary_names_the_account_and_its_modes() {
    assert_eq!(
        account_head(&account().summary),
        AccountHead {
            id: ACCOUNT_ID.into(),
            name: "Primary".into(),
            currency: "USD".into(),
            hedging: false,
            guaranteed_stops: true,
        }
    );
    let s: model::AccountSummary = parse(json!({"id": "101-004-1-002", "currency": "EUR", "balance": "5",
        "hedgingEnabled": true, "guaranteedStopLossOrderMode": "DISABLED"}));
    let head = account_head(&s);
    assert_eq!(
        (head.name.as_str(), head.hedging, head.guaranteed_stops),
        ("101-004-1-002", true, false)
    );
    let s: model::AccountSummary = parse(json!({"id": "x", "currency": "EUR", "balance": "5",
        "guaranteedStopLossOrderMode": "SOMETHING_NEW", "alias": "  "}));
    assert_eq!(
        (account_head(&s).guaranteed_stops, account_head(&s).name.as_str()),
        (false, "x")
    );
}

#[test]
fn state_uses_nav_as_equity_and_fills_the_account_manager_row() {
    let state = account_state(&account().summary);
    assert_eq!(
        (
            state.balance,
            state.equity,
            state.unrealized_pl,
            state.margin_available
        ),
        (
            dec!(100000.0000),
            dec!(100002.5000),
            dec!(2.5000),
            Some(dec!(99969.1700))
        )
    );
    assert_eq!(
        state.am_data,
        vec![vec![vec![
            "100000.00 USD".to_string(),
            "100002.50 USD".into(),
            "2.50 USD".into(),
            "-12.34 USD".into(), // `tv::AccountSummary::am_data` truncates to cents
            "33.33 USD".into(),
            "99969.17 USD".into(),
        ]]]
    );
    // Without NAV, equity is the balance plus the unrealized P/L.
    let s: model::AccountSummary = parse(json!({"id": "x", "currency": "EUR", "balance": "10",
        "unrealizedPL": "-2.5"}));
    assert_eq!(account_state(&s).equity, dec!(7.5));
}
