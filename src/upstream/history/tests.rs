//! The pager against a synthetic upstream of minute bars that closes for the weekend and pages like
//! OANDA (the newest `count` bars before a cursor; fewer means nothing older exists).

use super::*;
use crate::tv::{HistoryQuery, Resolution};
use rust_decimal::Decimal;

const MIN: i64 = 60;
const DAY: i64 = 86_400;
/// Friday 2026-01-09 22:00 UTC to Sunday 2026-01-11 22:00 UTC: closed.
const CLOSE: i64 = 1_767_996_000;
const OPEN: i64 = CLOSE + 2 * DAY;
/// The synthetic upstream's first minute.
const FIRST: i64 = CLOSE - 3 * DAY;

fn bar(t: i64) -> tv::Bar {
    let p = Decimal::from(1000 + (t / MIN) % 97);
    tv::Bar {
        t,
        open: p,
        high: p + Decimal::ONE,
        low: p - Decimal::ONE,
        close: p,
        volume: Decimal::ONE,
    }
}

/// Minute bars from `FIRST` to `last`, none in the weekend.
struct Minutes {
    cursor: i64,
    limit: usize,
    pages: usize,
}

impl Minutes {
    fn new(upper: i64, limit: usize) -> Minutes {
        Minutes {
            cursor: upper,
            limit,
            pages: 0,
        }
    }
}

#[async_trait]
impl Pages for Minutes {
    async fn next(&mut self, count: usize) -> BrokerResult<Page> {
        assert!(count >= 1 && count <= self.limit, "count {count}");
        self.pages += 1;
        let mut bars = Vec::new();
        let mut t = (self.cursor - 1).div_euclid(MIN) * MIN;
        while bars.len() < count && t >= FIRST {
            if !(CLOSE..OPEN).contains(&t) {
                bars.push(bar(t));
            }
            t -= MIN;
        }
        bars.reverse();
        let exhausted = bars.len() < count;
        let covered_from = bars.first().map(|b| b.t);
        if let Some(c) = covered_from {
            self.cursor = c;
        }
        Ok(Page {
            bars,
            covered_from,
            exhausted,
        })
    }

    fn page_limit(&self) -> usize {
        self.limit
    }
}

fn plan(resolution: Resolution, from: i64, to: i64, countback: Option<usize>) -> Plan {
    Plan {
        query: HistoryQuery {
            symbol: "X".into(),
            resolution,
            from,
            to,
            countback,
        },
        base_secs: MIN,
        exact: resolution == Resolution::Minutes(1),
        data_start: 0,
        max_pages: 20,
    }
}

async fn run(plan: &Plan, limit: usize) -> (Vec<tv::Bar>, usize) {
    let mut source = Minutes::new(plan.upper(), limit);
    let bars = collect(plan, &mut source).await.expect("bars");
    (bars, source.pages)
}

fn times(bars: &[tv::Bar]) -> Vec<i64> {
    bars.iter().map(|b| b.t).collect()
}

#[tokio::test]
async fn countback_reaches_across_the_weekend() {
    // Monday 00:30 UTC: only 150 minutes since the open; 300 bars reach back into Friday.
    let to = OPEN + 150 * MIN;
    let p = plan(Resolution::Minutes(1), 0, to, Some(300));
    let (bars, pages) = run(&p, 5000).await;
    assert_eq!(bars.len(), 300);
    assert_eq!(bars.last().map(|b| b.t), Some(to));
    assert_eq!(bars[0].t, CLOSE - 149 * MIN);
    assert_eq!(pages, 1, "one page of about 300 bars");
    // Five-minute bars: whole ones only, the newest 40.
    let p = plan(Resolution::Minutes(5), 0, to, Some(40));
    let (bars, _) = run(&p, 100).await;
    assert_eq!(bars.len(), 40);
    assert!(bars.iter().all(|b| b.t % 300 == 0));
    assert!(bars.iter().all(|b| b.volume == Decimal::from(5)), "whole bars");
}

#[tokio::test]
async fn split_ranges_equal_the_whole_and_nothing_lies_outside() {
    let from = CLOSE - 600 * MIN + 17;
    let to = OPEN + 400 * MIN + 5;
    for r in [
        Resolution::Minutes(1),
        Resolution::Minutes(7),
        Resolution::Minutes(60),
    ] {
        let (whole, _) = run(&plan(r, from, to, None), 250).await;
        let mid = CLOSE - 100 * MIN;
        let (a, _) = run(&plan(r, from, mid - 1, None), 250).await;
        let (b, _) = run(&plan(r, mid, to, None), 250).await;
        let mut joined = a.clone();
        joined.extend(b);
        assert_eq!(times(&joined), times(&whole), "{r}");
        assert_eq!(joined, whole, "{r}");
        assert!(whole.iter().all(|x| x.t >= from && x.t <= to), "{r}");
    }
}

#[tokio::test]
async fn a_range_too_long_keeps_its_newest_whole_bars() {
    let to = OPEN + 3000 * MIN;
    let mut p = plan(Resolution::Minutes(15), FIRST, to, None);
    p.max_pages = 3;
    let (bars, pages) = run(&p, 100).await;
    assert_eq!(pages, 3);
    assert_eq!(bars.len(), 20, "300 minutes make 20 whole quarters");
    assert_eq!(bars.last().map(|b| b.t), Some(to));
    assert!(
        bars.iter().all(|b| b.volume == Decimal::from(15)),
        "only whole bars"
    );
}

#[tokio::test]
async fn the_data_start_clips_and_an_older_range_is_empty() {
    let mut p = plan(Resolution::Minutes(1), 0, OPEN + 10 * MIN, None);
    p.data_start = OPEN;
    let (bars, pages) = run(&p, 5000).await;
    assert_eq!(times(&bars), (0..=10).map(|k| OPEN + k * MIN).collect::<Vec<_>>());
    assert_eq!(pages, 1);
    let mut before = plan(Resolution::Minutes(1), 0, OPEN - 1, None);
    before.data_start = OPEN;
    let (bars, pages) = run(&before, 5000).await;
    assert!(bars.is_empty());
    assert_eq!(pages, 0, "no upstream call");
    // The year 1800 with no data start: the bars that exist, none refused.
    let p = plan(Resolution::Days(1), -5_364_662_400, OPEN + DAY, None);
    let (bars, _) = run(&p, 5000).await;
    assert_eq!(
        bars.len(),
        6,
        "Tuesday evening to Friday, Sunday evening and Monday"
    );
}

#[tokio::test]
async fn an_unaligned_to_still_gets_its_whole_last_bar() {
    let to = OPEN + 62 * MIN + 7;
    let (bars, _) = run(&plan(Resolution::Minutes(60), OPEN, to, None), 5000).await;
    assert_eq!(times(&bars), [OPEN, OPEN + 3600]);
    assert_eq!(bars[1].volume, Decimal::from(60));
}
