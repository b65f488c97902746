//! The fake's market: the price process behind every instrument (candles aggregate it) and, with
//! `moving`, the task that sends one tick per open second to the pricing streams and lets orders fill,
//! like OANDA's own prices do. FX, metals and CFDs all close for the FX weekend (Friday 17:00 to Sunday
//! 17:00 New York), when the fake has neither ticks nor candles.

use super::engine;
use super::options::{pow10, FakeInstrument, FakeOptions};
use super::price_path::{Hours, PathSpec, PricePath};
use super::state::{Quote, Shared, State};
use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Duration;

/// Seconds of ticks sent at most after the fake clock jumped; older ones are skipped (real time only).
const MAX_CATCH_UP: i64 = 600;
/// How often the moving market looks at the clock.
const STEP: Duration = Duration::from_millis(100);

/// The quote of `i` with its price process, anchored at its starting bid at `now`.
pub(super) fn quote(i: &FakeInstrument, options: &FakeOptions, now: DateTime<Utc>) -> Quote {
    let tick = pow10(-(i.display_precision as i32));
    let ticks = |p: Decimal| (p / tick).round().to_i64().unwrap_or(1);
    let daily_range = match i.kind.as_str() {
        "CURRENCY" => 0.006,
        _ => 0.012,
    };
    let path = PricePath::new(PathSpec {
        seed: options.seed,
        name: i.name.clone(),
        start: ticks(i.bid),
        anchor: now.timestamp(),
        daily_range,
        volume_per_minute: 60,
        hours: Hours::FxWeek,
        data_start: options.data_start.timestamp(),
    });
    let mut q = Quote {
        spec: i.clone(),
        time: now,
        path,
        spread_ticks: ticks(i.ask) - ticks(i.bid),
        emitted: now.timestamp(),
    };
    if options.moving {
        // The anchor makes the last tick the starting bid; its time is the quote's time.
        if let Some((at, _)) = q.path.last_tick(now.timestamp()) {
            q.time = DateTime::from_timestamp(at, 0).unwrap_or(now);
        }
    }
    q
}

impl Quote {
    /// A bid of `ticks` price steps.
    pub fn bid_at(&self, ticks: i64) -> Decimal {
        Decimal::new(ticks, self.spec.display_precision)
    }

    /// The ask that goes with a bid of `ticks` price steps.
    pub fn ask_at(&self, ticks: i64) -> Decimal {
        Decimal::new(ticks + self.spread_ticks, self.spec.display_precision)
    }
}

/// Moves the market until the fake stops: every open second of the fake clock gets its tick.
pub(super) async fn drive(shared: Arc<Shared>) {
    let mut stop = shared.shutdown.subscribe();
    let mut every = tokio::time::interval(STEP);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => step(&mut shared.lock()),
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Sends the ticks between each instrument's last sent second and now.
pub(super) fn step(st: &mut State) {
    let now = st.now().timestamp();
    for i in 0..st.quotes.len() {
        let from = (st.quotes[i].emitted + 1).max(now - MAX_CATCH_UP);
        let ticks = st.quotes[i].path.ticks(from, now + 1);
        st.quotes[i].emitted = now;
        let name = st.quotes[i].spec.name.clone();
        for (t, tick) in ticks {
            let q = &st.quotes[i];
            let (bid, ask) = (q.bid_at(tick.close), q.ask_at(tick.close));
            let at = DateTime::from_timestamp(t, 0).unwrap_or_default();
            engine::set_price_at(st, &name, bid, ask, at);
        }
    }
}
