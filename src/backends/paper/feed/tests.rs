//! Tests of ticks, quotes, depth and spec validation; shared fixtures for `bar_tests`.

use super::math::{approx_normal, decimal_to_f64, exp_small, stream};
use super::*;
use std::str::FromStr;

pub(super) fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("valid decimal literal")
}

pub(super) fn spec(
    symbol: &str,
    base: &str,
    tick: &str,
    vol: f64,
    spread: u32,
    size: &str,
    step: &str,
) -> FeedSpec {
    FeedSpec {
        symbol: symbol.to_string(),
        base_price: dec(base),
        tick_size: dec(tick),
        daily_volatility: vol,
        spread_ticks: spread,
        base_size: dec(size),
        size_step: dec(step),
    }
}

/// The instruments of the brief (FX, JPY pair, crypto, stock, two indices) plus one with a tick that
/// isn't a power of ten.
pub(super) fn specs() -> Vec<FeedSpec> {
    vec![
        spec("EURUSD", "1.085", "0.00001", 0.006, 8, "1000000", "1000"),
        spec("USDJPY", "150.0", "0.001", 0.007, 8, "1000000", "1000"),
        spec("BTCUSD", "60000", "0.1", 0.03, 10, "1", "0.0001"),
        spec("AAPL", "190", "0.01", 0.015, 2, "500", "1"),
        spec("US500", "5000", "0.1", 0.01, 5, "10", "0.1"),
        spec("JP225", "38000", "1", 0.01, 5, "10", "0.1"),
        spec("XAUUSD", "2300", "0.25", 0.012, 2, "100", "1"),
    ]
}

pub(super) const T0: i64 = 1_700_000_000;
pub(super) const DAY: i64 = 86_400;

pub(super) fn on_grid(x: Decimal, step: Decimal) -> bool {
    (x % step).is_zero()
}

/// A deterministic pseudo-random sequence for picking sample times.
pub(super) fn sample(i: u64, range: i64) -> i64 {
    (stream(0x5EED, i) % range as u64) as i64
}

#[test]
fn same_inputs_same_outputs_across_instances() {
    let (a, b) = (Feed::new(42), Feed::new(42));
    for s in specs() {
        for i in 0..500 {
            let t = T0 + i * 7_919;
            assert_eq!(a.tick(&s, t), b.tick(&s, t));
            assert_eq!(a.minute_bar(&s, t / 60), b.minute_bar(&s, t / 60));
            assert_eq!(
                a.mid_f64(&s, t * 1000 + 123).to_bits(),
                b.mid_f64(&s, t * 1000 + 123).to_bits()
            );
        }
        assert_eq!(a.bar(&s, T0, 120), b.bar(&s, T0, 120));
        assert_eq!(a.bar(&s, T0 + 7, 3_600), b.bar(&s, T0 + 7, 3_600));
        assert_eq!(a.bars(&s, T0, T0 + DAY, 3_600), b.bars(&s, T0, T0 + DAY, 3_600));
        assert_eq!(a.depth(&s, T0, 10), b.depth(&s, T0, 10));
    }
}

/// Pins a few outputs, so that an accidental change of the process (which would silently break
/// bars that clients have cached) is noticed. Update deliberately if the model is changed; last
/// regenerated for the bar-first model.
#[test]
fn golden_values_are_stable() {
    let feed = Feed::new(7);
    let mut out = Vec::new();
    for s in specs() {
        let k = feed.tick(&s, T0 + 30);
        let m = feed.minute_bar(&s, T0 / 60);
        let d = feed.bar(&s, T0 - T0 % DAY, DAY);
        let mid = feed.mid_f64(&s, T0 * 1000 + 500);
        out.push(format!(
            "{} {} {} {} {} {} {} | {} {} {} {} {} | {} {} {} {} {} | {:016x}",
            s.symbol,
            k.bid,
            k.ask,
            k.bid_size,
            k.ask_size,
            k.last,
            k.last_size,
            m.open,
            m.high,
            m.low,
            m.close,
            m.volume,
            d.open,
            d.high,
            d.low,
            d.close,
            d.volume,
            mid.to_bits()
        ));
    }
    let expected = [
        "EURUSD 1.07423 1.07431 542000 2337000 1.07428 182000 | 1.07429 1.07435 1.07424 1.07426 21251000 | 1.07757 1.07971 1.07203 1.07630 80088492000 | 3ff1306a2b170500",
        "USDJPY 151.319 151.327 1228000 774000 151.324 388000 | 151.339 151.339 151.323 151.328 21170000 | 150.287 151.779 149.598 151.223 102921238000 | 4062eaac083126ea",
        "BTCUSD 60837.0 60839.8 0.4670 2.8433 60839.1 0.9080 | 60864.4 60865.1 60836.3 60852.9 39.8849 | 61331.2 62763.7 60235.2 61436.8 93188.0394 | 40edb6f99999999a",
        "AAPL 191.82 191.84 1312 247 191.82 403 | 191.85 191.86 191.78 191.80 42427 | 193.13 195.85 191.28 191.55 44195993 | 4067f970a3d70a3e",
        "US500 5007.7 5008.2 29.1 3.3 5007.8 38.6 | 5009.8 5009.9 5007.5 5007.7 1229.6 | 4954.0 5023.8 4910.7 4992.5 1079835.4 | 40b38ff99999999a",
        "JP225 37932 37937 2.3 8.9 37934 4.4 | 37955 37960 37932 37936 605.0 | 37972 38131 37737 37809 836765.1 | 40e2891000000000",
        "XAUUSD 2263.25 2263.75 25 226 2263.50 305 | 2264.00 2264.25 2263.00 2263.25 14176 | 2242.75 2277.00 2234.00 2261.75 8986250 | 40a1ae8000000000",
    ];
    assert_eq!(out, expected);
}

