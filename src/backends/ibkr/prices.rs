//! `/quotes` from `/iserver/marketdata/snapshot`. IBKR's first snapshot of a conid only subscribes and
//! carries no prices, so the conids still without a bid and ask are asked again, a bounded number of
//! times; a symbol that never gets one is answered with an error entry, never a made-up price.

use super::catalog::Table;
use super::convert::market::quote;
use super::model::market::QUOTE_FIELDS;
use super::session::Gateway;
use crate::broker::BrokerResult;
use crate::tv;
use std::collections::HashMap;
use std::time::Duration;

/// How often and how patiently a quote is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    pub attempts: u32,
    pub wait: Duration,
}

/// Quotes of `symbols` (one entry each, in order).
pub async fn quotes(
    gateway: &Gateway,
    table: &Table,
    symbols: &[String],
    patience: Patience,
) -> BrokerResult<Vec<tv::QuoteEntry>> {
    let mut found: HashMap<i64, Result<tv::Quote, String>> = HashMap::new();
    let mut missing: Vec<i64> = symbols
        .iter()
        .filter_map(|s| table.by_symbol(s).map(|e| e.conid))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    for attempt in 1..=patience.attempts.max(1) {
        if missing.is_empty() {
            break;
        }
        if attempt > 1 {
            tokio::time::sleep(patience.wait).await;
        }
        let ask = missing.clone();
        let rows = gateway
            .call("reading quotes", |api| {
                let ask = ask.clone();
                async move { api.snapshot(&ask, QUOTE_FIELDS).await }
            })
            .await?;
        for row in &rows {
            match quote(row) {
                Ok(Some(q)) => {
                    found.insert(row.conid.0, Ok(q));
                }
                Ok(None) => {}
                Err(e) => {
                    found.insert(row.conid.0, Err(e));
                }
            }
        }
        missing.retain(|c| !found.contains_key(c));
    }
    Ok(symbols
        .iter()
        .map(|s| match table.by_symbol(s) {
            None => tv::QuoteEntry::error(s.clone(), format!("Unknown symbol '{s}'")),
            Some(e) => match found.get(&e.conid) {
                Some(Ok(q)) => tv::QuoteEntry::ok(s.clone(), q.clone()),
                Some(Err(why)) => {
                    tracing::warn!(symbol = %s, error = %why, "IBKR snapshot value not understood");
                    tv::QuoteEntry::error(s.clone(), "IBKR sent a quote the bridge could not read")
                }
                None => tv::QuoteEntry::error(s.clone(), "IBKR has no quote for this symbol yet (no market data subscription, or the market is closed)"),
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::ibkr::testing::{fixture, symbols, ScriptedApi};
    use std::sync::Arc;

    fn table() -> Table {
        symbols(&[("AAPL", 265598), ("EURUSD", 12087792), ("IBM", 8314)])
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_empty_snapshot_is_asked_again_until_values_arrive_bounded() {
        let api = Arc::new(ScriptedApi::default());
        api.open_session()
            .ok("snapshot", &fixture("snapshot_first.json"))
            .ok("snapshot", &fixture("snapshot.json"))
            .ok("snapshot", &fixture("snapshot.json"));
        let g = Gateway::new(api.clone());
        let symbols: Vec<String> = ["AAPL", "EURUSD", "IBM", "NOPE"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let patience = Patience {
            attempts: 3,
            wait: Duration::from_millis(500),
        };
        let out = quotes(&g, &table(), &symbols, patience).await.unwrap();
        assert_eq!(
            out.iter().map(|e| e.s).collect::<Vec<_>>(),
            ["ok", "ok", "error", "error"]
        );
        match &out[0].v {
            tv::QuoteValue::Quote(q) => assert_eq!(
                (q.bid, q.ask),
                (
                    rust_decimal_macros::dec!(193.06),
                    rust_decimal_macros::dec!(193.20)
                )
            ),
            other => panic!("{other:?}"),
        }
        // Three snapshots, the later ones only for what was still missing; never more than the bound.
        let calls: Vec<String> = api
            .calls()
            .into_iter()
            .filter(|c| c.starts_with("snapshot"))
            .collect();
        assert_eq!(
            calls,
            [
                "snapshot:8314,265598,12087792",
                "snapshot:8314,265598,12087792",
                "snapshot:8314"
            ]
        );
    }
}
