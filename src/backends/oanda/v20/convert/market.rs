//! v20 market data to the venue types: instruments as [`InstrumentSpec`]s, prices with the factors into
//! the account currency, candles in the requested side's prices. An entry that lacks what the bridge needs
//! is skipped and logged instead of failing the whole answer.

use crate::backends::oanda::model::parse_time;
use crate::backends::oanda::v20::model::market::{
    Candlestick, CandlestickData, ClientPrice, HomeConversions, Num, PriceBucket, WireInstrument, WireKind,
};
use crate::backends::oanda::venue::{Candle, CandleSide, InstrumentKind, InstrumentSpec, Price};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::collections::HashMap;

fn dec(n: &Option<Num>) -> Option<Decimal> {
    n.as_ref().and_then(Num::decimal)
}

/// An [`InstrumentSpec`], or `None` (logged) when the entry lacks a trading fact: guessing a unit limit or a
/// precision could let a wrong order through.
pub fn instrument_spec(w: &WireInstrument) -> Option<InstrumentSpec> {
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

/// Currency -> (gain, loss) factors into the account currency.
pub type Conversions = HashMap<String, (Decimal, Decimal)>;

/// The answer's `homeConversions` by currency.
pub fn home_conversions(list: &[HomeConversions]) -> Conversions {
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
pub fn client_price(p: &ClientPrice, conversions: &Conversions) -> Option<Price> {
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

/// A [`Candle`] in `side`'s prices, or `None` (logged at debug) when its time or prices are missing.
pub fn candle(c: &Candlestick, side: CandleSide) -> Option<Candle> {
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