#[test]
fn different_symbols_differ() {
    let feed = Feed::new(42);
    let a = specs()[0].clone();
    let b = FeedSpec {
        symbol: "GBPUSD".into(),
        ..a.clone()
    };
    let differing = (0..200)
        .filter(|i| feed.tick(&a, T0 + i * 600) != feed.tick(&b, T0 + i * 600))
        .count();
    assert!(differing > 190, "only {differing} of 200 ticks differ");
    let differing = (0..200)
        .filter(|i| feed.minute_bar(&a, T0 / 60 + i * 10) != feed.minute_bar(&b, T0 / 60 + i * 10))
        .count();
    assert!(differing > 190, "only {differing} of 200 minute bars differ");
}

#[test]
fn different_seeds_differ() {
    let (a, b) = (Feed::new(1), Feed::new(2));
    for s in specs() {
        let differing = (0..200)
            .filter(|i| a.tick(&s, T0 + i * 600) != b.tick(&s, T0 + i * 600))
            .count();
        assert!(
            differing > 190,
            "{}: only {differing} of 200 ticks differ",
            s.symbol
        );
    }
}

#[test]
fn ticks_are_well_formed() {
    let feed = Feed::new(0xC0FFEE);
    for s in specs() {
        let mut widened = 0;
        for i in 0..200_000 {
            // Stride 13 s: covers ~30 days, so both quiet and busy stretches are sampled, and every
            // second of the minute (13 and 60 are coprime).
            let t = T0 + i * 13;
            let k = feed.tick(&s, t);
            assert_eq!(k.t, t);
            assert!(k.bid > Decimal::ZERO, "{}: {k:?}", s.symbol);
            assert!(k.bid < k.ask, "{}: {k:?}", s.symbol);
            assert!(
                on_grid(k.bid, s.tick_size) && on_grid(k.ask, s.tick_size),
                "{}: {k:?}",
                s.symbol
            );
            assert!(on_grid(k.last, s.tick_size), "{}: {k:?}", s.symbol);
            assert!(k.bid <= k.last && k.last <= k.ask, "{}: {k:?}", s.symbol);
            let spread_ticks = (k.ask - k.bid) / s.tick_size;
            assert!(
                spread_ticks >= Decimal::ONE && spread_ticks <= Decimal::from(3 * s.spread_ticks),
                "{}: {k:?}",
                s.symbol
            );
            if spread_ticks > Decimal::from(s.spread_ticks) {
                widened += 1;
            }
            for size in [k.bid_size, k.ask_size, k.last_size] {
                assert!(
                    size > Decimal::ZERO && on_grid(size, s.size_step),
                    "{}: {k:?}",
                    s.symbol
                );
            }
            assert!(
                k.bid_size <= s.base_size * Decimal::from(3),
                "{}: {k:?}",
                s.symbol
            );
            assert!(
                k.ask_size <= s.base_size * Decimal::from(3),
                "{}: {k:?}",
                s.symbol
            );
            assert!(
                k.last_size <= s.base_size * Decimal::from(8),
                "{}: {k:?}",
                s.symbol
            );
        }
        // Widening happens, but only occasionally.
        assert!(
            (2_000..40_000).contains(&widened),
            "{}: {widened} widened of 200000",
            s.symbol
        );
    }
}

