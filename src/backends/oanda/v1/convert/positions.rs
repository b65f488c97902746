//! Trades as individual positions (with an unrealized P/L the bridge computes: v1 trades carry none) and
//! net positions.

use super::super::model;
use super::side;
use crate::tv::{self, Side};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Current bid and ask by instrument.
pub type Book = HashMap<String, (Decimal, Decimal)>;

fn split(instrument: &str) -> (&str, &str) {
    instrument.split_once('_').unwrap_or((instrument, ""))
}

/// The instruments whose prices value the trades in `home`: each trade's own, and for a trade quoted in
/// neither the home currency nor against it, a pair that converts its quote currency (`QUOTE_HOME` or
/// `HOME_QUOTE`, whichever `exists`).
pub fn valuation_instruments(
    trades: &[model::Trade],
    home: &str,
    exists: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |name: String| {
        if !out.contains(&name) {
            out.push(name);
        }
    };
    for t in trades {
        add(t.instrument.clone());
        let (base, quote) = split(&t.instrument);
        if home.is_empty() || quote == home || base == home || quote.is_empty() {
            continue;
        }
        for pair in [format!("{quote}_{home}"), format!("{home}_{quote}")] {
            if exists(&pair) {
                add(pair);
                break;
            }
        }
    }
    out
}

/// The value of one unit of `currency` in `home`, from the mid of a converting pair in `book`.
fn to_home(currency: &str, home: &str, book: &Book) -> Option<Decimal> {
    if currency == home {
        return Some(Decimal::ONE);
    }
    let mid = |(bid, ask): (Decimal, Decimal)| (bid + ask) / Decimal::TWO;
    if let Some(&q) = book.get(&format!("{currency}_{home}")) {
        return Some(mid(q));
    }
    let inverse = mid(*book.get(&format!("{home}_{currency}"))?);
    (!inverse.is_zero()).then(|| Decimal::ONE / inverse)
}

/// The unrealized P/L of a trade in the account currency `home`: what closing it now would realize (a
/// long closes at the bid, a short at the ask), converted from the quote currency. `None` when a price
/// is missing.
pub fn unrealized_pl(t: &model::Trade, book: &Book, home: &str) -> Option<Decimal> {
    let trade_side = side(t.side)?;
    let &(bid, ask) = book.get(&t.instrument)?;
    let close = match trade_side {
        Side::Buy => bid,
        Side::Sell => ask,
    };
    let in_quote = (close - t.price) * t.units * trade_side.sign();
    let (base, quote) = split(&t.instrument);
    let in_home = if base == home && quote != home {
        // Quoted against the home currency: one unit of quote is worth 1/close of home.
        if close.is_zero() {
            return None;
        }
        in_quote / close
    } else {
        in_quote * to_home(quote, home, book)?
    };
    Some(in_home.round_dp(2))
}

/// A trade as an individual position (id: the trade id; date: opening time in unix milliseconds). A
/// trade on an unknown side is left out: its quantity could not be signed.
pub fn individual_position(t: &model::Trade, symbol: &str, pl: Decimal) -> Option<tv::IndividualPosition> {
    Some(tv::IndividualPosition {
        id: t.id.to_string(),
        instrument: symbol.to_owned(),
        date: t
            .time
            .map(|t| t.timestamp_millis())
            .unwrap_or_default()
            .to_string(),
        qty: t.units,
        side: side(t.side)?,
        price: t.price,
        unrealized_pl: pl,
    })
}

/// A v1 position (one side per instrument) as a net position (id: the symbol).
pub fn net_position(p: &model::Position, symbol: &str) -> Option<tv::NetPosition> {
    let s = side(p.side)?;
    let (long_qty, short_qty) = match s {
        Side::Buy => (p.units, Decimal::ZERO),
        Side::Sell => (Decimal::ZERO, p.units),
    };
    Some(tv::NetPosition {
        id: symbol.to_owned(),
        instrument: symbol.to_owned(),
        qty: p.units * s.sign(),
        long_qty,
        short_qty,
        avg_price: p.avg_price,
    })
}
