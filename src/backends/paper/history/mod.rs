//! Paper `/history`: bars at any resolution from the pure price function, clipped to the data start, with
//! every request's work bounded, stopped when its client leaves or the broker closes, and a bounded number of
//! computations at once.
//!
//! What a request may cost: multi-day bars (days, weeks, months, `1440`) fold daily bars, each computed once
//! per symbol and day (see [`days`]), so a request computes at most the days since the data start, and only
//! the first time; intraday bars are swept from minute bars, within [`MINUTE_BUDGET`] per request (a range
//! needing more keeps its newest bars, like the [`MAX_HISTORY_BARS`] cap). The answer never depends on
//! what was cached: a cached day is the bar the feed computes for it.

mod days;
mod plan;
#[cfg(test)]
mod tests;

use super::clock::Clock;
use super::data_start::Start;
use super::market::{Market, PaperInstrument};
use crate::broker::{BrokerError, BrokerResult};
use crate::tv::{Bar, HistoryQuery, MAX_HISTORY_BARS};
use days::{DayBars, Window};
use plan::DAY;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Most work one request spends on intraday bars, counted in minute bars: each minute swept counts one, and
/// each bar answered [`BAR_COST`] more. About 42 ms of CPU in a release build on the project's machine (the
/// target is under 50 ms per request): 50,000 one-minute bars, about 36,000 five-minute bars, or the newest
/// ~250 days of hourly to 1439-minute bars, in one answer.
pub const MINUTE_BUDGET: i64 = 400_000;
/// What answering one bar costs, in minute bars swept: making its `Decimal`s and its JSON (five `f64`s) costs
/// about as much as sweeping six minutes.
pub const BAR_COST: i64 = 6;
/// Days the warm-up computes per computation permit (about 10 ms), so requests never wait long behind it.
pub const WARM_UP_DAYS: usize = 100;

/// What the paper history has done so far (for tests, benchmarks and operators).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryStats {
    /// Minute bars computed since start, whether for a daily bar or an intraday one.
    pub minutes_computed: u64,
    /// Daily bars kept in the cache, over every symbol.
    pub days_cached: usize,
    /// Computations running now on blocking threads (at most `history_concurrency`).
    pub running: usize,
}

/// The paper broker's history service, shared by every request.
pub struct PaperHistory {
    market: Arc<Market>,
    clock: Arc<dyn Clock>,
    start: Start,
    days: DayBars,
    /// One permit per computation running on a blocking thread.
    gate: Arc<Semaphore>,
    running: AtomicUsize,
    minutes: AtomicU64,
    /// Set when the broker goes away: computations still running stop.
    closed: AtomicBool,
}

impl PaperHistory {
    /// History of `market` from `start` on, with at most `concurrency` computations at once.
    pub fn new(market: Arc<Market>, clock: Arc<dyn Clock>, start: Start, concurrency: usize) -> Self {
        PaperHistory {
            days: DayBars::new(&market),
            market,
            clock,
            start,
            gate: Arc::new(Semaphore::new(concurrency.max(1))),
            running: AtomicUsize::new(0),
            minutes: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }
    }

