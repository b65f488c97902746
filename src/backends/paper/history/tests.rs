//! Paper history: the data start, bounded work, cancellation and the cache's invisibility.

use super::*;
use crate::backends::paper::clock::ManualClock;
use crate::backends::paper::config::default_instruments;
use crate::tv::Resolution;

/// 2026-01-05 12:00:00 UTC, a Monday.
const NOW_MS: i64 = 1_767_614_400_000;
const NOW: i64 = NOW_MS / 1000;
const TODAY: i64 = NOW - NOW % DAY;
const MINUTES_PER_DAY: u64 = 1_440;

fn service(days_back: i64) -> (Arc<PaperHistory>, ManualClock) {
    let clock = ManualClock::new(NOW_MS);
    let instruments = default_instruments().into_iter().take(2).collect();
    let market = Arc::new(Market::new(7, instruments));
    let history = PaperHistory::new(market, Arc::new(clock.clone()), Start::DaysBack(days_back), 2);
    (Arc::new(history), clock)
}

fn query(resolution: &str, from: i64, to: i64, countback: Option<usize>) -> HistoryQuery {
    HistoryQuery {
        symbol: "EURUSD".into(),
        resolution: Resolution::parse(resolution).expect("resolution"),
        from,
        to,
        countback,
    }
}

fn run(history: &PaperHistory, q: &HistoryQuery) -> Vec<Bar> {
    history
        .compute(q, history.clock.now_ms(), &AtomicBool::new(false))
        .expect("history")
}

fn times(bars: &[Bar]) -> Vec<i64> {
    bars.iter().map(|b| b.t).collect()
}

#[test]
fn a_range_back_to_1800_starts_at_the_data_start() {
    let (history, _) = service(30);
    let bars = run(&history, &query("D", -5_364_662_400, NOW, None));
    assert_eq!(
        bars.first().map(|b| b.t),
        Some(TODAY - 30 * DAY),
        "first bar = the data start's day"
    );
    assert_eq!(
        bars.last().map(|b| b.t),
        Some(TODAY),
        "last bar = today's open bar"
    );
    assert_eq!(bars.len(), 31);
    // Weeks and months start at their first start on or after the data start.
    let weeks = run(&history, &query("W", i64::MIN, NOW, None));
    assert!(weeks.first().unwrap().t >= TODAY - 30 * DAY);
    assert!(weeks.first().unwrap().t - 7 * DAY < TODAY - 30 * DAY);
    let months = times(&run(&history, &query("M", i64::MIN, i64::MAX, None)));
    assert_eq!(
        months,
        [1_767_225_600],
        "2026-01-01: December began before the data start"
    );
}

#[test]
fn a_range_wholly_before_the_data_start_is_empty() {
    let (history, _) = service(30);
    let before = TODAY - 31 * DAY;
    for resolution in ["1", "60", "D", "W", "M", "12M"] {
        assert!(
            run(&history, &query(resolution, 0, before, None)).is_empty(),
            "{resolution}"
        );
        assert!(
            run(&history, &query(resolution, 0, before, Some(10))).is_empty(),
            "{resolution}"
        );
    }
    assert_eq!(history.stats().minutes_computed, 0);
}

#[test]
fn countback_beyond_the_data_start_answers_what_exists() {
    let (history, _) = service(30);
    let bars = run(&history, &query("D", 0, NOW, Some(50_000)));
    assert_eq!(bars.len(), 31);
    let bars = run(&history, &query("D", 0, NOW - 2 * DAY, Some(5)));
    assert_eq!(
        times(&bars),
        (0..5).map(|i| TODAY - (6 - i) * DAY).collect::<Vec<_>>()
    );
}

