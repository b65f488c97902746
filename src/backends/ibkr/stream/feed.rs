//! Streamed IBKR quotes to TradingView market ticks for the quote hub and the data feed's `/streaming`:
//! each tick carries the day's bar up to it, starting from the daily bar `/history` gives
//! ([`crate::upstream::day_bars`]).

use super::frames::QuoteState;
use super::{IbkrStreams, Push};
use crate::backends::ibkr::convert::market::quote;
use crate::backends::ibkr::history::{self, Limits};
use crate::backends::ibkr::model::market::{ASK_SIZE, BID_SIZE};
use crate::backends::ibkr::session::Gateway;
use crate::broker::BrokerResult;
use crate::tv;
use crate::upstream::day_bars::{DayBar, Quote};
use crate::upstream::days::DayCut;
use rust_decimal::Decimal;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// How far back the day's bar is looked for (a long weekend and a holiday).
const DAY_BAR_LOOKBACK: i64 = 7 * 86_400;

/// Live ticks of `symbol` (contract `conid`, whose sizes IBKR shows divided by `size_scale`). Listens
/// first, then reads the day's bar, so no quote falls between the two; without a day's bar the first quote
/// starts one.
pub async fn ticks(
    streams: &IbkrStreams,
    gateway: &Gateway,
    symbol: &str,
    (conid, size_scale): (i64, Decimal),
    limits: Limits,
) -> BrokerResult<mpsc::Receiver<tv::MarketTick>> {
    let mut quotes = streams.quotes(conid)?;
    // The bridge's clock (a test's fake clock), the same "now" `/history` clips to.
    let now = limits.now;
    let query = tv::HistoryQuery {
        symbol: symbol.to_string(),
        resolution: tv::Resolution::Days(1),
        from: now - DAY_BAR_LOOKBACK,
        to: now,
        countback: Some(1),
    };
    let day = match history::history(gateway, conid, &query, limits).await {
        Ok(bars) => bars.last().copied(),
        Err(e) => {
            tracing::debug!(error = %e, %symbol, "no daily bar to start the day bar from");
            None
        }
    };
    // IBKR's daily bars are filed at 00:00 UTC of their date (see `convert::market::bar`).
    let mut day = DayBar::new(symbol.to_string(), DayCut::Utc, day);
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        while let Some(push) = quotes.recv().await {
            let Push::Quote(state) = push else { continue };
            let Some(q) = read(&state, size_scale) else {
                continue;
            };
            if tx.send(day.tick(&q)).await.is_err() {
                return;
            }
        }
    });
    Ok(rx)
}

/// The day-bar fold's view of a whole quote; `None` without a readable bid and ask. Sizes are multiplied
/// by `size_scale` (see [`crate::backends::ibkr::convert::market::size_scale`]); a size IBKR abbreviates or
/// leaves out counts as zero (sizes are informative only).
pub(super) fn read(state: &QuoteState, size_scale: Decimal) -> Option<Quote> {
    let q = quote(&state.row).ok()??;
    let size = |field| match state.row.value(field) {
        Ok(Some((v, _))) => v * size_scale,
        _ => Decimal::ZERO,
    };
    Some(Quote {
        t: state.updated_ms.map_or_else(unix_now, |ms| ms.div_euclid(1000)),
        bid: q.bid,
        ask: q.ask,
        bid_size: size(BID_SIZE),
        ask_size: size(ASK_SIZE),
    })
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
