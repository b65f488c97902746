//! The mid-price path at whole minutes: multi-octave value noise in log-price, sampled on the minute grid.
//!
//! Every minute bar's close is this path at the minute's end, so it is the only place where the
//! (comparatively expensive) octave sum is evaluated. Everything finer than a minute is drawn from
//! the minute bar itself (see `minute.rs`).

use super::math::{exp_small, signed_unit, soft_clamp, stream};

/// Octave `k` has a period of `2^k` minutes: 1 minute up to 2^14 minutes (about 11.4 days). Up to a
/// couple of days this is the intraday/daily texture; the last few octaves make the weeks-scale
/// swings, and nothing beyond them, which is what makes the price revert to its base over weeks.
pub(super) const OCTAVES: usize = 15;
/// Octaves below this index (periods up to 128 minutes) are scaled by the activity noise.
const CLUSTERED_OCTAVES: usize = 8;
/// The slow octaves (periods of 256 minutes and more) and the activity noise barely move within a
/// few minutes, so they are evaluated only at nodes every `2^NODE_SHIFT` = 16 minutes and linearly
/// interpolated in between: a sweep over consecutive minutes then evaluates 8 octaves per minute
/// rather than 16 noises, and the difference (a kink every 16 minutes in components that take
/// hours to change) is invisible.
const NODE_SHIFT: u32 = 4;
/// The activity noise has a period of `2^ACTIVITY_SHIFT` minutes (~4.3 h) and modulates the
/// clustered octaves by `1 +- ACTIVITY_DEPTH`, which gives quiet and busy stretches.
const ACTIVITY_SHIFT: u32 = 8;
const ACTIVITY_DEPTH: f64 = 0.5;
/// Slot of the activity noise in the per-noise arrays, after the octaves.
const ACTIVITY: usize = OCTAVES;
/// Makes the realised std of daily log returns match `daily_volatility`: the octaves' amplitudes
/// follow `sqrt(period)` only up to a constant that depends on the interpolation and on how much of
/// each octave's variance falls within one day. Measured by sampling many days over many symbols and
/// seeds with a volatility small enough for the clamp not to matter (see `calibration_report`).
const CALIBRATION: f64 = 0.795;
/// Realised std of one-minute log returns (at activity 1) relative to `daily_volatility / sqrt(1440)`,
/// measured like `CALIBRATION`. Sizes the intra-minute wicks and jitter, so that they match the
/// moves between minutes.
const MINUTE_CALIBRATION: f64 = 0.94;
const MINUTES_PER_DAY: f64 = 1_440.0;
/// Soft bounds of the log-excursion: ln(1.35) up and -ln(0.65) down, so the mid stays within
/// -35%/+35% of `base_price` whatever the volatility.
pub(super) const MAX_LOG_UP: f64 = 0.300_104_592_450_338_16;
pub(super) const MAX_LOG_DOWN: f64 = 0.430_782_916_092_454_2;
/// `exp(-MAX_LOG_DOWN)` and `exp(MAX_LOG_UP)`.
const CLAMP_FLOOR: f64 = 0.65;
const CLAMP_CEILING: f64 = 1.35;
/// `2^-k` for the noises' `scale`.
const INV_POW2: [f64; 16] = {
    let mut table = [1.0; 16];
    let mut k = 1;
    while k < 16 {
        table[k] = table[k - 1] * 0.5;
        k += 1;
    }
    table
};

/// `sqrt(2)^k`: an octave's amplitude relative to the first one's.
const SQRT2_POW: [f64; OCTAVES] = {
    let mut table = [1.0; OCTAVES];
    let mut k = 1;
    while k < OCTAVES {
        table[k] = table[k - 1] * std::f64::consts::SQRT_2;
        k += 1;
    }
    table
};

/// Domain separators for the path's sub-keys (see `model.rs` for the others), so that no two random
/// streams share inputs.
const DOMAIN_OCTAVE: u64 = 0; // ..OCTAVES
const DOMAIN_ACTIVITY: u64 = 100;

/// The path at one minute boundary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Point {
    /// The mid rounded to the tick grid, in ticks, >= 1.
    pub ticks: i64,
    /// The activity level there, in [0.5, 1.5]; scales the minute's wicks, intra-minute moves and
    /// volume.
    pub activity: f64,
}

