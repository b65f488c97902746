//! The paper broker's market data: live ticks (one per second, with the day's bar kept incrementally),
//! the data feed's symbols, and history bars at any resolution, all from the same pure price function,
//! so minute bars built from the stream equal `/history`'s.

use super::clock::Clock;
use super::market::{Market, PaperInstrument};
use crate::broker::{BrokerError, BrokerResult};
use crate::tv::{self, Resolution, SymbolInfo, SymbolType};
use chrono::{Datelike, TimeZone, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

const DAY: i64 = 86_400;
/// Monday 1970-01-05 00:00 UTC: weekly bars start on Mondays.
const FIRST_MONDAY: i64 = 4 * DAY;
/// The most bars one `/history` answer may hold.
pub const MAX_BARS: usize = 50_000;
/// A live stream that fell further behind than this skips ahead: it carries real-time data only.
const MAX_CATCH_UP_SECS: i64 = 60;
/// Daily bars kept in memory (about 15 symbols x 30 years).
const BAR_CACHE_CAP: usize = 200_000;

/// Computed daily bars, shared across requests (a day is 1,440 minute bars of work).
#[derive(Clone, Default)]
pub struct BarCache(Arc<Mutex<HashMap<(String, i64), tv::Bar>>>);

impl BarCache {
    fn day(&self, market: &Market, ins: &PaperInstrument, day_start: i64) -> tv::Bar {
        let key = (ins.cfg.symbol.clone(), day_start);
        if let Some(bar) = self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return *bar;
        }
        let bar = market.feed().bar(&ins.feed, day_start, DAY);
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= BAR_CACHE_CAP {
            map.clear();
        }
        map.insert(key, bar);
        bar
    }
}

/// Merges consecutive bars into one starting at `t`.
fn fold(t: i64, bars: impl IntoIterator<Item = tv::Bar>) -> Option<tv::Bar> {
    bars.into_iter().reduce(tv::Bar::then).map(|b| tv::Bar { t, ..b })
}

/// The data feed's symbols; groups by asset class.
pub fn symbols(market: &Market) -> Vec<SymbolInfo> {
    market
        .instruments()
        .iter()
        .map(|ins| {
            let c = &ins.cfg;
            let (minmovement, pricescale) = SymbolInfo::price_format(c.tick_size);
            let (symbol, ticker) = tradingview_name(&c.symbol);
            SymbolInfo {
                symbol,
                ticker,
                description: c.description.clone(),
                currency: c.currency.clone(),
                base_currency: c.base_currency.clone(),
                exchange: "TVBRIDGE".into(),
                minmovement,
                minmovement2: match c.kind {
                    SymbolType::Forex => SymbolInfo::pip_fraction(c.tick_size, c.pip_size),
                    _ => 0,
                },
                pricescale,
                timezone: "Etc/UTC".into(),
                // The paper market never closes.
                session: "24x7".into(),
                kind: c.kind,
                typespecs: c.typespecs.clone(),
                group: group_of(c.kind).into(),
                has_no_volume: false,
            }
        })
        .collect()
}

/// The group (without prefix) of an asset class.
fn group_of(kind: SymbolType) -> &'static str {
    match kind {
        SymbolType::Forex => "forex",
        SymbolType::Crypto => "crypto",
        SymbolType::Stock => "stocks",
        _ => "cfd",
    }
}

/// TradingView symbol names are upper-case letters, digits, `.` and `_`; a broker symbol with anything
/// else is shown under a cleaned name and keeps its own as the `ticker` TradingView sends back.
fn tradingview_name(broker_symbol: &str) -> (String, Option<String>) {
    let clean: String = broker_symbol
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if clean == broker_symbol {
        (clean, None)
    } else {
        (clean, Some(broker_symbol.to_owned()))
    }
}

