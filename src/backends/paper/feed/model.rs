//! The per-(seed, spec) state of the process: the sanitised spec, the symbol's keys, quotes built
//! around a second's trade, and folds of seconds and minutes into bars.

use super::math::{decimal_to_f64, fnv1a, mix64, stream, unit};
use super::minute::{Minute, SECONDS};
use super::path::{Cursor, Path, Point, MAX_BOUNDARY, MIN_BOUNDARY};
use super::spec::{
    MAX_BASE_PRICE, MAX_BASE_PRICE_F64, MAX_DAILY_VOLATILITY, MAX_SIZE, MAX_SIZE_F64, MAX_TICKS_PER_PRICE,
    MAX_TICKS_PER_PRICE_F64, MIN_BASE_PRICE, MIN_BASE_PRICE_F64,
};
use super::{Bar, FeedSpec, Tick};
use rust_decimal::Decimal;

/// Spread-widening episodes: length, share of episodes that widen, widening range 1..=3x.
const SPREAD_EPISODE_SECS: i64 = 30;
const SPREAD_WIDE_SHARE: f64 = 0.1;
/// Sizes are `base_size * f` with `f` in [0.2, 3], skewed towards small (mean ~1.13).
const SIZE_MIN: f64 = 0.2;
const SIZE_SPAN: f64 = 2.8;
/// Where in the spread the trade prints drifts over cells of this many seconds (see `Prepared::quote`).
const PLACEMENT_CELL_SECS: i64 = 4;

// Domain separators for the per-symbol sub-keys (the path uses 0..=100), so that the streams never
// share inputs.
const DOMAIN_JITTER: u64 = 101;
const DOMAIN_SPREAD: u64 = 102;
const DOMAIN_SECOND: u64 = 103;
const DOMAIN_DEPTH: u64 = 104;
const DOMAIN_MINUTE: u64 = 106;
const DOMAIN_PLACEMENT: u64 = 107;

/// Minute indices whose seconds fit in an `i64`; others are clamped into this range.
pub(super) const MIN_MINUTE: i64 = MIN_BOUNDARY;
pub(super) const MAX_MINUTE: i64 = MAX_BOUNDARY - 1;

/// A second's quote and trade, in ticks and size steps.
#[derive(Debug, Clone, Copy)]
pub(super) struct Quote {
    pub bid: i64,
    pub ask: i64,
    pub last: i64,
    pub last_size: i64,
    /// The second's hash, from which the book sizes derive.
    pub hash: u64,
}

/// Everything a call needs for one (seed, spec). Rebuilt on every public call (~0.1 us: about 30
/// hashes for the keys) and reused across the minutes of a bar.
#[derive(Debug, Clone, Copy)]
pub(super) struct Prepared {
    pub path: Path,
    pub tick_size: Decimal,
    pub tick_f64: f64,
    spread_ticks: u64,
    /// `base_size / size_step`: the typical size in steps. Kept as f64 so that a size costs a few
    /// float operations rather than a `Decimal` multiply and round; at most 1e15, so integral ratios
    /// are exact.
    pub size_ratio: f64,
    size_step: Decimal,
    spread_key: u64,
    second_key: u64,
    pub depth_key: u64,
    pub minute_key: u64,
    pub jitter_key: u64,
    placement_key: u64,
}

/// `base_price` clamped to the range `FeedSpec::validate` accepts.
fn sanitized_base_price(spec: &FeedSpec) -> Decimal {
    spec.base_price.clamp(MIN_BASE_PRICE, MAX_BASE_PRICE)
}

