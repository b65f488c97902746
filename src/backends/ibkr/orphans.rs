//! Legs left behind by their position. A stop loss or take profit still resting when its position is flat
//! or turned the other way (closed or reversed by another order, at TWS, or by a fill IBKR did not tie to
//! the leg) would open a new position when it fills: it is cancelled, once it has looked orphaned for
//! [`GRACE`]. The wait is there because IBKR's portfolio may list a fill seconds late: the children of an
//! order that just filled rest before its position is listed, and must not be taken for orphans.

use super::catalog::Table;
use super::legs::protecting;
use super::model::orders::LiveOrder;
use crate::sync::MutexExt;
use crate::tv;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a leg must look orphaned, over several refreshes, before it is cancelled.
pub const GRACE: Duration = Duration::from_secs(15);

/// The legs that looked orphaned, since when (per account and order id).
#[derive(Default)]
pub struct Orphans {
    since: Mutex<HashMap<(String, String), Instant>>,
}

impl Orphans {
    /// The order ids of `account`'s legs to cancel `now`, given its `live` orders and `positions` (every
    /// position of the offered symbols, as just read): those that have looked orphaned for [`GRACE`]. A
    /// leg seen orphaned for the first time is remembered; one that no longer looks orphaned is forgotten.
    pub fn due(
        &self,
        account: &str,
        table: &Table,
        live: &[LiveOrder],
        positions: &[tv::Position],
        now: Instant,
    ) -> Vec<String> {
        let mut orphaned = Vec::new();
        for e in &table.entries {
            let position = positions.iter().find(|p| p.instrument == e.symbol);
            let closing = position.map(|p| super::convert::orders::side(p.side.opposite()));
            for (_, o) in protecting(live, account, e.conid) {
                if closing.is_none_or(|c| !o.side.eq_ignore_ascii_case(c)) {
                    orphaned.push(o.order_id.0.to_string());
                }
            }
        }
        let mut since = self.since.locked();
        since.retain(|(a, id), _| a != account || orphaned.contains(id));
        orphaned
            .into_iter()
            .filter(|id| {
                let first = *since.entry((account.to_string(), id.clone())).or_insert(now);
                now.duration_since(first) >= GRACE
            })
            .collect()
    }

    /// Forgets a leg once it was cancelled.
    pub fn done(&self, account: &str, order_id: &str) {
        self.since
            .locked()
            .remove(&(account.to_string(), order_id.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::ibkr::model::orders::LiveOrders;
    use crate::backends::ibkr::testing::symbols;
    use rust_decimal_macros::dec;

    fn live() -> Vec<LiveOrder> {
        serde_json::from_str::<LiveOrders>(
            r#"{"orders":[
            {"acct":"DU1","conid":265598,"orderId":1,"status":"Filled","orderType":"Market","side":"BUY","totalSize":"2"},
            {"acct":"DU1","conid":265598,"orderId":2,"status":"PreSubmitted","orderType":"Stop","side":"SELL","totalSize":"2","price":"170","parentId":1},
            {"acct":"DU1","conid":265598,"orderId":3,"status":"Submitted","orderType":"Limit","side":"SELL","totalSize":"2","price":"150"}
            ],"snapshot":true}"#,
        )
        .unwrap()
        .orders
    }

    fn position(side: tv::Side) -> tv::Position {
        tv::Position {
            id: "AAPL".into(),
            instrument: "AAPL".into(),
            qty: dec!(2),
            side,
            avg_price: dec!(180),
            unrealized_pl: dec!(0),
        }
    }

    #[test]
    fn a_leg_of_a_flat_or_turned_position_is_due_after_the_grace_only() {
        let (o, table, t0) = (Orphans::default(), symbols(&[("AAPL", 265598)]), Instant::now());
        assert!(
            o.due("DU1", &table, &live(), &[], t0).is_empty(),
            "seen once: remembered"
        );
        assert!(o.due("DU1", &table, &live(), &[], t0 + GRACE / 2).is_empty());
        assert_eq!(
            o.due("DU1", &table, &live(), &[], t0 + GRACE),
            ["2"],
            "not the plain order 3"
        );
        // Turned short: the selling stop would add to it.
        let turned = [position(tv::Side::Sell)];
        assert_eq!(o.due("DU1", &table, &live(), &turned, t0 + GRACE), ["2"]);
        o.done("DU1", "2");
        assert!(
            o.due("DU1", &table, &live(), &turned, t0 + GRACE).is_empty(),
            "forgotten once done"
        );
    }

    #[test]
    fn a_leg_whose_position_shows_up_within_the_grace_is_forgotten() {
        let (o, table, t0) = (Orphans::default(), symbols(&[("AAPL", 265598)]), Instant::now());
        assert!(o.due("DU1", &table, &live(), &[], t0).is_empty());
        let long = [position(tv::Side::Buy)];
        assert!(o.due("DU1", &table, &live(), &long, t0 + GRACE).is_empty());
        assert!(
            o.due("DU1", &table, &live(), &[], t0 + GRACE).is_empty(),
            "its wait starts again"
        );
    }
}