#[test]
fn consecutive_ticks_move() {
    let feed = Feed::new(3);
    for s in specs() {
        let quotes: Vec<Tick> = (0..1_000).map(|i| feed.tick(&s, T0 + i)).collect();
        let bid_moves = quotes.windows(2).filter(|w| w[0].bid != w[1].bid).count();
        let last_moves = quotes.windows(2).filter(|w| w[0].last != w[1].last).count();
        // A coarse tick (XAUUSD: 0.25 on 2300) leaves the trade price unchanged in most seconds.
        assert!(
            bid_moves > 300 && last_moves > 100,
            "{}: bid moved {bid_moves}, last {last_moves} times in 1000 s",
            s.symbol
        );
    }
}

#[test]
fn mid_is_continuous_and_matches_the_quote() {
    let feed = Feed::new(11);
    for s in specs() {
        let base = decimal_to_f64(s.base_price);
        for i in 0..5_000 {
            let t_ms = T0 * 1000 + i * 997;
            let jump = (feed.mid_f64(&s, t_ms + 1) - feed.mid_f64(&s, t_ms)).abs() / base;
            // Interpolating over a whole second, one millisecond moves by 1/1000 of a second's move.
            assert!(jump < 1e-5, "{}: jump {jump} at {t_ms}", s.symbol);
        }
        for i in 0..200 {
            let t = T0 + i * 311;
            let k = feed.tick(&s, t);
            let mid = decimal_to_f64(k.bid + k.ask) / 2.0;
            let rel = (feed.mid_f64(&s, t * 1000) - mid).abs() / mid;
            assert!(rel < 1e-12, "{}: {rel} at {t}", s.symbol);
        }
    }
}

#[test]
fn degenerate_bar_length_is_one_second() {
    let feed = Feed::new(23);
    let s = &specs()[0];
    let k = feed.tick(s, T0);
    let expected = Bar {
        t: T0,
        open: k.last,
        high: k.last,
        low: k.last,
        close: k.last,
        volume: k.last_size,
    };
    assert_eq!(feed.bar(s, T0, 0), expected);
    assert_eq!(feed.bar(s, T0, -5), expected);
    assert_eq!(feed.bar(s, T0, 1), expected);
}

#[test]
fn depth_is_ordered_one_tick_apart() {
    let feed = Feed::new(31);
    for s in specs() {
        for i in 0..50 {
            let t = T0 + i * 1_013;
            let top = feed.tick(&s, t);
            let (asks, bids) = feed.depth(&s, t, 10);
            assert_eq!((asks.len(), bids.len()), (10, 10), "{}", s.symbol);
            assert_eq!(asks[0], (top.ask, top.ask_size));
            assert_eq!(bids[0], (top.bid, top.bid_size));
            for w in asks.windows(2) {
                assert_eq!(w[1].0 - w[0].0, s.tick_size, "{}: asks {asks:?}", s.symbol);
            }
            for w in bids.windows(2) {
                assert_eq!(w[0].0 - w[1].0, s.tick_size, "{}: bids {bids:?}", s.symbol);
            }
            for &(price, size) in asks.iter().chain(&bids) {
                assert!(price > Decimal::ZERO && on_grid(price, s.tick_size));
                assert!(size > Decimal::ZERO && on_grid(size, s.size_step));
            }
            assert!(bids[0].0 < asks[0].0);
        }
    }
}

#[test]
fn depth_caps_levels_and_keeps_bids_positive() {
    let feed = Feed::new(32);
    // A price only a few ticks above zero.
    let s = spec("PENNY", "0.05", "0.01", 0.01, 1, "100", "1");
    let (asks, bids) = feed.depth(&s, T0, 10);
    assert_eq!(asks.len(), 10);
    assert!(!bids.is_empty() && bids.len() < 10, "{bids:?}");
    assert!(bids.iter().all(|&(p, _)| p > Decimal::ZERO));
    let (asks, bids) = feed.depth(&specs()[0], T0, usize::MAX);
    assert_eq!((asks.len(), bids.len()), (MAX_DEPTH_LEVELS, MAX_DEPTH_LEVELS));
    assert_eq!(feed.depth(&specs()[0], T0, 0), (vec![], vec![]));
}

