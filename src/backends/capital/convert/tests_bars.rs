//! Resolutions, bars and aggregation, on the official price examples and synthetic bars.

use super::bars::*;
use super::fixtures::*;
use super::model::{PriceBar, PricesResponse, Resolution};
use crate::tv;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

const DAY: i64 = 86_400;
/// 2026-01-05 00:00 UTC, a Monday.
const MONDAY: i64 = 1_767_571_200;

fn prices(v: serde_json::Value) -> Vec<PriceBar> {
    parse::<PricesResponse>(v).prices
}

fn daily(from: i64, days: i64) -> Vec<tv::Bar> {
    (0..days)
        .map(|i| {
            let p = Decimal::from(100 + i);
            tv::Bar {
                t: from + i * DAY,
                open: p,
                high: p + dec!(1),
                low: p - dec!(1),
                close: p + dec!(0.5),
                volume: dec!(10),
            }
        })
        .collect()
}

#[test]
fn upstream_resolutions() {
    let minutes = [
        (1, Resolution::Minute),
        (2, Resolution::Minute),
        (3, Resolution::Minute),
        (7, Resolution::Minute),
        (5, Resolution::Minute5),
        (10, Resolution::Minute5),
        (15, Resolution::Minute15),
        (45, Resolution::Minute15),
        (30, Resolution::Minute30),
        (90, Resolution::Minute30),
        (60, Resolution::Hour),
        (120, Resolution::Hour),
        (360, Resolution::Hour),
        (240, Resolution::Hour4),
        (480, Resolution::Hour4),
        (1440, Resolution::Hour4),
    ];
    for (n, res) in minutes {
        assert_eq!(upstream_resolution(tv::Resolution::Minutes(n)), res, "{n}");
    }
    for n in [1, 2, 7] {
        assert_eq!(upstream_resolution(tv::Resolution::Days(n)), Resolution::Day);
        assert_eq!(upstream_resolution(tv::Resolution::Weeks(n)), Resolution::Day);
        assert_eq!(upstream_resolution(tv::Resolution::Months(n)), Resolution::Day);
    }
}

#[test]
fn resolution_lengths() {
    let all = [
        (Resolution::Minute, 60),
        (Resolution::Minute5, 300),
        (Resolution::Minute15, 900),
        (Resolution::Minute30, 1800),
        (Resolution::Hour, 3600),
        (Resolution::Hour4, 14_400),
        (Resolution::Day, DAY),
        (Resolution::Week, 7 * DAY),
        (Resolution::Unknown, 60),
    ];
    for (r, secs) in all {
        assert_eq!(resolution_secs(r), secs, "{r:?}");
    }
}

#[test]
fn official_minute_bars() {
    let b = bars(&prices(prices_minute()));
    assert_eq!(b.len(), 10);
    // 2022-04-06T13:18:00 UTC, bid prices.
    assert_eq!(
        b[0],
        tv::Bar {
            t: 1_649_251_080,
            open: dec!(24.356),
            high: dec!(24.378),
            low: dec!(24.355),
            close: dec!(24.378),
            volume: dec!(187)
        }
    );
    assert!(b.windows(2).all(|w| w[1].t - w[0].t == 60));
    assert_eq!(b[9].volume, dec!(44));
}

#[test]
fn bars_fall_back_to_ask_skip_incomplete_and_keep_the_last_duplicate() {
    let mut v = prices_minute();
    let p = v["prices"].as_array_mut().unwrap();
    // Bid missing in one field: the whole bar comes from the ask side.
    p[0]["highPrice"] = json!({"ask": 24.398});
    // Neither side complete: skipped.
    p[1]["openPrice"] = json!({});
    p[1]["closePrice"] = json!({"bid": 24.4});
    // Unreadable time: skipped.
    p[2]["snapshotTimeUTC"] = json!("yesterday");
    // A later copy of the 13:24 bar with other prices and no volume, sent first.
    let mut copy = p[6].clone();
    copy["closePrice"] = json!({"bid": 24.5, "ask": 24.52});
    copy.as_object_mut().unwrap().remove("lastTradedVolume");
    p.insert(0, copy.clone());
    p.push(copy);
    let b = bars(&prices(v));
    assert_eq!(b.len(), 8);
    assert_eq!(
        (b[0].open, b[0].high, b[0].close),
        (dec!(24.376), dec!(24.398), dec!(24.398))
    );
    assert!(b.windows(2).all(|w| w[0].t < w[1].t));
    let at_1324 = b.iter().find(|x| x.t == 1_649_251_440).unwrap();
    assert_eq!((at_1324.close, at_1324.volume), (dec!(24.5), dec!(0)));
    assert!(bars(&[]).is_empty());
}

