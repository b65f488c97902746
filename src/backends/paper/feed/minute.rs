//! One minute of the price process: its OHLCV bar from two path points and a few hashes, and the
//! 60 per-second trades drawn from that bar so that they fold back into it exactly.

use super::math::{approx_normal, stream, unit, unit_slice};
use super::model::Prepared;
use super::path::Point;

/// Folds a price in ticks that overshot `[low, high]` back into it by reflection at the bounds: an
/// overshooting walk then bounces off the bar's high or low rather than sticking to it.
fn reflect(ticks: i64, low: i64, high: i64) -> i64 {
    let width = high - low;
    if width <= 0 {
        return low;
    }
    // Prices are below ~2^41 ticks, so nothing here can overflow.
    let offset = ticks.saturating_sub(low).rem_euclid(2 * width);
    low + if offset > width {
        2 * width - offset
    } else {
        offset
    }
}

/// Seconds in a minute, as the index type of the seconds within one.
pub(super) const SECONDS: u32 = 60;
/// Upper and lower wicks are `minute sigma * w` with `w = WICK_SCALE * u^2` (mean 0.2 sigma: usually a
/// fraction of the minute's range), plus, in `WICK_BIG_SHARE` of the wicks, an extra
/// `WICK_BIG_MIN..WICK_BIG_MIN + WICK_BIG_SPAN` sigma (the occasional spike).
const WICK_SCALE: f64 = 0.6;
const WICK_BIG_SHARE: f64 = 0.05;
const WICK_BIG_MIN: f64 = 0.5;
const WICK_BIG_SPAN: f64 = 1.5;
/// The intra-minute path's range is kept to about the bar's: see `second_last`.
const BRIDGE_RANGE_SDS: f64 = 1.6;
/// Probability that the low comes before the high in a rising minute (and the high before the low
/// in a falling one): a minute that ends up usually dipped first.
const DIP_FIRST: f64 = 0.7;
/// A minute's volume is `60 * typical size * activity * f` with
/// `f = VOLUME_MIN + VOLUME_SPAN * u^2 + VOLUME_PER_MOVE * min(|close - open| / sigma, 3)`:
/// busy stretches and big moves trade more. The mean of `f` is about 1.
const VOLUME_MIN: f64 = 0.4;
const VOLUME_SPAN: f64 = 1.2;
const VOLUME_PER_MOVE: f64 = 0.3;
/// Each second's trade size is one step plus its share of the rest of the minute's volume. The
/// shares come from cutting the minute's volume at `second + jitter` (in sixtieths), with the jitter
/// in `[0, CUT_JITTER)` out of 2^16, so a trade is 0.1x to 1.9x the minute's mean.
const CUT_JITTER: u64 = 58_982; // 0.9 * 2^16

/// One minute bar in ticks and size steps, plus what its seconds need to draw their trades.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Minute {
    /// Minute index (unix seconds / 60).
    pub m: i64,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    /// Sum of the 60 trade sizes, in size steps, >= 60.
    pub volume: i64,
    /// Typical one-minute move in ticks at this minute's activity.
    sigma: f64,
    /// Hash of the minute, the source of where its high and low fall (drawn only for the seconds,
    /// which folds of whole minutes don't visit) and of its per-second cuts of the volume.
    hash: u64,
}

/// The minute's upper and lower wicks in ticks: usually small, occasionally large (see
/// `WICK_SCALE`). `h` is the minute's hash; its 21-bit slices 0 and 1 are the wicks' sizes.
fn wicks(h: u64, sigma: f64) -> (i64, i64) {
    // Whether each wick is a big one, and by how much, from 16-bit slices of one more hash.
    let big = stream(h, 0);
    let wick = |i: u32| {
        let u = unit_slice(h, i, 21);
        let mut w = WICK_SCALE * u * u;
        if unit_slice(big, i, 16) < WICK_BIG_SHARE {
            w += WICK_BIG_MIN + WICK_BIG_SPAN * unit_slice(big, i + 2, 16);
        }
        // sigma is finite and >= 0, at most ~1e12 ticks: rounding half up by truncation is exact.
        (sigma * w + 0.5) as i64
    };
    (wick(0), wick(1))
}

impl Prepared {
    /// The bar of minute `m`, from the path at its start (`open`) and at its end (`close`).
    pub(super) fn minute(&self, m: i64, open: Point, close: Point) -> Minute {
        let h = stream(self.minute_key, m as u64);
        let sigma = close.ticks as f64 * self.path.minute_sigma() * close.activity;
        let (o, c) = (open.ticks, close.ticks);
        let (upper, lower) = wicks(h, sigma);
        // Opens and closes are rounded mids, so within the clamp's bounds; cutting the wicks there
        // keeps every price within them, also at extreme volatilities.
        let (floor, ceiling) = self.path.bounds();
        let high = (o.max(c) + upper).min(ceiling).max(o.max(c));
        let low = (o.min(c) - lower).max(floor).min(o.min(c)).max(1);
        let u = unit_slice(h, 2, 21);
        let move_ratio = if sigma > 0.0 {
            ((c - o).abs() as f64 / sigma).min(3.0)
        } else {
            0.0
        };
        let f = close.activity * (VOLUME_MIN + VOLUME_SPAN * u * u + VOLUME_PER_MOVE * move_ratio);
        // size_ratio <= 1e15 and f < 4, so this is far below i64::MAX; `as` saturates regardless.
        let volume = ((f64::from(SECONDS) * self.size_ratio * f + 0.5) as i64).max(i64::from(SECONDS));
        Minute {
            m,
            open: o,
            high,
            low,
            close: c,
            volume,
            sigma,
            hash: h,
        }
    }

