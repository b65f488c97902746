//! Deterministic, seeded price process for the paper broker: quotes, ticks, bars and depth are pure functions of (seed, symbol, time).
//!
//! # Why pure functions
//!
//! `/history` (bars) and `/streaming` (ticks) must agree exactly, also after a restart and on another
//! machine. So nothing here keeps state: every value is recomputed from `(seed, symbol, time)`.
//!
//! # Model
//!
//! The mid price is `base_price * exp(softclamp(x(t)))`, where the log-excursion `x(t)` is a sum of
//! value-noise octaves: hash-derived random values on a time grid, smoothstep-interpolated between grid
//! points, one octave per period `2 s * 2^k` for `k = 0..=19` (2 seconds up to about 12 days). The
//! amplitude of an octave grows like `sqrt(period)`, which is how a random walk scales, so that up to a
//! couple of weeks the path looks like a random walk whose daily log-return has a standard deviation of
//! about `daily_volatility`. Beyond the longest period the noise is stationary, so the price reverts to
//! `base_price` on a scale of weeks, and the soft clamp keeps it within -35%/+35% of `base_price`.
//! On top of that:
//! - a per-second jitter (linearly interpolated between whole seconds) makes consecutive ticks differ;
//! - a slow "activity" noise scales the octaves shorter than about 2 hours between 0.5x and 1.5x,
//!   which gives quiet and busy stretches (volatility clustering) instead of a uniform texture;
//! - the spread is `spread_ticks`, widened 1-3x during occasional 30-second episodes;
//! - sizes are `base_size` times a skewed hash-derived factor in [0.2, 3].
//!
//! # Determinism across machines
//!
//! The hash is SplitMix64 over an FNV-1a hash of the symbol, never `std`'s `DefaultHasher` (whose output
//! may change between Rust releases). The floating-point path only uses `+ - * /` and `sqrt`, which IEEE
//! 754 defines to be correctly rounded and Rust never fuses into FMAs; `exp`/`ln`/`tanh` come from the
//! platform's libm and may differ in the last bit between machines, so we use a polynomial `exp` and a
//! rational soft clamp instead. Decimal <-> f64 conversions are done in software. Hence every machine
//! computes bit-identical quotes.
//!
//! # Cost
//!
//! A tick costs a few hundred nanoseconds: about 20 octaves x 2 hashes, one `Decimal::from_f64_retain`
//! (the single most expensive step, ~90 ns) and a handful of `Decimal` operations. Measured in an
//! optimised build on the 2-core dev machine: ~0.33-0.38 us per second inside [`Feed::bar`], i.e.
//! ~30 ms for the 86,400 ticks of a one-day bar (see the `bench_ticks_per_day` test, which only
//! prints); a standalone [`Feed::tick`] adds ~0.1-0.2 us of per-call setup (deriving the symbol's keys).
//! Unoptimised (debug) builds are about 10x slower. [`Feed::bar`] is O(`len_secs`), so long bars are
//! expensive; caching them is left to a later layer.

mod math;

use math::*;
use rust_decimal::Decimal;
use std::fmt;

/// What the feed needs to know about one instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedSpec {
    /// Instrument name; it seeds the instrument's own price path.
    pub symbol: String,
    /// The long-run level the price wanders around (e.g. 1.0850 for EURUSD).
    pub base_price: Decimal,
    /// Every price produced is an exact multiple of this (e.g. 0.00001).
    pub tick_size: Decimal,
    /// Typical daily move as a fraction of price (e.g. 0.006 for FX, 0.03 for crypto).
    pub daily_volatility: f64,
    /// Typical bid/ask spread in ticks, >= 1.
    pub spread_ticks: u32,
    /// Typical top-of-book size / trade size (e.g. 1_000_000 FX, 1 BTC, 100 shares).
    pub base_size: Decimal,
    /// Sizes and volumes are multiples of this.
    pub size_step: Decimal,
}

/// Why a [`FeedSpec`] was rejected by [`FeedSpec::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidFeedSpec {
    /// The offending spec's symbol.
    pub symbol: String,
    /// Human-readable reason.
    pub reason: &'static str,
}

impl fmt::Display for InvalidFeedSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid feed spec for {}: {}", self.symbol, self.reason)
    }
}

impl std::error::Error for InvalidFeedSpec {}

