//! `/history` from `/iserver/marketdata/history`: the IBKR bar a resolution is built from, and pages of
//! bars the shared pager ([`crate::upstream::history`]) walks backward from `to`, at most 1000 bars each
//! (IBKR's limit per answer) and at most five requests in flight (the client's history lane).

use super::client::HistoryQuery;
use super::convert::market::{bar, base_bar, period, start_time};
use super::session::Gateway;
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use crate::upstream::history::{collect, Page, Pages, Plan};
use async_trait::async_trait;

/// IBKR's most data points per history answer.
pub const MAX_BARS_PER_REQUEST: usize = 1000;

/// Pages of one contract's bars, newest first.
struct BarPages<'a> {
    gateway: &'a Gateway,
    conid: i64,
    bar: &'static str,
    secs: i64,
    daily: bool,
    outside_rth: bool,
    /// The next page holds bars starting before this.
    before: i64,
    /// The last page held no bar (a weekend, a holiday): the next asks for as many as one answer holds,
    /// so that a closed market is crossed in a few requests, not in one per missing bar.
    crossing_closed: bool,
}

#[async_trait]
impl Pages for BarPages<'_> {
    async fn next(&mut self, count: usize) -> BrokerResult<Page> {
        let count = if self.crossing_closed {
            MAX_BARS_PER_REQUEST
        } else {
            count
        };
        let (period, count) = period(count.clamp(1, MAX_BARS_PER_REQUEST), self.secs);
        let start = self.before - count as i64 * self.secs;
        let query = HistoryQuery {
            conid: self.conid,
            period,
            bar: self.bar.to_string(),
            start_time: Some(
                start_time(start)
                    .ok_or_else(|| BrokerError::Internal("history start out of range".into()))?,
            ),
            outside_rth: self.outside_rth,
        };
        let answer = self
            .gateway
            .call("reading history", |api| {
                let q = query.clone();
                async move { api.history(&q).await }
            })
            .await?;
        let bars: Vec<tv::Bar> = answer
            .data
            .iter()
            .map(|b| bar(b, self.daily))
            .filter(|b| b.t < self.before)
            .collect();
        self.before = start;
        self.crossing_closed = bars.is_empty();
        Ok(Page {
            bars,
            // The request spanned [start, before): whatever it did not return does not exist.
            covered_from: Some(start),
            exhausted: false,
        })
    }

    fn page_limit(&self) -> usize {
        MAX_BARS_PER_REQUEST
    }
}

/// What bounds one `/history` answer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub data_start: i64,
    pub max_pages: usize,
    pub outside_rth: bool,
    /// The bridge's "now": `to` is clipped to it, so IBKR is never asked for bars that cannot exist yet.
    pub now: i64,
}

/// The bars of `query` for `conid`.
pub async fn history(
    gateway: &Gateway,
    conid: i64,
    query: &tv::HistoryQuery,
    limits: Limits,
) -> BrokerResult<Vec<tv::Bar>> {
    let (bar_name, secs, exact) = base_bar(query.resolution);
    let mut query = query.clone();
    query.to = query.to.min(limits.now);
    let plan = Plan {
        query,
        base_secs: secs,
        exact,
        data_start: limits.data_start,
        max_pages: limits.max_pages,
    };
    let mut pages = BarPages {
        gateway,
        conid,
        bar: bar_name,
        secs,
        daily: secs == 86_400,
        outside_rth: limits.outside_rth,
        before: plan.upper(),
        crossing_closed: false,
    };
    collect(&plan, &mut pages).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::ibkr::testing::{fixture, ScriptedApi};
    use std::sync::Arc;

    #[tokio::test]
    async fn pages_walk_back_from_to_and_bars_are_clipped_to_the_range() {
        let api = Arc::new(ScriptedApi::default());
        api.open_session().ok("history", &fixture("history.json"));
        let gateway = Gateway::new(api.clone());
        // The fixture's three minute bars start at 1702305000, +60, +120.
        let query = tv::HistoryQuery {
            symbol: "AAPL".into(),
            resolution: tv::Resolution::Minutes(1),
            from: 1_702_305_060,
            to: 1_702_305_179,
            countback: None,
        };
        let limits = Limits {
            data_start: 0,
            max_pages: 3,
            outside_rth: false,
            now: 1_702_306_000,
        };
        let bars = history(&gateway, 265598, &query, limits).await.unwrap();
        assert_eq!(
            bars.iter().map(|b| b.t).collect::<Vec<_>>(),
            [1_702_305_060, 1_702_305_120]
        );
        let calls = api.calls();
        let h: Vec<&String> = calls.iter().filter(|c| c.starts_with("history:")).collect();
        assert_eq!(h.len(), 1, "one page covered the range: {h:?}");
        assert!(
            h[0].starts_with("history:265598/") && h[0].contains("/1min/"),
            "{}",
            h[0]
        );
    }

    #[tokio::test]
    async fn after_an_empty_page_a_whole_answer_is_asked_for_to_cross_a_closed_market() {
        let api = Arc::new(ScriptedApi::default());
        let older = r#"{"data":[
            {"t":1702299960000,"o":1,"h":2,"l":1,"c":2,"v":5},
            {"t":1702300020000,"o":2,"h":3,"l":2,"c":3,"v":5},
            {"t":1702300080000,"o":3,"h":3,"l":1,"c":1,"v":5}]}"#;
        api.open_session()
            .ok("history", r#"{"data":[]}"#)
            .ok("history", older);
        let gateway = Gateway::new(api.clone());
        let query = tv::HistoryQuery {
            symbol: "EURUSD".into(),
            resolution: tv::Resolution::Minutes(1),
            from: 1_702_305_179,
            to: 1_702_305_179,
            countback: Some(3),
        };
        let limits = Limits {
            data_start: 0,
            max_pages: 2,
            outside_rth: false,
            now: 1_702_306_000,
        };
        let bars = history(&gateway, 12087792, &query, limits).await.unwrap();
        assert_eq!(
            bars.iter().map(|b| b.t).collect::<Vec<_>>(),
            [1_702_299_960, 1_702_300_020, 1_702_300_080]
        );
        let pages: Vec<String> = api
            .calls()
            .into_iter()
            .filter(|c| c.starts_with("history:"))
            .collect();
        assert!(pages[0].contains("/5min/1min/"), "a few bars first: {pages:?}");
        assert!(
            pages[1].contains("/8h/1min/"),
            "then as many as one answer holds: {pages:?}"
        );
    }

    #[tokio::test]
    async fn a_to_in_the_future_is_clipped_to_now() {
        let api = Arc::new(ScriptedApi::default());
        api.open_session().ok("history", &fixture("history.json"));
        let gateway = Gateway::new(api.clone());
        let query = tv::HistoryQuery {
            symbol: "AAPL".into(),
            resolution: tv::Resolution::Minutes(1),
            from: 1_702_305_000,
            to: 1_702_999_999,
            countback: None,
        };
        let limits = Limits {
            data_start: 0,
            max_pages: 3,
            outside_rth: false,
            now: 1_702_305_179,
        };
        let bars = history(&gateway, 265598, &query, limits).await.unwrap();
        assert_eq!(bars.len(), 3);
        let first = api
            .calls()
            .into_iter()
            .find(|c| c.starts_with("history:"))
            .unwrap();
        // The first page ends after now's minute (14:32), not at the future `to`.
        assert!(first.ends_with("/5min/1min/20231211-14:28:00"), "{first}");
    }
}
