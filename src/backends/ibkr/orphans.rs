//! Legs left behind by their position, when the operator turns the sweep on
//! (`backend.orphan_legs_grace_secs`; off by default). A stop loss or take profit still resting when its
//! position is flat or turned the other way (closed or reversed by another order, at TWS, or by a fill IBKR
//! did not tie to the leg) would open a new position when it fills: it is cancelled, once it has looked
//! orphaned for the grace. A leg larger than its position (reduced by another order) is cut to it after
//! the same wait. The wait is there because IBKR's portfolio may list a fill late: the children of an
//! order that just filled rest before its position is listed, and must not be taken for orphans; IBKR's
//! `/portfolio` positions are cached, and clients report them up to a minute stale, which is why the sweep
//! is off unless asked for. Only legs the bridge placed are touched.

use super::catalog::Table;
use super::legs::protecting;
use super::model::orders::LiveOrder;
use crate::sync::MutexExt;
use crate::tv;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How every `cOID` the bridge sends begins (orders, their children, position legs).
const BRIDGE_COID: &str = "tvb";

/// The legs that looked orphaned, since when (per account and order id), and how long they must look so,
/// over several refreshes, before they are fixed.
pub struct Orphans {
    grace: Duration,
    since: Mutex<HashMap<(String, String), Instant>>,
}

/// What to do with a leg that outlived its position or outgrew it.
#[derive(Debug, Clone)]
pub enum Fix {
    /// Its position is flat or turned: cancel it.
    Cancel(String),
    /// Its position is smaller than the leg: cut the leg to it (it would otherwise open the difference the
    /// other way when it fills).
    Shrink(Box<LiveOrder>, Decimal),
}

impl Orphans {
    /// A sweep fixing legs that have looked orphaned or oversized for `grace`.
    pub fn new(grace: Duration) -> Orphans {
        Orphans {
            grace,
            since: Mutex::new(HashMap::new()),
        }
    }

    /// What to do `now` with `account`'s legs, given its `live` orders and `positions` (every position of
    /// the offered symbols, as just read): the legs that have looked orphaned or oversized for [`GRACE`]. A
    /// leg seen so for the first time is remembered; one that no longer looks so is forgotten.
    pub fn due(
        &self,
        account: &str,
        table: &Table,
        live: &[LiveOrder],
        positions: &[tv::Position],
        now: Instant,
    ) -> Vec<Fix> {
        let mut wrong = Vec::new();
        for e in &table.entries {
            let position = positions.iter().find(|p| p.instrument == e.symbol);
            // Only what the bridge placed (a `cOID` of its own): an order placed at TWS is its owner's.
            let ours = |o: &&LiveOrder| o.order_ref.as_deref().is_some_and(|r| r.starts_with(BRIDGE_COID));
            for (_, o) in protecting(live, account, e.conid).iter().filter(|(_, o)| ours(o)) {
                let id = o.order_id.0.to_string();
                let size = o.total_size.map(|n| n.0);
                match position {
                    Some(p)
                        if o.side
                            .eq_ignore_ascii_case(super::convert::orders::side(p.side.opposite())) =>
                    {
                        if size.is_some_and(|s| s > p.qty) {
                            wrong.push((id, Fix::Shrink(Box::new((*o).clone()), p.qty)));
                        }
                    }
                    _ => wrong.push((id.clone(), Fix::Cancel(id))),
                }
            }
        }
        let mut since = self.since.locked();
        since.retain(|(a, id), _| a != account || wrong.iter().any(|(w, _)| w == id));
        wrong
            .into_iter()
            .filter(|(id, _)| {
                let first = *since.entry((account.to_string(), id.clone())).or_insert(now);
                now.duration_since(first) >= self.grace
            })
            .map(|(_, fix)| fix)
            .collect()
    }

    /// Forgets a leg once it was fixed.
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

    const GRACE: Duration = Duration::from_secs(15);

    fn live() -> Vec<LiveOrder> {
        serde_json::from_str::<LiveOrders>(
            r#"{"orders":[
            {"acct":"DU1","conid":265598,"orderId":1,"status":"Filled","orderType":"Market","side":"BUY","totalSize":"2"},
            {"acct":"DU1","conid":265598,"orderId":2,"status":"PreSubmitted","orderType":"Stop","side":"SELL","totalSize":"2","price":"170","parentId":1,"order_ref":"tvb-r1-sl"},
            {"acct":"DU1","conid":265598,"orderId":4,"status":"PreSubmitted","orderType":"Limit","side":"SELL","totalSize":"2","price":"200","parentId":1},
            {"acct":"DU1","conid":265598,"orderId":3,"status":"Submitted","orderType":"Limit","side":"SELL","totalSize":"2","price":"150"}
            ],"snapshot":true}"#,
        )
        .unwrap()
        .orders
    }

    fn position(side: tv::Side, qty: Decimal) -> tv::Position {
        tv::Position {
            id: "AAPL".into(),
            instrument: "AAPL".into(),
            qty,
            side,
            avg_price: dec!(180),
            unrealized_pl: dec!(0),
        }
    }

    #[test]
    fn a_leg_of_a_flat_or_turned_position_is_due_after_the_grace_only() {
        let (o, table, t0) = (Orphans::new(GRACE), symbols(&[("AAPL", 265598)]), Instant::now());
        assert!(
            o.due("DU1", &table, &live(), &[], t0).is_empty(),
            "seen once: remembered"
        );
        assert!(o.due("DU1", &table, &live(), &[], t0 + GRACE / 2).is_empty());
        let cancels_2 = |due: Vec<Fix>| matches!(due.as_slice(), [Fix::Cancel(id)] if id == "2");
        assert!(
            cancels_2(o.due("DU1", &table, &live(), &[], t0 + GRACE)),
            "not the plain order 3, nor 4 placed at TWS"
        );
        // Turned short: the selling stop would add to it.
        let turned = [position(tv::Side::Sell, dec!(2))];
        assert!(cancels_2(o.due("DU1", &table, &live(), &turned, t0 + GRACE)));
        o.done("DU1", "2");
        assert!(
            o.due("DU1", &table, &live(), &turned, t0 + GRACE).is_empty(),
            "forgotten once done"
        );
    }

    #[test]
    fn a_leg_whose_position_shows_up_within_the_grace_is_forgotten() {
        let (o, table, t0) = (Orphans::new(GRACE), symbols(&[("AAPL", 265598)]), Instant::now());
        assert!(o.due("DU1", &table, &live(), &[], t0).is_empty());
        let long = [position(tv::Side::Buy, dec!(2))];
        assert!(o.due("DU1", &table, &live(), &long, t0 + GRACE).is_empty());
        assert!(
            o.due("DU1", &table, &live(), &[], t0 + GRACE).is_empty(),
            "its wait starts again"
        );
    }

    #[test]
    fn a_leg_larger_than_its_position_is_cut_to_it_and_a_smaller_one_left_alone() {
        let (o, table, t0) = (Orphans::new(GRACE), symbols(&[("AAPL", 265598)]), Instant::now());
        let reduced = [position(tv::Side::Buy, dec!(1))];
        assert!(o.due("DU1", &table, &live(), &reduced, t0).is_empty());
        let due = o.due("DU1", &table, &live(), &reduced, t0 + GRACE);
        assert!(
            matches!(due.as_slice(), [Fix::Shrink(leg, qty)] if leg.order_id.0 == dec!(2) && *qty == dec!(1)),
            "{due:?}"
        );
        let grown = [position(tv::Side::Buy, dec!(3))];
        assert!(o.due("DU1", &table, &live(), &grown, t0 + GRACE * 2).is_empty());
    }
}
