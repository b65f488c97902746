//! Market data: snapshot rows as quotes, history bars as TradingView bars (and which IBKR bar a resolution
//! is built from), and contract details as instrument rows.

use super::super::model::market::{ContractInfo, HistoryBar, SnapshotRow, ASK, ASK_SIZE, BID, BID_SIZE};
use crate::tv;
use crate::upstream::bars::coarsest_dividing;
use rust_decimal::Decimal;

/// A quote from a snapshot row: `None` while IBKR has no bid and ask yet (the first snapshot of a conid
/// only subscribes), `Err` when a value is there but not a number.
pub fn quote(row: &SnapshotRow) -> Result<Option<tv::Quote>, String> {
    let (bid, ask) = (row.value(BID)?, row.value(ASK)?);
    Ok(match (bid, ask) {
        (Some((bid, _)), Some((ask, _))) => Some(tv::Quote {
            ask,
            bid,
            buy_pip_value: None,
            sell_pip_value: None,
        }),
        _ => None,
    })
}

/// The top of the book from a snapshot row, as TradingView's depth (one level a side): `None` while IBKR
/// has no bid and ask yet. Sizes are multiplied by `size_scale` ([`size_scale`]); a size that is missing or
/// abbreviated (IBKR may write `1.2K`) counts as zero, as in streamed quotes: the prices are what matters.
pub fn book(row: &SnapshotRow, size_scale: Decimal) -> Result<Option<tv::Depth>, String> {
    let Some(q) = quote(row)? else {
        return Ok(None);
    };
    let size = |field| match row.value(field) {
        Ok(Some((v, _))) if v >= Decimal::ZERO => v * size_scale,
        _ => Decimal::ZERO,
    };
    Ok(Some(tv::Depth {
        asks: vec![[q.ask, size(ASK_SIZE)]],
        bids: vec![[q.bid, size(BID_SIZE)]],
    }))
}

/// What IBKR's bid and ask sizes (snapshot fields 85 and 88, and the same WebSocket fields) are multiplied
/// by to count units: IBKR's field reference says "for US stocks, the number displayed is divided by 100".
/// A US stock is taken to be a `STK` contract in USD.
pub fn size_scale(info: &ContractInfo) -> Decimal {
    let stock = info.instrument_type.as_deref() == Some("STK");
    let usd = info.currency.as_deref() == Some("USD");
    if stock && usd {
        Decimal::ONE_HUNDRED
    } else {
        Decimal::ONE
    }
}

/// IBKR's intraday bar sizes, coarsest first, with their minutes.
const INTRADAY: [(&str, u32); 12] = [
    ("8h", 480),
    ("4h", 240),
    ("3h", 180),
    ("2h", 120),
    ("1h", 60),
    ("30min", 30),
    ("15min", 15),
    ("10min", 10),
    ("5min", 5),
    ("3min", 3),
    ("2min", 2),
    ("1min", 1),
];

/// The IBKR bar a TradingView resolution is built from, its length in seconds, and whether its bars are
/// the resolution's as they are: for minutes the coarsest dividing size, days, weeks and months from days.
pub fn base_bar(resolution: tv::Resolution) -> (&'static str, i64, bool) {
    match resolution {
        tv::Resolution::Minutes(n) if n % 1440 == 0 => ("1d", 86_400, n == 1440),
        tv::Resolution::Minutes(n) => {
            let bar = coarsest_dividing(&INTRADAY, n).unwrap_or("1min");
            let minutes = INTRADAY.iter().find(|(b, _)| *b == bar).map_or(1, |(_, m)| *m);
            (bar, i64::from(minutes) * 60, minutes == n)
        }
        tv::Resolution::Days(n) => ("1d", 86_400, n == 1),
        tv::Resolution::Weeks(_) | tv::Resolution::Months(_) => ("1d", 86_400, false),
    }
}

/// IBKR's period units with their lengths in seconds and the most of each it accepts (`{1-30}min`,
/// `{1-8}h`, `{1-1000}d`, `{1-792}w`); a longer count is refused ("Invalid period").
const PERIOD_UNITS: [(&str, i64, i64); 4] = [
    ("w", 604_800, 792),
    ("d", 86_400, 1_000),
    ("h", 3_600, 8),
    ("min", 60, 30),
];

/// A `period` IBKR accepts for at most `bars` bars of `secs` seconds, and how many bars it covers (at
/// least one): the unit covering the most of them. It may span a little more than those bars; the pager
/// drops what lies past its page.
pub fn period(bars: usize, secs: i64) -> (String, usize) {
    let secs = secs.max(1);
    let total = (bars.max(1) as i64).saturating_mul(secs);
    let mut best: Option<(String, usize)> = None;
    for (unit, len, max) in PERIOD_UNITS {
        let n = (total / len).min(max);
        let covered = usize::try_from(n * len / secs).unwrap_or(0).min(bars.max(1));
        if n >= 1 && covered >= 1 && best.as_ref().is_none_or(|(_, b)| covered > *b) {
            best = Some((format!("{n}{unit}"), covered));
        }
    }
    // A bar longer than the span asked for: one bar, in whole days (IBKR's bars are at most a day here).
    best.unwrap_or_else(|| (format!("{}d", ((secs + 86_399) / 86_400).min(1_000)), 1))
}

/// IBKR's `startTime` format (`YYYYMMDD-hh:mm:ss`, UTC) of unix seconds `t`.
pub fn start_time(t: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%Y%m%d-%H:%M:%S").to_string())
}

