//! What `tvbridge check-config` says about the IBKR symbols: offline, where each conid will come from
//! (the configuration, or `/iserver/secdef/search` at the first login); with `--upstream`, the symbol
//! table as IBKR resolves it now, with each contract's trading hours from its schedule (or the session
//! assumed where IBKR gives none).

use super::catalog::Source;
use super::convert::market::{instrument, symbol_info};
use super::{IbkrBroker, IbkrConfig};
use crate::broker::BrokerError;

/// One line per configured symbol, without asking IBKR.
pub fn offline(config: &IbkrConfig) -> Vec<String> {
    config
        .symbols
        .iter()
        .map(|s| {
            let tv = s.tradingview.as_deref().unwrap_or(&s.symbol);
            match s.conid {
                Some(id) => format!("{} (TradingView {tv}): conid {id} (configured)", s.symbol),
                None => format!(
                    "{} (TradingView {tv}): conid searched as {:?} ({}) with secdef/search at the first login",
                    s.symbol,
                    s.search.as_deref().unwrap_or(&s.symbol),
                    s.sec_type.as_deref().unwrap_or("STK"),
                ),
            }
        })
        .collect()
}

/// One line per offered symbol as IBKR resolves it now: conid, where it came from, trading hours; and
/// one per configured symbol IBKR did not find.
pub async fn upstream(broker: &IbkrBroker) -> Result<Vec<String>, BrokerError> {
    let inner = &broker.inner;
    let table = inner.table().await?;
    let now = (inner.now)();
    let mut out = Vec::new();
    for e in &table.entries {
        let info = inner.catalog.contract(&inner.gateway, e.conid).await?;
        let source = match e.source {
            Source::Configured => "configured",
            Source::Searched => "found by secdef/search",
        };
        let hours = inner
            .catalog
            .trading_hours(&inner.gateway, e, &info, now, inner.config.outside_rth)
            .await;
        let hours = match (&hours, instrument(&e.symbol, &info)) {
            (Some(h), _) => format!("trading hours {}", h.describe()),
            (None, Ok(ins)) => {
                let row = symbol_info(&e.symbol, &ins, None);
                format!(
                    "no usable IBKR schedule, assumed {} {}",
                    row.timezone, row.session
                )
            }
            (None, Err(why)) => format!("not offered: {why}"),
        };
        out.push(format!(
            "{} (TradingView {}): conid {} ({source}); {hours}",
            e.symbol, e.tradingview, e.conid
        ));
    }
    for s in &inner.config.symbols {
        if table.by_symbol(&s.symbol).is_none() {
            out.push(format!("{}: IBKR found no contract; not offered", s.symbol));
        }
    }
    Ok(out)
}
