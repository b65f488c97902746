//! Instruments, prices, candles and stream lines.

use super::super::super::venue::{Candle, CandleSide, InstrumentKind, InstrumentSpec, Price, StreamLine};
use super::super::model;
use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// Largest order when OANDA does not say (it always does when asked for `maxTradeUnits`).
const DEFAULT_MAX_UNITS: i64 = 100_000_000;

/// ISO 4217 codes of the currencies OANDA quotes against each other. A pair of two of them is a currency
/// pair; `BCO_USD` (Brent crude) is not, although its base has three letters.
const CURRENCIES: [&str; 30] = [
    "AUD", "CAD", "CHF", "CNH", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF", "ILS", "INR", "JPY", "KRW",
    "MXN", "NOK", "NZD", "PLN", "RUB", "SAR", "SEK", "SGD", "THB", "TRY", "TWD", "USD", "ZAR", "RON", "BGN",
];

/// Precious metals OANDA lists as `XAU_USD`, `XAG_EUR`...
const METALS: [&str; 4] = ["XAU", "XAG", "XPT", "XPD"];

/// The class of an instrument from its name: a metal when the base is a precious metal, a currency pair
/// when both sides are currencies, a CFD otherwise (indices, commodities, bonds).
pub fn instrument_kind(name: &str) -> InstrumentKind {
    let mut parts = name.split('_');
    let (base, quote) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if METALS.contains(&base) {
        InstrumentKind::Metal
    } else if parts.next().is_none() && CURRENCIES.contains(&base) && CURRENCIES.contains(&quote) {
        InstrumentKind::Currency
    } else {
        InstrumentKind::Cfd
    }
}

/// `10^pip_location` = `pip` (`0.0001` -> -4, `0.01` -> -2, `1` -> 0); an odd pip such as `0.5` gets the
/// location of its leading digit.
pub fn pip_location(pip: Decimal) -> i32 {
    let n = pip.abs().normalize();
    let digits = n.mantissa().unsigned_abs().to_string().len() as i32;
    digits - 1 - n.scale() as i32
}

/// Decimal places of a price step (`0.00001` -> 5, `1` -> 0).
pub fn places(step: Decimal) -> u32 {
    step.abs().normalize().scale()
}

/// The pip of an instrument whose `pip` is missing or not positive: 0.01 for yen crosses and metals,
/// else 0.0001 (the usual FX pip).
fn fallback_pip(name: &str) -> Decimal {
    if name.ends_with("_JPY") || METALS.iter().any(|m| name.starts_with(m)) {
        Decimal::new(1, 2)
    } else {
        Decimal::new(1, 4)
    }
}

/// An instrument as the venue describes it. v1 trades whole units (precision 0, at least 1); its trailing
/// stop bounds are in pips and become price distances; an unknown margin rate is taken as 1 (no
/// leverage), the most cautious figure.
pub fn instrument_spec(i: &model::Instrument) -> InstrumentSpec {
    let pip = i
        .pip
        .filter(|p| *p > Decimal::ZERO)
        .unwrap_or_else(|| fallback_pip(&i.instrument));
    let pip_location = pip_location(pip);
    let display_precision = match i.precision.filter(|p| *p > Decimal::ZERO) {
        Some(step) => places(step),
        // One digit finer than the pip, as OANDA quotes (EUR_USD pip 0.0001, prices to 0.00001).
        None => (1 - pip_location).max(0) as u32,
    };
    let trailing = |pips: Option<Decimal>| pips.filter(|p| *p > Decimal::ZERO).map(|p| p * pip);
    InstrumentSpec {
        name: i.instrument.clone(),
        display_name: i
            .display_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| i.instrument.replace('_', "/")),
        kind: instrument_kind(&i.instrument),
        pip_location,
        display_precision,
        units_precision: 0,
        min_units: Decimal::ONE,
        max_units: i
            .max_trade_units
            .filter(|u| *u >= Decimal::ONE)
            .unwrap_or(Decimal::from(DEFAULT_MAX_UNITS)),
        margin_rate: i
            .margin_rate
            .filter(|r| *r > Decimal::ZERO)
            .unwrap_or(Decimal::ONE),
        min_trailing_distance: trailing(i.min_trailing_stop),
        max_trailing_distance: trailing(i.max_trailing_stop),
    }
}

/// A price snapshot; a halted instrument is not tradeable; a price without a time is stamped `now`.
/// v1 gives neither liquidity nor home-currency conversion factors.
pub fn price(q: &model::Quote, now: DateTime<Utc>) -> Price {
    Price {
        instrument: q.instrument.clone(),
        time: q.time.unwrap_or(now),
        bid: q.bid,
        ask: q.ask,
        bid_size: None,
        ask_size: None,
        tradeable: !q.halted(),
        quote_to_home: None,
    }
}

/// The candles of one side. A candle missing its time or a price of the requested side is skipped
/// rather than invented; a candle without `complete` counts as still changing.
pub fn candles(answer: &model::Candles, side: CandleSide) -> Vec<Candle> {
    answer
        .candles
        .iter()
        .filter_map(|c| {
            let (o, h, l, cl) = match side {
                CandleSide::Mid => (c.open_mid, c.high_mid, c.low_mid, c.close_mid),
                CandleSide::Bid => (c.open_bid, c.high_bid, c.low_bid, c.close_bid),
                CandleSide::Ask => (c.open_ask, c.high_ask, c.low_ask, c.close_ask),
            };
            Some(Candle {
                time: c.time?,
                open: o?,
                high: h?,
                low: l?,
                close: cl?,
                volume: c.volume.and_then(|v| v.to_u64()).unwrap_or(0),
                complete: c.complete.unwrap_or(false),
            })
        })
        .collect()
}

/// One line of the price stream.
pub fn price_line(line: &[u8], now: DateTime<Utc>) -> Result<StreamLine<Price>, serde_json::Error> {
    let parsed: model::PriceLine = serde_json::from_slice(line)?;
    Ok(match (parsed.tick, parsed.heartbeat) {
        (Some(tick), _) => StreamLine::Item(price(&tick, now)),
        (None, Some(_)) => StreamLine::Heartbeat,
        (None, None) => StreamLine::Other,
    })
}

/// One line of the event stream: the id of the account a transaction concerns.
pub fn event_line(line: &[u8]) -> Result<StreamLine<String>, serde_json::Error> {
    let parsed: model::EventLine = serde_json::from_slice(line)?;
    Ok(match (parsed.transaction, parsed.heartbeat) {
        (Some(model::EventHead { account_id: Some(id) }), _) => StreamLine::Item(id.to_string()),
        (None, Some(_)) => StreamLine::Heartbeat,
        _ => StreamLine::Other,
    })
}