/// A history bar as TradingView's, daily bars filed under 00:00 UTC of their date.
pub fn bar(b: &HistoryBar, daily: bool) -> tv::Bar {
    let mut t = b.t.div_euclid(1000);
    if daily {
        t -= t.rem_euclid(86_400);
    }
    tv::Bar {
        t,
        open: b.o.0,
        high: b.h.0,
        low: b.l.0,
        close: b.c.0,
        volume: b.v.map(|v| v.0).unwrap_or_default(),
    }
}

/// TradingView's symbol type of an IBKR security type.
pub fn symbol_type(sec_type: &str) -> Option<tv::SymbolType> {
    Some(match sec_type {
        "STK" | "FUND" => tv::SymbolType::Stock,
        "CASH" => tv::SymbolType::Forex,
        "FUT" => tv::SymbolType::Futures,
        "CFD" => tv::SymbolType::Cfd,
        "IND" => tv::SymbolType::Index,
        "CRYPTO" => tv::SymbolType::Crypto,
        "CMDTY" => tv::SymbolType::Commodity,
        "BOND" => tv::SymbolType::Bond,
        _ => return None,
    })
}

/// The instrument row of `symbol` from its contract details and rules.
pub fn instrument(symbol: &str, info: &ContractInfo) -> Result<tv::Instrument, String> {
    let sec_type = info.instrument_type.as_deref().unwrap_or_default();
    let kind =
        symbol_type(sec_type).ok_or_else(|| format!("{symbol}: unsupported security type {sec_type:?}"))?;
    let rules = info
        .rules
        .as_ref()
        .ok_or_else(|| format!("{symbol}: IBKR gave no trading rules"))?;
    let tick = rules
        .increment
        .map(|n| n.0)
        .or_else(|| rules.increment_rules.first().map(|r| r.increment.0))
        .filter(|t| *t > Decimal::ZERO)
        .ok_or_else(|| format!("{symbol}: IBKR gave no price increment"))?;
    let step = rules
        .size_increment
        .map(|n| n.0)
        .filter(|s| *s > Decimal::ZERO)
        .unwrap_or(Decimal::ONE);
    let multiplier = info
        .multiplier
        .as_deref()
        .and_then(super::super::model::num::parse)
        .filter(|m| *m > Decimal::ZERO)
        .unwrap_or(Decimal::ONE);
    let currency = info
        .currency
        .clone()
        .ok_or_else(|| format!("{symbol}: IBKR gave no currency"))?;
    let description = info
        .company_name
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| symbol.to_string());
    Ok(tv::Instrument {
        name: symbol.to_string(),
        description,
        min_qty: step,
        max_qty: Decimal::from(1_000_000_000u64),
        qty_step: step,
        pip_size: tick,
        // In the instrument's currency: IBKR's contract details carry no conversion (README, Known gaps).
        pip_value: tick * multiplier,
        min_tick: tick,
        lot_size: (multiplier != Decimal::ONE).then_some(multiplier),
        base_currency: (kind == tv::SymbolType::Forex)
            .then(|| info.symbol.clone())
            .flatten(),
        quote_currency: Some(currency),
        margin_rate: None,
        units: None,
        kind,
        typespecs: None,
    })
}

/// The pip of a currency pair by market convention, which IBKR's contract details do not state
/// (README, Known gaps): 0.01 when the quote currency is the yen, 0.0001 otherwise.
pub fn fx_pip(quote_currency: &str) -> Decimal {
    if quote_currency.eq_ignore_ascii_case("JPY") {
        Decimal::new(1, 2)
    } else {
        Decimal::new(1, 4)
    }
}

/// A `/symbol_info` row of `symbol`: the price format from the contract's tick; the session and time zone
/// from IBKR's trading schedule (`hours`), or where IBKR gave none, FX on the FX week (New York 17:00)
/// and everything else on a session that never closes.
pub fn symbol_info(
    symbol: &str,
    instrument: &tv::Instrument,
    hours: Option<&super::schedule::TradingHours>,
) -> tv::SymbolInfo {
    let (minmovement, pricescale) = tv::SymbolInfo::price_format(instrument.min_tick);
    // Steps of 1/pricescale per pip, so that FX quoted finer than a pip shows the pip fraction
    // (a half-pip tick on a 5-digit pair: minmovement 5, minmovement2 10).
    let minmovement2 = match instrument.kind {
        tv::SymbolType::Forex => {
            let quote = instrument.quote_currency.as_deref().unwrap_or_default();
            let step = Decimal::ONE / Decimal::from(pricescale.max(1));
            tv::SymbolInfo::pip_fraction(step, fx_pip(quote))
        }
        _ => 0,
    };
    let (timezone, session) = match (hours, instrument.kind) {
        (Some(h), _) => (h.timezone.as_str(), h.session.as_str()),
        (None, tv::SymbolType::Forex) => crate::upstream::days::DayCut::NewYork17.weekday_session(),
        (None, _) => ("Etc/UTC", "24x7"),
    };
    tv::SymbolInfo {
        symbol: symbol.to_string(),
        ticker: None,
        description: instrument.description.clone(),
        currency: instrument.quote_currency.clone().unwrap_or_default(),
        base_currency: instrument.base_currency.clone(),
        exchange: "IBKR".to_string(),
        minmovement,
        minmovement2,
        pricescale,
        timezone: timezone.to_string(),
        session: session.to_string(),
        kind: instrument.kind,
        typespecs: None,
        group: format!("{:?}", instrument.kind).to_lowercase(),
        has_no_volume: instrument.kind == tv::SymbolType::Forex,
    }
}
