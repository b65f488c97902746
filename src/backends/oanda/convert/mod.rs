//! Version-neutral mapping to TradingView types: instrument specs as `/instruments` rows, data-feed symbols
//! and `/mapping` entries, and prices as quotes (pip values in the account currency).

use super::catalog::SymbolRules;
use super::venue::{InstrumentKind, InstrumentSpec, Price};
use crate::tv;
use crate::upstream::days::DayCut;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Exchange name of every data-feed symbol.
pub const EXCHANGE: &str = "OANDA";

/// The base and quote currency of `EUR_USD`-style names.
pub fn currencies(instrument: &str) -> (Option<&str>, Option<&str>) {
    let mut parts = instrument.split('_');
    (parts.next(), parts.next())
}

fn symbol_type(kind: InstrumentKind) -> tv::SymbolType {
    match kind {
        InstrumentKind::Currency => tv::SymbolType::Forex,
        InstrumentKind::Metal => tv::SymbolType::Commodity,
        InstrumentKind::Cfd => tv::SymbolType::Cfd,
    }
}

fn typespecs(kind: InstrumentKind) -> Option<String> {
    match kind {
        InstrumentKind::Currency => None,
        // OANDA's metals and indices are CFDs (spot metal trading is a CFD too).
        InstrumentKind::Metal | InstrumentKind::Cfd => Some("cfd".into()),
    }
}

/// The data-feed group of an instrument kind.
pub fn group(kind: InstrumentKind) -> &'static str {
    match kind {
        InstrumentKind::Currency => "forex",
        InstrumentKind::Metal => "metals",
        InstrumentKind::Cfd => "cfd",
    }
}

/// Units step of an instrument: `10^-tradeUnitsPrecision`.
pub fn qty_step(spec: &InstrumentSpec) -> Decimal {
    Decimal::new(1, spec.units_precision.min(28))
}

/// An `/instruments` row; `to_home` is the account-currency value of one unit of the quote currency.
pub fn instrument(symbol: &str, spec: &InstrumentSpec, to_home: Decimal) -> tv::Instrument {
    let step = qty_step(spec);
    let (base, quote) = currencies(&spec.name);
    tv::Instrument {
        name: symbol.to_string(),
        description: spec.display_name.clone(),
        min_qty: spec.min_units.max(step),
        max_qty: spec.max_units.max(spec.min_units.max(step)),
        qty_step: step,
        pip_size: spec.pip(),
        pip_value: (spec.pip() * to_home).round_dp(10).normalize(),
        min_tick: spec.tick(),
        lot_size: None,
        base_currency: (spec.kind == InstrumentKind::Currency || spec.kind == InstrumentKind::Metal)
            .then(|| base.map(str::to_string))
            .flatten(),
        quote_currency: quote.map(str::to_string),
        margin_rate: (spec.margin_rate > Decimal::ZERO).then_some(spec.margin_rate),
        units: None,
        kind: symbol_type(spec.kind),
        typespecs: typespecs(spec.kind),
    }
}

/// How an instrument's trading days are cut: currencies and metals trade the FX day (17:00 to 17:00
/// New York, Sunday evening to Friday evening, which OANDA documents as its daily alignment default);
/// OANDA documents no hours for CFDs, which are given UTC days (see README, Known gaps).
pub fn day_cut(kind: InstrumentKind) -> DayCut {
    match kind {
        InstrumentKind::Currency | InstrumentKind::Metal => DayCut::NewYork17,
        InstrumentKind::Cfd => DayCut::Utc,
    }
}

/// TradingView's `timezone` and `session-regular` of an instrument kind: the FX week for currencies and
/// metals (`1700-1700:23456` in New York: Monday's session begins Sunday 17:00), and for CFDs, whose
/// hours OANDA does not document, a session that never closes, so that no bar falls outside it.
fn session(kind: InstrumentKind) -> (&'static str, &'static str) {
    match day_cut(kind) {
        DayCut::NewYork17 => DayCut::NewYork17.weekday_session(),
        DayCut::Utc => ("Etc/UTC", "24x7"),
    }
}

/// A `/symbol_info` row: the session of the instrument's kind; FX prices finer than a pip show the pip
/// fraction (`minmovement2`).
pub fn symbol_info(symbol: &str, spec: &InstrumentSpec) -> tv::SymbolInfo {
    let (minmovement, pricescale) = tv::SymbolInfo::price_format(spec.tick());
    let (timezone, session) = session(spec.kind);
    let (base, quote) = currencies(&spec.name);
    tv::SymbolInfo {
        symbol: symbol.to_string(),
        ticker: None,
        description: spec.display_name.clone(),
        currency: quote.unwrap_or_default().to_string(),
        base_currency: (spec.kind != InstrumentKind::Cfd)
            .then(|| base.map(str::to_string))
            .flatten(),
        exchange: EXCHANGE.to_string(),
        minmovement,
        minmovement2: match spec.kind {
            InstrumentKind::Currency => tv::SymbolInfo::pip_fraction(spec.tick(), spec.pip()),
            InstrumentKind::Metal | InstrumentKind::Cfd => 0,
        },
        pricescale,
        timezone: timezone.to_string(),
        session: session.to_string(),
        kind: symbol_type(spec.kind),
        typespecs: typespecs(spec.kind),
        group: group(spec.kind).to_string(),
        // OANDA's candle volume is a tick count, still a fair activity measure for charts.
        has_no_volume: false,
    }
}

