//! Market mapping against the official market-details examples and variants of them.

use super::fixtures::*;
use super::markets::*;
use super::model::{self, InstrumentType};
use crate::tv::SymbolType;
use rust_decimal_macros::dec;
use serde_json::json;

fn silver_with(edit: impl FnOnce(&mut serde_json::Value)) -> model::MarketDetails {
    let mut v = single_market_details();
    edit(&mut v);
    parse(v)
}

#[test]
fn symbol_types_and_groups_cover_every_instrument_type() {
    let all = [
        (InstrumentType::Shares, SymbolType::Stock, "stocks"),
        (InstrumentType::Currencies, SymbolType::Forex, "forex"),
        (InstrumentType::Indices, SymbolType::Index, "indices"),
        (InstrumentType::Cryptocurrencies, SymbolType::Crypto, "crypto"),
        (InstrumentType::Commodities, SymbolType::Commodity, "commodities"),
        (InstrumentType::Unknown, SymbolType::Cfd, "cfd"),
    ];
    for (t, kind, g) in all {
        assert_eq!(symbol_type(t), kind);
        assert_eq!(group(t), g);
        assert!(g.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    }
}

#[test]
fn min_tick_from_decimal_places_else_from_prices() {
    assert_eq!(min_tick(&silver()), dec!(0.001));
    let no_dp = silver_with(|v| {
        drop(
            v["snapshot"]
                .as_object_mut()
                .unwrap()
                .remove("decimalPlacesFactor"),
        )
    });
    // bid 24.203, offer 24.223, high 24.405, low 24.193: three places.
    assert_eq!(min_tick(&no_dp), dec!(0.001));
    let bare = silver_with(|v| v["snapshot"] = json!({"marketStatus": "TRADEABLE"}));
    assert_eq!(min_tick(&bare), dec!(0.01));
    // An absurd factor cannot overflow a Decimal.
    let huge = silver_with(|v| v["snapshot"]["decimalPlacesFactor"] = json!(40));
    assert_eq!(min_tick(&huge), rust_decimal::Decimal::new(1, 28));
    let whole = silver_with(|v| v["snapshot"]["decimalPlacesFactor"] = json!(0));
    assert_eq!(min_tick(&whole), dec!(1));
}

#[test]
fn pip_sizes_of_fx_pairs_jpy_and_others() {
    assert_eq!(
        pip_size(&currency_pair("EURUSD", "USD", 5, 1.08512)),
        dec!(0.0001)
    );
    assert_eq!(pip_size(&currency_pair("USDJPY", "JPY", 3, 151.234)), dec!(0.01));
    // A pair quoted to the pip has pip = tick.
    assert_eq!(pip_size(&currency_pair("EURUSD", "USD", 4, 1.0851)), dec!(0.0001));
    assert_eq!(pip_size(&currency_pair("USDJPY", "JPY", 2, 151.23)), dec!(0.01));
    // Not a currency: pip = tick.
    assert_eq!(pip_size(&silver()), dec!(0.001));
}

#[test]
fn qty_step_is_the_finest_place_of_the_minimum_deal_size() {
    assert_eq!(qty_step(&silver()), dec!(0.1));
    for (min, step) in [
        (json!(100), dec!(1)),
        (json!(0.01), dec!(0.01)),
        (json!(0.5), dec!(0.1)),
        (json!(1.0), dec!(1)),
    ] {
        let d = silver_with(|v| v["dealingRules"]["minDealSize"]["value"] = min.clone());
        assert_eq!(qty_step(&d), step, "{min}");
    }
    let none = silver_with(|v| v["dealingRules"] = json!({}));
    assert_eq!(qty_step(&none), dec!(1));
}

#[test]
fn silver_instrument() {
    let i = instrument("XAGUSD", &silver(), dec!(1));
    assert_eq!(i.name, "XAGUSD");
    assert_eq!(i.description, "Silver");
    assert_eq!(i.min_qty, dec!(0.1));
    assert_eq!(i.max_qty, FALLBACK_MAX_QTY);
    assert_eq!(i.qty_step, dec!(0.1));
    assert_eq!(i.pip_size, dec!(0.001));
    assert_eq!(i.pip_value, dec!(0.001));
    assert_eq!(i.min_tick, dec!(0.001));
    assert_eq!(i.lot_size, Some(dec!(1)));
    assert_eq!(i.base_currency, None);
    assert_eq!(i.quote_currency.as_deref(), Some("USD"));
    assert_eq!(i.margin_rate, Some(dec!(0.1)));
    assert_eq!(i.kind, SymbolType::Commodity);
    assert_eq!(i.typespecs.as_deref(), Some("cfd"));
}

#[test]
fn pip_value_uses_lot_size_and_the_account_rate() {
    let d = silver_with(|v| {
        v["instrument"]["lotSize"] = json!(50);
        v["dealingRules"]["maxDealSize"] = json!({"unit": "POINTS", "value": 250});
    });
    let i = instrument("SILVER", &d, dec!(0.92));
    assert_eq!(i.pip_value, dec!(0.046));
    assert_eq!(i.lot_size, Some(dec!(50)));
    assert_eq!(i.max_qty, dec!(250));
    let jpy = instrument(
        "USDJPY",
        &currency_pair("USDJPY", "JPY", 3, 151.234),
        dec!(0.0066),
    );
    assert_eq!(jpy.pip_size, dec!(0.01));
    assert_eq!(jpy.pip_value, dec!(0.000066));
    assert_eq!(jpy.min_qty, dec!(100));
    assert_eq!(jpy.qty_step, dec!(1));
    assert_eq!(jpy.base_currency.as_deref(), Some("USD"));
    assert_eq!(jpy.quote_currency.as_deref(), Some("JPY"));
    assert_eq!(jpy.margin_rate, Some(dec!(0.0333)));
    assert_eq!(jpy.kind, SymbolType::Forex);
}

#[test]
fn margin_rate_needs_a_percentage() {
    for unit in ["POINTS", "RATIO"] {
        let d = silver_with(|v| v["instrument"]["marginFactorUnit"] = json!(unit));
        assert_eq!(instrument("S", &d, dec!(1)).margin_rate, None, "{unit}");
    }
    let d = silver_with(|v| drop(v["instrument"].as_object_mut().unwrap().remove("marginFactor")));
    assert_eq!(instrument("S", &d, dec!(1)).margin_rate, None);
}

#[test]
fn unknown_instrument_type_is_a_cfd() {
    let d = silver_with(|v| v["instrument"]["type"] = json!("ETF"));
    let i = instrument("X", &d, dec!(1));
    assert_eq!(i.kind, SymbolType::Cfd);
    let s = symbol_info("X", &d);
    assert_eq!((s.kind, s.group.as_str()), (SymbolType::Cfd, "cfd"));
}

#[test]
fn silver_symbol_info() {
    let s = symbol_info("SILVER", &silver());
    assert_eq!(s.symbol, "SILVER");
    assert_eq!(s.ticker, None);
    assert_eq!(s.description, "Silver");
    assert_eq!(s.currency, "USD");
    assert_eq!(s.base_currency, None);
    assert_eq!(s.exchange, "CAPITALCOM");
    assert_eq!((s.minmovement, s.pricescale), (1, 1000));
    assert_eq!(s.timezone, "Etc/UTC");
    assert_eq!(s.session, "2305-2200:23456");
    assert_eq!(s.kind, SymbolType::Commodity);
    assert_eq!(s.typespecs.as_deref(), Some("cfd"));
    assert_eq!(s.group, "commodities");
    assert!(!s.has_no_volume);
}

#[test]
fn natural_gas_from_the_epics_list() {
    let list: model::MarketDetailsList = parse(market_details_list());
    let gas = &list.market_details[1];
    let s = symbol_info("NATURALGAS", gas);
    assert_eq!(s.session, "0100-2300:23456");
    assert_eq!(s.description, "Natural Gas");
    let i = instrument("NATURALGAS", gas, dec!(1));
    assert_eq!(
        (i.min_qty, i.qty_step, i.min_tick),
        (dec!(0.1), dec!(0.1), dec!(0.001))
    );
}

#[test]
fn fx_symbol_info_and_odd_names() {
    let s = symbol_info("eur/usd", &currency_pair("EURUSD", "USD", 5, 1.08512));
    assert_eq!(s.symbol, "EUR_USD");
    assert_eq!(s.ticker.as_deref(), Some("eur/usd"));
    assert_eq!((s.minmovement, s.pricescale), (1, 100_000));
    assert_eq!(s.base_currency.as_deref(), Some("EUR"));
    assert_eq!(s.group, "forex");
    assert_eq!(symbol_info("BRK-B", &silver()).ticker, None);
}

#[test]
fn timezone_and_session_fallbacks() {
    let london = silver_with(|v| v["instrument"]["openingHours"]["zone"] = json!("Europe/London"));
    assert_eq!(symbol_info("S", &london).timezone, "Europe/London");
    for zone in [json!(null), json!("GMT"), json!("bad zone/x y")] {
        let d = silver_with(|v| v["instrument"]["openingHours"]["zone"] = zone.clone());
        assert_eq!(symbol_info("S", &d).timezone, "Etc/UTC", "{zone}");
    }
    let no_hours = silver_with(|v| drop(v["instrument"].as_object_mut().unwrap().remove("openingHours")));
    let s = symbol_info("S", &no_hours);
    assert_eq!((s.session.as_str(), s.timezone.as_str()), ("24x7", "Etc/UTC"));
}
