//! Deterministic, seeded price process for the paper broker: quotes, ticks, bars and depth are pure functions of (seed, symbol, time).
//!
//! # Why pure functions
//!
//! `/history` (bars) and `/streaming` (ticks) must agree exactly, also after a restart and on another
//! machine. So nothing here keeps state: every value is recomputed from `(seed, symbol, time)`.
//!
//! # Model: bar-first
//!
//! TradingView checks that minute bars built from the streamed ticks equal `/history`'s minute bars,
//! and `/history` asks for up to years of daily bars. So the minute bar is the primary object, cheap
//! to compute on its own, and everything else derives from it:
//!
//! - **Minute bars** ([`Feed::minute_bar`]). A mid path is defined at whole minutes only:
//!   `base_price * exp(softclamp(x(b)))` at minute boundary `b`, where the log-excursion `x` is a sum
//!   of value-noise octaves (hash-derived random values on a grid, smoothstep-interpolated) with
//!   periods of `2^k` minutes for `k = 0..=14` (1 minute up to about 11 days). An octave's amplitude
//!   grows like `sqrt(period)`, which is how a random walk scales, so up to a couple of weeks the path
//!   looks like a random walk whose daily log-return has a standard deviation of about
//!   `daily_volatility`. Beyond the longest period the noise is stationary, so the price reverts to
//!   `base_price` over weeks, and the soft clamp keeps it within -35%/+35% of `base_price`. A slow
//!   "activity" noise scales the octaves up to about 2 hours between 0.5x and 1.5x, which gives quiet
//!   and busy stretches (volatility clustering). The octaves of 4 hours and more, and the activity,
//!   are evaluated every 16 minutes and linearly interpolated in between, which halves the cost of a
//!   long sweep and is invisible at their time scales. Minute `m`'s close is the path at its end
//!   rounded to the tick grid, its open is the previous minute's close (no gaps), its high and low lie
//!   beyond `max`/`min(open, close)` by hash-derived wicks scaled to the one-minute volatility
//!   (usually a small fraction of it, in 5% of cases 0.5-2.6 times it), cut at the clamp's bounds, and
//!   its volume is a hash-derived multiple of the typical size, larger when the market is busy or the
//!   minute moved a lot.
//! - **Ticks** ([`Feed::tick`]) are drawn from their minute's bar: `last` is the open at second 0,
//!   the close at second 59, the high and the low at two hash-chosen seconds, and in between a
//!   Brownian bridge between those anchors (built by midpoint displacement, so any second costs a
//!   few hashes) folded into `[low, high]`; the trade sizes are cuts of the minute's volume. So the
//!   60 ticks of a minute fold into its bar exactly. The quote surrounds the trade, drifting around
//!   it smoothly; the spread is `spread_ticks`, widened 1-3x during occasional 30-second episodes;
//!   book sizes are `base_size` times a skewed factor in [0.2, 3].
//! - **Longer bars** ([`Feed::bar`], [`Feed::bars`]) are folds of minute bars (and of ticks at ragged
//!   edges), so they agree with the ticks and minute bars by construction.
//!
//! # Determinism across machines
//!
//! The hash is SplitMix64 over an FNV-1a hash of the symbol, never `std`'s `DefaultHasher` (whose output
//! may change between Rust releases). The floating-point path only uses `+ - * /`, `sqrt` and `floor`,
//! which IEEE 754 defines exactly and Rust never fuses into FMAs, and conversions to and from integers;
//! `exp`/`ln`/`tanh` come from the platform's libm and may differ in the last bit between machines, so
//! we use a polynomial `exp` and a rational soft clamp instead. Prices are computed in whole ticks and
//! sizes in whole steps, and turned into `Decimal`s only at the end. Hence every machine computes
//! bit-identical quotes and bars.
//!
//! # Cost
//!
//! Measured in an optimised build on the 2-core dev machine (`bench_feed_costs` in the tests, which
//! only prints): a minute bar ~0.2 us (two evaluations of the octave sum and a few hashes, O(1)); a
//! tick ~0.3 us (its minute bar, a few hashes for its second, `Decimal` conversions); a daily bar
//! ~0.08 ms and 365 daily bars ~30 ms, because a bar over `n` minutes sweeps them once, evaluating
//! the path once per minute boundary (~50 ns per minute) and hashing each grid cell only once.
//! Unoptimised (debug) builds are about 10x slower. A bar's cost is proportional to its length, so
//! callers must bound the ranges they ask for.

mod math;
mod minute;
mod model;
mod path;
mod spec;

use math::stream;
use model::*;
use rust_decimal::Decimal;
pub use spec::{FeedSpec, InvalidFeedSpec};

