//! Accounts and state from the documented v1 payloads.

use super::super::model;
use super::fixtures::*;
use super::*;
use rust_decimal_macros::dec;

#[test]
fn account_list_entry() {
    let list: model::Accounts = serde_json::from_str(ACCOUNTS).unwrap();
    let head = account_head(&list.accounts[0]);
    assert_eq!(head.id, "8954947");
    assert_eq!(head.name, "Primary");
    assert_eq!(head.currency, "USD");
    assert!(!head.hedging && !head.guaranteed_stops);
    let bare: model::AccountRef = serde_json::from_str(r#"{"accountId":12,"accountName":" "}"#).unwrap();
    let head = account_head(&bare);
    assert_eq!((head.name.as_str(), head.currency.as_str()), ("12", ""));
}

#[test]
fn state_adds_unrealized_pl_to_the_balance() {
    let a: model::Account = serde_json::from_str(ACCOUNT).unwrap();
    let s = account_state(&a);
    assert_eq!(
        (s.balance, s.equity, s.unrealized_pl),
        (dec!(100000), dec!(100000), dec!(0))
    );
    assert_eq!(s.margin_available, Some(dec!(100000)));
    assert_eq!(s.am_data[0][0][0], "100000.00 USD");
    let a: model::Account = serde_json::from_str(
        r#"{"accountId":1,"balance":1000.5,"unrealizedPl":-20.25,"realizedPl":3,"marginUsed":50,"marginAvail":930.25,"accountCurrency":"EUR"}"#,
    )
    .unwrap();
    let s = account_state(&a);
    assert_eq!(s.equity, dec!(980.25));
    assert_eq!(
        s.am_data[0][0],
        vec![
            "1000.50 EUR",
            "980.25 EUR",
            "-20.25 EUR",
            "3.00 EUR",
            "50.00 EUR",
            "930.25 EUR"
        ]
    );
}
