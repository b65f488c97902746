//! `/quotes` and `/depth` from `/iserver/marketdata/snapshot`. IBKR's first snapshot of a conid only
//! subscribes and carries no prices, so the conids still without a bid and ask are asked again, a bounded
//! number of times; a symbol that never gets one is answered with an error, never a made-up price.

use super::catalog::Table;
use super::convert::market::{book, quote};
use super::model::market::{SnapshotRow, QUOTE_FIELDS};
use super::session::Gateway;
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::time::Duration;

/// How often and how patiently a quote is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    pub attempts: u32,
    pub wait: Duration,
}

/// Said of a symbol IBKR has no bid and ask for after every attempt.
const NO_QUOTE: &str =
    "IBKR has no quote for this symbol yet (no market data subscription, or the market is closed)";
/// Said of a symbol whose snapshot values could not be read (the log has the value).
const UNREADABLE: &str = "IBKR sent a quote the bridge could not read";

/// What `read` made of each conid's snapshot row, asking again (within `patience`) for the conids whose
/// rows have no values yet. A conid missing from the map never got any.
async fn snapshots<T>(
    gateway: &Gateway,
    conids: &[i64],
    patience: Patience,
    read: impl Fn(&SnapshotRow) -> Result<Option<T>, String>,
) -> BrokerResult<HashMap<i64, Result<T, String>>> {
    let mut found: HashMap<i64, Result<T, String>> = HashMap::new();
    let mut missing: Vec<i64> = conids.to_vec();
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
            match read(row) {
                Ok(Some(value)) => {
                    found.insert(row.conid.0, Ok(value));
                }
                Ok(None) => {}
                Err(e) => {
                    found.insert(row.conid.0, Err(e));
                }
            }
        }
        missing.retain(|c| !found.contains_key(c));
    }
    Ok(found)
}

/// Quotes of `symbols` (one entry each, in order).
pub async fn quotes(
    gateway: &Gateway,
    table: &Table,
    symbols: &[String],
    patience: Patience,
) -> BrokerResult<Vec<tv::QuoteEntry>> {
    let conids: Vec<i64> = symbols
        .iter()
        .filter_map(|s| table.by_symbol(s).map(|e| e.conid))
        .collect();
    let found = snapshots(gateway, &conids, patience, quote).await?;
    Ok(symbols
        .iter()
        .map(|s| match table.by_symbol(s) {
            None => tv::QuoteEntry::error(s.clone(), format!("Unknown symbol '{s}'")),
            Some(e) => match found.get(&e.conid) {
                Some(Ok(q)) => tv::QuoteEntry::ok(s.clone(), q.clone()),
                Some(Err(why)) => {
                    tracing::warn!(symbol = %s, error = %why, "IBKR snapshot value not understood");
                    tv::QuoteEntry::error(s.clone(), UNREADABLE)
                }
                None => tv::QuoteEntry::error(s.clone(), NO_QUOTE),
            },
        })
        .collect())
}

/// TradingView's depth of `symbol` (contract `conid`): the top of IBKR's book, one level a side, its sizes
/// multiplied by `size_scale` (IBKR shows US stock sizes in hundreds). IBKR's full book is WebSocket-only
/// (`sbd`), with a message format no reference material documents.
pub async fn depth(
    gateway: &Gateway,
    symbol: &str,
    conid: i64,
    size_scale: Decimal,
    patience: Patience,
) -> BrokerResult<tv::Depth> {
    let found = snapshots(gateway, &[conid], patience, |row| book(row, size_scale)).await?;
    match found.get(&conid) {
        Some(Ok(depth)) => Ok(depth.clone()),
        Some(Err(why)) => {
            tracing::warn!(%symbol, error = %why, "IBKR snapshot value not understood");
            Err(BrokerError::Rejected(UNREADABLE.into()))
        }
        None => Err(BrokerError::Rejected(NO_QUOTE.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::ibkr::testing::{fixture, symbols, ScriptedApi};
    use rust_decimal_macros::dec;
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

    #[tokio::test(start_paused = true)]
    async fn depth_waits_for_values_like_quotes_and_says_when_there_are_none() {
        let api = Arc::new(ScriptedApi::default());
        api.open_session()
            .ok("snapshot", &fixture("snapshot_first.json"))
            .ok("snapshot", &fixture("snapshot.json"));
        let g = Gateway::new(api.clone());
        let patience = Patience {
            attempts: 3,
            wait: Duration::from_millis(500),
        };
        let d = depth(&g, "AAPL", 265598, Decimal::ONE_HUNDRED, patience)
            .await
            .unwrap();
        assert_eq!(d.asks, vec![[dec!(193.20), dec!(120000)]]);
        assert_eq!(d.bids, vec![[dec!(193.06), dec!(340000)]]);

        // IBM never gets a bid and ask: a refusal saying so after the bounded attempts, not a made-up book.
        let api = Arc::new(ScriptedApi::default());
        api.open_session();
        for _ in 0..3 {
            api.ok("snapshot", &fixture("snapshot.json"));
        }
        let g = Gateway::new(api.clone());
        let e = depth(&g, "IBM", 8314, Decimal::ONE, patience).await.unwrap_err();
        assert!(
            matches!(&e, BrokerError::Rejected(m) if m.contains("no quote")),
            "{e:?}"
        );
        let snapshots = api
            .calls()
            .into_iter()
            .filter(|c| c.starts_with("snapshot"))
            .count();
        assert_eq!(snapshots, 3);
    }
}
