//! Account state, account type and leverage against the official accounts and preferences examples.

use super::account::*;
use super::fixtures::*;
use super::model::{Account, AccountPreferences, AccountsResponse, InstrumentType};
use crate::broker::BrokerError;
use crate::tv;
use rust_decimal_macros::dec;
use serde_json::json;

fn accounts() -> Vec<Account> {
    parse::<AccountsResponse>(all_accounts()).accounts
}

fn preferences_with(edit: impl FnOnce(&mut serde_json::Value)) -> AccountPreferences {
    let mut v = account_preferences();
    edit(&mut v);
    parse(v)
}

#[test]
fn official_account_state() {
    let s = account_state(&accounts()[0]);
    assert_eq!(
        (s.balance, s.unrealized_pl, s.equity),
        (dec!(124.95), dec!(-0.23), dec!(124.72))
    );
    assert_eq!(s.margin_available, Some(dec!(116.93)));
    let row: Vec<&str> = s.am_data[0][0].iter().map(String::as_str).collect();
    // Balance, equity, unrealized P/L, realized P/L, margin used (124.72 - 116.93), margin available.
    assert_eq!(
        row,
        [
            "124.95 USD",
            "124.72 USD",
            "-0.23 USD",
            "0.00 USD",
            "7.79 USD",
            "116.93 USD"
        ]
    );
    assert_eq!(s.am_data[0][0].len(), tv::ACCOUNT_SUMMARY_COLUMNS.len());
    // The second official account has nothing available: all of its equity is in use.
    let second = account_state(&accounts()[1]);
    assert_eq!(second.am_data[0][0][4], "100.00 USD");
}

#[test]
fn margin_used_is_never_negative() {
    let mut v = all_accounts()["accounts"][0].clone();
    v["balance"] = json!({"balance": 50, "deposit": 50, "profitLoss": 0, "available": 80});
    v["currency"] = json!("EUR");
    let s = account_state(&parse(v));
    assert_eq!(s.am_data[0][0][4], "0.00 EUR");
    assert_eq!(s.am_data[0][0][5], "80.00 EUR");
}

#[test]
fn account_types_are_live_unless_the_host_says_demo() {
    for t in [json!("CFD"), json!("SPREADBET"), json!(null)] {
        let mut v = all_accounts()["accounts"][0].clone();
        v["accountType"] = t.clone();
        assert_eq!(account_type(&parse(v)), tv::AccountType::Live, "{t}");
    }
}

#[test]
fn official_leverages() {
    let prefs: AccountPreferences = parse(account_preferences());
    let shares = leverage_info(&prefs, InstrumentType::Shares).unwrap();
    assert_eq!(
        (shares.leverage, shares.min, shares.max, shares.step),
        (dec!(2), dec!(1), dec!(5), dec!(1))
    );
    assert!(shares.title.contains("shares"), "{}", shares.title);
    let fx = leverage_info(&prefs, InstrumentType::Currencies).unwrap();
    assert_eq!(
        (fx.leverage, fx.min, fx.max, fx.step),
        (dec!(1), dec!(1), dec!(30), dec!(1))
    );
    let crypto = leverage_info(&prefs, InstrumentType::Cryptocurrencies).unwrap();
    assert_eq!((crypto.min, crypto.max), (dec!(1), dec!(2)));
    assert!(leverage_info(&prefs, InstrumentType::Unknown).is_none());
}

#[test]
fn leverage_steps_and_missing_choices() {
    let prefs = preferences_with(|v| {
        v["leverages"]["INDICES"] = json!({"current": 10, "available": [5, 10, 20]});
        v["leverages"]["SHARES"] = json!({"current": 3});
        v["leverages"]["COMMODITIES"] = json!({"current": 1, "available": [0.5, 1]});
        v["leverages"].as_object_mut().unwrap().remove("CURRENCIES");
    });
    let indices = leverage_info(&prefs, InstrumentType::Indices).unwrap();
    assert_eq!(
        (indices.min, indices.max, indices.step),
        (dec!(5), dec!(20), dec!(5))
    );
    let shares = leverage_info(&prefs, InstrumentType::Shares).unwrap();
    assert_eq!(
        (shares.leverage, shares.min, shares.max, shares.step),
        (dec!(3), dec!(3), dec!(3), dec!(3))
    );
    let commodities = leverage_info(&prefs, InstrumentType::Commodities).unwrap();
    assert_eq!((commodities.min, commodities.step), (dec!(0.5), dec!(1)));
    assert!(leverage_info(&prefs, InstrumentType::Currencies).is_none());
}

#[test]
fn leverage_settings() {
    let r = leverage_setting(InstrumentType::Indices, dec!(20)).unwrap();
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"leverages": {"INDICES": 20}})
    );
    let r = leverage_setting(InstrumentType::Cryptocurrencies, dec!(2.0)).unwrap();
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"leverages": {"CRYPTOCURRENCIES": 2}})
    );
    for (t, key) in [
        (InstrumentType::Shares, "SHARES"),
        (InstrumentType::Currencies, "CURRENCIES"),
        (InstrumentType::Commodities, "COMMODITIES"),
    ] {
        let v = serde_json::to_value(leverage_setting(t, dec!(5)).unwrap()).unwrap();
        assert_eq!(v["leverages"][key], json!(5));
    }
    for bad in [dec!(2.5), dec!(0), dec!(-10), dec!(10000000000000)] {
        match leverage_setting(InstrumentType::Shares, bad) {
            Err(BrokerError::Rejected(m)) => assert!(m.contains(&bad.to_string()), "{m}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(matches!(
        leverage_setting(InstrumentType::Unknown, dec!(2)),
        Err(BrokerError::Rejected(_))
    ));
}
