//! Tests of the price process: determinism, grid, volatility, bars, depth.

use super::*;
use std::str::FromStr;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("valid decimal literal")
}

fn spec(symbol: &str, base: &str, tick: &str, vol: f64, spread: u32, size: &str, step: &str) -> FeedSpec {
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

fn specs() -> Vec<FeedSpec> {
    vec![
        spec("EURUSD", "1.085", "0.00001", 0.006, 2, "1000000", "1000"),
        spec("USDJPY", "150.0", "0.001", 0.007, 3, "1000000", "1000"),
        spec("BTCUSD", "60000", "0.5", 0.03, 1, "1", "0.0001"),
        spec("ETHUSD", "3000", "0.01", 0.04, 5, "10", "0.001"),
        spec("AAPL", "190", "0.01", 0.015, 1, "100", "1"),
        spec("US500", "5000", "0.1", 0.01, 4, "10", "1"),
        spec("XAUUSD", "2300", "0.25", 0.012, 2, "100", "1"),
        spec("BIG", "20000", "1", 0.02, 1, "5", "1"),
    ]
}

const T0: i64 = 1_700_000_000;
const DAY: i64 = 86_400;

fn on_grid(x: Decimal, step: Decimal) -> bool {
    (x % step).is_zero()
}

#[test]
fn same_inputs_same_outputs_across_instances() {
    let (a, b) = (Feed::new(42), Feed::new(42));
    for s in specs() {
        for i in 0..500 {
            let t = T0 + i * 7_919;
            assert_eq!(a.tick(&s, t), b.tick(&s, t));
            assert_eq!(
                a.mid_f64(&s, t * 1000 + 123).to_bits(),
                b.mid_f64(&s, t * 1000 + 123).to_bits()
            );
        }
        assert_eq!(a.bar(&s, T0, 120), b.bar(&s, T0, 120));
        assert_eq!(a.depth(&s, T0, 10), b.depth(&s, T0, 10));
    }
}

/// Pins a few outputs, so that an accidental change of the process (which would silently break
/// bars that clients have cached) is noticed. Update deliberately if the model is changed.
#[test]
fn golden_values_are_stable() {
    let feed = Feed::new(7);
    let mut out = Vec::new();
    for s in specs() {
        let k = feed.tick(&s, T0);
        let b = feed.bar(&s, T0, 60);
        let mid = feed.mid_f64(&s, T0 * 1000 + 500);
        out.push(format!(
            "{} {} {} {} {} {} {} | {} {} {} {} {} | {:016x}",
            s.symbol,
            k.bid,
            k.ask,
            k.bid_size,
            k.ask_size,
            k.last,
            k.last_size,
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume,
            mid.to_bits()
        ));
    }
    let expected = [
        "EURUSD 1.11510 1.11512 1124000 1040000 1.11510 710000 | 1.11510 1.11544 1.11509 1.11544 63131000 | 3ff1d782eb09c001",
        "USDJPY 147.852 147.855 2836000 484000 147.852 282000 | 147.852 147.866 147.825 147.847 70579000 | 40627b5e179d1673",
        "BTCUSD 61018.5 61019.0 0.9082 2.6956 61019.0 0.3337 | 61019.0 61044.0 61009.5 61013.5 71.3107 | 40edcac21ed8b02c",
        "ETHUSD 2878.55 2878.60 19.873 3.131 2878.55 25.523 | 2878.55 2878.55 2875.77 2875.81 769.941 | 40a67cc1827bd41f",
        "AAPL 193.15 193.16 84 261 193.15 65 | 193.15 193.19 193.14 193.14 7058 | 4068250e37a2e4bb",
        "US500 5053.0 5053.5 8 18 5053.3 3 | 5053.3 5054.7 5051.8 5052.4 590 | 40b3bd318f438421",
        "XAUUSD 2292.25 2292.75 225 68 2292.75 277 | 2292.75 2293.50 2292.00 2293.50 8227 | 40a1e95bcce9acc2",
        "BIG 20100 20101 4 2 20101 4 | 20101 20101 20079 20083 315 | 40d3a129dabeff6f",
    ];
    assert_eq!(out, expected);
}

#[test]
fn different_symbols_differ() {
    let feed = Feed::new(42);
    let a = spec("EURUSD", "1.085", "0.00001", 0.006, 2, "1000000", "1000");
    let b = FeedSpec {
        symbol: "GBPUSD".into(),
        ..a.clone()
    };
    let differing = (0..200)
        .filter(|i| feed.tick(&a, T0 + i * 600) != feed.tick(&b, T0 + i * 600))
        .count();
    assert!(differing > 190, "only {differing} of 200 ticks differ");
    assert_ne!(feed.mid_f64(&a, T0 * 1000), feed.mid_f64(&b, T0 * 1000));
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
        for i in 0..100_000 {
            // Stride 37 s: covers ~43 days, so both quiet and busy stretches are sampled.
            let t = T0 + i * 37;
            let k = feed.tick(&s, t);
            assert_eq!(k.t, t);
            assert!(k.bid > Decimal::ZERO, "{}: {k:?}", s.symbol);
            assert!(k.bid < k.ask, "{}: {k:?}", s.symbol);
            assert!(k.ask - k.bid >= s.tick_size, "{}: {k:?}", s.symbol);
            assert!(
                on_grid(k.bid, s.tick_size) && on_grid(k.ask, s.tick_size),
                "{}: {k:?}",
                s.symbol
            );
            assert!(on_grid(k.last, s.tick_size), "{}: {k:?}", s.symbol);
            assert!(k.bid <= k.last && k.last <= k.ask, "{}: {k:?}", s.symbol);
            let spread_ticks = (k.ask - k.bid) / s.tick_size;
            assert!(
                spread_ticks <= Decimal::from(3 * s.spread_ticks),
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
                assert!(size <= s.base_size * Decimal::from(3), "{}: {k:?}", s.symbol);
            }
            let mid = Decimal::from_f64_retain(feed.mid_f64(&s, t * 1000)).expect("finite mid");
            assert!(
                k.bid <= mid && mid <= k.ask + s.tick_size,
                "{}: mid {mid} vs {k:?}",
                s.symbol
            );
        }
        // Widening happens, but only occasionally.
        assert!(
            (1_000..20_000).contains(&widened),
            "{}: {widened} widened of 100000",
            s.symbol
        );
    }
}

