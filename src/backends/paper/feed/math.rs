//! Deterministic building blocks of the price process: stable hashing, variates, a libm-free `exp`.
//!
//! Everything here uses only IEEE-754 operations that are correctly rounded on every machine, so the
//! paper feed computes bit-identical prices everywhere (see the parent module).

use super::path::{MAX_LOG_DOWN, MAX_LOG_UP};
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

/// Uniform in [0, 1) from bits `bits * i .. bits * (i + 1)` of `h` (`bits * (i + 1) <= 64`): several
/// variates from one hash, for values that don't need 53 bits of resolution.
pub(super) fn unit_slice(h: u64, i: u32, bits: u32) -> f64 {
    ((h >> (bits * i)) & ((1 << bits) - 1)) as f64 / (1u64 << bits) as f64
}

/// Uniform in [-1, 1).
pub(super) fn signed_unit(h: u64) -> f64 {
    unit(h) * 2.0 - 1.0
}

// ----------------------------------------------------------------------------------------------------
// Deterministic floating point helpers (see "Determinism across machines" above).

/// `exp(x)` for |x| <= 0.45 by its Taylor series to degree 14 (truncation error < 1e-17), evaluated
/// with Estrin's scheme: only correctly rounded multiplications and additions in a fixed order, like
/// Horner's rule, but as a tree of depth 4 rather than a chain of 14 steps, which matters because the
/// octave sum of every minute boundary ends here.
pub(super) fn exp_small(x: f64) -> f64 {
    const C: [f64; 15] = [
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
    let x2 = x * x;
    let x4 = x2 * x2;
    let x8 = x4 * x4;
    let q0 = (C[0] + C[1] * x) + (C[2] + C[3] * x) * x2;
    let q1 = (C[4] + C[5] * x) + (C[6] + C[7] * x) * x2;
    let q2 = (C[8] + C[9] * x) + (C[10] + C[11] * x) * x2;
    let q3 = (C[12] + C[13] * x) + C[14] * x2;
    (q0 + q1 * x4) + (q2 + q3 * x4) * x8
}

/// Smoothly squashes the log-excursion into (-MAX_LOG_DOWN, MAX_LOG_UP): ~identity near 0, so the
/// everyday volatility is untouched, and asymptotic to the bound far out. Uses `sqrt` (correctly
/// rounded) rather than `tanh` (libm).
pub(super) fn soft_clamp(x: f64) -> f64 {
    // Multiplying by the reciprocal (rounded once, at compile time) spares a division.
    let inv_bound = if x >= 0.0 {
        1.0 / MAX_LOG_UP
    } else {
        1.0 / MAX_LOG_DOWN
    };
    let r = x * inv_bound;
    x / (1.0 + r * r).sqrt()
}

/// Decimal to f64 as `mantissa / 10^scale`: two correctly rounded IEEE operations, unlike
/// `Decimal::to_f64` which goes through `powi`.
pub(super) fn decimal_to_f64(d: Decimal) -> f64 {
    const POW10: [f64; 29] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
        1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28,
    ];
    // The scale of a Decimal is at most 28 by construction. Converting through i64 when the
    // mantissa fits is the same correctly rounded value, without the slow 128-bit conversion.
    let mantissa = d.mantissa();
    let m = match i64::try_from(mantissa) {
        Ok(m) => m as f64,
        Err(_) => mantissa as f64,
    };
    m / POW10[(d.scale() as usize).min(28)]
}

/// Roughly standard normal (mean 0, variance 1, within [-3, 3)) from one hash: the sum of three
/// uniforms from three 21-bit slices, rescaled (Irwin-Hall), which only needs + and *.
pub(super) fn approx_normal(h: u64) -> f64 {
    const SLICE: u64 = (1 << 21) - 1;
    const INV_SLICE: f64 = 1.0 / (1u64 << 21) as f64;
    let sum = ((h & SLICE) + ((h >> 21) & SLICE) + ((h >> 42) & SLICE)) as f64 * INV_SLICE;
    // The sum of three U(0, 1) has mean 1.5 and variance 1/4.
    (sum - 1.5) * 2.0
}
