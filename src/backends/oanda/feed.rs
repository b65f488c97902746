//! The data feed on OANDA: `/mapping`, `/symbol_info`, `/history` and live ticks for `/streaming` and the
//! quote streams, all through the data token (or a logged-in user's, see the registry).

use super::history;
use super::registry::DataSource;
use super::venue::{CandleQuery, CandleSide, Granularity, Venue};
use super::{convert, unknown_symbol, Inner};
use crate::broker::BrokerResult;
use crate::tv;
use crate::upstream::day_bars::{spawn_ticks, DayBar, Quote};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Charts are drawn from bid prices (FX convention; the streams' `last` is the bid too, so that bars built
/// from `/streaming` match `/history`).
const CHART_SIDE: CandleSide = CandleSide::Bid;

/// The data source with its catalog and venue.
async fn source(
    inner: &Inner,
) -> BrokerResult<(Arc<DataSource>, Arc<super::AccountCatalog>, Arc<dyn Venue>)> {
    let source = inner.registry.data_source().await?;
    let catalog = inner.catalog(&source.conn, &source.account).await?;
    let venue = inner.venue(&source.account);
    Ok((source, catalog, venue))
}

pub(super) async fn symbol_mapping(inner: &Inner) -> BrokerResult<Vec<tv::SymbolMapping>> {
    // Configured instruments need no upstream call (`/mapping` is asked before anyone logs in).
    if !inner.rules.offered().is_empty() {
        return Ok(inner
            .rules
            .offered()
            .iter()
            .map(|i| convert::mapping(&inner.rules, i))
            .collect());
    }
    let (_, catalog, _) = source(inner).await?;
    Ok(catalog
        .offered()
        .iter()
        .map(|s| convert::mapping(&inner.rules, &s.name))
        .collect())
}

pub(super) async fn data_symbols(inner: &Inner) -> BrokerResult<Vec<tv::SymbolInfo>> {
    let (_, catalog, _) = source(inner).await?;
    Ok(catalog
        .offered()
        .iter()
        .map(|spec| convert::symbol_info(&catalog.symbol(&spec.name), spec))
        .collect())
}

pub(super) async fn history(inner: &Inner, query: &tv::HistoryQuery) -> BrokerResult<Vec<tv::Bar>> {
    let (source, catalog, venue) = source(inner).await?;
    let spec = catalog
        .by_symbol(&query.symbol)
        .ok_or_else(|| unknown_symbol(&query.symbol))?;
    let candles = history::Source {
        venue: &*venue,
        conn: &source.conn,
        account: &source.account,
        instrument: &spec.name,
        side: CHART_SIDE,
        day_cut: convert::day_cut(spec.kind),
    };
    let limits = history::Limits {
        data_start: inner.config.data_start,
        max_pages: inner.config.history_max_pages,
        now: (inner.now)(),
    };
    history::history(&candles, query, limits).await
}

/// Live ticks of `symbol`, each with its trading day's bar up to it. The bar starts from the day's
/// candle (the same one `/history` gives, so the chart's daily bar does not jump); ticks then extend it.
/// A tick of a day the candle does not cover (a new day) starts a new bar.
pub(super) async fn subscribe_market(
    inner: &Inner,
    symbol: &str,
) -> BrokerResult<mpsc::Receiver<tv::MarketTick>> {
    let (source, catalog, venue) = source(inner).await?;
    let spec = catalog.by_symbol(symbol).ok_or_else(|| unknown_symbol(symbol))?;
    // Listen first, then read the day's candle: no tick can fall between the two.
    let prices = inner.prices.subscribe(&spec.name);
    let day_cut = convert::day_cut(spec.kind);
    let query = CandleQuery {
        instrument: spec.name.clone(),
        granularity: Granularity::D,
        side: CHART_SIDE,
        before: None,
        count: 1,
        day_cut,
    };
    let day: Option<tv::Bar> = match venue.candles(&source.conn, &source.account, &query).await {
        Ok(candles) => candles.last().map(|c| tv::Bar {
            t: day_cut.day_of(c.time.timestamp()),
            ..history::bar(c)
        }),
        Err(e) => {
            tracing::debug!(error = %e, %symbol, "no daily candle to start the day bar from");
            None
        }
    };
    let day = DayBar::new(catalog.symbol(&spec.name), day_cut, day);
    Ok(spawn_ticks(day, prices, |p| Quote {
        t: p.time.timestamp(),
        bid: p.bid,
        ask: p.ask,
        bid_size: p.bid_size.unwrap_or_default(),
        ask_size: p.ask_size.unwrap_or_default(),
    }))
}