/// One value noise: period `2^shift` minutes, grid shifted by `phase`.
#[derive(Debug, Clone, Copy)]
struct Noise {
    key: u64,
    /// Random grid offset (in minutes, within the period): keeps the octaves' grid points, where
    /// smoothstep is flat, from lining up, which would show as periodic pauses.
    phase: i64,
    shift: u32,
    /// `2^shift - 1`, for the position within a cell.
    mask: i64,
    /// `2^-shift`, so that the position within a cell is an exact multiplication, not a division.
    scale: f64,
}

impl Noise {
    /// The noise with random values from `key` and a period of `2^shift` minutes (`shift` < 16).
    fn new(key: u64, shift: u32) -> Self {
        Noise {
            key,
            // The key's top 32 bits scaled onto [0, 2^shift).
            phase: ((key >> 32) << shift >> 32) as i64,
            shift,
            mask: (1 << shift) - 1,
            scale: INV_POW2[shift as usize],
        }
    }

    /// Uniform random values on the grid, smoothstep-interpolated: within [-1, 1], at boundary `b`
    /// (|b| <= i64::MAX / 60 + 17, nodes included, so adding the phase (< 2^14) cannot overflow).
    #[inline]
    fn at(&self, cell: &mut Cell, b: i64) -> f64 {
        let x = b + self.phase;
        // An arithmetic shift floors, also for negative boundaries.
        let idx = x >> self.shift;
        if idx != cell.idx {
            cell.v0 = if idx == cell.idx.wrapping_add(1) {
                cell.v1
            } else {
                signed_unit(stream(self.key, idx as u64))
            };
            cell.v1 = signed_unit(stream(self.key, (idx as u64).wrapping_add(1)));
            cell.idx = idx;
        }
        let f = (x & self.mask) as f64 * self.scale;
        let s = f * f * (3.0 - 2.0 * f);
        cell.v0 + (cell.v1 - cell.v0) * s
    }
}

/// The slow part of the path at a node.
#[derive(Debug, Clone, Copy)]
struct Slow {
    /// Sum of the slow octaves.
    sum: f64,
    activity: f64,
}

/// The grid values a noise last used.
#[derive(Debug, Clone, Copy)]
struct Cell {
    idx: i64,
    v0: f64,
    v1: f64,
}

/// The grid values an evaluation last used, per noise. Consecutive minutes mostly fall into the
/// same grid cells of the slower octaves, so a sweep over many minutes hashes each cell once instead
/// of once per minute. The cache changes only the cost, never a value.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cursor {
    cells: [Cell; OCTAVES + 1],
    /// The node interval last used and the slow part at its two ends.
    node: i64,
    lo: Slow,
    hi: Slow,
}

impl Cursor {
    /// A cursor that has seen nothing yet.
    pub fn new() -> Self {
        // No reachable cell index is near i64::MIN (boundaries are within about +-i64::MAX / 60), so
        // the sentinel never matches, nor does its successor.
        let empty = Cell {
            idx: i64::MIN,
            v0: 0.0,
            v1: 0.0,
        };
        let zero = Slow {
            sum: 0.0,
            activity: 0.0,
        };
        Cursor {
            cells: [empty; OCTAVES + 1],
            node: i64::MIN,
            lo: zero,
            hi: zero,
        }
    }
}

/// Minute boundaries outside this range don't correspond to any `i64` second; clamping them keeps the
/// shifts and additions below free of overflow.
pub(super) const MIN_BOUNDARY: i64 = i64::MIN / 60 - 1;
pub(super) const MAX_BOUNDARY: i64 = i64::MAX / 60 + 1;

/// The log-price process of one symbol, sampled at minute boundaries.
#[derive(Debug, Clone, Copy)]
pub(super) struct Path {
    /// `base_price / tick_size`.
    base_ticks: f64,
    /// The octaves, then the activity noise.
    noises: [Noise; OCTAVES + 1],
    amps: [f64; OCTAVES],
    /// Typical one-minute log return at activity 1.
    minute_sigma: f64,
    /// The clamp's bounds in ticks, `base * 0.65` and `base * 1.35` rounded: every rounded mid lies
    /// within them, and wicks are cut at them too.
    floor_ticks: i64,
    ceiling_ticks: i64,
}