/// Starts of the bars of `resolution` that begin within `[from, to]`.
fn bar_starts(resolution: Resolution, from: i64, to: i64) -> BrokerResult<Vec<i64>> {
    let mut out = Vec::new();
    let mut push = |t: i64| -> BrokerResult<()> {
        if out.len() >= MAX_BARS {
            return Err(BrokerError::Rejected(format!(
                "more than {MAX_BARS} bars requested at resolution {resolution}: narrow the range"
            )));
        }
        out.push(t);
        Ok(())
    };
    match resolution {
        Resolution::Months(n) => {
            let n = i64::from(n);
            let first = Utc
                .timestamp_opt(from, 0)
                .single()
                .ok_or_else(|| bad_time(from))?;
            let mut index = i64::from(first.year()) * 12 + i64::from(first.month0());
            index -= index.rem_euclid(n);
            loop {
                let (y, m) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
                let start = Utc
                    .with_ymd_and_hms(y as i32, m, 1, 0, 0, 0)
                    .single()
                    .ok_or_else(|| bad_time(from))?
                    .timestamp();
                if start > to {
                    break;
                }
                if start >= from {
                    push(start)?;
                }
                index += n;
            }
        }
        fixed => {
            let len = fixed.fixed_secs().unwrap_or(60);
            let anchor = if matches!(fixed, Resolution::Weeks(_)) {
                FIRST_MONDAY
            } else {
                0
            };
            let mut t = anchor + (from - anchor).div_euclid(len) * len;
            if t < from {
                t += len;
            }
            while t <= to {
                push(t)?;
                t += len;
            }
        }
    }
    Ok(out)
}

fn bad_time(t: i64) -> BrokerError {
    BrokerError::Rejected(format!("time {t} is out of range"))
}

/// Bars of `symbol` starting within `[from, to]`; the last one may still be open (up to `now_ms`).
pub fn history(
    market: &Market,
    cache: &BarCache,
    query: &tv::HistoryQuery,
    now_ms: i64,
) -> BrokerResult<Vec<tv::Bar>> {
    let (symbol, resolution, to) = (query.symbol.as_str(), query.resolution, query.to);
    // Bars are a fixed length here (the paper market never closes), so `countback` bars span a known time.
    let from = match query.countback {
        Some(n) => {
            let len = resolution.fixed_secs().unwrap_or(31 * DAY);
            to.saturating_sub(len.saturating_mul(n as i64))
        }
        None => query.from,
    };
    let ins = market
        .get(symbol)
        .ok_or_else(|| BrokerError::NotFound(format!("Unknown symbol '{symbol}'")))?;
    let now = now_ms.div_euclid(1000);
    let to = to.min(now);
    if from > to {
        return Ok(Vec::new());
    }
    let starts = bar_starts(resolution, from, to)?;
    let mut bars = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = match resolution {
            Resolution::Months(_) => starts
                .get(i + 1)
                .copied()
                .unwrap_or_else(|| next_month_start(start, resolution)),
            fixed => start + fixed.fixed_secs().unwrap_or(60),
        };
        // An open bar covers up to the current second.
        let end = end.min(now + 1);
        let whole_days =
            end - start >= DAY && start.rem_euclid(DAY) == 0 && (end - start).rem_euclid(DAY) == 0;
        let bar = if whole_days {
            fold(
                start,
                (0..(end - start) / DAY).map(|d| cache.day(market, ins, start + d * DAY)),
            )
        } else if end - start > DAY {
            // A bar over several days ending in an open day: the whole days from the cache, then the rest.
            let full_days = (end - start) / DAY;
            let tail_start = start + full_days * DAY;
            let head = (0..full_days).map(|d| cache.day(market, ins, start + d * DAY));
            let tail = (end > tail_start).then(|| market.feed().bar(&ins.feed, tail_start, end - tail_start));
            fold(start, head.chain(tail))
        } else {
            Some(market.feed().bar(&ins.feed, start, end - start))
        };
        if let Some(bar) = bar {
            bars.push(bar);
        }
    }
    Ok(bars)
}

