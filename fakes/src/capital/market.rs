//! The fake's market: the price process behind every market (price bars aggregate it) and, with
//! `moving`, the task that sends one quote per open second to the WebSocket subscribers and lets orders
//! fill, like Capital.com's own prices do. Markets trade during their [`super::options::FakeMarket`]
//! hours only: no ticks and no bars outside them.

use super::options::{FakeMarket, FakeOptions};
use super::price_path::{PathSpec, PricePath};
use super::state::{MarketState, Shared, State};
use super::wire::round_price;
use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Duration;

/// Seconds of ticks sent at most after the fake clock jumped; older ones are skipped (real time only).
const MAX_CATCH_UP: i64 = 600;
/// How often the moving market looks at the clock.
const STEP: Duration = Duration::from_millis(100);
const DAY: i64 = 86_400;

/// Typical daily range of a market type, as a fraction of the price.
fn daily_range(instrument_type: &str) -> f64 {
    match instrument_type {
        "CURRENCIES" => 0.006,
        "CRYPTOCURRENCIES" => 0.03,
        "SHARES" => 0.015,
        _ => 0.01,
    }
}

/// The state of market `m` with its price process, anchored at its starting bid at `now`.
pub(super) fn market(m: &FakeMarket, options: &FakeOptions, now: DateTime<Utc>) -> MarketState {
    let steps = |p: Decimal| {
        (p * Decimal::from(10u64.pow(m.decimal_places)))
            .round()
            .to_i64()
            .unwrap_or(1)
    };
    let path = PricePath::new(PathSpec {
        seed: options.seed,
        name: m.epic.clone(),
        start: steps(m.bid),
        anchor: now.timestamp(),
        daily_range: daily_range(&m.instrument_type),
        volume_per_minute: 40,
        hours: m.hours.clone(),
        data_start: options.data_start.timestamp(),
    });
    let mut state = MarketState {
        spec: m.clone(),
        open_bid: m.bid,
        // A plausible day range around the opening quote (0.4% each way).
        high: round_price(m.offer * Decimal::new(1004, 3), m.decimal_places),
        low: round_price(m.bid * Decimal::new(996, 3), m.decimal_places),
        updated: now,
        path,
        spread_ticks: steps(m.offer) - steps(m.bid),
        emitted: now.timestamp(),
    };
    if options.moving {
        // The anchor makes the last tick the starting bid; its time is the quote's time.
        if let Some((at, _)) = state.path.last_tick(now.timestamp()) {
            state.updated = DateTime::from_timestamp(at, 0).unwrap_or(now);
        }
    }
    state
}

impl MarketState {
    /// A bid of `steps` price steps.
    pub fn bid_at(&self, steps: i64) -> Decimal {
        Decimal::new(steps, self.spec.decimal_places)
    }

    /// The offer that goes with a bid of `steps` price steps.
    pub fn offer_at(&self, steps: i64) -> Decimal {
        Decimal::new(steps + self.spread_ticks, self.spec.decimal_places)
    }

    /// Whether the market trades at `now` (always, when prices do not move by themselves).
    pub fn is_open(&self, moving: bool, now: DateTime<Utc>) -> bool {
        !moving || self.path.is_open(now.timestamp())
    }

    /// The reference of the day's change, the day's high and its low so far: from the price process
    /// when prices move (the previous trading day's closing bid, as brokers quote a daily change; the
    /// high offer and low bid of today's ticks), else around the starting quote.
    pub fn day_stats(&self, moving: bool, now: DateTime<Utc>) -> (Decimal, Decimal, Decimal) {
        let t = now.timestamp();
        let day = t.div_euclid(DAY) * DAY;
        let today = self.path.bar(day, t + 1).filter(|_| moving);
        let previous = (1..=7).find_map(|k| self.path.bar(day - k * DAY, day - (k - 1) * DAY));
        match (today, previous) {
            (Some(bar), Some(prev)) => (
                self.bid_at(prev.close),
                self.offer_at(bar.high),
                self.bid_at(bar.low),
            ),
            _ => (self.open_bid, self.high, self.low),
        }
    }
}

/// Moves the market until the fake stops: every open second of the fake clock gets its tick.
pub(super) async fn drive(shared: Arc<Shared>) {
    let mut every = tokio::time::interval(STEP);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        step(&mut shared.lock());
    }
}

/// Sends the ticks between each market's last sent second and now.
pub(super) fn step(st: &mut State) {
    let now = st.now().timestamp();
    for i in 0..st.markets.len() {
        let from = (st.markets[i].emitted + 1).max(now - MAX_CATCH_UP);
        let ticks = st.markets[i].path.ticks(from, now + 1);
        st.markets[i].emitted = now;
        let epic = st.markets[i].spec.epic.clone();
        for (t, tick) in ticks {
            let m = &st.markets[i];
            let (bid, offer) = (m.bid_at(tick.close), m.offer_at(tick.close));
            let at = DateTime::from_timestamp(t, 0).unwrap_or_default();
            st.set_price_at(&epic, bid, offer, at);
        }
    }
}