#[test]
fn minute_bars_into_five_minutes() {
    let five = aggregate(bars(&prices(prices_minute())), tv::Resolution::Minutes(5));
    let starts: Vec<i64> = five.iter().map(|b| b.t).collect();
    // 13:15 (13:18-13:19), 13:20 (13:20-13:24), 13:25 (13:25-13:27).
    assert_eq!(starts, [1_649_250_900, 1_649_251_200, 1_649_251_500]);
    assert_eq!(
        five[0],
        tv::Bar {
            t: 1_649_250_900,
            open: dec!(24.356),
            high: dec!(24.389),
            low: dec!(24.355),
            close: dec!(24.379),
            volume: dec!(355)
        }
    );
    assert_eq!(five[2].close, dec!(24.375));
}

#[test]
fn quarter_hours_into_an_hour() {
    let hour = aggregate(bars(&prices(prices_quarter_hour())), tv::Resolution::Minutes(60));
    assert_eq!(
        hour,
        [tv::Bar {
            t: 1_645_660_800,
            open: dec!(24.541),
            high: dec!(24.587),
            low: dec!(24.51),
            close: dec!(24.583),
            volume: dec!(3848)
        }]
    );
}

#[test]
fn weeks_start_on_monday() {
    // Saturday 2026-01-03 to Tuesday 2026-01-13.
    let days = daily(MONDAY - 2 * DAY, 11);
    let weeks = aggregate(days.clone(), tv::Resolution::Weeks(1));
    let starts: Vec<i64> = weeks.iter().map(|b| b.t).collect();
    assert_eq!(starts, [MONDAY - 7 * DAY, MONDAY, MONDAY + 7 * DAY]);
    assert_eq!(
        (weeks[1].open, weeks[1].close, weeks[1].volume),
        (dec!(102), dec!(108.5), dec!(70))
    );
    assert_eq!((weeks[1].high, weeks[1].low), (dec!(109), dec!(101)));
    // Two-week bars count from the first Monday after the epoch; this Monday starts one.
    let fortnights = aggregate(days, tv::Resolution::Weeks(2));
    let starts: Vec<i64> = fortnights.iter().map(|b| b.t).collect();
    assert_eq!(starts, [MONDAY - 14 * DAY, MONDAY]);
    assert_eq!(
        bar_start(MONDAY + 7 * DAY - 1, tv::Resolution::Weeks(1)),
        Some(MONDAY)
    );
    assert_eq!(
        bar_start(MONDAY + 7 * DAY, tv::Resolution::Weeks(1)),
        Some(MONDAY + 7 * DAY)
    );
}

#[test]
fn months_start_on_the_first() {
    // 2026-01-30 to 2026-03-02, given newest first: aggregation sorts.
    let mut days = daily(1_769_731_200, 32);
    days.reverse();
    let months = aggregate(days.clone(), tv::Resolution::Months(1));
    let starts: Vec<i64> = months.iter().map(|b| b.t).collect();
    assert_eq!(starts, [1_767_225_600, 1_769_904_000, 1_772_323_200]);
    assert_eq!(
        (months[0].open, months[0].close, months[0].volume),
        (dec!(100), dec!(101.5), dec!(20))
    );
    assert_eq!(months[1].volume, dec!(280));
    // A quarter starts in January, April, July or October.
    let quarters = aggregate(days, tv::Resolution::Months(3));
    assert_eq!(quarters.len(), 1);
    assert_eq!((quarters[0].t, quarters[0].volume), (1_767_225_600, dec!(320)));
    assert_eq!(
        bar_start(1_772_323_200, tv::Resolution::Months(3)),
        Some(1_767_225_600)
    );
}

#[test]
fn days_and_minutes_align_to_the_epoch() {
    let two_days = aggregate(daily(MONDAY, 3), tv::Resolution::Days(2));
    // 2026-01-05 is day 20458 since the epoch: an even day starts a two-day bar.
    assert_eq!(
        two_days.iter().map(|b| b.t).collect::<Vec<_>>(),
        [MONDAY, MONDAY + 2 * DAY]
    );
    assert_eq!(bar_start(119, tv::Resolution::Minutes(2)), Some(0));
    assert_eq!(bar_start(-1, tv::Resolution::Minutes(1)), Some(-60));
    assert_eq!(bar_start(i64::MAX, tv::Resolution::Months(1)), None);
    assert_eq!(bar_start(i64::MIN, tv::Resolution::Weeks(1)), None);
    let far = vec![tv::Bar {
        t: i64::MIN,
        ..daily(0, 1)[0]
    }];
    assert!(aggregate(far, tv::Resolution::Weeks(1)).is_empty());
}