impl FeedSpec {
    /// Checks that the spec is within the range the feed models faithfully.
    ///
    /// The feed never panics on a bad spec: it clamps each field into the accepted range (see the
    /// reasons below) and still produces well-formed quotes, but those would not honour the spec, so
    /// configuration loading should call this and reject the instrument instead.
    pub fn validate(&self) -> Result<(), InvalidFeedSpec> {
        let fail = |reason| {
            Err(InvalidFeedSpec {
                symbol: self.symbol.clone(),
                reason,
            })
        };
        if self.base_price < MIN_BASE_PRICE || self.base_price > MAX_BASE_PRICE {
            return fail("base_price must be between 1e-12 and 1e15");
        }
        if self.tick_size <= Decimal::ZERO || self.tick_size > self.base_price {
            return fail("tick_size must be positive and not above base_price");
        }
        if self.tick_size < self.base_price / MAX_TICKS_PER_PRICE {
            return fail("base_price / tick_size must not exceed 1e12");
        }
        if !self.daily_volatility.is_finite()
            || self.daily_volatility < 0.0
            || self.daily_volatility > MAX_DAILY_VOLATILITY
        {
            return fail("daily_volatility must be finite and within [0, 0.5]");
        }
        if self.spread_ticks == 0 {
            return fail("spread_ticks must be at least 1");
        }
        if self.size_step <= Decimal::ZERO || self.base_size < self.size_step || self.base_size > MAX_SIZE {
            return fail("size_step must be positive, base_size at least one size_step and at most 1e15");
        }
        match self.base_size.checked_div(self.size_step) {
            Some(ratio) if ratio <= MAX_SIZE_RATIO => Ok(()),
            _ => fail("base_size / size_step must not exceed 1e15"),
        }
    }
}

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

/// An OHLCV bar starting at `t` (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// Start of the bar, unix seconds.
    pub t: i64,
    /// `last` of the first second.
    pub open: Decimal,
    /// Highest `last` in the bar.
    pub high: Decimal,
    /// Lowest `last` in the bar.
    pub low: Decimal,
    /// `last` of the final second.
    pub close: Decimal,
    /// Sum of `last_size` over the bar.
    pub volume: Decimal,
}

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

impl Feed {
    /// A feed whose every price derives from `seed`.
    pub fn new(seed: u64) -> Self {
        Feed { seed }
    }

    /// The global seed this feed was built with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Mid price (unrounded, > 0) at any instant, for valuation. Continuous in `t_ms` (unix millis).
    pub fn mid_f64(&self, spec: &FeedSpec, t_ms: i64) -> f64 {
        Process::new(symbol_key(self.seed, &spec.symbol), spec).mid(t_ms)
    }

    /// Quote/trade state at whole second t. bid < ask, both on the tick grid, bid > 0, spread >= 1 tick;
    /// `last` is on the tick grid between bid and ask inclusive; sizes > 0 and multiples of size_step.
    ///
    /// The quote is derived from `mid_f64(spec, t * 1000)`. Costs a few hundred nanoseconds.
    pub fn tick(&self, spec: &FeedSpec, t: i64) -> Tick {
        Prepared::new(self.seed, spec).tick(t)
    }