impl Prepared {
    /// Clamps the spec into the ranges `FeedSpec::validate` accepts (so nothing below can overflow or
    /// divide by zero), and derives the symbol's keys.
    ///
    /// The range checks compare f64 images of the decimals: a `Decimal` comparison rescales and costs
    /// about as much as a dozen hashes, and this runs on every call. Only the decimals that end up
    /// in outputs (tick size and size step) stay exact; at a boundary an f64 comparison may pick the
    /// clamped value where an exact one wouldn't, which only ever concerns a spec that `validate`
    /// rejects or a value equal to its clamp anyway.
    pub fn new(seed: u64, spec: &FeedSpec) -> Self {
        let symbol_key = mix64(seed ^ mix64(fnv1a(spec.symbol.as_bytes())));
        let base = decimal_to_f64(spec.base_price).clamp(MIN_BASE_PRICE_F64, MAX_BASE_PRICE_F64);
        let tick = decimal_to_f64(spec.tick_size);
        let tick_size = if tick * MAX_TICKS_PER_PRICE_F64 < base {
            // Zero, negative, or so small that prices would need more than 1e12 ticks.
            sanitized_base_price(spec) / MAX_TICKS_PER_PRICE
        } else if tick > base {
            sanitized_base_price(spec)
        } else {
            spec.tick_size
        };
        // Clamping base_size and size_step to at most 1e15 bounds every size (<= base_size * 3 * 351
        // at the deepest book level, < 8 * base_size for a trade) far below Decimal::MAX.
        let step = decimal_to_f64(spec.size_step);
        // decimal_to_f64 is never NaN.
        let size_step = if step <= 0.0 {
            Decimal::ONE
        } else if step > MAX_SIZE_F64 {
            MAX_SIZE
        } else {
            spec.size_step
        };
        // Only sizes derive from the ratio, each rounded to whole steps, so an error in its last bit
        // doesn't matter (and is the same on every machine).
        let base_size = decimal_to_f64(spec.base_size).clamp(0.0, MAX_SIZE_F64);
        let size_ratio = (base_size / decimal_to_f64(size_step)).min(MAX_SIZE_F64);
        let daily_volatility = if spec.daily_volatility.is_finite() {
            spec.daily_volatility.clamp(0.0, MAX_DAILY_VOLATILITY)
        } else {
            0.0
        };
        let tick_f64 = decimal_to_f64(tick_size);
        Prepared {
            path: Path::new(symbol_key, base / tick_f64, daily_volatility),
            tick_size,
            tick_f64,
            spread_ticks: u64::from(spec.spread_ticks.max(1)),
            size_ratio,
            size_step,
            spread_key: stream(symbol_key, DOMAIN_SPREAD),
            second_key: stream(symbol_key, DOMAIN_SECOND),
            depth_key: stream(symbol_key, DOMAIN_DEPTH),
            minute_key: stream(symbol_key, DOMAIN_MINUTE),
            jitter_key: stream(symbol_key, DOMAIN_JITTER),
            placement_key: stream(symbol_key, DOMAIN_PLACEMENT),
        }
    }

