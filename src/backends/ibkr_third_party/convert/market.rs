//! Market data snapshots as quotes, ticks and the one-level book; contracts as TradingView instruments;
//! the exchange-component bits decoded.

use super::fix::{self, Temporality};
use crate::backends::ibkr_third_party::catalog::Contract;
use crate::backends::ibkr_third_party::model::market::{ComponentBit, Level, SnapshotRow};
use crate::tv;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

fn price(l: &Option<Level>) -> Option<Decimal> {
    l.as_ref()?.price.map(|n| n.0)
}

fn size(l: &Option<Level>) -> Decimal {
    l.as_ref().and_then(|l| l.size).map(|n| n.0).unwrap_or_default()
}

/// The row's temporality: a code not in the table is logged and taken as delayed (the cautious reading:
/// the user is told the price may be old).
pub fn temporality(row: &SnapshotRow) -> Temporality {
    let code = row.temporality.map(|n| n.0);
    match code.and_then(|c| c.to_i64()).and_then(fix::temporality) {
        Some(t) => t,
        None if code.is_none() => Temporality::RealTime,
        None => {
            tracing::warn!(
                conid = row.conid.0,
                "IBKR market data temporality code unknown; shown as delayed"
            );
            Temporality::Delayed
        }
    }
}

/// The bid/ask quote.
pub fn quote(row: &SnapshotRow) -> Result<tv::Quote, String> {
    match (price(&row.bid), price(&row.offer)) {
        (Some(bid), Some(ask)) => Ok(tv::Quote {
            ask,
            bid,
            buy_pip_value: None,
            sell_pip_value: None,
        }),
        _ => Err(match temporality(row) {
            Temporality::Delayed => "IBKR has no bid and ask for this symbol yet (delayed data)".into(),
            Temporality::RealTime => "IBKR has no bid and ask for this symbol yet".into(),
        }),
    }
}

/// The one level each side the snapshot holds.
pub fn depth(row: &SnapshotRow) -> tv::Depth {
    let level = |l: &Option<Level>| price(l).map(|p| [p, size(l)]);
    tv::Depth {
        asks: level(&row.offer).into_iter().collect(),
        bids: level(&row.bid).into_iter().collect(),
    }
}

/// A tick of `symbol` at second `now` (the trade's own time when newer), with `day` as the day's bar so
/// far (the caller keeps it).
pub fn tick(symbol: &str, row: &SnapshotRow, now: i64, day: tv::Bar) -> Option<tv::MarketTick> {
    let q = quote(row).ok()?;
    let last = price(&row.trade).unwrap_or((q.bid + q.ask) / Decimal::TWO);
    let t = row
        .trade
        .as_ref()
        .and_then(|l| l.time)
        .map(|ms| ms.div_euclid(1000))
        .filter(|t| *t > now)
        .unwrap_or(now);
    Some(tv::MarketTick {
        symbol: symbol.to_string(),
        t,
        bid: q.bid,
        ask: q.ask,
        bid_size: size(&row.bid),
        ask_size: size(&row.offer),
        last,
        last_size: size(&row.trade),
        day,
    })
}

/// The exchanges a `market` bit set names, by the contract's mapping (bit i set: entry with bit i).
pub fn exchanges(bits: u64, mapping: &[ComponentBit]) -> Vec<String> {
    mapping
        .iter()
        .filter(|m| m.bit < 64 && bits & (1u64 << m.bit) != 0)
        .map(|m| {
            m.exchange
                .clone()
                .or_else(|| m.code.clone())
                .unwrap_or_else(|| format!("bit {}", m.bit))
        })
        .collect()
}

/// A contract as TradingView's instrument. `/secdef` gives no tick size or lot: stocks trade whole shares
/// in cents, FX pairs whole units in 1/100 000 (ASSUMED, README Known gaps).
pub fn instrument(c: &Contract, delayed: bool) -> tv::Instrument {
    let sec = c.secdef.as_ref();
    let fx = sec.and_then(|s| s.security_type.as_deref()) == Some("CASH");
    let tick = if fx {
        Decimal::new(1, 5)
    } else {
        Decimal::new(1, 2)
    };
    let mut description = sec
        .and_then(|s| s.company_name.clone())
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| c.symbol.clone());
    if delayed {
        description.push_str(" (delayed market data)");
    }
    tv::Instrument {
        name: c.symbol.clone(),
        description,
        min_qty: Decimal::ONE,
        max_qty: Decimal::from(1_000_000_000u64),
        qty_step: Decimal::ONE,
        pip_size: tick,
        pip_value: tick,
        min_tick: tick,
        lot_size: None,
        base_currency: fx.then(|| sec.and_then(|s| s.ticker.clone())).flatten(),
        quote_currency: sec.and_then(|s| s.currency.clone()),
        margin_rate: None,
        units: None,
        kind: if fx {
            tv::SymbolType::Forex
        } else {
            tv::SymbolType::Stock
        },
        typespecs: None,
    }
}
