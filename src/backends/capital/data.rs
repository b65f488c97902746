//! Market data on Capital.com: instruments with dealing rules, quote snapshots, live ticks from the
//! WebSocket (with the day's bar from `/prices`) and data-feed symbols; `/history` is in `prices.rs`.

use super::client::Tokens;
use super::model::MarketDetails;
use super::registry::Registry;
use super::session::{Kind, Upstream};
use super::stream::{StreamTokens, TokenSource};
use super::{convert, Inner};
use crate::broker::{BrokerError, BrokerResult, SessionCtx};
use crate::sync::MutexExt;
use crate::tv;
use crate::upstream::day_bars::{spawn_ticks, DayBar, Quote};
use crate::upstream::days::DayCut;
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Price of one unit of `from` in `to`, from a Capital.com FX market when one exists.
async fn conversion(inner: &Inner, upstream: &Upstream, from: &str, to: &str) -> Decimal {
    if from == to {
        return Decimal::ONE;
    }
    let direct = format!("{from}{to}");
    let inverse = format!("{to}{from}");
    let found = inner
        .catalog
        .details(upstream, &[direct.clone(), inverse.clone()])
        .await
        .unwrap_or_default();
    for d in found {
        let mid = match (d.snapshot.bid, d.snapshot.offer) {
            (Some(b), Some(o)) => (b + o) / Decimal::TWO,
            _ => continue,
        };
        if mid.is_zero() {
            continue;
        }
        if d.instrument.epic == direct {
            return mid;
        }
        return Decimal::ONE / mid;
    }
    tracing::warn!(%from, %to, "no Capital.com market converts these currencies; pip values are not converted");
    Decimal::ONE
}

/// `/instruments`: every offered instrument Capital.com knows, with dealing rules, pip values in the
/// account currency.
pub(super) async fn instruments(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
) -> BrokerResult<Vec<tv::Instrument>> {
    let info = inner.account_info(session, account)?;
    let upstream = inner.upstream(session)?;
    let entries = inner.catalog.entries();
    let epics: Vec<String> = entries.iter().map(|e| e.epic.clone()).collect();
    let details = inner.catalog.details(&upstream, &epics).await?;
    let mut out = Vec::with_capacity(details.len());
    for d in details {
        let Some(symbol) = inner.catalog.symbol_of(&d.instrument.epic) else {
            continue;
        };
        let rate = conversion(inner, &upstream, &d.instrument.currency, &info.currency).await;
        out.push(convert::instrument(&symbol, &d, rate));
    }
    Ok(out)
}

/// `/quotes` for symbols the quote hub has no tick for yet: fresh market snapshots.
pub(super) async fn quotes(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    symbols: &[String],
) -> BrokerResult<Vec<tv::QuoteEntry>> {
    let info = inner.account_info(session, account)?;
    let upstream = inner.upstream(session)?;
    let epics: Vec<(String, Option<String>)> = symbols
        .iter()
        .map(|s| (s.clone(), inner.catalog.epic_of(s).ok()))
        .collect();
    let wanted: Vec<String> = epics.iter().filter_map(|(_, e)| e.clone()).collect();
    let mut fresh: Vec<MarketDetails> = Vec::new();
    for chunk in wanted.chunks(50) {
        let chunk = chunk.to_vec();
        let answer = upstream
            .call(Kind::Read, |c, t| {
                let chunk = chunk.clone();
                async move { c.markets(&t, &chunk).await }
            })
            .await?;
        fresh.extend(answer.market_details);
    }
    let mut out = Vec::with_capacity(symbols.len());
    for (symbol, epic) in epics {
        let Some(epic) = epic else {
            out.push(tv::QuoteEntry::error(
                symbol.clone(),
                format!("Unknown instrument '{symbol}'"),
            ));
            continue;
        };
        let Some(d) = fresh.iter().find(|d| d.instrument.epic == epic) else {
            out.push(tv::QuoteEntry::error(
                symbol,
                format!("Capital.com has no market '{epic}'"),
            ));
            continue;
        };
        let (Some(bid), Some(ask)) = (d.snapshot.bid, d.snapshot.offer) else {
            out.push(tv::QuoteEntry::error(symbol, "No price is available right now"));
            continue;
        };
        let rate = conversion(inner, &upstream, &d.instrument.currency, &info.currency).await;
        let pip_value = convert::instrument(&symbol, d, rate).pip_value;
        out.push(tv::QuoteEntry::ok(
            symbol,
            tv::Quote {
                ask,
                bid,
                buy_pip_value: Some(pip_value),
                sell_pip_value: Some(pip_value),
            },
        ));
    }
    Ok(out)
}