#[test]
fn validate_accepts_sample_specs_and_rejects_bad_ones() {
    for s in specs() {
        assert_eq!(s.validate(), Ok(()), "{}", s.symbol);
    }
    let good = specs()[0].clone();
    let bad = [
        FeedSpec {
            base_price: Decimal::ZERO,
            ..good.clone()
        },
        FeedSpec {
            tick_size: Decimal::ZERO,
            ..good.clone()
        },
        FeedSpec {
            tick_size: dec("2"),
            ..good.clone()
        },
        FeedSpec {
            tick_size: dec("0.0000000000000000001"),
            ..good.clone()
        },
        FeedSpec {
            daily_volatility: f64::NAN,
            ..good.clone()
        },
        FeedSpec {
            daily_volatility: -0.1,
            ..good.clone()
        },
        FeedSpec {
            spread_ticks: 0,
            ..good.clone()
        },
        FeedSpec {
            size_step: Decimal::ZERO,
            ..good.clone()
        },
        FeedSpec {
            base_size: dec("10"),
            ..good.clone()
        },
        FeedSpec {
            size_step: dec("0.0000000000000000001"),
            ..good.clone()
        },
    ];
    for s in bad {
        assert!(s.validate().is_err(), "{s:?}");
    }
}

#[test]
fn exp_small_matches_std() {
    for i in -450..=450 {
        let x = f64::from(i) / 1000.0;
        let rel = (exp_small(x) - x.exp()).abs() / x.exp();
        assert!(rel < 1e-15, "x {x}: rel err {rel}");
    }
}

#[test]
fn decimal_to_f64_is_accurate() {
    for s in [
        "1.085",
        "0.00001",
        "60000",
        "150.000",
        "0.000000000001",
        "1000000000000000",
    ] {
        let d = dec(s);
        assert_eq!(decimal_to_f64(d), s.parse::<f64>().expect("float literal"), "{s}");
    }
}

#[test]
fn invalid_specs_never_panic_and_stay_well_formed() {
    let feed = Feed::new(41);
    let good = specs()[0].clone();
    let bad = [
        FeedSpec {
            base_price: Decimal::ZERO,
            tick_size: Decimal::ZERO,
            ..good.clone()
        },
        FeedSpec {
            base_price: dec("-5"),
            ..good.clone()
        },
        FeedSpec {
            base_price: Decimal::MAX,
            tick_size: dec("0.0000000000000000000000000001"),
            ..good.clone()
        },
        FeedSpec {
            base_price: Decimal::MAX,
            tick_size: Decimal::MAX,
            daily_volatility: 0.5,
            ..good.clone()
        },
        FeedSpec {
            daily_volatility: f64::INFINITY,
            spread_ticks: 0,
            ..good.clone()
        },
        FeedSpec {
            size_step: Decimal::ZERO,
            base_size: Decimal::MAX,
            ..good.clone()
        },
        FeedSpec {
            size_step: Decimal::new(1, 28),
            base_size: dec("-3"),
            ..good.clone()
        },
        FeedSpec {
            spread_ticks: u32::MAX,
            ..good.clone()
        },
    ];
    let edges = [i64::MIN, i64::MIN + 59, -1, 0, T0, i64::MAX - 60, i64::MAX];
    for s in bad {
        for t in edges {
            let k = feed.tick(&s, t);
            assert!(k.bid > Decimal::ZERO && k.bid < k.ask, "{s:?}: {k:?}");
            assert!(k.bid <= k.last && k.last <= k.ask, "{s:?}: {k:?}");
            assert!(k.bid_size > Decimal::ZERO && k.ask_size > Decimal::ZERO && k.last_size > Decimal::ZERO);
            assert!(feed.mid_f64(&s, t).is_finite() && feed.mid_f64(&s, t) > 0.0);
            let m = feed.minute_bar(&s, t);
            assert!(
                m.low > Decimal::ZERO && m.low <= m.open && m.open <= m.high,
                "{s:?}: {m:?}"
            );
            let _ = feed.bar(&s, t, 61);
            let _ = feed.bar(&s, t, i64::MIN);
            let _ = feed.bars(&s, t, t.saturating_add(200), 60);
            let _ = feed.bars(&s, t, t.saturating_add(200), 7);
            let _ = feed.bars(&s, t, t.saturating_add(5), i64::MIN);
            let _ = feed.bars(&s, t, t, 7 * DAY);
        }
        let _ = feed.bar(&s, i64::MAX - 5, 60);
        let _ = feed.bars(&s, i64::MIN, i64::MIN + 600, 300);
        let _ = feed.bars(&s, i64::MAX - 600, i64::MAX, 300);
        let _ = feed.depth(&s, T0, 5);
    }
}

#[test]
fn approx_normal_has_unit_variance() {
    let n = 200_000;
    let xs: Vec<f64> = (0..n).map(|i| approx_normal(stream(1, i))).collect();
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
    assert!(
        mean.abs() < 0.01 && (var - 1.0).abs() < 0.02,
        "mean {mean} var {var}"
    );
    assert!(xs.iter().all(|x| x.abs() <= 3.0 + 1e-9));
}
