//! v20 wire types of market data (OpenAPI `definitions`: `Instrument`, `ClientPrice`, `HomeConversions`,
//! `Candlestick`...) and their conversion to the venue types. Every field is optional so one odd entry is
//! skipped instead of failing a whole answer.

use super::super::super::model::parse_decimal;
use super::super::super::venue::{Candle, CandleSide, InstrumentKind, InstrumentSpec, Price};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;

/// A decimal as v20 sends it: a string (`"1.10000"`, precision kept); a JSON number is tolerated.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum Num {
    Text(String),
    Number(serde_json::Number),
}

impl Num {
    fn decimal(&self) -> Option<Decimal> {
        match self {
            Num::Text(s) => parse_decimal(s.trim()),
            Num::Number(n) => parse_decimal(&n.to_string()),
        }
    }
}

fn dec(n: &Option<Num>) -> Option<Decimal> {
    n.as_ref().and_then(Num::decimal)
}

pub(super) use super::super::super::model::parse_time;

#[derive(Debug, Deserialize)]
pub(super) struct InstrumentsBody {
    #[serde(default)]
    pub(super) instruments: Vec<WireInstrument>,
}

/// v20 `Instrument`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireInstrument {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<WireKind>,
    display_name: Option<String>,
    pip_location: Option<i64>,
    display_precision: Option<i64>,
    trade_units_precision: Option<i64>,
    minimum_trade_size: Option<Num>,
    maximum_order_units: Option<Num>,
    margin_rate: Option<Num>,
    minimum_trailing_stop_distance: Option<Num>,
    maximum_trailing_stop_distance: Option<Num>,
}

/// v20 `InstrumentType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) enum WireKind {
    Currency,
    Cfd,
    Metal,
    #[serde(other)]
    Unknown,
}

/// An [`InstrumentSpec`], or `None` (logged) when the entry lacks a trading fact: guessing a unit limit or a
/// precision could let a wrong order through.
pub(super) fn instrument_spec(w: &WireInstrument) -> Option<InstrumentSpec> {
    let name = w.name.as_deref().map(str::trim).filter(|n| !n.is_empty())?;
    let spec = build_spec(name, w);
    if spec.is_none() {
        tracing::warn!(
            instrument = name,
            "OANDA instrument without usable trading rules; left out"
        );
    }
    spec
}

fn build_spec(name: &str, w: &WireInstrument) -> Option<InstrumentSpec> {
    Some(InstrumentSpec {
        name: name.to_string(),
        display_name: w
            .display_name
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map_or_else(|| name.replace('_', "/"), str::to_string),
        kind: match w.kind {
            Some(WireKind::Currency) => InstrumentKind::Currency,
            Some(WireKind::Metal) => InstrumentKind::Metal,
            Some(WireKind::Cfd) => InstrumentKind::Cfd,
            // A class added after this was written trades like a CFD as far as the bridge is concerned.
            Some(WireKind::Unknown) | None => InstrumentKind::Cfd,
        },
        pip_location: i32::try_from(w.pip_location?).ok()?,
        display_precision: u32::try_from(w.display_precision?).ok()?,
        units_precision: u32::try_from(w.trade_units_precision.unwrap_or(0)).ok()?,
        min_units: dec(&w.minimum_trade_size)?,
        max_units: dec(&w.maximum_order_units)?,
        margin_rate: dec(&w.margin_rate)?,
        min_trailing_distance: dec(&w.minimum_trailing_stop_distance),
        max_trailing_distance: dec(&w.maximum_trailing_stop_distance),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PricingBody {
    #[serde(default)]
    pub(super) prices: Vec<ClientPrice>,
    #[serde(default)]
    pub(super) home_conversions: Vec<HomeConversions>,
}

/// v20 `ClientPrice`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ClientPrice {
    instrument: Option<String>,
    time: Option<String>,
    /// Deprecated in favour of `tradeable`, still read when `tradeable` is absent.
    status: Option<String>,
    tradeable: Option<bool>,
    bids: Option<Vec<PriceBucket>>,
    asks: Option<Vec<PriceBucket>>,
    closeout_bid: Option<Num>,
    closeout_ask: Option<Num>,
    quote_home_conversion_factors: Option<QuoteHomeConversionFactors>,
}

/// v20 `PriceBucket`.
#[derive(Debug, Deserialize)]
pub(super) struct PriceBucket {
    price: Option<Num>,
    liquidity: Option<Num>,
}

/// v20 `HomeConversions`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HomeConversions {
    currency: Option<String>,
    account_gain: Option<Num>,
    account_loss: Option<Num>,
}

/// v20 `QuoteHomeConversionFactors` (deprecated, still sent on streams).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct QuoteHomeConversionFactors {
    positive_units: Option<Num>,
    negative_units: Option<Num>,
}