impl Path {
    /// `daily_volatility` must already be finite and within the accepted range.
    pub fn new(symbol_key: u64, base_ticks: f64, daily_volatility: f64) -> Self {
        // Random-walk scaling: an octave of period P minutes gets amplitude ~ sigma * sqrt(P / day).
        let per_sqrt_minute = daily_volatility * CALIBRATION / MINUTES_PER_DAY.sqrt();
        let amps = std::array::from_fn(|k| per_sqrt_minute * SQRT2_POW[k]);
        let noises = std::array::from_fn(|k| {
            if k == ACTIVITY {
                Noise::new(stream(symbol_key, DOMAIN_ACTIVITY), ACTIVITY_SHIFT)
            } else {
                Noise::new(stream(symbol_key, DOMAIN_OCTAVE + k as u64), k as u32)
            }
        });
        Path {
            base_ticks,
            noises,
            amps,
            minute_sigma: daily_volatility * MINUTE_CALIBRATION / MINUTES_PER_DAY.sqrt(),
            floor_ticks: ((base_ticks * CLAMP_FLOOR + 0.5) as i64).max(1),
            ceiling_ticks: (base_ticks * CLAMP_CEILING + 0.5) as i64,
        }
    }

    /// The range `[floor, ceiling]` in ticks that every price stays in (see `MAX_LOG_UP`).
    pub fn bounds(&self) -> (i64, i64) {
        (self.floor_ticks, self.ceiling_ticks)
    }

    /// Typical one-minute log return at activity 1.
    pub fn minute_sigma(&self) -> f64 {
        self.minute_sigma
    }

    /// The slow octaves and the activity at node boundary `b` (a multiple of 16).
    fn slow_at(&self, cells: &mut [Cell; OCTAVES + 1], b: i64) -> Slow {
        let mut sum = 0.0;
        let slow = (self.noises.iter().zip(cells.iter_mut()).zip(&self.amps)).skip(CLUSTERED_OCTAVES);
        for ((noise, cell), amp) in slow {
            sum += amp * noise.at(cell, b);
        }
        Slow {
            sum,
            activity: 1.0 + ACTIVITY_DEPTH * self.noises[ACTIVITY].at(&mut cells[ACTIVITY], b),
        }
    }

    /// The path at minute boundary `b` (the end of minute `b - 1`, the start of minute `b`).
    pub fn at(&self, cursor: &mut Cursor, b: i64) -> Point {
        let b = b.clamp(MIN_BOUNDARY, MAX_BOUNDARY);
        let node = b >> NODE_SHIFT;
        if node != cursor.node {
            // Nodes are at most MAX_BOUNDARY + 16: no overflow.
            cursor.lo = if node == cursor.node.wrapping_add(1) {
                cursor.hi
            } else {
                self.slow_at(&mut cursor.cells, node << NODE_SHIFT)
            };
            cursor.hi = self.slow_at(&mut cursor.cells, (node + 1) << NODE_SHIFT);
            cursor.node = node;
        }
        let f = (b & ((1 << NODE_SHIFT) - 1)) as f64 * INV_POW2[NODE_SHIFT as usize];
        let slow = cursor.lo.sum + (cursor.hi.sum - cursor.lo.sum) * f;
        let activity = cursor.lo.activity + (cursor.hi.activity - cursor.lo.activity) * f;
        let mut fast = 0.0;
        let octaves = self.noises.iter().zip(cursor.cells.iter_mut()).zip(&self.amps);
        for ((noise, cell), amp) in octaves.take(CLUSTERED_OCTAVES) {
            fast += amp * noise.at(cell, b);
        }
        let x = slow + activity * fast;
        let mid_ticks = self.base_ticks * exp_small(soft_clamp(x));
        // Rounding half up by truncation is exact, so as deterministic as + - * /. The mid is
        // finite, positive and at most ~1.35e12 ticks (Prepared::new bounds base / tick), so `as`
        // is exact too.
        Point {
            ticks: ((mid_ticks + 0.5) as i64).max(1),
            activity,
        }
    }
}
