//! `/history` over an upstream that serves bars in pages: page backward from `to` until the range, or
//! `countback` whole bars, is covered, nothing older exists, the data start is reached or the page budget
//! is spent; then aggregate the base bars into TradingView's resolution, keep only whole bars and only
//! those inside the range. One shape for every upstream, so that every backend answers the same way:
//! the bars that exist, the newest ones when the range is too long, never a bar outside `[from, to]`.
//!
//! Paging backward is what makes `countback` right on markets that close (a weekend holds no bars, so
//! `countback` bars reach further back than `countback` bar lengths), and what makes a range too long
//! for the budget keep its newest bars. The work is plain `async` code in the caller's future: when the
//! client goes away the handler's future is dropped and no further page is asked for.

use super::bars::{aggregate, bar_start};
use crate::broker::BrokerResult;
use crate::tv;
use async_trait::async_trait;

/// One page of base bars, older than every page before it.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Base bars stamped as TradingView files them (daily bars at 00:00 UTC of their trading day).
    pub bars: Vec<tv::Bar>,
    /// Every base bar starting at or after this time is in this page or a newer one; `None` when the
    /// page proved nothing (it was empty and the source cannot tell).
    pub covered_from: Option<i64>,
    /// Nothing older exists upstream.
    pub exhausted: bool,
}

/// An upstream's pages, newest first. A source keeps its own cursor (in its own time stamps).
#[async_trait]
pub trait Pages: Send {
    /// The next older page, holding about `count` base bars (at most [`Pages::page_limit`]).
    async fn next(&mut self, count: usize) -> BrokerResult<Page>;
    /// Most base bars one page can hold.
    fn page_limit(&self) -> usize;
}

/// What one `/history` answer asks of the pager.
#[derive(Debug, Clone)]
pub struct Plan {
    pub query: tv::HistoryQuery,
    /// Seconds of one base bar (an upper bound for daily bars, which is all the estimate needs).
    pub base_secs: i64,
    /// Whether base bars are TradingView bars as they are.
    pub exact: bool,
    /// The upstream's data start: bars before it are not asked for, nor answered.
    pub data_start: i64,
    /// Pages one answer may fetch.
    pub max_pages: usize,
}

/// Seconds of one bar of `r`, months counted long.
fn bar_secs(r: tv::Resolution) -> i64 {
    r.fixed_secs()
        .unwrap_or_else(|| match r {
            tv::Resolution::Months(n) => i64::from(n) * 31 * 86_400,
            _ => 86_400,
        })
        .max(1)
}

impl Plan {
    /// The end (exclusive) of the last bar the answer may hold: base bars from here on are not needed.
    /// Sources start their first page below it.
    pub fn upper(&self) -> i64 {
        let r = self.query.resolution;
        match bar_start(self.query.to, r) {
            Some(last) => self.next_start(last),
            None => self.query.to.saturating_add(1),
        }
    }

    /// The first TradingView bar start the answer may hold (`None` with `countback`).
    fn first_wanted(&self) -> Option<i64> {
        if self.query.countback.is_some() {
            return None;
        }
        let from = self.query.from.max(self.data_start);
        let start = bar_start(from, self.query.resolution).unwrap_or(from);
        Some(if start < from {
            self.next_start(start)
        } else {
            start
        })
    }

    /// The start of the bar after the one starting at `start`.
    fn next_start(&self, start: i64) -> i64 {
        let r = self.query.resolution;
        let mut t = start.saturating_add(bar_secs(r));
        // Months vary: step back to the start of the month the estimate landed in.
        if let Some(s) = bar_start(t, r) {
            if s > start {
                t = s;
            }
        }
        t
    }

    /// Base bars the next page should hold, given what is already covered.
    fn wanted(&self, covered: i64, whole: usize, limit: usize) -> usize {
        let estimate = match (self.query.countback, self.first_wanted()) {
            (Some(n), _) => {
                let per_bar = (bar_secs(self.query.resolution) / self.base_secs).max(1);
                (n.saturating_sub(whole) as i64).saturating_mul(per_bar)
            }
            (None, Some(first)) => covered.saturating_sub(first) / self.base_secs,
            (None, None) => 0,
        };
        usize::try_from(estimate.saturating_add(2))
            .unwrap_or(usize::MAX)
            .clamp(1, limit.max(1))
    }
}

/// The bars of `plan`'s query from `source`, oldest first: whole bars only, inside the range (or the
/// newest `countback` of them), none before the data start.
pub async fn collect(plan: &Plan, source: &mut dyn Pages) -> BrokerResult<Vec<tv::Bar>> {
    let q = &plan.query;
    let Some(last_wanted) = bar_start(q.to, q.resolution) else {
        return Ok(Vec::new());
    };
    if last_wanted.saturating_add(bar_secs(q.resolution)) <= plan.data_start {
        return Ok(Vec::new());
    }
    if plan.first_wanted().is_some_and(|first| first > q.to) {
        return Ok(Vec::new());
    }
    let mut base: Vec<tv::Bar> = Vec::new();
    let upper = plan.upper();
    let mut covered = upper;
    let mut exhausted = false;
    for _ in 0..plan.max_pages {
        let whole = match q.countback {
            Some(_) => finish(plan, base.clone(), (covered, upper), false).len(),
            None => 0,
        };
        if q.countback.is_some_and(|n| whole >= n) {
            break;
        }
        let page = source
            .next(plan.wanted(covered, whole, source.page_limit()))
            .await?;
        base.extend(page.bars);
        if let Some(c) = page.covered_from {
            covered = covered.min(c);
        }
        // Everything from the data start on is there: nothing older would be answered anyway.
        if page.exhausted || covered <= plan.data_start {
            exhausted = true;
            break;
        }
        if plan.first_wanted().is_some_and(|first| covered <= first) {
            break;
        }
    }
    Ok(finish(plan, base, (covered, upper), exhausted))
}

/// Base bars to the answer: deduplicated, aggregated, whole bars only (a bar starting before `covered`
/// may miss base bars, unless nothing older exists), none before the data start, inside the range.
fn finish(
    plan: &Plan,
    mut base: Vec<tv::Bar>,
    (covered, upper): (i64, i64),
    exhausted: bool,
) -> Vec<tv::Bar> {
    let q = &plan.query;
    base.sort_by_key(|b| b.t);
    base.dedup_by_key(|b| b.t);
    base.retain(|b| b.t >= plan.data_start && b.t < upper);
    let mut bars = if plan.exact {
        base
    } else {
        aggregate(base, q.resolution)
    };
    bars.retain(|b| (exhausted || b.t >= covered) && b.t <= q.to && b.t >= plan.data_start);
    match (q.countback, plan.first_wanted()) {
        (Some(n), _) => {
            let skip = bars.len().saturating_sub(n);
            bars.drain(..skip);
        }
        (None, Some(first)) => bars.retain(|b| b.t >= first),
        (None, None) => {}
    }
    bars
}

#[cfg(test)]
mod tests;
