//! Moving prices (optional): each contract's bid follows a seeded [`PricePath`] anchored at its starting
//! bid, always open, one tick per second of the fake clock, the spread kept; every tick moves the quote
//! through the engine, so working orders that cross fill. Without it prices stay where the options (or
//! [`super::FakeIbkrThirdParty::set_price`]) put them.

use super::state::Shared;
use crate::price_path::{Hours, PathSpec, PricePath};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Duration;

/// Seconds the driver catches up at most after a stall or a clock jump.
const MAX_CATCH_UP: i64 = 5;

/// One contract's path: its price steps' decimals and spread in steps.
struct Moving {
    conid: i64,
    path: PricePath,
    dp: u32,
    spread: i64,
}

impl Moving {
    fn price(&self, steps: i64) -> Decimal {
        Decimal::new(steps, self.dp)
    }
}

/// The paths of every contract, anchored now.
fn paths(shared: &Shared, seed: u64) -> Vec<Moving> {
    let anchor = shared.now().timestamp();
    let st = shared.lock();
    st.markets
        .values()
        .map(|m| {
            let c = &m.contract;
            let (dp, range, volume) = if c.sec_type == "CASH" {
                (5, 0.006, 50)
            } else {
                (2, 0.015, 2_000)
            };
            let steps = |p: Decimal| (p * Decimal::from(10u64.pow(dp))).round().to_i64().unwrap_or(1);
            Moving {
                conid: c.conid,
                path: PricePath::new(PathSpec {
                    seed,
                    name: c.ticker.clone(),
                    start: steps(c.bid),
                    anchor,
                    daily_range: range,
                    volume_per_minute: volume,
                    hours: Hours::Always,
                    data_start: 1_104_537_600,
                }),
                dp,
                spread: (steps(c.ask) - steps(c.bid)).max(1),
            }
        })
        .collect()
}

/// Moves every contract's quote once per second of the fake clock, until the fake stops.
pub(super) async fn drive(shared: Arc<Shared>, seed: u64) {
    let moving = paths(&shared, seed);
    let mut last: Option<i64> = None;
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = shared.now();
        let second = now.timestamp();
        let from = last.map_or(second, |l| (l + 1).max(second - MAX_CATCH_UP));
        for t in from..=second {
            let moves: Vec<(i64, Decimal, Decimal)> = moving
                .iter()
                .filter_map(|m| {
                    let tick = m.path.tick(t)?;
                    Some((m.conid, m.price(tick.close), m.price(tick.close + m.spread)))
                })
                .collect();
            let mut st = shared.lock();
            for (conid, bid, ask) in moves {
                st.set_quote(conid, bid, ask, now);
            }
        }
        last = Some(second);
    }
}