    /// The bars `query` asks for that exist, at most [`MAX_HISTORY_BARS`] (the newest). Computed on a blocking
    /// thread once a permit is free; dropping the returned future (the client left, or the runtime shuts down)
    /// stops the computation within a bar's work.
    pub async fn bars(self: &Arc<Self>, query: &HistoryQuery) -> BrokerResult<Vec<Bar>> {
        if self.market.get(&query.symbol).is_none() {
            return Err(BrokerError::NotFound(format!(
                "Unknown symbol '{}'",
                query.symbol
            )));
        }
        let cancelled = Arc::new(AtomicBool::new(false));
        let _stop_when_dropped = CancelOnDrop(cancelled.clone());
        let permit = self
            .gate
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| BrokerError::Unavailable("paper history closed".into()))?;
        let (me, query) = (self.clone(), query.clone());
        tokio::task::spawn_blocking(move || {
            // The permit is held until the computation ends, not until the request is dropped: it bounds the
            // threads actually computing.
            let _permit = permit;
            let _running = Running::start(&me.running);
            me.compute(&query, me.clock.now_ms(), &cancelled)
        })
        .await
        .map_err(|e| BrokerError::Internal(format!("history task failed: {e}")))?
    }

    /// Computes, in the background, every closed day since the data start of every symbol, so that no
    /// TradingView request pays for a cold cache (the first multi-day request of a symbol would otherwise
    /// sweep every minute since the data start: about 120 ms of CPU at three years). Runs on one blocking
    /// thread at a time, [`WARM_UP_DAYS`] days per computation permit so requests interleave, and stops when
    /// the broker closes.
    pub fn warm_up(self: &Arc<Self>) {
        let me = self.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            for ins in me.market.instruments() {
                loop {
                    let Ok(permit) = me.gate.clone().acquire_owned().await else {
                        return;
                    };
                    let (worker, symbol) = (me.clone(), ins.cfg.symbol.clone());
                    let more = tokio::task::spawn_blocking(move || {
                        let _permit = permit;
                        let _running = Running::start(&worker.running);
                        worker.warm_days(&symbol)
                    })
                    .await;
                    match more {
                        Ok(Some(true)) => continue,
                        Ok(Some(false)) => break,
                        // Closed, or the task failed: nothing more to do.
                        _ => return,
                    }
                }
            }
            tracing::info!(
                days = me.days.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "paper history: daily bars since the data start are ready"
            );
        });
    }

    /// Computes up to [`WARM_UP_DAYS`] missing days of `symbol`, newest first (the charts' first requests);
    /// `Some(true)` when some may remain, `None` when the broker closed.
    fn warm_days(&self, symbol: &str) -> Option<bool> {
        let ins = self.market.get(symbol)?;
        let now = self.clock.now_ms().div_euclid(1000);
        let window = Window {
            first: self.start.at(now),
            today: now - now.rem_euclid(DAY),
        };
        let never = AtomicBool::new(false);
        let work = Work {
            cancelled: &never,
            closed: &self.closed,
            minutes: &self.minutes,
        };
        let mut computed = 0;
        let mut day = window.today - DAY;
        while day >= window.first {
            if !self.days.has(symbol, day) {
                self.days.day(&self.market, ins, day, window, &work)?;
                computed += 1;
                if computed == WARM_UP_DAYS {
                    return Some(true);
                }
            }
            day -= DAY;
        }
        Some(false)
    }

    /// Stops every running computation and refuses new ones (the broker is going away).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.gate.close();
    }

    /// Work done and cache size so far.
    pub fn stats(&self) -> HistoryStats {
        HistoryStats {
            minutes_computed: self.minutes.load(Ordering::Relaxed),
            days_cached: self.days.len(),
            running: self.running.load(Ordering::Relaxed),
        }
    }

    /// The bars of `query` at `now_ms`, on the calling thread; stops early (an error nobody reads) when
    /// `cancelled` is set.
    fn compute(&self, query: &HistoryQuery, now_ms: i64, cancelled: &AtomicBool) -> BrokerResult<Vec<Bar>> {
        let ins = self
            .market
            .get(&query.symbol)
            .ok_or_else(|| BrokerError::NotFound(format!("Unknown symbol '{}'", query.symbol)))?;
        let now = now_ms.div_euclid(1000);
        let window = Window {
            first: self.start.at(now),
            today: now - now.rem_euclid(DAY),
        };
        let resolution = query.resolution;
        // Bars before the data start do not exist, nor do bars after the current one.
        let hi = query.to.min(now);
        let lo = match query.countback {
            Some(_) => window.first,
            None => query.from.max(window.first),
        };
        let mut limit = MAX_HISTORY_BARS.min(query.countback.unwrap_or(usize::MAX));
        let whole_days = plan::whole_days(resolution);
        if !whole_days {
            let per_bar = (plan::bar_secs(resolution) / 60).max(1) + BAR_COST;
            limit = limit.min(usize::try_from(MINUTE_BUDGET / per_bar).unwrap_or(1).max(1));
        }
        let starts = plan::starts(resolution, lo, hi, limit);
        let work = Work {
            cancelled,
            closed: &self.closed,
            minutes: &self.minutes,
        };
        let bars = if whole_days {
            self.day_bars(ins, query, &starts, now, window, &work)
        } else {
            self.intraday_bars(ins, query, &starts, now, &work)
        };
        bars.ok_or_else(|| BrokerError::Unavailable("history request cancelled".into()))
    }

    /// Bars of whole days: the closed days from the cache, today's part (an open bar) swept up to now.
    fn day_bars(
        &self,
        ins: &PaperInstrument,
        query: &HistoryQuery,
        starts: &[i64],
        now: i64,
        window: Window,
        work: &Work,
    ) -> Option<Vec<Bar>> {
        let mut out = Vec::with_capacity(starts.len());
        for &start in starts {
            let end = plan::end(query.resolution, start).min(now + 1);
            let mut bar: Option<Bar> = None;
            let mut day = start;
            while day < end.min(window.today) {
                let next = self.days.day(&self.market, ins, day, window, work)?;
                bar = Some(bar.map_or(next, |b| b.then(next)));
                day += DAY;
            }
            let open_from = start.max(window.today);
            if end > open_from {
                let next = work.bar(&self.market, ins, open_from, end - open_from)?;
                bar = Some(bar.map_or(next, |b| b.then(next)));
            }
            out.extend(bar.map(|b| Bar { t: start, ..b }));
        }
        Some(out)
    }

    /// Intraday bars: the closed ones swept a day of minutes at a time (one pass each), the open one up to now.
    fn intraday_bars(
        &self,
        ins: &PaperInstrument,
        query: &HistoryQuery,
        starts: &[i64],
        now: i64,
        work: &Work,
    ) -> Option<Vec<Bar>> {
        let len = plan::bar_secs(query.resolution);
        let closed = starts.partition_point(|&s| s + len <= now + 1);
        let per_pass = usize::try_from(DAY / len).unwrap_or(1).max(1);
        let mut out = Vec::with_capacity(starts.len());
        for pass in starts[..closed].chunks(per_pass) {
            out.extend(work.bars(&self.market, ins, pass[0], pass[pass.len() - 1], len)?);
        }
        for &start in &starts[closed..] {
            out.push(work.bar(&self.market, ins, start, now + 1 - start)?);
        }
        Some(out)
    }
}