/// A `/mapping` entry.
pub fn mapping(rules: &SymbolRules, instrument: &str) -> tv::SymbolMapping {
    tv::SymbolMapping {
        f: [rules.symbol(instrument)],
        s: rules.tradingview(instrument),
    }
}

/// Account-currency value of one unit of `spec`'s quote currency: OANDA's own conversion when the price
/// carries it, 1 when the quote currency is the account's, else a cross rate from `prices` (either direction
/// of the pair), else `None`.
pub fn quote_to_home(
    spec: &InstrumentSpec,
    home: &str,
    own: Option<&Price>,
    prices: &HashMap<String, Price>,
) -> Option<Decimal> {
    if let Some((gain, _)) = own.and_then(|p| p.quote_to_home) {
        return Some(gain);
    }
    let quote = currencies(&spec.name).1?;
    if quote == home {
        return Some(Decimal::ONE);
    }
    if let Some(p) = prices.get(&format!("{quote}_{home}")) {
        return Some((p.bid + p.ask) / Decimal::TWO);
    }
    let p = prices.get(&format!("{home}_{quote}"))?;
    let mid = (p.bid + p.ask) / Decimal::TWO;
    (mid > Decimal::ZERO).then(|| Decimal::ONE / mid)
}

/// The instruments whose prices convert `spec`'s quote currency into `home`.
pub fn conversion_pairs(spec: &InstrumentSpec, home: &str) -> Vec<String> {
    match currencies(&spec.name).1 {
        Some(quote) if quote != home => vec![format!("{quote}_{home}"), format!("{home}_{quote}")],
        _ => Vec::new(),
    }
}

/// A `/quotes` entry with pip values in the account currency when the conversion is known.
pub fn quote(symbol: &str, spec: &InstrumentSpec, price: &Price, to_home: Option<Decimal>) -> tv::QuoteEntry {
    let (buy, sell) = match (price.quote_to_home, to_home) {
        (Some((gain, loss)), _) => (Some(spec.pip() * gain), Some(spec.pip() * loss)),
        (None, Some(rate)) => (Some(spec.pip() * rate), Some(spec.pip() * rate)),
        (None, None) => (None, None),
    };
    tv::QuoteEntry::ok(
        symbol,
        tv::Quote {
            ask: price.ask,
            bid: price.bid,
            buy_pip_value: buy.map(|v| v.round_dp(10).normalize()),
            sell_pip_value: sell.map(|v| v.round_dp(10).normalize()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use rust_decimal_macros::dec;

    fn spec(name: &str, pip_location: i32, precision: u32) -> InstrumentSpec {
        InstrumentSpec {
            name: name.into(),
            display_name: name.replace('_', "/"),
            kind: InstrumentKind::Currency,
            pip_location,
            display_precision: precision,
            units_precision: 0,
            min_units: dec!(1),
            max_units: dec!(100000000),
            margin_rate: dec!(0.0333),
            min_trailing_distance: None,
            max_trailing_distance: None,
        }
    }

    fn price(instrument: &str, bid: Decimal, ask: Decimal) -> Price {
        Price {
            instrument: instrument.into(),
            time: Utc::now(),
            bid,
            ask,
            bid_size: None,
            ask_size: None,
            tradeable: true,
            quote_to_home: None,
        }
    }

    #[test]
    fn instruments_carry_pip_and_tick() {
        let row = instrument("EURUSD", &spec("EUR_USD", -4, 5), Decimal::ONE);
        assert_eq!(row.pip_size, dec!(0.0001));
        assert_eq!(row.pip_value, dec!(0.0001));
        assert_eq!(row.min_tick, dec!(0.00001));
        assert_eq!(row.qty_step, dec!(1));
        assert_eq!(row.base_currency.as_deref(), Some("EUR"));
        assert_eq!(row.quote_currency.as_deref(), Some("USD"));
        assert_eq!(row.kind, tv::SymbolType::Forex);
        let info = symbol_info("USDJPY", &spec("USD_JPY", -2, 3));
        assert_eq!((info.minmovement, info.pricescale), (1, 1000));
        assert_eq!(info.minmovement2, 10, "a tenth of a pip");
        assert_eq!(info.currency, "JPY");
        assert_eq!(
            (info.timezone.as_str(), info.session.as_str()),
            ("America/New_York", "1700-1700:23456")
        );
    }

    #[test]
    fn pip_values_convert_through_a_cross_rate() {
        let jpy = spec("USD_JPY", -2, 3);
        let mut prices = HashMap::new();
        prices.insert(
            "USD_JPY".to_string(),
            price("USD_JPY", dec!(149.990), dec!(150.010)),
        );
        let rate = quote_to_home(&jpy, "USD", None, &prices).unwrap();
        assert_eq!((rate * dec!(150)).round_dp(6), dec!(1));
        assert_eq!(
            quote_to_home(&spec("EUR_USD", -4, 5), "USD", None, &prices),
            Some(Decimal::ONE)
        );
        assert_eq!(quote_to_home(&spec("EUR_GBP", -4, 5), "USD", None, &prices), None);
        assert_eq!(conversion_pairs(&jpy, "USD"), vec!["JPY_USD", "USD_JPY"]);
        let mut own = price("USD_JPY", dec!(150), dec!(150.02));
        own.quote_to_home = Some((dec!(0.0066), dec!(0.0067)));
        let q = quote("USDJPY", &jpy, &own, None);
        let tv::QuoteValue::Quote(q) = q.v else {
            panic!("a quote")
        };
        assert_eq!(
            (q.buy_pip_value, q.sell_pip_value),
            (Some(dec!(0.000066)), Some(dec!(0.000067)))
        );
    }
}
