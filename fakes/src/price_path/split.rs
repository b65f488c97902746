//! Cutting a bar into its parts (a day into hours, an hour into minutes, a minute into ticks) so that the
//! parts aggregate back to exactly that bar: the first part opens at its open, the last closes at its
//! close, the path between is a hashed Brownian bridge kept inside its range, one part reaches its high
//! and one its low, the others stay within, and the volume is shared out to the last unit.

/// A bar in integer ticks of the instrument's price step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ohlc {
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    /// Traded volume (Capital.com's `lastTradedVolume`).
    pub volume: u64,
    /// Ticks in the bar, one per open second (OANDA's candle `volume`).
    pub ticks: u64,
}

impl Ohlc {
    /// This bar followed by `later`.
    pub fn then(self, later: Ohlc) -> Ohlc {
        Ohlc {
            open: self.open,
            high: self.high.max(later.high),
            low: self.low.min(later.low),
            close: later.close,
            volume: self.volume + later.volume,
            ticks: self.ticks + later.ticks,
        }
    }

    /// A single tick.
    pub fn point(price: i64, volume: u64) -> Ohlc {
        Ohlc {
            open: price,
            high: price,
            low: price,
            close: price,
            volume,
            ticks: 1,
        }
    }
}

/// SplitMix64: a well-mixed hash of one word (std's hasher is not stable across releases).
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A hash of `(seed, n)` as a fraction in `[0, 1)`.
pub fn unit(seed: u64, n: u64) -> f64 {
    (mix(seed ^ mix(n)) >> 11) as f64 / (1u64 << 53) as f64
}

const HIGH: u64 = 0x4849_4748;
const LOW: u64 = 0x4C4F_5757;
const VOLUME: u64 = 0x564F_4C55;

/// A bridge from `open` to `close` over `steps` steps whose k-th step weighs `weights[k]` (time), kept
/// inside `[low, high]`: `steps + 1` values, the first `open`, the last `close`.
fn bridge(parent: &Ohlc, weights: &[f64], seed: u64) -> Vec<i64> {
    let n = weights.len();
    let total: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let mut walk = vec![0.0; n + 1];
    let mut frac = vec![0.0; n + 1];
    for k in 1..=n {
        let share = weights[k - 1] / total;
        walk[k] = walk[k - 1] + (unit(seed, k as u64) - 0.5) * share.sqrt();
        frac[k] = frac[k - 1] + share;
    }
    let dev: Vec<f64> = (0..=n).map(|k| walk[k] - frac[k] * walk[n]).collect();
    let widest = dev.iter().fold(0.0f64, |m, d| m.max(d.abs()));
    let (o, c) = (parent.open as f64, parent.close as f64);
    let (lo, hi) = (parent.low as f64, parent.high as f64);
    let scale = if widest > 0.0 {
        (hi - lo) * 0.5 / widest
    } else {
        0.0
    };
    let mut out: Vec<i64> = (0..=n)
        .map(|k| {
            // A value past a bound is mirrored back inside (clipping would make the path stick to it).
            let mut v = o + (c - o) * frac[k] + dev[k] * scale;
            if v > hi {
                v = hi - (v - hi);
            }
            if v < lo {
                v = lo + (lo - v);
            }
            (v.round() as i64).clamp(parent.low, parent.high)
        })
        .collect();
    out[0] = parent.open;
    out[n] = parent.close;
    out
}

/// Shares `total` out in proportion to `weights`, exactly.
fn share_out(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum::<f64>();
    if sum <= 0.0 {
        let mut out = vec![0; weights.len()];
        if let Some(first) = out.first_mut() {
            *first = total;
        }
        return out;
    }
    let mut out = Vec::with_capacity(weights.len());
    let (mut acc, mut given) = (0.0, 0u64);
    for (k, w) in weights.iter().enumerate() {
        acc += w;
        let upto = if k + 1 == weights.len() {
            total
        } else {
            ((total as f64) * acc / sum).floor().min(total as f64) as u64
        };
        let upto = upto.max(given);
        out.push(upto - given);
        given = upto;
    }
    out
}

/// Cuts `parent` into parts open for `seconds[k]` seconds each: every part's open is the previous
/// part's close, one part reaches the parent's high and one its low, volume and ticks add up.
pub fn split(parent: Ohlc, seconds: &[i64], seed: u64) -> Vec<Ohlc> {
    let weights: Vec<f64> = seconds.iter().map(|s| (*s).max(1) as f64).collect();
    let total: f64 = weights.iter().sum();
    let v = bridge(&parent, &weights, seed);
    let n = seconds.len();
    let peak = (0..n).max_by_key(|k| (v[*k].max(v[k + 1]), std::cmp::Reverse(*k)));
    let trough = (0..n).min_by_key(|k| (v[*k].min(v[k + 1]), *k));
    let volume_weights: Vec<f64> = (0..n)
        .map(|k| weights[k] * (0.5 + unit(seed ^ VOLUME, k as u64)))
        .collect();
    let volumes = share_out(parent.volume, &volume_weights);
    let range = (parent.high - parent.low) as f64;
    (0..n)
        .map(|k| {
            let (open, close) = (v[k], v[k + 1]);
            // A part's own excursion grows with the square root of its share of the time.
            let sigma = range * (weights[k] / total).sqrt();
            let top = open.max(close);
            let bottom = open.min(close);
            let high = if Some(k) == peak {
                parent.high
            } else {
                top + ((unit(seed ^ HIGH, k as u64) * sigma) as i64).min(parent.high - top)
            };
            let low = if Some(k) == trough {
                parent.low
            } else {
                bottom - ((unit(seed ^ LOW, k as u64) * sigma) as i64).min(bottom - parent.low)
            };
            Ohlc {
                open,
                high,
                low,
                close,
                volume: volumes[k],
                ticks: seconds[k].max(0) as u64,
            }
        })
        .collect()
}

/// The `n` one-second ticks of a minute bar: the first at its open, the last at its close, one inside at
/// its high and another at its low, the rest on a bridge between.
pub fn ticks(parent: Ohlc, n: usize, seed: u64) -> Vec<Ohlc> {
    if n == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![Ohlc::point(parent.close, parent.volume)];
    }
    let weights = vec![1.0; n - 1];
    let mut p = bridge(&parent, &weights, seed);
    if n >= 4 {
        let inner = 1..n - 1;
        let top = inner.clone().max_by_key(|k| (p[*k], std::cmp::Reverse(*k)));
        if let Some(top) = top {
            p[top] = parent.high;
            let bottom = inner.filter(|k| *k != top).min_by_key(|k| (p[*k], *k));
            if let Some(bottom) = bottom {
                p[bottom] = parent.low;
            }
        }
    }
    let volumes = share_out(
        parent.volume,
        &(0..n)
            .map(|k| 0.5 + unit(seed ^ VOLUME, k as u64))
            .collect::<Vec<_>>(),
    );
    p.into_iter()
        .zip(volumes)
        .map(|(price, volume)| Ohlc::point(price, volume))
        .collect()
}