    /// Bar over [start, start+len_secs) built from the per-second ticks' `last`/`last_size`:
    /// open = last of the first second, close = last of the final second, high/low = max/min, volume = sum.
    ///
    /// A `len_secs` below 1 is treated as 1. Evaluates one tick per second, so a one-day bar costs
    /// 86,400 ticks (tens of milliseconds).
    pub fn bar(&self, spec: &FeedSpec, start: i64, len_secs: i64) -> Bar {
        let prepared = Prepared::new(self.seed, spec);
        let first = prepared.tick(start);
        let mut bar = Bar {
            t: start,
            open: first.last,
            high: first.last,
            low: first.last,
            close: first.last,
            volume: first.last_size,
        };
        let end = start.saturating_add(len_secs.max(1));
        for t in start.saturating_add(1)..end {
            let tick = prepared.tick(t);
            bar.high = bar.high.max(tick.last);
            bar.low = bar.low.min(tick.last);
            bar.close = tick.last;
            bar.volume += tick.last_size;
        }
        bar
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

// ----------------------------------------------------------------------------------------------------
// Parameters of the process.

/// Octave `k` has period `BASE_PERIOD_MS << k`: 2 s up to 2 s * 2^19 ~ 12.1 days. Up to about two days
/// this is the intraday/daily texture; the last few octaves make the weeks-scale swings, and nothing
/// beyond them, which is what makes the price revert to its base over weeks.
const OCTAVES: usize = 20;
const BASE_PERIOD_MS: i64 = 2_000;
/// Octaves below this index (periods up to ~2.3 h) are scaled by the activity noise.
const CLUSTERED_OCTAVES: usize = 13;
/// Activity noise: period and depth of its modulation (1 +- 0.5).
const ACTIVITY_PERIOD_MS: i64 = 4 * 3_600_000;
const ACTIVITY_DEPTH: f64 = 0.5;
/// Per-second jitter amplitude relative to a 1-second octave's amplitude.
const JITTER_SCALE: f64 = 0.5;
/// Makes the realised std of daily log returns match `daily_volatility`: the octaves' amplitudes
/// follow `sqrt(period)` only up to a constant that depends on the interpolation and on how much of
/// each octave's variance falls within one day. Measured by sampling 40,000 days over many symbols
/// and seeds with a volatility small enough for the clamp not to matter (see `calibration_report`).
const CALIBRATION: f64 = 0.8;
/// Soft bounds of the log-excursion: ln(1.35) up and -ln(0.65) down, so the mid stays within
/// -35%/+35% of `base_price` whatever the volatility.
const MAX_LOG_UP: f64 = 0.300_104_592_450_338_16;
const MAX_LOG_DOWN: f64 = 0.430_782_916_092_454_2;
/// Spread-widening episodes: length, share of episodes that widen, widening range 1..=3x.
const SPREAD_EPISODE_SECS: i64 = 30;
const SPREAD_WIDE_SHARE: f64 = 0.1;
/// Sizes are `base_size * f` with `f` in [0.2, 3], skewed towards small (mean ~1.13).
const SIZE_MIN: f64 = 0.2;
const SIZE_SPAN: f64 = 2.8;
/// Share of trades printed at the bid and at the ask; the rest print at the rounded mid.
const LAST_AT_BID: f64 = 0.4;
const LAST_AT_ASK: f64 = 0.8;

// Validation bounds; `Prepared::new` clamps into the same ranges so an unvalidated spec can't make a
// Decimal operation overflow or divide by zero.
const MIN_BASE_PRICE: Decimal = Decimal::from_parts(1, 0, 0, false, 12);
const MAX_BASE_PRICE: Decimal = Decimal::from_parts(0xA4C6_8000, 0x38D7E, 0, false, 0); // 1e15
const MAX_TICKS_PER_PRICE: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0); // 1e12
const MAX_SIZE_RATIO: Decimal = MAX_BASE_PRICE;
const MAX_SIZE: Decimal = MAX_BASE_PRICE;
const MAX_DAILY_VOLATILITY: f64 = 0.5;

// Domain separators for the per-symbol sub-keys, so that the streams never share inputs.
const DOMAIN_OCTAVE: u64 = 0; // ..OCTAVES
const DOMAIN_ACTIVITY: u64 = 100;
const DOMAIN_JITTER: u64 = 101;
const DOMAIN_SPREAD: u64 = 102;
const DOMAIN_SECOND: u64 = 103;
const DOMAIN_DEPTH: u64 = 104;
const DOMAIN_PHASE: u64 = 105;

/// The per-second jitter: one random value per whole second, linearly interpolated in between so
/// the mid stays continuous while whole seconds see independent values.
fn second_jitter(key: u64, t_ms: i64) -> f64 {
    let idx = t_ms.div_euclid(1000);
    let f = t_ms.rem_euclid(1000) as f64 / 1000.0;
    let v0 = signed_unit(stream(key, idx as u64));
    let v1 = signed_unit(stream(key, (idx as u64).wrapping_add(1)));
    v0 + (v1 - v0) * f
}

// ----------------------------------------------------------------------------------------------------
// Per-(seed, spec) precomputation. Rebuilt on every public call (tens of nanoseconds), and reused
// across the seconds of a bar.

/// The key all of a symbol's random streams derive from.
fn symbol_key(seed: u64, symbol: &str) -> u64 {
    mix64(seed ^ mix64(fnv1a(symbol.as_bytes())))
}

/// `base_price` clamped to the range `FeedSpec::validate` accepts.
fn sanitized_base_price(spec: &FeedSpec) -> Decimal {
    spec.base_price.clamp(MIN_BASE_PRICE, MAX_BASE_PRICE)
}

/// The f64 mid-price process of one symbol.
#[derive(Debug, Clone, Copy)]
struct Process {
    base: f64,
    octave_keys: [u64; OCTAVES],
    octave_phases: [i64; OCTAVES],
    octave_amps: [f64; OCTAVES],
    activity_key: u64,
    activity_phase: i64,
    jitter_key: u64,
    jitter_amp: f64,
}

impl Process {
    fn new(symbol_key: u64, spec: &FeedSpec) -> Self {
        let base = decimal_to_f64(sanitized_base_price(spec));
        let daily_volatility = if spec.daily_volatility.is_finite() {
            spec.daily_volatility.clamp(0.0, MAX_DAILY_VOLATILITY)
        } else {
            0.0
        };
        // Random-walk scaling: an octave of period P seconds gets amplitude ~ sigma * sqrt(P / day).
        let per_sqrt_sec = daily_volatility * CALIBRATION / 86_400f64.sqrt();
        let mut octave_keys = [0; OCTAVES];
        let mut octave_phases = [0; OCTAVES];
        let mut octave_amps = [0.0; OCTAVES];
        let mut amp = per_sqrt_sec * std::f64::consts::SQRT_2;
        for k in 0..OCTAVES {
            let period = BASE_PERIOD_MS << k;
            octave_keys[k] = stream(symbol_key, DOMAIN_OCTAVE + k as u64);
            // Random grid offsets keep the octaves' grid points (where smoothstep is flat) from
            // lining up, which would show as periodic pauses. Multiply-shift maps the key's top 32
            // bits onto [0, period) without a division (period < 2^31).
            octave_phases[k] = (((octave_keys[k] >> 32) * period as u64) >> 32) as i64;
            octave_amps[k] = amp;
            amp *= std::f64::consts::SQRT_2;
        }
        let activity_period = ACTIVITY_PERIOD_MS as u64;
        Process {
            base,
            octave_keys,
            octave_phases,
            octave_amps,
            activity_key: stream(symbol_key, DOMAIN_ACTIVITY),
            activity_phase: (stream(symbol_key, DOMAIN_PHASE) % activity_period) as i64,
            jitter_key: stream(symbol_key, DOMAIN_JITTER),
            jitter_amp: per_sqrt_sec * JITTER_SCALE,
        }
    }

