//! `/history` and the day bar from Capital.com's `GET /prices/{epic}`: pages of at most 1000 bars walked
//! backward by the shared pager ([`crate::upstream::history`]). The newest page leaves `from` and `to`
//! out (the newest `max` bars, as the documented default of "the last 10 minutes" does); older pages are
//! windows of 1000 bar slots with both `from` and `to`, as the official example sends them. A window
//! without bars (a closed market) is an empty page, not the end: only the data start ends the walk.

use super::client::{CallError, PricesQuery};
use super::model;
use super::session::{Kind, Upstream, UpstreamError};
use super::{convert, Inner};
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use crate::upstream::history::{collect, Page, Pages, Plan};
use async_trait::async_trait;
use std::sync::Arc;

/// Bars per `/prices` request (the documented maximum).
const BARS_PER_REQUEST: usize = 1000;
/// A `to` this close to the bridge's clock is asked as "the newest bars": Capital.com's clock and the
/// bridge's may differ a little, and the newest page needs neither.
const RECENT_SECS: i64 = 600;

/// `/prices` pages of one epic at one resolution, newest first.
struct PricePages<'a> {
    inner: &'a Inner,
    upstream: Arc<Upstream>,
    epic: String,
    resolution: model::Resolution,
    /// The next page holds bars starting before this; `None`: the newest bars.
    before: Option<i64>,
    /// Where the walk ends.
    data_start: i64,
    /// Windows in a row that held no bar (a closed market): each next window doubles, up to the limit.
    empty_windows: u32,
}

impl PricePages<'_> {
    /// One `/prices` call; no bars at all (404 `error.prices.not-found`) is an empty list.
    async fn fetch(&self, query: PricesQuery) -> BrokerResult<Vec<tv::Bar>> {
        let answer = self
            .upstream
            .call(Kind::Read, |c, t| {
                let (epic, query) = (self.epic.clone(), query.clone());
                async move { c.prices(&t, &epic, &query).await }
            })
            .await;
        match answer {
            Ok(prices) => Ok(convert::bars(&prices.prices)),
            Err(UpstreamError::Call(CallError::Status { status: 404, .. })) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }
}

fn format_ts(t: i64) -> BrokerResult<String> {
    chrono::DateTime::from_timestamp(t, 0)
        .map(model::format_time)
        .ok_or_else(|| BrokerError::Rejected(format!("time {t} is out of range")))
}

#[async_trait]
impl Pages for PricePages<'_> {
    async fn next(&mut self, count: usize) -> BrokerResult<Page> {
        let count = count.clamp(1, BARS_PER_REQUEST);
        let Some(name) = self.resolution.as_str() else {
            return Err(BrokerError::Internal(format!(
                "no upstream resolution name for {:?}",
                self.resolution
            )));
        };
        let len = convert::resolution_secs(self.resolution);
        let Some(before) = self.before else {
            let bars = self
                .fetch(PricesQuery {
                    resolution: name,
                    max: count as u32,
                    from: None,
                    to: None,
                })
                .await?;
            let oldest = bars.iter().map(|b| b.t).min();
            self.before = oldest.or(Some((self.inner.now)()));
            return Ok(Page {
                covered_from: oldest,
                bars,
                exhausted: false,
            });
        };
        // A closed market leaves windows empty: widen them, so a weekend costs a few requests, not many.
        let slots = (count << self.empty_windows.min(10)).min(BARS_PER_REQUEST);
        // Window starts stay on bar starts, so a window holds at most `slots` of them.
        let first_slot = self.data_start - self.data_start.rem_euclid(len);
        let start = before.saturating_sub(slots as i64 * len).max(first_slot);
        if start >= before {
            return Ok(Page {
                bars: Vec::new(),
                covered_from: Some(before),
                exhausted: true,
            });
        }
        let bars = self
            .fetch(PricesQuery {
                resolution: name,
                max: BARS_PER_REQUEST as u32,
                from: Some(format_ts(start)?),
                to: Some(format_ts(before - 1)?),
            })
            .await?;
        self.before = Some(start);
        self.empty_windows = if bars.is_empty() {
            self.empty_windows + 1
        } else {
            0
        };
        Ok(Page {
            bars,
            covered_from: Some(start),
            exhausted: start <= self.data_start,
        })
    }

    fn page_limit(&self) -> usize {
        BARS_PER_REQUEST
    }
}

/// Bars of `query` (see [`tv::HistoryQuery`]) from the upstream resolution that serves it.
pub(super) async fn history(inner: &Inner, query: &tv::HistoryQuery) -> BrokerResult<Vec<tv::Bar>> {
    let epic = inner.catalog.epic_of(&query.symbol)?;
    let upstream = inner.registry.data_session().await?;
    let base = convert::upstream_resolution(query.resolution);
    let base_secs = convert::resolution_secs(base);
    let plan = Plan {
        query: query.clone(),
        base_secs,
        // Aggregating also re-aligns upstream bars to TradingView's rules (the identity on aligned bars).
        exact: false,
        data_start: inner.data_start,
        max_pages: inner.history_max_pages,
    };
    let upper = plan.upper();
    let recent = upper >= (inner.now)() - RECENT_SECS;
    let mut pages = PricePages {
        inner,
        upstream,
        epic,
        resolution: base,
        before: (!recent).then_some(upper),
        data_start: inner.data_start,
        empty_windows: 0,
    };
    collect(&plan, &mut pages).await
}

/// The newest daily bar of `epic` as `/history` gives it (the current day's, while the market trades).
pub(super) async fn newest_day(inner: &Inner, epic: &str) -> BrokerResult<Option<tv::Bar>> {
    let upstream = inner.registry.data_session().await?;
    let pages = PricePages {
        inner,
        upstream,
        epic: epic.to_string(),
        resolution: model::Resolution::Day,
        before: None,
        data_start: inner.data_start,
        empty_windows: 0,
    };
    let bars = pages
        .fetch(PricesQuery {
            resolution: "DAY",
            max: 1,
            from: None,
            to: None,
        })
        .await?;
    Ok(convert::aggregate(bars, tv::Resolution::Days(1)).pop())
}