/// One request's computation: stops when its client left or the broker closed, and counts the minutes swept.
pub(super) struct Work<'a> {
    cancelled: &'a AtomicBool,
    closed: &'a AtomicBool,
    minutes: &'a AtomicU64,
}

impl Work<'_> {
    fn stopped(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed) || self.closed.load(Ordering::Relaxed)
    }

    /// The bar over `[start, start + len)`, unless the request stopped.
    fn bar(&self, market: &Market, ins: &PaperInstrument, start: i64, len: i64) -> Option<Bar> {
        if self.stopped() {
            return None;
        }
        let minutes = (start + len - 1).div_euclid(60) - start.div_euclid(60) + 1;
        self.minutes.fetch_add(minutes as u64, Ordering::Relaxed);
        Some(market.feed().bar(&ins.feed, start, len))
    }

    /// The consecutive bars of `len` seconds starting from `first` to `last`, in one sweep, unless the request
    /// stopped.
    fn bars(
        &self,
        market: &Market,
        ins: &PaperInstrument,
        first: i64,
        last: i64,
        len: i64,
    ) -> Option<Vec<Bar>> {
        if self.stopped() {
            return None;
        }
        let minutes = (last - first + len) / 60;
        self.minutes.fetch_add(minutes as u64, Ordering::Relaxed);
        Some(market.feed().bars(&ins.feed, first, last, len))
    }
}

/// Sets its flag when dropped: the request's future went away, so its computation should stop.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Counts a computation as running while it lives (also when the computation panics).
struct Running<'a>(&'a AtomicUsize);

impl<'a> Running<'a> {
    fn start(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Running(count)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