    /// Unclamped log-excursion from the base price.
    fn excursion(&self, t_ms: i64) -> f64 {
        let activity = 1.0
            + ACTIVITY_DEPTH * value_noise(self.activity_key, ACTIVITY_PERIOD_MS, self.activity_phase, t_ms);
        let mut fast = self.jitter_amp * second_jitter(self.jitter_key, t_ms);
        let mut slow = 0.0;
        // Octave k has period BASE_PERIOD_MS * 2^k, so its cell index and offset follow from one
        // division by BASE_PERIOD_MS and shifts (an arithmetic shift is a floor division, also for
        // negative times). This halves the cost of a tick compared with dividing per octave.
        let base_idx = t_ms.div_euclid(BASE_PERIOD_MS);
        let base_rem = t_ms.rem_euclid(BASE_PERIOD_MS);
        let mut inv_period = 1.0 / BASE_PERIOD_MS as f64;
        for k in 0..OCTAVES {
            let idx = base_idx >> k;
            let rem = (base_idx - (idx << k)) * BASE_PERIOD_MS + base_rem;
            let noise = noise_at(
                self.octave_keys[k],
                idx,
                rem,
                BASE_PERIOD_MS << k,
                self.octave_phases[k],
                inv_period,
            );
            let v = self.octave_amps[k] * noise;
            if k < CLUSTERED_OCTAVES {
                fast += v;
            } else {
                slow += v;
            }
            inv_period *= 0.5;
        }
        slow + activity * fast
    }

