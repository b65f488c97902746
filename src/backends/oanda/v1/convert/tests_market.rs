//! Instruments, prices, candles and stream lines from the seed's payloads.

use super::super::super::venue::{CandleSide, InstrumentKind, StreamLine};
use super::super::model;
use super::fixtures::*;
use super::*;
use chrono::{TimeZone, Utc};
use rust_decimal_macros::dec;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()
}

#[test]
fn instruments_with_every_field() {
    let list: model::Instruments = serde_json::from_str(INSTRUMENTS_FULL).unwrap();
    let specs: Vec<_> = list.instruments.iter().map(instrument_spec).collect();
    let eur = &specs[0];
    assert_eq!(
        (eur.name.as_str(), eur.display_name.as_str()),
        ("EUR_USD", "EUR/USD")
    );
    assert_eq!((eur.pip_location, eur.display_precision), (-4, 5));
    assert_eq!(
        (eur.units_precision, eur.min_units, eur.max_units),
        (0, dec!(1), dec!(10000000))
    );
    assert_eq!(eur.margin_rate, dec!(0.05));
    assert_eq!(eur.kind, InstrumentKind::Currency);
    assert_eq!(eur.min_trailing_distance, Some(dec!(0.0005)), "5 pips of 0.0001");
    assert_eq!(eur.max_trailing_distance, Some(dec!(1)), "10000 pips of 0.0001");
    let jpy = &specs[1];
    assert_eq!((jpy.pip_location, jpy.display_precision), (-2, 3));
    assert_eq!(jpy.min_trailing_distance, Some(dec!(0.05)));
    assert_eq!(specs[2].kind, InstrumentKind::Metal);
    let spx = &specs[3];
    assert_eq!(
        (spx.kind, spx.pip_location, spx.display_precision),
        (InstrumentKind::Cfd, 0, 1)
    );
    let oil = &specs[4];
    assert_eq!(oil.kind, InstrumentKind::Cfd, "BCO is not a currency");
    assert_eq!(
        (oil.min_trailing_distance, oil.max_trailing_distance),
        (None, None)
    );
}

#[test]
fn instruments_with_default_fields_only() {
    let list: model::Instruments = serde_json::from_str(INSTRUMENTS).unwrap();
    let s = instrument_spec(&list.instruments[0]);
    assert_eq!(
        (s.pip_location, s.display_precision),
        (-4, 5),
        "precision derived from the pip"
    );
    assert_eq!(s.margin_rate, dec!(1), "unknown margin rate: no leverage assumed");
    assert_eq!(s.kind, InstrumentKind::Currency);
}

#[test]
fn pip_locations_and_places() {
    assert_eq!(pip_location(dec!(0.0001)), -4);
    assert_eq!(pip_location(dec!(0.01)), -2);
    assert_eq!(pip_location(dec!(1)), 0);
    assert_eq!(pip_location(dec!(10)), 1);
    assert_eq!(pip_location(dec!(0.00010)), -4);
    assert_eq!(places(dec!(0.00001)), 5);
    assert_eq!(places(dec!(1)), 0);
}

#[test]
fn prices_of_the_seed() {
    let p: model::Prices = serde_json::from_str(PRICES).unwrap();
    let eur = price(&p.prices[0], now());
    assert_eq!((eur.bid, eur.ask), (dec!(1.31513), dec!(1.31528)));
    assert_eq!(eur.time.timestamp(), 1_371_836_464);
    assert!(eur.tradeable && eur.bid_size.is_none() && eur.quote_to_home.is_none());
    assert!(!price(&p.prices[2], now()).tradeable, "EUR_CAD is halted");
}

#[test]
fn candles_of_either_format() {
    let mid: model::Candles = serde_json::from_str(CANDLES_MID).unwrap();
    let c = candles(&mid, CandleSide::Mid);
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].time.timestamp(), 1_404_273_600);
    assert_eq!(
        (c[0].open, c[0].high, c[0].low, c[0].close),
        (dec!(1.36803), dec!(1.368125), dec!(1.364275), dec!(1.365315))
    );
    assert_eq!((c[0].volume, c[0].complete, c[1].complete), (28242, true, false));
    assert!(
        candles(&mid, CandleSide::Bid).is_empty(),
        "no bid prices in midpoint candles"
    );
    let ba: model::Candles = serde_json::from_str(CANDLES_BIDASK).unwrap();
    let bid = candles(&ba, CandleSide::Bid);
    let ask = candles(&ba, CandleSide::Ask);
    assert_eq!((bid[0].open, bid[0].low), (dec!(1.25682), dec!(1.25642)));
    assert_eq!(
        (ask[1].high, ask[1].close, ask[1].volume),
        (dec!(1.25653), dec!(1.25643), 4)
    );
}

#[test]
fn stream_lines() {
    match price_line(PRICE_TICK.as_bytes(), now()).unwrap() {
        StreamLine::Item(p) => {
            assert_eq!(
                (p.instrument.as_str(), p.bid, p.ask),
                ("EUR_USD", dec!(1.38701), dec!(1.38712))
            );
            assert_eq!(p.time.timestamp_micros(), 1_394_225_887_461_445);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        price_line(HEARTBEAT.as_bytes(), now()).unwrap(),
        StreamLine::Heartbeat
    );
    assert_eq!(price_line(b"{}", now()).unwrap(), StreamLine::Other);
    assert!(price_line(b"garbage", now()).is_err());
    let ev = format!(r#"{{"transaction":{TRANSACTION}}}"#);
    assert_eq!(
        event_line(ev.as_bytes()).unwrap(),
        StreamLine::Item("6765103".into())
    );
    assert_eq!(event_line(HEARTBEAT.as_bytes()).unwrap(), StreamLine::Heartbeat);
    assert_eq!(
        event_line(br#"{"transaction":{"id":1}}"#).unwrap(),
        StreamLine::Other
    );
}