#[test]
fn consecutive_ticks_move() {
    let feed = Feed::new(3);
    for s in specs() {
        let mids: Vec<f64> = (0..1_000).map(|i| feed.mid_f64(&s, (T0 + i) * 1000)).collect();
        let unchanged = mids.windows(2).filter(|w| w[0] == w[1]).count();
        assert_eq!(unchanged, 0, "{}", s.symbol);
        let quotes: Vec<Tick> = (0..1_000).map(|i| feed.tick(&s, T0 + i)).collect();
        let bid_moves = quotes.windows(2).filter(|w| w[0].bid != w[1].bid).count();
        assert!(
            bid_moves > 100,
            "{}: bid moved only {bid_moves} times in 1000 s",
            s.symbol
        );
    }
}

#[test]
fn mid_is_continuous() {
    let feed = Feed::new(11);
    for s in specs() {
        let base = decimal_to_f64(s.base_price);
        for i in 0..20_000 {
            let t_ms = T0 * 1000 + i * 997;
            let jump = (feed.mid_f64(&s, t_ms + 1) - feed.mid_f64(&s, t_ms)).abs() / base;
            // A millisecond is a 1/1000 of the shortest interpolation step; a jump of a full
            // jitter/octave value would be ~1e-5 and more.
            assert!(jump < 2e-6, "{}: jump {jump} at {t_ms}", s.symbol);
        }
    }
}

fn daily_log_return_std(feed: &Feed, s: &FeedSpec, start: i64, days: i64) -> f64 {
    let returns: Vec<f64> = (0..days)
        .map(|d| {
            let a = feed.mid_f64(s, (start + d * DAY) * 1000);
            let b = feed.mid_f64(s, (start + (d + 1) * DAY) * 1000);
            (b / a).ln()
        })
        .collect();
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (returns.len() - 1) as f64).sqrt()
}

#[test]
fn daily_volatility_matches_spec() {
    for seed in [1, 2, 3] {
        let feed = Feed::new(seed);
        for s in specs() {
            let realised = daily_log_return_std(&feed, &s, T0, 200);
            let ratio = realised / s.daily_volatility;
            assert!(
                (0.5..2.0).contains(&ratio),
                "{} seed {seed}: ratio {ratio}",
                s.symbol
            );
        }
    }
}

#[test]
fn price_stays_near_base_over_a_year() {
    for seed in [5, 6] {
        let feed = Feed::new(seed);
        for s in specs() {
            let base = decimal_to_f64(s.base_price);
            let (mut lo, mut hi) = (f64::MAX, f64::MIN);
            for h in 0..365 * 24 {
                let rel = feed.mid_f64(&s, (T0 + h * 3_600) * 1000) / base;
                lo = lo.min(rel);
                hi = hi.max(rel);
            }
            assert!(lo > 0.6 && hi < 1.4, "{} seed {seed}: range {lo}..{hi}", s.symbol);
            // It must wander, too: a flat line would pass the bound trivially.
            assert!(
                hi - lo > 2.0 * s.daily_volatility,
                "{} seed {seed}: range {lo}..{hi}",
                s.symbol
            );
        }
    }
}