/// One tick: the state of the market at whole second `t` (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    /// Unix seconds.
    pub t: i64,
    /// Best bid, on the tick grid, > 0.
    pub bid: Decimal,
    /// Best ask, on the tick grid, at least one tick above `bid`.
    pub ask: Decimal,
    /// Size at the best bid, a positive multiple of `size_step`.
    pub bid_size: Decimal,
    /// Size at the best ask, a positive multiple of `size_step`.
    pub ask_size: Decimal,
    /// Price of the trade printed in this second, on the grid, within `[bid, ask]`.
    pub last: Decimal,
    /// Size of that trade, a positive multiple of `size_step`.
    pub last_size: Decimal,
}

/// Bars are the domain's OHLCV bar: open is the `last` of the first second, high and low the extremes of
/// `last`, close the `last` of the final second, volume the sum of `last_size`.
pub use crate::tv::Bar;

/// The paper broker's price source. Holds only the global seed, so it is free to copy around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Feed {
    seed: u64,
}

/// One side of a synthetic order book: `(price, size)` per level, best first.
pub type BookSide = Vec<(Decimal, Decimal)>;

/// Most levels [`Feed::depth`] returns per side, so that a request parameter can't make it allocate
/// without bound.
pub const MAX_DEPTH_LEVELS: usize = 1000;

/// Most bars [`Feed::bars`] reserves room for up front, so that a huge range can't make it
/// allocate before computing anything.
const MAX_PREALLOCATED_BARS: i128 = 4096;

impl Feed {
    /// A feed whose every price derives from `seed`.
    pub fn new(seed: u64) -> Self {
        Feed { seed }
    }

    /// The global seed this feed was built with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Mid price (> 0) at any instant `t_ms` (unix millis), for valuation: at a whole second it is
    /// `(bid + ask) / 2` of that second's [`Tick`], and in between it is linearly interpolated, so it
    /// is continuous in `t_ms`. Costs two ticks.
    pub fn mid_f64(&self, spec: &FeedSpec, t_ms: i64) -> f64 {
        let prepared = Prepared::new(self.seed, spec);
        let t = t_ms.div_euclid(1000);
        let f = t_ms.rem_euclid(1000) as f64 / 1000.0;
        let mid = |t: i64| {
            let q = prepared.quote(t);
            (q.bid + q.ask) as f64 * 0.5
        };
        let (a, b) = (mid(t), mid(t.saturating_add(1)));
        (a + (b - a) * f) * prepared.tick_f64
    }

    /// Quote/trade state at whole second t. bid < ask, both on the tick grid, bid > 0, spread >= 1 tick;
    /// `last` is on the tick grid between bid and ask inclusive; sizes > 0 and multiples of size_step.
    ///
    /// `last` and `last_size` are drawn from the second's minute bar ([`Feed::minute_bar`] of
    /// `t / 60`), so the 60 ticks of a minute fold into it exactly. Costs well under a microsecond.
    pub fn tick(&self, spec: &FeedSpec, t: i64) -> Tick {
        Prepared::new(self.seed, spec).tick(t)
    }

    /// The bar of minute `m` (unix seconds / 60), i.e. over seconds `[60 m, 60 m + 60)`: the fold of
    /// those 60 ticks (open = first `last`, high/low = max/min `last`, close = final `last`, volume =
    /// sum of `last_size`). `open` equals the previous minute's `close`. Computed directly, in O(1).
    ///
    /// Minute indices whose seconds don't fit an `i64` are clamped to the nearest one that does.
    pub fn minute_bar(&self, spec: &FeedSpec, m: i64) -> Bar {
        let prepared = Prepared::new(self.seed, spec);
        let minute = prepared.minute_at(m);
        let mut fold = Fold::new();
        fold.push(minute.open, minute.high, minute.low, minute.close, minute.volume);
        prepared.bar(minute.m.saturating_mul(60), &fold)
    }

    /// Bar over [start, start+len_secs) built from the per-second ticks' `last`/`last_size`:
    /// open = last of the first second, close = last of the final second, high/low = max/min, volume = sum.
    ///
    /// A `len_secs` below 1 is treated as 1, and the range ends at `i64::MAX` at the latest. Whole
    /// minutes are folded as minute bars and only the ragged seconds at either end as ticks, so the
    /// cost is O(`len_secs / 60`): a daily bar is 1,440 minute bars, a fraction of a millisecond.
    pub fn bar(&self, spec: &FeedSpec, start: i64, len_secs: i64) -> Bar {
        let prepared = Prepared::new(self.seed, spec);
        let last = start.saturating_add(len_secs.max(1) - 1);
        prepared.bar(start, &fold_range(&prepared, start, last))
    }