/// Currency -> (gain, loss) factors into the account currency.
pub(super) type Conversions = HashMap<String, (Decimal, Decimal)>;

/// The answer's `homeConversions` by currency.
pub(super) fn home_conversions(list: &[HomeConversions]) -> Conversions {
    list.iter()
        .filter_map(|h| {
            let currency = h.currency.as_deref()?.trim();
            Some((
                currency.to_string(),
                (dec(&h.account_gain)?, dec(&h.account_loss)?),
            ))
        })
        .collect()
}

/// The quote currency of an instrument name (`EUR_USD` -> `USD`, `DE30_EUR` -> `EUR`).
fn quote_currency(instrument: &str) -> &str {
    instrument.rsplit('_').next().unwrap_or(instrument)
}

/// The best price and its liquidity of one side: the first bucket, else the closeout price (no size).
fn best(buckets: &Option<Vec<PriceBucket>>, closeout: &Option<Num>) -> Option<(Decimal, Option<Decimal>)> {
    let first = buckets
        .as_deref()
        .and_then(|b| b.first())
        .and_then(|b| Some((dec(&b.price)?, dec(&b.liquidity))));
    first.or_else(|| Some((dec(closeout)?, None)))
}

/// A [`Price`], or `None` (logged at debug) when instrument, time or a side is missing. `conversions` are
/// the answer's `homeConversions`; the price's own deprecated factors serve when they lack the currency.
pub(super) fn client_price(p: &ClientPrice, conversions: &Conversions) -> Option<Price> {
    let price = build_price(p, conversions);
    if price.is_none() {
        tracing::debug!(instrument = ?p.instrument, "OANDA price without instrument, time or prices; left out");
    }
    price
}

fn build_price(p: &ClientPrice, conversions: &Conversions) -> Option<Price> {
    let instrument = p.instrument.as_deref()?.trim();
    if instrument.is_empty() {
        return None;
    }
    let (bid, bid_size) = best(&p.bids, &p.closeout_bid)?;
    let (ask, ask_size) = best(&p.asks, &p.closeout_ask)?;
    let quote_to_home = conversions.get(quote_currency(instrument)).copied().or_else(|| {
        let f = p.quote_home_conversion_factors.as_ref()?;
        Some((dec(&f.positive_units)?, dec(&f.negative_units)?))
    });
    Some(Price {
        instrument: instrument.to_string(),
        time: parse_time(p.time.as_deref()?)?,
        bid,
        ask,
        bid_size,
        ask_size,
        tradeable: p
            .tradeable
            .unwrap_or_else(|| p.status.as_deref() == Some("tradeable")),
        quote_to_home,
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct CandlesBody {
    #[serde(default)]
    pub(super) candles: Vec<Candlestick>,
}

/// v20 `Candlestick`.
#[derive(Debug, Deserialize)]
pub(super) struct Candlestick {
    time: Option<String>,
    mid: Option<CandlestickData>,
    bid: Option<CandlestickData>,
    ask: Option<CandlestickData>,
    volume: Option<Num>,
    complete: Option<bool>,
}

/// v20 `CandlestickData`.
#[derive(Debug, Deserialize)]
pub(super) struct CandlestickData {
    o: Option<Num>,
    h: Option<Num>,
    l: Option<Num>,
    c: Option<Num>,
}

/// A [`Candle`] in `side`'s prices, or `None` (logged at debug) when its time or prices are missing.
pub(super) fn candle(c: &Candlestick, side: CandleSide) -> Option<Candle> {
    let data = match side {
        CandleSide::Mid => &c.mid,
        CandleSide::Bid => &c.bid,
        CandleSide::Ask => &c.ask,
    };
    let candle = data.as_ref().and_then(|data| build_candle(c, data));
    if candle.is_none() {
        tracing::debug!(time = ?c.time, ?side, "OANDA candle without time or prices; left out");
    }
    candle
}

fn build_candle(c: &Candlestick, data: &CandlestickData) -> Option<Candle> {
    Some(Candle {
        time: parse_time(c.time.as_deref()?)?,
        open: dec(&data.o)?,
        high: dec(&data.h)?,
        low: dec(&data.l)?,
        close: dec(&data.c)?,
        volume: dec(&c.volume).and_then(|v| v.trunc().to_u64()).unwrap_or(0),
        // A candle not said to be complete is treated as still forming, so the broker fetches it again.
        complete: c.complete.unwrap_or(false),
    })
}