/// Live ticks of `symbol` from the WebSocket, each with the day's bar up to it. The bar starts from the
/// day's bar of `/prices` (the one `/history` gives, so the chart's daily bar does not jump); ticks then
/// extend it. A tick of a day that bar does not cover (a new day) starts a new bar.
pub(super) async fn subscribe_market(
    inner: &Inner,
    symbol: &str,
) -> BrokerResult<mpsc::Receiver<tv::MarketTick>> {
    let epic = inner.catalog.epic_of(symbol)?;
    // Listen first, then read the day's bar: no quote can fall between the two.
    let quotes = inner.streams.subscribe(&epic).await?;
    let day: Option<tv::Bar> = match super::prices::newest_day(inner, &epic).await {
        Ok(bar) => bar,
        Err(e) => {
            tracing::debug!(error = %e, %symbol, "no daily bar to start the day bar from");
            None
        }
    };
    let day = DayBar::new(symbol.to_string(), DayCut::Utc, day);
    Ok(spawn_ticks(day, quotes, |q| Quote {
        t: q.timestamp.div_euclid(1000),
        // Capital.com has no trade prints: charts and `last` use the bid, like `/history`.
        bid: q.bid,
        ask: q.ofr,
        bid_size: q.bid_qty.unwrap_or_default(),
        ask_size: q.ofr_qty.unwrap_or_default(),
    }))
}

/// `/symbol_info` rows of the offered instruments.
pub(super) async fn data_symbols(inner: &Inner) -> BrokerResult<Vec<tv::SymbolInfo>> {
    let upstream = inner.registry.data_session().await?;
    if inner.catalog.needs_load().await {
        inner.catalog.load(&upstream).await?;
    }
    let entries = inner.catalog.entries();
    let epics: Vec<String> = entries.iter().map(|e| e.epic.clone()).collect();
    let details = inner.catalog.details(&upstream, &epics).await?;
    Ok(details
        .iter()
        .filter_map(|d| {
            let symbol = inner.catalog.symbol_of(&d.instrument.epic)?;
            Some(convert::symbol_info(&symbol, d))
        })
        .collect())
}

/// Hands the WebSocket the tokens of the market-data session.
pub(super) struct DataTokens {
    registry: Arc<Registry>,
    last: Mutex<Option<(Arc<Upstream>, Tokens)>>,
}

impl DataTokens {
    pub(super) fn new(registry: Arc<Registry>) -> Self {
        DataTokens {
            registry,
            last: Mutex::new(None),
        }
    }
}

#[async_trait::async_trait]
impl TokenSource for DataTokens {
    async fn tokens(&self) -> Result<StreamTokens, BrokerError> {
        let upstream = self.registry.data_session().await?;
        let tokens = upstream.tokens().await?;
        *self.last.locked() = Some((upstream, tokens.clone()));
        Ok(StreamTokens {
            cst: tokens.cst,
            security_token: tokens.security_token,
        })
    }

    fn invalidate(&self) {
        let last = self.last.locked().take();
        if let Some((upstream, tokens)) = last {
            tokio::spawn(async move { upstream.invalidate(&tokens).await });
        }
    }
}