    /// The consecutive bars of `resolution_secs` (below 1 is treated as 1) whose start is in
    /// `[from, to]` and a multiple of `resolution_secs` (unix time, so daily bars start at 00:00
    /// UTC), ascending; empty if there are none. Each equals [`Feed::bar`]`(start, resolution_secs)`,
    /// including a last bar that extends beyond `to` (or beyond the present: the caller cuts a
    /// forming bar short with [`Feed::bar`] if it needs to).
    ///
    /// Weeks and months aren't whole multiples from the epoch (1970-01-01 was a Thursday); build
    /// those with [`Feed::bar`] from calendar boundaries.
    ///
    /// When the resolution is whole minutes, all the bars' minutes are swept in one pass, so the cost
    /// is O(`(to - from) / 60`) with a small constant: a year of daily bars is 525,600 minute bars.
    /// Callers must bound the range: nothing here does.
    pub fn bars(&self, spec: &FeedSpec, from: i64, to: i64, resolution_secs: i64) -> Vec<Bar> {
        let res = resolution_secs.max(1);
        let misalignment = from.rem_euclid(res);
        let first = if misalignment == 0 {
            Some(from)
        } else {
            from.checked_add(res - misalignment)
        };
        let Some(first) = first.filter(|&first| first <= to) else {
            return Vec::new();
        };
        let count = (i128::from(to) - i128::from(first)) / i128::from(res) + 1;
        let mut out = Vec::with_capacity(count.min(MAX_PREALLOCATED_BARS) as usize);
        let prepared = Prepared::new(self.seed, spec);
        let mut sweep = (res % 60 == 0).then(|| Sweep::new(&prepared, first.div_euclid(60)));
        let mut start = first;
        loop {
            // A bar that would end beyond i64::MAX is cut there, like `bar` does, by folding it on its
            // own; it is the last one anyway.
            let fold = match sweep.as_mut() {
                Some(sweep) if start.checked_add(res - 1).is_some() => {
                    let mut fold = Fold::new();
                    for _ in 0..res / 60 {
                        let m = sweep.next_minute();
                        fold.push(m.open, m.high, m.low, m.close, m.volume);
                    }
                    fold
                }
                _ => fold_range(&prepared, start, start.saturating_add(res - 1)),
            };
            out.push(prepared.bar(start, &fold));
            match start.checked_add(res) {
                Some(next) if next <= to => start = next,
                _ => break,
            }
        }
        out
    }

    /// Synthetic order book at second t: `levels` ask levels ascending from tick.ask and `levels` bid levels
    /// descending from tick.bid, one tick apart, sizes deterministic and > 0. Returns (asks, bids) as (price, size).
    ///
    /// Level 0 is exactly the top of book of [`Feed::tick`]. Deeper levels get larger sizes on average,
    /// as real books do. `levels` is capped at [`MAX_DEPTH_LEVELS`], and bid levels stop before a price
    /// would reach zero, so `bids` can be shorter than `asks` for a price only a few ticks above zero.
    pub fn depth(&self, spec: &FeedSpec, t: i64, levels: usize) -> (BookSide, BookSide) {
        let prepared = Prepared::new(self.seed, spec);
        let top = prepared.tick(t);
        let levels = levels.min(MAX_DEPTH_LEVELS);
        let level_key = stream(prepared.depth_key, t as u64);
        let mut asks = Vec::with_capacity(levels);
        let mut bids = Vec::with_capacity(levels);
        for i in 0..levels {
            let offset = prepared.tick_size * Decimal::from(i as u64);
            if i == 0 {
                asks.push((top.ask, top.ask_size));
                bids.push((top.bid, top.bid_size));
                continue;
            }
            // Deeper levels rest more liquidity: + 35% of a typical size per level.
            let depth_scale = 1.0 + 0.35 * i as f64;
            asks.push((
                top.ask + offset,
                prepared.size(stream(level_key, 2 * i as u64), depth_scale),
            ));
            let bid = top.bid - offset;
            if bid > Decimal::ZERO {
                bids.push((
                    bid,
                    prepared.size(stream(level_key, 2 * i as u64 + 1), depth_scale),
                ));
            }
        }
        (asks, bids)
    }
}

/// Folds seconds `first..=last` (`first <= last`): whole minutes as minute bars, ragged ends as ticks.
fn fold_range(prepared: &Prepared, first: i64, last: i64) -> Fold {
    let (m0, s0) = (first.div_euclid(60), first.rem_euclid(60) as u32);
    let (m1, s1) = (last.div_euclid(60), last.rem_euclid(60) as u32);
    let mut sweep = Sweep::new(prepared, m0);
    let mut fold = Fold::new();
    for m in m0..=m1 {
        let minute = sweep.next_minute();
        let from = if m == m0 { s0 } else { 0 };
        let to = if m == m1 { s1 } else { 59 };
        prepared.fold_seconds(&mut fold, &minute, from, to);
    }
    fold
}

#[cfg(test)]
mod bar_tests;
#[cfg(test)]
mod tests;