    fn mid(&self, t_ms: i64) -> f64 {
        self.base * exp_small(soft_clamp(self.excursion(t_ms)))
    }
}

/// Everything a call needs for one (seed, spec): the process plus the sanitised decimal grid.
#[derive(Debug, Clone, Copy)]
struct Prepared {
    process: Process,
    tick_size: Decimal,
    tick_f64: f64,
    base_price: Decimal,
    spread_ticks: u64,
    /// `base_size / size_step`: the typical size in steps. Kept as f64 so that a size costs a few
    /// float operations rather than a `Decimal` multiply and round (which cost as much as the rest of
    /// the size); at most 1e15, so integral ratios are exact.
    size_ratio: f64,
    size_step: Decimal,
    spread_key: u64,
    second_key: u64,
    depth_key: u64,
}

impl Prepared {
    /// Clamps the spec into the ranges `FeedSpec::validate` accepts (so nothing below can overflow or
    /// divide by zero), and derives the symbol's keys.
    fn new(seed: u64, spec: &FeedSpec) -> Self {
        let symbol_key = symbol_key(seed, &spec.symbol);
        let base_price = sanitized_base_price(spec);
        // Written as a product so the usual case costs no Decimal division.
        let tick_size = match spec.tick_size.checked_mul(MAX_TICKS_PER_PRICE) {
            Some(scaled) if scaled < base_price => base_price / MAX_TICKS_PER_PRICE,
            _ => spec.tick_size.min(base_price),
        };
        // Clamping base_size and size_step to at most 1e15 bounds every size (<= base_size * 3 * 351
        // at the deepest book level) far below Decimal::MAX.
        let size_step = if spec.size_step > Decimal::ZERO {
            spec.size_step.min(MAX_SIZE)
        } else {
            Decimal::ONE
        };
        let base_size = spec.base_size.clamp(Decimal::ZERO, MAX_SIZE);
        let size_ratio = decimal_to_f64(
            base_size
                .checked_div(size_step)
                .unwrap_or(MAX_SIZE_RATIO)
                .min(MAX_SIZE_RATIO),
        );
        Prepared {
            process: Process::new(symbol_key, spec),
            base_price,
            tick_size,
            tick_f64: decimal_to_f64(tick_size),
            spread_ticks: u64::from(spec.spread_ticks.max(1)),
            size_ratio,
            size_step,
            spread_key: stream(symbol_key, DOMAIN_SPREAD),
            second_key: stream(symbol_key, DOMAIN_SECOND),
            depth_key: stream(symbol_key, DOMAIN_DEPTH),
        }
    }

    /// Spread in ticks at second `t`: the nominal spread, widened 1-3x during some 30-second episodes.
    fn spread_at(&self, t: i64, second_hash: u64) -> u64 {
        let episode = stream(self.spread_key, t.div_euclid(SPREAD_EPISODE_SECS) as u64);
        if unit(episode) >= SPREAD_WIDE_SHARE {
            return self.spread_ticks;
        }
        // Severity is set per episode and flickers per second within it, so the widening looks like
        // a liquidity gap rather than a square pulse.
        let severity = unit(stream(episode, 0)) * (0.5 + 0.5 * unit(stream(second_hash, 4)));
        let factor_milli = 1000 + (2000.0 * severity) as u64;
        ((self.spread_ticks * factor_milli + 500) / 1000).max(1)
    }

    /// A size from hash `h`: `base_size * f * scale` with `f` in [0.2, 3] skewed towards
    /// small sizes, rounded to whole steps, at least one step.
    fn size(&self, h: u64, scale: f64) -> Decimal {
        let u = unit(h);
        let factor = SIZE_MIN + SIZE_SPAN * u * u;
        // Round half up to whole steps; `as` saturates, and the ratio (<= 1e15) times the factor
        // (<= 3 * 351) is far below i64::MAX anyway.
        let steps = (self.size_ratio * factor * scale + 0.5) as i64;
        // steps * size_step <= ~1e18 (both clamped in Prepared::new); the fallback is unreachable but
        // keeps this panic-free.
        Decimal::from(steps.max(1))
            .checked_mul(self.size_step)
            .unwrap_or(self.size_step)
    }

    fn tick(&self, t: i64) -> Tick {
        let mid = self.process.mid(t.saturating_mul(1000));
        // The mid in ticks is finite, positive and at most ~1.35e12 (Prepared::new keeps
        // base_price / tick_size <= 1e12), so the conversion cannot fail; fall back regardless.
        // Converting in tick units rather than price units also makes `from_f64_retain` cheaper: its
        // cost grows with the number of fractional bits.
        let mid_ticks = Decimal::from_f64_retain(mid / self.tick_f64)
            .unwrap_or_else(|| (self.base_price / self.tick_size).floor());
        let h = stream(self.second_key, t as u64);
        let spread = self.spread_at(t, h);
        let half_spread = Decimal::new(spread as i64 * 5, 1);
        let mut bid_ticks = (mid_ticks - half_spread).floor();
        if bid_ticks < Decimal::ONE {
            bid_ticks = Decimal::ONE;
        }
        let ask_ticks = bid_ticks + Decimal::from(spread);
        let side = unit(stream(h, 0));
        let last_ticks = if side < LAST_AT_BID {
            bid_ticks
        } else if side < LAST_AT_ASK {
            ask_ticks
        } else {
            mid_ticks.round().clamp(bid_ticks, ask_ticks)
        };
        Tick {
            t,
            bid: bid_ticks * self.tick_size,
            ask: ask_ticks * self.tick_size,
            bid_size: self.size(stream(h, 1), 1.0),
            ask_size: self.size(stream(h, 2), 1.0),
            last: last_ticks * self.tick_size,
            last_size: self.size(stream(h, 3), 1.0),
        }
    }
}

#[cfg(test)]
mod tests;