    /// The seconds `(low, high)` at which the path touches the minute's low and high: distinct, in
    /// 1..=58 (0 and 59 are the open and the close). A minute that ends up usually dipped first.
    fn extremes(minute: &Minute) -> (u32, u32) {
        let h = stream(minute.hash, 3);
        let first = 1 + ((h >> 32) % 58) as u32;
        let mut second = 1 + ((h & 0xFFFF_FFFF) % 57) as u32;
        if second >= first {
            second += 1;
        }
        let (early, late) = (first.min(second), first.max(second));
        let dip_first_share = match minute.close.cmp(&minute.open) {
            std::cmp::Ordering::Greater => DIP_FIRST,
            std::cmp::Ordering::Less => 1.0 - DIP_FIRST,
            std::cmp::Ordering::Equal => 0.5,
        };
        if unit(stream(h, 0)) < dip_first_share {
            (early, late)
        } else {
            (late, early)
        }
    }

    /// `last` of second `s` (0..60) of `minute`, in ticks: `open` at 0, `close` at 59, `high` and `low`
    /// at their seconds, and in between a Brownian bridge between those anchors, reflected into
    /// `[low, high]`. So the 60 values fold into the minute's bar exactly.
    ///
    /// The bridge is built by midpoint displacement (Lévy's construction): the value at the middle
    /// second `q` of a segment is the mean of its ends plus a hash-derived normal scaled to the
    /// bridge's spread there, and the segment is halved towards `s` until `q == s`. That costs at most
    /// six hashes, visits the same nodes whichever second is asked for (so every second agrees with
    /// its neighbours), and moves like a random walk from second to second rather than scattering
    /// around a line.
    pub(super) fn second_last(&self, minute: &Minute, s: u32) -> i64 {
        let (low_sec, high_sec) = Self::extremes(minute);
        let (first_sec, first, second_sec, second) = if low_sec < high_sec {
            (low_sec, minute.low, high_sec, minute.high)
        } else {
            (high_sec, minute.high, low_sec, minute.low)
        };
        let (mut from_sec, from, mut to_sec, to) = match s {
            0 => return minute.open,
            59.. => return minute.close,
            s if s == first_sec => return first,
            s if s == second_sec => return second,
            s if s < first_sec => (0, minute.open, first_sec, first),
            s if s < second_sec => (first_sec, first, second_sec, second),
            _ => (second_sec, second, SECONDS - 1, minute.close),
        };
        let (mut from, mut to) = (from as f64, to as f64);
        // Per-second variance of the path, in ticks squared: the minute's volatility, but no more
        // than a random walk whose range over the minute is about the bar's range (the mean range
        // of a walk is ~1.6 of its sd), because a path that overshoots the bar often has to be
        // folded back into it a lot.
        let room = (minute.high - minute.low) as f64 / BRIDGE_RANGE_SDS;
        let sigma = minute.sigma.min(room);
        let variance = sigma * sigma / f64::from(SECONDS);
        let minute_start = minute.m.wrapping_mul(60);
        // from_sec < s < to_sec throughout, so the segment has a middle second and the loop ends
        // (at most six halvings of 58 seconds); the bound is only a guard.
        let mut value = from;
        for _ in 0..SECONDS {
            let mid_sec = (from_sec + to_sec) / 2;
            let (before, after) = (f64::from(mid_sec - from_sec), f64::from(to_sec - mid_sec));
            let span = before + after;
            let mean = from + (to - from) * before / span;
            let sd = (variance * before * after / span).sqrt();
            let t = minute_start.wrapping_add(i64::from(mid_sec));
            value = mean + sd * approx_normal(stream(self.jitter_key, t as u64));
            match s.cmp(&mid_sec) {
                std::cmp::Ordering::Equal => break,
                std::cmp::Ordering::Less => (to_sec, to) = (mid_sec, value),
                std::cmp::Ordering::Greater => (from_sec, from) = (mid_sec, value),
            }
        }
        // `floor` is exact, so rounding half up this way is as deterministic as + - * /; `as`
        // saturates, and any value is reflected into the bar anyway.
        reflect((value + 0.5).floor() as i64, minute.low, minute.high)
    }

    /// Where the minute's volume is cut before second `s` (0..=60), in steps: 0 at 0, all of it (less
    /// the one step every trade gets) at 60, non-decreasing in between.
    fn volume_cut(&self, minute: &Minute, s: u32) -> i64 {
        // volume >= 60 by construction.
        let rest = (minute.volume - i64::from(SECONDS)) as u64;
        let jitter = if s == 0 || s >= SECONDS {
            0
        } else {
            ((stream(stream(minute.hash, 4), u64::from(s)) >> 48) * CUT_JITTER) >> 16
        };
        let position = (u64::from(s) << 16) + jitter;
        // rest * position / (60 * 2^16), as floor(floor(x / 2^16) / 60), which is the same and
        // avoids a 128-bit division. rest < 2^58 and position <= 60 * 2^16 < 2^22, so the product
        // fits a u128, the shifted product a u64, and the result is at most rest.
        (((u128::from(rest) * u128::from(position)) >> 16) as u64 / u64::from(SECONDS)) as i64
    }

    /// `last_size` of second `s` of `minute`, in steps, >= 1. The 60 sizes sum to `minute.volume`.
    pub(super) fn second_size(&self, minute: &Minute, s: u32) -> i64 {
        1 + self.volume_cut(minute, s + 1) - self.volume_cut(minute, s)
    }
}
