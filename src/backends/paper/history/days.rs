//! The paper broker's daily bars, computed once per symbol and day and kept for every day between the data
//! start and today: multi-day bars fold them instead of sweeping 1,440 minutes per day again.
//!
//! The cache holds only days that exist (from the data start to yesterday), so its size follows from the data
//! range: symbols × days since the data start. When the data start moves with the clock, the day that left
//! the range is dropped. A day is computed under its symbol's lock, so concurrent requests never compute the
//! same day twice, and each day is stored as soon as it is computed, so a request that stops half-way (its
//! client left) leaves its work to the next one.

use super::plan::DAY;
use super::Work;
use crate::backends::paper::market::{Market, PaperInstrument};
use crate::sync::MutexExt;
use crate::tv::Bar;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Daily bars per symbol, keyed by the day's start (unix seconds at 00:00 UTC).
pub(super) struct DayBars {
    symbols: HashMap<String, Mutex<BTreeMap<i64, Bar>>>,
}

/// The days that exist: from the data start (inclusive) to today's start (exclusive), unix seconds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub first: i64,
    pub today: i64,
}

impl DayBars {
    /// An empty cache for the instruments of `market`.
    pub fn new(market: &Market) -> Self {
        let symbols = market
            .instruments()
            .iter()
            .map(|ins| (ins.cfg.symbol.clone(), Mutex::new(BTreeMap::new())))
            .collect();
        DayBars { symbols }
    }

    /// The daily bar of `ins` starting at `day` (a day of `window`); `None` when the request was cancelled
    /// before it could be computed.
    pub fn day(
        &self,
        market: &Market,
        ins: &PaperInstrument,
        day: i64,
        window: Window,
        work: &Work,
    ) -> Option<Bar> {
        debug_assert!(day >= window.first && day + DAY <= window.today && day % DAY == 0);
        let Some(days) = self.symbols.get(&ins.cfg.symbol) else {
            // Not an instrument of this market: compute without caching (never happens through the broker).
            return work.bar(market, ins, day, DAY);
        };
        let mut days = days.locked();
        if let Some(bar) = days.get(&day) {
            return Some(*bar);
        }
        let bar = work.bar(market, ins, day, DAY)?;
        days.insert(day, bar);
        let span = usize::try_from((window.today - window.first) / DAY).unwrap_or(usize::MAX);
        if days.len() > span {
            // The window moved (a relative data start, or a clock set back): drop what left it.
            days.retain(|d, _| *d >= window.first && *d < window.today);
        }
        Some(bar)
    }

    /// Whether the daily bar of `symbol` starting at `day` is cached.
    pub fn has(&self, symbol: &str, day: i64) -> bool {
        self.symbols
            .get(symbol)
            .is_some_and(|days| days.locked().contains_key(&day))
    }

    /// How many daily bars are kept, over every symbol.
    pub fn len(&self) -> usize {
        self.symbols.values().map(|days| days.locked().len()).sum()
    }
}