    /// The bar of minute `m` alone (clamped into the representable range).
    pub fn minute_at(&self, m: i64) -> Minute {
        let m = m.clamp(MIN_MINUTE, MAX_MINUTE);
        let mut cursor = Cursor::new();
        let open = self.path.at(&mut cursor, m);
        let close = self.path.at(&mut cursor, m + 1);
        self.minute(m, open, close)
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

    /// The quote and trade at second `t`: the trade comes from the second's minute bar, and the
    /// quote is placed around it.
    ///
    /// Where the trade falls within the spread is a value noise over 4-second cells rather than a
    /// fresh draw every second: the trade path is the primary one here, so an independent placement
    /// per second would make the quote jump by up to a spread every second, while this way the quote
    /// follows the trades smoothly, as real quotes do.
    pub fn quote(&self, t: i64) -> Quote {
        let minute = self.minute_at(t.div_euclid(60));
        let s = t.rem_euclid(60) as u32;
        let last = self.second_last(&minute, s);
        let h = stream(self.second_key, t as u64);
        // At most 3 * u32::MAX: fits an i64 with room to spare.
        let spread = self.spread_at(t, h) as i64;
        let cell = t.div_euclid(PLACEMENT_CELL_SECS);
        let f = t.rem_euclid(PLACEMENT_CELL_SECS) as f64 / PLACEMENT_CELL_SECS as f64;
        let smooth = f * f * (3.0 - 2.0 * f);
        let (p0, p1) = (
            unit(stream(self.placement_key, cell as u64)),
            unit(stream(self.placement_key, (cell as u64).wrapping_add(1))),
        );
        // In [0, 1], so `below` is in [0, spread] (spread < 2^34: exact in f64).
        let placement = p0 + (p1 - p0) * smooth;
        let below = (spread as f64 * placement + 0.5) as i64;
        // last >= 1, so bid <= last also where the floor of one tick applies, and then
        // last < 1 + below <= ask.
        let bid = (last - below).max(1);
        Quote {
            bid,
            ask: bid + spread,
            last,
            last_size: self.second_size(&minute, s),
            hash: h,
        }
    }

    /// Ticks to a price on the grid. `ticks` <= ~1.4e12 and tick_size <= base_price <= 1e15 (both
    /// clamped in `new`), so the product is far below Decimal::MAX.
    pub fn price(&self, ticks: i64) -> Decimal {
        // ticks * mantissa with the tick's scale is the product itself, without the general
        // multiplication's normalisation; fall back to it if the mantissa would overflow 96 bits.
        i128::from(ticks)
            .checked_mul(self.tick_size.mantissa())
            .and_then(|mantissa| Decimal::try_from_i128_with_scale(mantissa, self.tick_size.scale()).ok())
            .unwrap_or_else(|| Decimal::from(ticks) * self.tick_size)
    }

    /// Size steps to a size. Saturates at Decimal::MAX, which only absurdly long bars could reach.
    pub fn volume(&self, steps: i128) -> Decimal {
        Decimal::try_from_i128_with_scale(steps, 0)
            .ok()
            .and_then(|n| n.checked_mul(self.size_step))
            .unwrap_or(Decimal::MAX)
    }

    /// A book size from hash `h`: `base_size * f * scale` with `f` in [0.2, 3] skewed towards
    /// small sizes, rounded to whole steps, at least one step.
    pub fn size(&self, h: u64, scale: f64) -> Decimal {
        let u = unit(h);
        let factor = SIZE_MIN + SIZE_SPAN * u * u;
        // Round half up to whole steps; `as` saturates, and the ratio (<= 1e15) times the factor
        // (<= 3 * 351) is far below i64::MAX anyway.
        let steps = (self.size_ratio * factor * scale + 0.5) as i64;
        self.volume(i128::from(steps.max(1)))
    }

    /// The public [`Tick`] at second `t`.
    pub fn tick(&self, t: i64) -> Tick {
        let q = self.quote(t);
        Tick {
            t,
            bid: self.price(q.bid),
            ask: self.price(q.ask),
            bid_size: self.size(stream(q.hash, 1), 1.0),
            ask_size: self.size(stream(q.hash, 2), 1.0),
            last: self.price(q.last),
            last_size: self.volume(i128::from(q.last_size)),
        }
    }

    /// The public [`Bar`] starting at `t` with the contents of `fold` (which must not be empty).
    pub fn bar(&self, t: i64, fold: &Fold) -> Bar {
        Bar {
            t,
            open: self.price(fold.open),
            high: self.price(fold.high),
            low: self.price(fold.low),
            close: self.price(fold.close),
            volume: self.volume(fold.volume),
        }
    }

    /// Folds seconds `first..=last` (within 0..60) of minute `minute` into `fold`; the whole minute
    /// is its bar, without visiting the seconds.
    pub fn fold_seconds(&self, fold: &mut Fold, minute: &Minute, first: u32, last: u32) {
        if first == 0 && last >= SECONDS - 1 {
            fold.push(minute.open, minute.high, minute.low, minute.close, minute.volume);
            return;
        }
        for s in first..=last.min(SECONDS - 1) {
            let price = self.second_last(minute, s);
            fold.push(price, price, price, price, self.second_size(minute, s));
        }
    }
}

/// Consecutive minutes, evaluating the path once per minute boundary (each minute's open is the
/// previous one's close) and hashing each slow octave's grid cell once.
pub(super) struct Sweep<'a> {
    prepared: &'a Prepared,
    cursor: Cursor,
    next: i64,
    open: Point,
}

impl<'a> Sweep<'a> {
    /// Starts at minute `m` (clamped into the representable range).
    pub fn new(prepared: &'a Prepared, m: i64) -> Self {
        let m = m.clamp(MIN_MINUTE, MAX_MINUTE);
        let mut cursor = Cursor::new();
        let open = prepared.path.at(&mut cursor, m);
        Sweep {
            prepared,
            cursor,
            next: m,
            open,
        }
    }

    /// The next minute's bar. Past the last representable minute it repeats that minute.
    pub fn next_minute(&mut self) -> Minute {
        let m = self.next;
        let close = self.prepared.path.at(&mut self.cursor, m + 1);
        let minute = self.prepared.minute(m, self.open, close);
        if m < MAX_MINUTE {
            self.next = m + 1;
            self.open = close;
        }
        minute
    }
}

/// OHLCV accumulator in ticks and steps; `open` is set by the first push.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fold {
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    /// Summed in i128: per minute at most ~2e17 steps, so no reachable range can overflow.
    pub volume: i128,
    empty: bool,
}

impl Fold {
    /// An empty fold: the first push sets everything.
    pub fn new() -> Self {
        Fold {
            open: 0,
            high: i64::MIN,
            low: i64::MAX,
            close: 0,
            volume: 0,
            empty: true,
        }
    }

    /// Appends a bar (or a single trade, with all four prices equal) that follows the ones so far.
    pub fn push(&mut self, open: i64, high: i64, low: i64, close: i64, volume: i64) {
        if self.empty {
            self.open = open;
            self.empty = false;
        }
        self.high = self.high.max(high);
        self.low = self.low.min(low);
        self.close = close;
        self.volume += i128::from(volume);
    }
}
