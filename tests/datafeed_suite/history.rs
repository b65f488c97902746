//! `/history` properties: bars ascending, aligned and inside `[from, to]` at every resolution; the same
//! query gives the same bars and split queries equal one long query; a `to` in the future ends at the
//! latest bar; an empty range (in the future, or wholly before the data start) is `s:"ok"` with empty
//! arrays; `countback` gives exactly that many bars
//! when they exist (across a market's closed hours too) and agrees with the range query; daily bars
//! asked back to 1800 are answered.

use super::{aligned, bars, monday_before, Bar, Feed, DAY, MINUTE, YEAR_1800};

/// Resolutions with a past range `[now - back, now - gap]` (unaligned ends) to query at each.
const RANGES: [(&str, i64, i64); 7] = [
    ("1", 6 * 3600, 3600),
    ("5", 2 * DAY, 2 * 3600),
    ("60", 10 * DAY, DAY),
    ("240", 30 * DAY, DAY),
    ("D", 120 * DAY, DAY),
    ("W", 400 * DAY, 7 * DAY),
    ("M", 3 * 365 * DAY, 31 * DAY),
];

fn query(feed: &Feed, resolution: &str, from: i64, to: i64) -> String {
    format!("symbol={}&resolution={resolution}&from={from}&to={to}", feed.fx)
}

/// Asserts the bars are ascending, aligned, inside `[from, to]` and well-formed.
fn check(bars: &[Bar], resolution: &str, from: i64, to: i64) {
    for w in bars.windows(2) {
        assert!(w[0].t < w[1].t, "{resolution}: ascending, no repeats");
    }
    for b in bars {
        assert!(aligned(b.t, resolution), "{resolution}: {} is not aligned", b.t);
        assert!(
            b.t >= from && b.t <= to,
            "{resolution}: {} outside [{from}, {to}]",
            b.t
        );
        assert!(b.l <= b.o.min(b.c) && b.h >= b.o.max(b.c), "{resolution}: {b:?}");
    }
}

pub async fn bars_are_ascending_aligned_and_inside_the_range(feed: &Feed) {
    let now = feed.now();
    for (resolution, back, gap) in RANGES {
        let (from, to) = (now - back + 17, now - gap - 5);
        let got = bars(&feed.history(&query(feed, resolution, from, to)).await);
        assert!(!got.is_empty(), "{resolution}: bars exist in [{from}, {to}]");
        check(&got, resolution, from, to);
    }
}

pub async fn the_same_query_gives_the_same_bars_and_split_queries_equal_one_long_one(feed: &Feed) {
    let now = feed.now();
    for (resolution, back, gap) in RANGES {
        let (from, to) = (now - back + 17, now - gap - 5);
        let whole = bars(&feed.history(&query(feed, resolution, from, to)).await);
        let again = bars(&feed.history(&query(feed, resolution, from, to)).await);
        assert_eq!(whole, again, "{resolution}: the same query, the same bars");
        // Split at unaligned points into three parts.
        let (a, b) = (from + (to - from) / 3 + 7, from + 2 * (to - from) / 3 + 11);
        let mut parts = Vec::new();
        for (f, t) in [(from, a), (a + 1, b), (b + 1, to)] {
            parts.extend(bars(&feed.history(&query(feed, resolution, f, t)).await));
        }
        assert_eq!(parts, whole, "{resolution}: split queries equal the whole");
    }
}

/// `fine` grouped into the bars starting at `start_of(t)`.
fn aggregate(fine: &[Bar], start_of: impl Fn(i64) -> i64) -> Vec<Bar> {
    let mut out: Vec<Bar> = Vec::new();
    for b in fine {
        let t = start_of(b.t);
        match out.last_mut() {
            Some(last) if last.t == t => {
                last.h = last.h.max(b.h);
                last.l = last.l.min(b.l);
                last.c = b.c;
                last.v += b.v;
            }
            _ => out.push(Bar { t, ..b.clone() }),
        }
    }
    out
}