#[test]
fn no_bar_lies_outside_the_range_at_any_resolution() {
    let (history, _) = service(400);
    let ranges = [
        (NOW - 7_777, NOW - 1_234),
        (TODAY - 50 * DAY + 17, TODAY - 20 * DAY - 1),
        (TODAY - 401 * DAY, TODAY - 395 * DAY + 5),
        (NOW - 100 * DAY, NOW + 100 * DAY),
    ];
    for resolution in [
        "1", "7", "60", "720", "1439", "1440", "D", "3D", "W", "2W", "M", "5M", "12M",
    ] {
        for (from, to) in ranges {
            let bars = run(&history, &query(resolution, from, to, None));
            for b in &bars {
                assert!(
                    (from..=to).contains(&b.t),
                    "{resolution} [{from}, {to}]: bar at {}",
                    b.t
                );
                assert!(
                    b.t >= TODAY - 400 * DAY && b.t <= NOW,
                    "{resolution}: bar at {}",
                    b.t
                );
            }
            assert!(
                times(&bars).windows(2).all(|w| w[0] < w[1]),
                "{resolution}: ascending"
            );
        }
    }
}

#[test]
fn the_cache_never_changes_an_answer() {
    let (history, clock) = service(60);
    let (cold_history, _) = service(60);
    for resolution in ["D", "2D", "W", "M", "1440", "720", "60"] {
        let q = query(resolution, TODAY - 45 * DAY + 3_600, NOW, None);
        let cold = run(&cold_history, &q);
        let warm = run(&history, &q);
        assert_eq!(cold, run(&history, &q), "{resolution}: cold versus warm");
        assert_eq!(cold, warm, "{resolution}");
        // Each bar is the feed's own bar over its span, cut at now.
        for b in &cold {
            let end = plan::end(q.resolution, b.t).min(NOW + 1);
            let direct = history
                .market
                .feed()
                .bar(&history.market.instruments()[0].feed, b.t, end - b.t);
            assert_eq!(*b, Bar { t: b.t, ..direct }, "{resolution} at {}", b.t);
        }
    }
    // A day later the same closed bars come out, now partly from the cache.
    clock.advance_ms(DAY * 1000);
    let q = query("W", TODAY - 45 * DAY, TODAY - 3 * DAY, None);
    assert_eq!(run(&history, &q), run(&cold_history, &q));
    assert_eq!(
        run(&history, &query("1440", TODAY - 20 * DAY, NOW, None)),
        run(&history, &query("D", TODAY - 20 * DAY, NOW, None))
    );
}

#[test]
fn twelve_month_bars_back_to_the_data_start_cost_the_data_range_once() {
    let span_days = 400;
    let (history, _) = service(span_days);
    // The two slow requests of the issue: countback 50,000 and from = -1.
    let bars = run(&history, &query("12M", 0, NOW, Some(50_000)));
    assert_eq!(
        times(&bars),
        [1_735_689_600, 1_767_225_600],
        "2025-01-01 and 2026-01-01"
    );
    run(&history, &query("D", -5_364_662_400, NOW, None));
    let cold = history.stats().minutes_computed;
    assert!(
        cold <= (span_days as u64 + 2) * MINUTES_PER_DAY,
        "cold: {cold} minutes for {span_days} days of data"
    );
    assert_eq!(history.stats().days_cached, span_days as usize);
    run(&history, &query("12M", -1, NOW, None));
    run(&history, &query("W", i64::MIN, i64::MAX, Some(50_000)));
    run(&history, &query("M", i64::MIN, NOW, Some(50_000)));
    let warm = history.stats().minutes_computed - cold;
    assert!(
        warm <= 3 * MINUTES_PER_DAY,
        "warm: {warm} minutes: only today's open bar each time"
    );
}

#[test]
fn intraday_bars_keep_the_newest_within_the_minute_budget() {
    let (history, _) = service(1_000);
    let bars = run(&history, &query("720", i64::MIN, NOW, Some(50_000)));
    let expected = (MINUTE_BUDGET / (720 + BAR_COST)) as usize;
    assert_eq!(bars.len(), expected);
    assert_eq!(bars.last().unwrap().t, TODAY + 43_200, "ends at the current bar");
    let spent = history.stats().minutes_computed;
    assert!(spent <= MINUTE_BUDGET as u64, "{spent} minutes");
    // One-minute bars: the answer's cap binds first.
    let bars = run(&history, &query("1", 0, NOW, None));
    assert_eq!(bars.len(), MAX_HISTORY_BARS);
    assert_eq!(bars.last().unwrap().t, NOW - NOW % 60);
    assert!(history.stats().minutes_computed - spent <= MAX_HISTORY_BARS as u64 + 1);
}

