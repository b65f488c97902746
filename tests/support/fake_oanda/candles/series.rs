//! Candle prices: a smooth, deterministic mid-price path per instrument (a few slow waves plus a small
//! hashed jitter), anchored so that it passes through the starting quote when the fake starts. A
//! candle opens and closes on the path, its wicks are hashed, its spread is the starting spread; the
//! candle in progress closes at the live quote.

use super::super::state::Quote;
use chrono::{DateTime, Utc};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;

/// Open, high, low, close.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(in super::super) struct Ohlc {
    pub o: Decimal,
    pub h: Decimal,
    pub l: Decimal,
    pub c: Decimal,
}

/// One candle in all three price components.
#[derive(Clone, Debug)]
pub(in super::super) struct Candle {
    pub time: DateTime<Utc>,
    pub bid: Ohlc,
    pub ask: Ohlc,
    pub mid: Ohlc,
    pub volume: u64,
    pub complete: bool,
}

/// Wave periods (seconds) and relative amplitudes of the path: minutes to a year.
const WAVES: [(f64, f64); 6] = [
    (311.0, 0.0003),
    (5_417.0, 0.0009),
    (97_231.0, 0.0025),
    (786_433.0, 0.006),
    (5_270_400.0, 0.015),
    (34_560_000.0, 0.04),
];

/// SplitMix64: a well-mixed hash of one word.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A stable hash of the instrument name.
fn seed(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// A hash of (seed, n) as a fraction in [0, 1).
fn unit(seed: u64, n: i64) -> f64 {
    (mix(seed ^ mix(n as u64)) >> 11) as f64 / (1u64 << 53) as f64
}

/// The path's relative deviation at unix time `t`.
fn wave(seed: u64, t: f64) -> f64 {
    let mut v = 0.0;
    for (k, (period, amp)) in WAVES.iter().enumerate() {
        let phase = unit(seed, k as i64 - 100) * std::f64::consts::TAU;
        v += amp * (std::f64::consts::TAU * t / period + phase).sin();
    }
    // Jitter on a 5-second grid, interpolated so the path stays continuous.
    let cell = (t / 5.0).floor();
    let frac = t / 5.0 - cell;
    let j0 = unit(seed, cell as i64) - 0.5;
    let j1 = unit(seed, cell as i64 + 1) - 0.5;
    v + 0.00016 * (j0 + (j1 - j0) * frac)
}

/// The mid price of the path at `t`.
fn mid_at(q: &Quote, anchor: i64, t: i64) -> f64 {
    let s = seed(&q.spec.name);
    let base = q.start_mid.to_f64().unwrap_or(1.0);
    base * (1.0 + wave(s, t as f64) - wave(s, anchor as f64))
}

fn dec(x: f64, dp: u32) -> Decimal {
    Decimal::from_f64(x).unwrap_or_default().round_dp(dp)
}

/// The candle `[start, end)` of `q`, as of `now` (the candle containing `now` closes at the live quote
/// and is incomplete).
pub(in super::super) fn candle(
    q: &Quote,
    anchor: i64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Candle {
    let dp = q.spec.display_precision;
    let s = seed(&q.spec.name);
    let (t0, t1) = (start.timestamp(), end.timestamp());
    let complete = end <= now;
    let half = q.start_spread.to_f64().unwrap_or(0.0) / 2.0;
    let o = mid_at(q, anchor, t0);
    let c = mid_at(q, anchor, t1.min(now.timestamp()));
    // Wicks grow with the square root of the candle's length, like a random walk's range.
    let scale = q.start_mid.to_f64().unwrap_or(1.0) * 0.00004 * (((t1 - t0).max(5) as f64) / 5.0).sqrt();
    let hi = o.max(c) + scale * unit(s ^ 0x5151, t0);
    let lo = o.min(c) - scale * unit(s ^ 0xA3A3, t0);
    let side = |shift: f64| Ohlc {
        o: dec(o + shift, dp),
        h: dec(hi + shift, dp),
        l: dec(lo + shift, dp),
        c: dec(c + shift, dp),
    };
    let mut bid = side(-half);
    let mut ask = side(half);
    if !complete {
        bid.c = q.spec.bid;
        ask.c = q.spec.ask;
    }
    let fix = |x: &mut Ohlc| {
        x.h = x.h.max(x.o).max(x.c);
        x.l = x.l.min(x.o).min(x.c);
    };
    fix(&mut bid);
    fix(&mut ask);
    let two = Decimal::TWO;
    let mid = Ohlc {
        o: (bid.o + ask.o) / two,
        h: (bid.h + ask.h) / two,
        l: (bid.l + ask.l) / two,
        c: (bid.c + ask.c) / two,
    };
    let slots = ((t1 - t0) / 5).max(1) as u64;
    let volume = 1 + mix(s ^ t0 as u64) % (slots * 3).min(250_000);
    Candle {
        time: start,
        bid,
        ask,
        mid,
        volume,
        complete,
    }
}