#[test]
fn clamp_holds_for_extreme_volatility() {
    let feed = Feed::new(9);
    let s = spec("WILD", "100", "0.01", 0.5, 1, "1", "1");
    for h in 0..365 * 24 {
        let rel = feed.mid_f64(&s, (T0 + h * 3_600) * 1000) / 100.0;
        assert!(rel > 0.65 && rel < 1.35, "rel {rel}");
    }
}

#[test]
fn one_minute_bar_is_fold_of_ticks() {
    let feed = Feed::new(21);
    for s in specs() {
        for start in [T0, T0 + 3_541, T0 - 86_400 * 30 + 17] {
            let ticks: Vec<Tick> = (start..start + 60).map(|t| feed.tick(&s, t)).collect();
            let expected = Bar {
                t: start,
                open: ticks[0].last,
                high: ticks.iter().map(|k| k.last).max().expect("60 ticks"),
                low: ticks.iter().map(|k| k.last).min().expect("60 ticks"),
                close: ticks[59].last,
                volume: ticks.iter().map(|k| k.last_size).sum(),
            };
            let bar = feed.bar(&s, start, 60);
            assert_eq!(bar, expected, "{}", s.symbol);
            assert!(bar.low <= bar.open && bar.open <= bar.high);
            assert!(bar.low <= bar.close && bar.close <= bar.high);
        }
    }
}

#[test]
fn five_minute_bar_combines_one_minute_bars() {
    let feed = Feed::new(22);
    for s in specs() {
        let start = T0 + 300 * 17;
        let minutes: Vec<Bar> = (0..5).map(|m| feed.bar(&s, start + 60 * m, 60)).collect();
        let expected = Bar {
            t: start,
            open: minutes[0].open,
            high: minutes.iter().map(|b| b.high).max().expect("5 bars"),
            low: minutes.iter().map(|b| b.low).min().expect("5 bars"),
            close: minutes[4].close,
            volume: minutes.iter().map(|b| b.volume).sum(),
        };
        assert_eq!(feed.bar(&s, start, 300), expected, "{}", s.symbol);
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
    for s in bad {
        for t in [i64::MIN, -1, 0, T0, i64::MAX] {
            let k = feed.tick(&s, t);
            assert!(k.bid > Decimal::ZERO && k.bid < k.ask, "{s:?}: {k:?}");
            assert!(k.bid_size > Decimal::ZERO && k.ask_size > Decimal::ZERO && k.last_size > Decimal::ZERO);
            assert!(feed.mid_f64(&s, t).is_finite());
        }
        let _ = feed.bar(&s, i64::MAX - 5, 60);
        let _ = feed.depth(&s, T0, 5);
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

/// Micro-benchmark, prints only (timings vary too much between machines to assert on). Measured
/// with `cargo test --release -- --nocapture bench_ticks_per_day` on the 2-core dev machine:
/// 86,400 ticks in 28-32 ms, ~330-375 ns per tick; ~280 ms (~3.3 us per tick) in a debug build.
#[test]
fn bench_ticks_per_day() {
    let feed = Feed::new(1);
    let s = &specs()[0];
    let started = std::time::Instant::now();
    let bar = feed.bar(s, T0, DAY);
    let elapsed = started.elapsed();
    println!(
        "86,400 ticks in {elapsed:?} ({:.0} ns/tick), volume {}",
        elapsed.as_nanos() as f64 / 86_400.0,
        bar.volume
    );
}

/// Prints the realised/target daily volatility ratio over many symbols and seeds; used to set
/// `CALIBRATION`. Run with `cargo test --release -- --ignored --nocapture calibration_report`.
#[test]
#[ignore]
fn calibration_report() {
    let mut sum_sq = 0.0;
    let mut n = 0.0;
    for seed in 0..20 {
        let feed = Feed::new(seed);
        for sym in 0..10 {
            let s = spec(&format!("SYM{sym}"), "100", "0.0001", 0.001, 1, "1", "1");
            let r = daily_log_return_std(&feed, &s, T0, 200) / s.daily_volatility;
            sum_sq += r * r;
            n += 1.0;
        }
    }
    println!("rms realised/target ratio: {}", (sum_sq / n).sqrt());
}