pub async fn coarser_bars_are_the_aggregation_of_finer_ones(feed: &Feed) {
    let now = feed.now();
    // Whole bars only: a range of past, complete periods.
    let hour = now - now % 3600 - 6 * 3600;
    let minutes = bars(&feed.history(&query(feed, "1", hour, hour + 4 * 3600 - 1)).await);
    for (resolution, len) in [("5", 300), ("15", 900), ("60", 3600)] {
        let coarse = bars(
            &feed
                .history(&query(feed, resolution, hour, hour + 4 * 3600 - 1))
                .await,
        );
        assert_eq!(
            coarse,
            aggregate(&minutes, |t| t - t % len),
            "{resolution} from minutes"
        );
    }
    // Weeks and months are the same days' bars (the two months before this one).
    let days = bars(
        &feed
            .history(&query(feed, "D", now - 100 * DAY, now - 35 * DAY))
            .await,
    );
    let monday = |t: i64| t - (t - super::FIRST_MONDAY).rem_euclid(7 * DAY);
    let whole_weeks: Vec<Bar> = days
        .iter()
        .filter(|b| {
            monday(b.t) >= monday(now - 100 * DAY) + 7 * DAY
                && monday(b.t) + 7 * DAY <= monday(now - 35 * DAY)
        })
        .cloned()
        .collect();
    let (first, last) = (
        whole_weeks.first().map(|b| monday(b.t)).unwrap_or_default(),
        whole_weeks.last().map(|b| monday(b.t)).unwrap_or_default(),
    );
    let weeks = bars(&feed.history(&query(feed, "W", first, last)).await);
    assert!(weeks.len() >= 7, "{} weeks", weeks.len());
    assert_eq!(weeks, aggregate(&whole_weeks, monday), "weeks from the same days");
    let month_of = |t: i64| {
        use chrono::Datelike;
        let d = chrono::DateTime::from_timestamp(t, 0)
            .unwrap_or_default()
            .date_naive();
        d.with_day(1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(0, |d| d.and_utc().timestamp())
    };
    let this_month = month_of(now);
    let two_back = month_of(month_of(this_month - 1) - 1);
    let days = bars(&feed.history(&query(feed, "D", two_back, this_month - 1)).await);
    let months = bars(&feed.history(&query(feed, "M", two_back, this_month - 1)).await);
    assert_eq!(months.len(), 2);
    assert_eq!(months, aggregate(&days, month_of), "months from the same days");
}

pub async fn a_future_to_ends_at_the_latest_bar(feed: &Feed) {
    let before = feed.now();
    let got = bars(&feed.history(&query(feed, "1", before - 600, before + 3600)).await);
    let after = feed.now();
    let last = got.last().map(|b| b.t).expect("minute bars up to now");
    assert!(
        last >= before - before % MINUTE && last <= after - after % MINUTE,
        "the last bar is the current minute: {last} ({before}..{after})"
    );
    let days = bars(
        &feed
            .history(&query(feed, "D", before - 20 * DAY, before + 5 * DAY))
            .await,
    );
    let last = days.last().map(|b| b.t).expect("daily bars up to today");
    assert!(
        last == before - before % DAY || last == after - after % DAY,
        "the last daily bar is today's: {last}"
    );
}

const EMPTY: &str = r#"{"s":"ok","t":[],"o":[],"h":[],"l":[],"c":[],"v":[]}"#;

pub async fn a_range_in_the_future_is_ok_and_empty(feed: &Feed) {
    let now = feed.now();
    let empty: serde_json::Value = serde_json::from_str(EMPTY).unwrap_or_default();
    let future = feed.history(&query(feed, "1", now + 600, now + 900)).await;
    assert_eq!(future, empty, "a range in the future");
}

pub async fn a_range_wholly_before_the_data_start_is_ok_and_empty(feed: &Feed) {
    let empty: serde_json::Value = serde_json::from_str(EMPTY).unwrap_or_default();
    let long_ago = feed
        .history(&query(feed, "D", YEAR_1800, YEAR_1800 + 100 * 365 * DAY))
        .await;
    assert_eq!(long_ago, empty, "a range wholly before the data start");
}

pub async fn countback_gives_exactly_that_many_bars(feed: &Feed) {
    let now = feed.now();
    for (resolution, n) in [("1", 300), ("60", 50), ("D", 30), ("W", 10)] {
        let got = bars(
            &feed
                .history(&format!(
                    "symbol={}&resolution={resolution}&from={now}&to={now}&countback={n}",
                    feed.fx
                ))
                .await,
        );
        assert_eq!(got.len(), n, "{resolution}: countback={n}");
        check(&got, resolution, i64::MIN, now);
    }
    // Half an hour after Monday's midnight: 300 minutes reach back over the weekend where markets close,
    // and are the same bars as the range query's newest 300.
    let to = monday_before(now, 30 * 60);
    let back = bars(
        &feed
            .history(&format!(
                "symbol={}&resolution=1&from={to}&to={to}&countback=300",
                feed.fx
            ))
            .await,
    );
    assert_eq!(back.len(), 300, "countback across the weekend");
    let range = bars(&feed.history(&query(feed, "1", to - 4 * DAY, to)).await);
    assert_eq!(back[..], range[range.len() - 300..], "countback versus the range");
}

pub async fn daily_bars_back_to_1800_are_answered(feed: &Feed) {
    let now = feed.now();
    let got = bars(&feed.history(&query(feed, "D", YEAR_1800, now)).await);
    assert!(got.len() > 250, "years of daily bars: {}", got.len());
    check(&got, "D", YEAR_1800, now);
    let last = got.last().map(|b| b.t).unwrap_or_default();
    assert!(now - last < 4 * DAY, "up to today: {last}");
    let months = bars(&feed.history(&query(feed, "M", YEAR_1800, now)).await);
    assert!(months.len() > 12, "{} monthly bars", months.len());
    check(&months, "M", YEAR_1800, now);
}