fn next_month_start(start: i64, resolution: Resolution) -> i64 {
    let Resolution::Months(n) = resolution else {
        return start + 31 * DAY;
    };
    let Some(d) = Utc.timestamp_opt(start, 0).single() else {
        return start + 31 * DAY;
    };
    let index = i64::from(d.year()) * 12 + i64::from(d.month0()) + i64::from(n);
    Utc.with_ymd_and_hms(
        index.div_euclid(12) as i32,
        index.rem_euclid(12) as u32 + 1,
        1,
        0,
        0,
        0,
    )
    .single()
    .map(|t| t.timestamp())
    .unwrap_or(start + 31 * DAY)
}

/// Live ticks of `symbol`: one per second, from the current one on, each with the day's bar so far.
pub fn subscribe(
    market: Arc<Market>,
    clock: Arc<dyn Clock>,
    symbol: &str,
) -> BrokerResult<mpsc::Receiver<tv::MarketTick>> {
    let ins = market
        .get(symbol)
        .cloned()
        .ok_or_else(|| BrokerError::NotFound(format!("Unknown symbol '{symbol}'")))?;
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut next = clock.now_ms().div_euclid(1000);
        let mut day: Option<tv::Bar> = None;
        loop {
            let now = clock.now_ms().div_euclid(1000);
            if now - next > MAX_CATCH_UP_SECS {
                next = now - MAX_CATCH_UP_SECS;
                day = None;
            }
            while next <= now {
                let tick = market.tick(&ins, next);
                let day_start = next - next.rem_euclid(DAY);
                let bar = match day {
                    Some(d) if d.t == day_start => d.then(tv::Bar::trade(next, tick.last, tick.last_size)),
                    _ => market.feed().bar(&ins.feed, day_start, next - day_start + 1),
                };
                day = Some(bar);
                let message = tv::MarketTick {
                    symbol: ins.cfg.symbol.clone(),
                    t: next,
                    bid: tick.bid,
                    ask: tick.ask,
                    bid_size: tick.bid_size,
                    ask_size: tick.ask_size,
                    last: tick.last,
                    last_size: tick.last_size,
                    day: bar,
                };
                if tx.send(message).await.is_err() {
                    return;
                }
                next += 1;
            }
            // Wake at the start of the next second, or within 100 ms: a tick is never more than that late, and
            // a clock that jumps (tests move a manual one) is followed promptly.
            let wait = (next * 1000 - clock.now_ms()).clamp(5, 100);
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
    });
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_starts_align_to_the_resolution() {
        let day = 1_767_571_200; // 2026-01-05 00:00 UTC, a Monday
        assert_eq!(
            bar_starts(Resolution::Minutes(5), day + 1, day + 600).unwrap(),
            vec![day + 300, day + 600]
        );
        assert_eq!(
            bar_starts(Resolution::Minutes(1), day + 60, day + 60).unwrap(),
            vec![day + 60],
            "from == to"
        );
        assert_eq!(
            bar_starts(Resolution::Days(1), day, day + 2 * DAY).unwrap(),
            vec![day, day + DAY, day + 2 * DAY]
        );
        assert_eq!(
            bar_starts(Resolution::Weeks(1), day - DAY, day + 8 * DAY).unwrap(),
            vec![day, day + 7 * DAY]
        );
        let months = bar_starts(Resolution::Months(1), day, day + 70 * DAY).unwrap();
        let firsts: Vec<String> = months
            .iter()
            .map(|t| Utc.timestamp_opt(*t, 0).unwrap().format("%F").to_string())
            .collect();
        assert_eq!(firsts, ["2026-02-01", "2026-03-01"]);
        assert!(
            bar_starts(Resolution::Minutes(1), 0, 10_000_000).is_err(),
            "too many bars"
        );
    }

    #[test]
    fn odd_broker_symbols_get_a_ticker() {
        assert_eq!(tradingview_name("EURUSD"), ("EURUSD".into(), None));
        assert_eq!(tradingview_name("BRK-B"), ("BRK_B".into(), Some("BRK-B".into())));
        assert_eq!(
            tradingview_name("eth.usd"),
            ("ETH.USD".into(), Some("eth.usd".into()))
        );
    }
}
