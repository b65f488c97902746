//! Stop loss / take profit fields of the position and working-order requests: reading them, turning
//! distances and amounts into levels, and the distance rules that answer
//! `error.invalid.stoploss.minvalue: <level>` and friends.
//!
//! Allowed band, with `min`/`max` the market's minimum and maximum distance in percent of the reference
//! price (the price the position would close at, or the order level): a buy's stop lies in
//! `[ref - max, ref - min]` and its take profit in `[ref + min, ref + max]`; mirrored for a sell. This
//! reproduces the official examples (a stop of 1 on a market at 24.49 with a 30% band gives
//! `minvalue: 17.146`).

use super::state::{Dir, MarketState, Stops};
use super::wire::{field_bool, field_dec, ApiError};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};

/// The stop and profit fields of a request, as sent.
#[derive(Debug, Clone, Default)]
pub(super) struct StopInput {
    pub guaranteed: bool,
    pub trailing: bool,
    pub stop_level: Option<Decimal>,
    pub stop_distance: Option<Decimal>,
    pub stop_amount: Option<Decimal>,
    pub profit_level: Option<Decimal>,
    pub profit_distance: Option<Decimal>,
    pub profit_amount: Option<Decimal>,
    /// Whether `guaranteedStop` / `trailingStop` were in the request at all.
    pub guaranteed_given: bool,
    pub trailing_given: bool,
}

/// A positive number field (`error.invalid.<field>` otherwise).
fn positive(m: &Map<String, Value>, field: &str) -> Result<Option<Decimal>, ApiError> {
    match field_dec(m, field)? {
        Some(d) if d <= Decimal::ZERO => Err(ApiError::bad(format!("error.invalid.{field}"))),
        other => Ok(other),
    }
}

impl StopInput {
    /// Reads the fields and checks the combinations the documentation forbids.
    pub fn parse(m: &Map<String, Value>) -> Result<StopInput, ApiError> {
        let (guaranteed, trailing) = (field_bool(m, "guaranteedStop")?, field_bool(m, "trailingStop")?);
        let input = StopInput {
            guaranteed: guaranteed.unwrap_or(false),
            trailing: trailing.unwrap_or(false),
            guaranteed_given: guaranteed.is_some(),
            trailing_given: trailing.is_some(),
            stop_level: positive(m, "stopLevel")?,
            stop_distance: positive(m, "stopDistance")?,
            stop_amount: positive(m, "stopAmount")?,
            profit_level: positive(m, "profitLevel")?,
            profit_distance: positive(m, "profitDistance")?,
            profit_amount: positive(m, "profitAmount")?,
        };
        if input.guaranteed && input.trailing {
            return Err(ApiError::bad("error.invalid.guaranteedStop"));
        }
        if input.trailing && input.stop_distance.is_none() {
            return Err(ApiError::bad("error.null.stopDistance"));
        }
        if input.guaranteed && !input.has_stop() {
            return Err(ApiError::bad("error.null.stopLevel"));
        }
        Ok(input)
    }

    pub fn has_stop(&self) -> bool {
        self.stop_level.is_some() || self.stop_distance.is_some() || self.stop_amount.is_some()
    }

    pub fn has_profit(&self) -> bool {
        self.profit_level.is_some() || self.profit_distance.is_some() || self.profit_amount.is_some()
    }

    /// An update's new stops under the reading [`omitted_stops_kept`](super::FakeOptions::omitted_stops_kept)
    /// chooses: `resolved` (every field left out removed, the default) or, when `kept`, `resolved` with
    /// each part the request left out taken from `current`: the stop (level or trailing distance), the
    /// take profit, and each flag.
    pub fn update(&self, resolved: Stops, current: &Stops, kept: bool) -> Stops {
        if !kept {
            return resolved;
        }
        let mut s = resolved;
        if !self.has_stop() {
            s.stop_level = current.stop_level;
            s.stop_distance = current.stop_distance;
        }
        if !self.has_profit() {
            s.profit_level = current.profit_level;
        }
        if !self.guaranteed_given {
            s.guaranteed = current.guaranteed;
        }
        if !self.trailing_given {
            s.trailing = current.trailing;
        }
        // A stop that no longer trails keeps its level as a plain stop; one that trails needs a distance.
        if !s.trailing {
            s.stop_distance = None;
        } else if s.stop_distance.is_none() {
            s.trailing = false;
        }
        s
    }

    /// Levels for a deal in `dir`: distances count from `base`, amounts are spread over `size`.
    /// A level wins over a distance, a distance over an amount.
    pub fn resolve(&self, dir: Dir, base: Decimal, size: Decimal, m: &MarketState) -> Stops {
        let per_unit = |amount: Decimal| {
            if size.is_zero() {
                Decimal::ZERO
            } else {
                amount / size
            }
        };
        let away = |d: Decimal, adverse: bool| {
            // A stop is on the losing side of the deal, a take profit on the winning side.
            let down = (dir == Dir::Buy) == adverse;
            m.round(if down { base - d } else { base + d })
        };
        let stop_distance = self.stop_distance.or(self.stop_amount.map(per_unit));
        let profit_distance = self.profit_distance.or(self.profit_amount.map(per_unit));
        Stops {
            stop_level: self.stop_level.or(stop_distance.map(|d| away(d, true))),
            profit_level: self.profit_level.or(profit_distance.map(|d| away(d, false))),
            guaranteed: self.guaranteed,
            trailing: self.trailing,
            stop_distance: self.stop_distance.filter(|_| self.trailing),
        }
    }
}

/// Checks stop and take-profit levels of a deal in `dir` against the market's band around `reference`.
pub(super) fn validate(stops: &Stops, dir: Dir, reference: Decimal, m: &MarketState) -> Result<(), ApiError> {
    let pct = |p: Decimal| reference * p / Decimal::ONE_HUNDRED;
    let dp = m.spec.decimal_places;
    let up = |d: Decimal| d.round_dp_with_strategy(dp, RoundingStrategy::ToPositiveInfinity);
    let down = |d: Decimal| d.round_dp_with_strategy(dp, RoundingStrategy::ToNegativeInfinity);
    let stop_min = pct(if stops.guaranteed {
        m.guaranteed_min_pct()
    } else {
        m.spec.min_stop_distance_pct
    });
    let limit_min = pct(m.spec.min_stop_distance_pct);
    let max = pct(m.spec.max_stop_distance_pct);
    // (low, high) bounds of the stop and of the take profit.
    let (stop_band, profit_band) = match dir {
        Dir::Buy => (
            (up(reference - max), down(reference - stop_min)),
            (up(reference + limit_min), down(reference + max)),
        ),
        Dir::Sell => (
            (up(reference + stop_min), down(reference + max)),
            (up(reference - max), down(reference - limit_min)),
        ),
    };
    check(stops.stop_level, stop_band, "stoploss")?;
    check(stops.profit_level, profit_band, "takeprofit")
}

fn check(level: Option<Decimal>, (low, high): (Decimal, Decimal), what: &str) -> Result<(), ApiError> {
    match level {
        Some(l) if l < low => Err(ApiError::bad(format!(
            "error.invalid.{what}.minvalue: {}",
            low.normalize()
        ))),
        Some(l) if l > high => Err(ApiError::bad(format!(
            "error.invalid.{what}.maxvalue: {}",
            high.normalize()
        ))),
        _ => Ok(()),
    }
}
