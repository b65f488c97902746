//! Market data on Capital.com: instruments with dealing rules, quote snapshots, live ticks from the
//! WebSocket, data-feed symbols and history from `/prices` (paged past the 1000-bar limit).

use super::client::{CallError, PricesQuery, Tokens};
use super::model::{self, MarketDetails};
use super::registry::Registry;
use super::session::{Kind, Upstream, UpstreamError};
use super::stream::{StreamTokens, TokenSource};
use super::{convert, Inner};
use crate::broker::{BrokerError, BrokerResult, SessionCtx};
use crate::tv;
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Bars per `/prices` request (the documented maximum).
const BARS_PER_REQUEST: i64 = 1000;
/// Most `/prices` requests one history call may make (20,000 upstream bars).
const MAX_PRICE_REQUESTS: usize = 20;
const DAY: i64 = 86_400;

/// Price of one unit of `from` in `to`, from a Capital.com FX market when one exists.
async fn conversion(inner: &Inner, upstream: &Upstream, from: &str, to: &str) -> Decimal {
    if from == to {
        return Decimal::ONE;
    }
    let direct = format!("{from}{to}");
    let inverse = format!("{to}{from}");
    let ctx = &inner.registry.ctx;
    let found = inner
        .catalog
        .details(ctx, upstream, &[direct.clone(), inverse.clone()])
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
    let details = inner
        .catalog
        .details(&inner.registry.ctx, &upstream, &epics)
        .await?;
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
            .call(&inner.registry.ctx, Kind::Read, |c, t| {
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

/// Live ticks of `symbol` from the WebSocket, with the day's bar kept from the market snapshot onwards.
pub(super) async fn subscribe_market(
    inner: &Inner,
    symbol: &str,
) -> BrokerResult<mpsc::Receiver<tv::MarketTick>> {
    let epic = inner.catalog.epic_of(symbol)?;
    let upstream = inner.registry.data_session().await?;
    let details = inner
        .catalog
        .detail(&inner.registry.ctx, &upstream, &epic)
        .await?;
    let mut quotes = inner.streams.subscribe(&epic).await?;
    let (tx, rx) = mpsc::channel(256);
    let symbol = symbol.to_string();
    let snapshot = details.snapshot.clone();
    tokio::spawn(async move {
        let mut day: Option<tv::Bar> = None;
        while let Some(q) = quotes.recv().await {
            let t = q.timestamp.div_euclid(1000);
            let day_start = t - t.rem_euclid(DAY);
            let bar = match day {
                Some(bar) if bar.t == day_start => bar.then(tv::Bar::trade(t, q.bid, Decimal::ZERO)),
                Some(_) => tv::Bar::trade(day_start, q.bid, Decimal::ZERO),
                None => first_day_bar(day_start, q.bid, &snapshot),
            };
            day = Some(bar);
            let tick = tv::MarketTick {
                symbol: symbol.clone(),
                t,
                bid: q.bid,
                ask: q.ofr,
                bid_size: q.bid_qty.unwrap_or_default(),
                ask_size: q.ofr_qty.unwrap_or_default(),
                // Capital.com has no trade prints: charts and `last` use the bid, like `/history`.
                last: q.bid,
                last_size: Decimal::ZERO,
                day: bar,
            };
            if tx.send(tick).await.is_err() {
                // The listener is gone: dropping `quotes` ends the upstream subscription.
                return;
            }
        }
    });
    Ok(rx)
}

/// The day's bar at the first tick: the snapshot's high and low, the open implied by the net change.
fn first_day_bar(day_start: i64, bid: Decimal, s: &model::MarketSnapshot) -> tv::Bar {
    let open = match (s.bid, s.net_change) {
        (Some(b), Some(change)) => b - change,
        _ => bid,
    };
    let high = s.high.unwrap_or(bid).max(bid).max(open);
    let low = s.low.unwrap_or(bid).min(bid).min(open);
    tv::Bar {
        t: day_start,
        open,
        high,
        low,
        close: bid,
        volume: Decimal::ZERO,
    }
}

/// `/symbol_info` rows of the offered instruments.
pub(super) async fn data_symbols(inner: &Inner) -> BrokerResult<Vec<tv::SymbolInfo>> {
    let upstream = inner.registry.data_session().await?;
    if inner.catalog.needs_load().await {
        inner.catalog.load(&inner.registry.ctx, &upstream).await?;
    }
    let entries = inner.catalog.entries();
    let epics: Vec<String> = entries.iter().map(|e| e.epic.clone()).collect();
    let details = inner
        .catalog
        .details(&inner.registry.ctx, &upstream, &epics)
        .await?;
    Ok(details
        .iter()
        .filter_map(|d| {
            let symbol = inner.catalog.symbol_of(&d.instrument.epic)?;
            Some(convert::symbol_info(&symbol, d))
        })
        .collect())
}

/// Bars of `symbol` starting in `[from, to]`, built from the coarsest upstream resolution that divides the
/// requested one, fetched in windows of at most 1000 bars.
pub(super) async fn history(inner: &Inner, query: &tv::HistoryQuery) -> BrokerResult<Vec<tv::Bar>> {
    let (symbol, resolution, to) = (query.symbol.as_str(), query.resolution, query.to);
    let from = match query.countback {
        Some(n) => {
            let len = resolution.fixed_secs().unwrap_or(31 * 86_400);
            to.saturating_sub(len.saturating_mul(n as i64))
        }
        None => query.from,
    };
    let epic = inner.catalog.epic_of(symbol)?;
    let upstream = inner.registry.data_session().await?;
    let base = convert::upstream_resolution(resolution);
    let Some(resolution_name) = base.as_str() else {
        return Err(BrokerError::Internal(format!(
            "no upstream resolution for {resolution}"
        )));
    };
    let to = to.min(chrono::Utc::now().timestamp());
    if from > to {
        return Ok(Vec::new());
    }
    let windows = convert::windows(base, from, to, BARS_PER_REQUEST);
    if windows.len() > MAX_PRICE_REQUESTS {
        return Err(BrokerError::Rejected(format!(
            "That range needs more than {} bars at resolution {resolution}; narrow it.",
            MAX_PRICE_REQUESTS as i64 * BARS_PER_REQUEST
        )));
    }
    let mut base_bars = Vec::new();
    for (start, end) in windows {
        let query = PricesQuery {
            resolution: resolution_name,
            max: BARS_PER_REQUEST as u32,
            from: Some(format_ts(start)?),
            to: Some(format_ts(end)?),
        };
        let answer = upstream
            .call(&inner.registry.ctx, Kind::Read, |c, t| {
                let (epic, query) = (epic.clone(), query.clone());
                async move { c.prices(&t, &epic, &query).await }
            })
            .await;
        match answer {
            Ok(prices) => base_bars.extend(convert::bars(&prices.prices)),
            // No prices in a window (market closed all along) is an empty window, not a failure.
            Err(UpstreamError::Call(CallError::Status { status: 404, .. })) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Windows are consecutive, but an upstream may repeat a boundary bar: keep one bar per start.
    base_bars.sort_by_key(|b| b.t);
    base_bars.dedup_by_key(|b| b.t);
    // Aggregating also re-aligns bars to TradingView's rules (it is the identity on aligned bars).
    let bars = convert::aggregate(base_bars, resolution);
    Ok(bars.into_iter().filter(|b| b.t >= from && b.t <= to).collect())
}

fn format_ts(t: i64) -> BrokerResult<String> {
    chrono::DateTime::from_timestamp(t, 0)
        .map(model::format_time)
        .ok_or_else(|| BrokerError::Rejected(format!("time {t} is out of range")))
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
        let tokens = upstream.tokens(&self.registry.ctx).await?;
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some((upstream, tokens.clone()));
        Ok(StreamTokens {
            cst: tokens.cst,
            security_token: tokens.security_token,
        })
    }

    fn invalidate(&self) {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((upstream, tokens)) = last {
            tokio::spawn(async move { upstream.invalidate(&tokens).await });
        }
    }
}
