//! Deterministic building blocks of the price process: stable hashing, a libm-free `exp`, value noise.
//!
//! Everything here uses only IEEE-754 operations that are correctly rounded on every machine, so the
//! paper feed computes bit-identical prices everywhere (see the parent module).

use super::{MAX_LOG_DOWN, MAX_LOG_UP};
use rust_decimal::Decimal;

// ----------------------------------------------------------------------------------------------------
// Hashing.

pub(super) const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finaliser: a bijection with full avalanche, cheap (two multiplies).
pub(super) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Element `i` of the SplitMix64 sequence seeded with `key`: random access, so any grid point or
/// second can be hashed directly.
pub(super) fn stream(key: u64, i: u64) -> u64 {
    mix64(key.wrapping_add(i.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA)))
}

/// FNV-1a, 64-bit: stable, specified byte-by-byte, good enough as input to `mix64`.
pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// Uniform in [0, 1) from the top 53 bits.
pub(super) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
}

/// Uniform in [-1, 1).
pub(super) fn signed_unit(h: u64) -> f64 {
    unit(h) * 2.0 - 1.0
}

// ----------------------------------------------------------------------------------------------------
// Deterministic floating point helpers (see "Determinism across machines" above).

/// `exp(x)` for |x| <= 0.45 by its Taylor series to degree 14 (truncation error < 1e-17), evaluated
/// with Horner's rule so it only uses correctly rounded multiplications and additions.
pub(super) fn exp_small(x: f64) -> f64 {
    const INV_FACT: [f64; 15] = [
        1.0,
        1.0,
        1.0 / 2.0,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5_040.0,
        1.0 / 40_320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
        1.0 / 479_001_600.0,
        1.0 / 6_227_020_800.0,
        1.0 / 87_178_291_200.0,
    ];
    debug_assert!(x.abs() <= 0.45, "exp_small out of range: {x}");
    INV_FACT.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

/// Smoothly squashes the log-excursion into (-MAX_LOG_DOWN, MAX_LOG_UP): ~identity near 0, so the
/// everyday volatility is untouched, and asymptotic to the bound far out. Uses `sqrt` (correctly
/// rounded) rather than `tanh` (libm).
pub(super) fn soft_clamp(x: f64) -> f64 {
    let bound = if x >= 0.0 { MAX_LOG_UP } else { MAX_LOG_DOWN };
    let r = x / bound;
    x / (1.0 + r * r).sqrt()
}

/// Decimal to f64 as `mantissa / 10^scale`: two correctly rounded IEEE operations, unlike
/// `Decimal::to_f64` which goes through `powi`.
pub(super) fn decimal_to_f64(d: Decimal) -> f64 {
    const POW10: [f64; 29] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
        1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28,
    ];
    // The scale of a Decimal is at most 28 by construction.
    d.mantissa() as f64 / POW10[(d.scale() as usize).min(28)]
}

/// Value noise: uniform random values at grid points `period` apart (grid shifted by `phase`),
/// smoothstep-interpolated, so the result is continuous in `t_ms` and within [-1, 1].
pub(super) fn value_noise(key: u64, period_ms: i64, phase_ms: i64, t_ms: i64) -> f64 {
    let idx = t_ms.div_euclid(period_ms);
    let rem = t_ms.rem_euclid(period_ms);
    noise_at(key, idx, rem, period_ms, phase_ms, 1.0 / period_ms as f64)
}

/// Value noise at offset `rem` (in `[0, period)`) into grid cell `idx`, before the phase shift.
/// Split out so that the octaves can locate their cells with shifts instead of divisions.
pub(super) fn noise_at(
    key: u64,
    mut idx: i64,
    mut rem: i64,
    period_ms: i64,
    phase_ms: i64,
    inv_period: f64,
) -> f64 {
    rem += phase_ms;
    if rem >= period_ms {
        idx += 1;
        rem -= period_ms;
    }
    let f = rem as f64 * inv_period;
    let s = f * f * (3.0 - 2.0 * f);
    let v0 = signed_unit(stream(key, idx as u64));
    let v1 = signed_unit(stream(key, (idx as u64).wrapping_add(1)));
    v0 + (v1 - v0) * s
}