#[test]
fn a_cancelled_request_stops_computing() {
    let (history, _) = service(2_000);
    let cancelled = AtomicBool::new(true);
    let q = query("D", 0, NOW, None);
    assert!(history.compute(&q, NOW_MS, &cancelled).is_err());
    assert_eq!(history.stats().minutes_computed, 0);
    // Cancelled half-way from another thread: the work stops within a day's bar, and what was computed stays.
    let flag = Arc::new(AtomicBool::new(false));
    let worker = {
        let (history, flag) = (history.clone(), flag.clone());
        std::thread::spawn(move || history.compute(&q, NOW_MS, &flag).is_err())
    };
    while history.stats().minutes_computed < 5 * MINUTES_PER_DAY {
        std::thread::yield_now();
    }
    flag.store(true, Ordering::Relaxed);
    assert!(
        worker.join().unwrap(),
        "a cancelled request answers an error nobody reads"
    );
    let stopped = history.stats();
    assert!(stopped.minutes_computed < 1_000 * MINUTES_PER_DAY, "{stopped:?}");
    assert_eq!(
        stopped.minutes_computed,
        stopped.days_cached as u64 * MINUTES_PER_DAY
    );
    // A closed service stops too.
    history.close();
    assert!(history
        .compute(&query("D", 0, NOW, None), NOW_MS, &AtomicBool::new(false))
        .is_err());
    assert_eq!(history.stats(), stopped);
}

#[test]
fn the_cache_follows_a_moving_data_start() {
    let (history, clock) = service(10);
    run(&history, &query("D", 0, NOW, None));
    assert_eq!(history.stats().days_cached, 10);
    for _ in 0..5 {
        clock.advance_ms(DAY * 1000);
        run(&history, &query("D", 0, i64::MAX, None));
        assert_eq!(history.stats().days_cached, 10, "one day in, one day out");
    }
    let now = history.clock.now_ms() / 1000;
    let bars = run(&history, &query("D", 0, now, None));
    assert_eq!(bars.first().unwrap().t, now - now % DAY - 10 * DAY);
}

#[test]
fn a_future_to_ends_at_the_current_open_bar() {
    let (history, _) = service(400);
    let feed = history.market.feed();
    let spec = &history.market.instruments()[0].feed;
    for (resolution, open_start) in [
        ("1", NOW - NOW % 60),
        ("240", NOW - NOW % 14_400),
        ("1439", NOW - NOW % 86_340),
        ("D", TODAY),
        ("W", TODAY),
        ("M", 1_767_225_600),
        ("12M", 1_767_225_600),
    ] {
        let bars = run(&history, &query(resolution, NOW - 40 * DAY, i64::MAX, None));
        let last = bars.last().unwrap();
        assert_eq!(last.t, open_start, "{resolution}");
        assert_eq!(
            *last,
            feed.bar(spec, open_start, NOW + 1 - open_start),
            "{resolution}: cut at now"
        );
    }
}

#[tokio::test]
async fn an_unknown_symbol_is_named() {
    let (history, _) = service(10);
    let mut q = query("D", 0, NOW, None);
    q.symbol = "NOPE".into();
    assert_eq!(
        history.bars(&q).await,
        Err(BrokerError::NotFound("Unknown symbol 'NOPE'".into()))
    );
}

#[tokio::test]
async fn the_warm_up_fills_every_closed_day_so_requests_start_warm() {
    let (history, _) = service(250);
    history.warm_up();
    let all_days = 2 * 250;
    for _ in 0..600 {
        if history.stats().days_cached == all_days {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        history.stats().days_cached,
        all_days,
        "both symbols, every closed day"
    );
    let before = history.stats().minutes_computed;
    assert_eq!(
        before,
        all_days as u64 * MINUTES_PER_DAY,
        "each day computed once"
    );
    run(&history, &query("12M", -1, NOW, None));
    let spent = history.stats().minutes_computed - before;
    assert!(
        spent <= MINUTES_PER_DAY,
        "a yearly request after the warm-up sweeps only today: {spent} minutes"
    );
}
