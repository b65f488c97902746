//! What the feed needs to know about one instrument, the ranges it models faithfully, and the check that
//! refuses a spec outside them (the feed itself clamps into the same ranges, see `model.rs`).

use rust_decimal::Decimal;
use std::fmt;

// Validation bounds; `Prepared::new` clamps into the same ranges so an unvalidated spec can't make a
// Decimal operation overflow or divide by zero.
pub(super) const MIN_BASE_PRICE: Decimal = Decimal::from_parts(1, 0, 0, false, 12);
pub(super) const MAX_BASE_PRICE: Decimal = Decimal::from_parts(0xA4C6_8000, 0x38D7E, 0, false, 0); // 1e15
pub(super) const MAX_TICKS_PER_PRICE: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0); // 1e12
const MAX_SIZE_RATIO: Decimal = MAX_BASE_PRICE;
pub(super) const MAX_SIZE: Decimal = MAX_BASE_PRICE;
pub(super) const MAX_DAILY_VOLATILITY: f64 = 0.5;
pub(super) const MIN_BASE_PRICE_F64: f64 = 1e-12;
pub(super) const MAX_BASE_PRICE_F64: f64 = 1e15;
pub(super) const MAX_TICKS_PER_PRICE_F64: f64 = 1e12;
pub(super) const MAX_SIZE_F64: f64 = 1e15;

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
