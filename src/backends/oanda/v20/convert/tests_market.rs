//! Conversion of documented v20 market-data payloads (OpenAPI `Instrument`, `ClientPrice`,
//! `HomeConversions`, `Candlestick`) to the venue types.

use super::fixtures::{candles_body, instruments_body};
use super::market::*;
use crate::backends::oanda::v20::model::market::{CandlesBody, InstrumentsBody, PricingBody};
use crate::backends::oanda::venue::{Candle, CandleSide, InstrumentKind, InstrumentSpec, Price};
use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

fn time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn specs(body: serde_json::Value) -> Vec<InstrumentSpec> {
    let body: InstrumentsBody = serde_json::from_value(body).unwrap();
    body.instruments.iter().filter_map(instrument_spec).collect()
}

#[test]
fn instruments_keep_the_documented_values_and_precision() {
    let specs = specs(instruments_body());
    assert_eq!(
        specs.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["EUR_USD", "USD_JPY", "XAU_USD", "DE30_EUR", "XYZ_USD"],
        "entries without trading rules or a name are left out"
    );
    let eur = &specs[0];
    assert_eq!(
        *eur,
        InstrumentSpec {
            name: "EUR_USD".into(),
            display_name: "EUR/USD".into(),
            kind: InstrumentKind::Currency,
            pip_location: -4,
            display_precision: 5,
            units_precision: 0,
            min_units: dec!(1),
            max_units: dec!(100000000),
            margin_rate: dec!(0.0333),
            min_trailing_distance: Some(dec!(0.00050)),
            max_trailing_distance: Some(dec!(1.00000)),
        }
    );
    // The strings' scale survives: "0.00050" is not "0.0005".
    assert_eq!(eur.min_trailing_distance.unwrap().to_string(), "0.00050");
    assert_eq!(eur.max_trailing_distance.unwrap().to_string(), "1.00000");
    assert_eq!(eur.pip(), dec!(0.0001));
    let jpy = &specs[1];
    assert_eq!((jpy.pip_location, jpy.display_precision), (-2, 3));
    assert_eq!(jpy.min_trailing_distance.unwrap().to_string(), "0.050");
    let gold = &specs[2];
    assert_eq!(gold.kind, InstrumentKind::Metal);
    assert_eq!(gold.display_name, "Gold");
    assert_eq!(
        (gold.min_trailing_distance, gold.max_trailing_distance),
        (None, None)
    );
    assert_eq!(gold.max_units, dec!(5000));
    let dax = &specs[3];
    assert_eq!(dax.kind, InstrumentKind::Cfd);
    assert_eq!((dax.pip_location, dax.units_precision), (0, 1));
    assert_eq!(dax.min_units.to_string(), "0.1");
    assert_eq!(dax.pip(), Decimal::ONE);
    let new = &specs[4];
    assert_eq!(new.kind, InstrumentKind::Cfd, "an unknown class is tolerated");
    assert_eq!(
        new.display_name, "XYZ/USD",
        "a missing display name is made from the name"
    );
}

/// `GET /v3/accounts/{id}/pricing?includeHomeConversions=true` as documented.
fn pricing_body() -> serde_json::Value {
    json!({
        "prices": [
            {"type": "PRICE", "instrument": "EUR_USD", "time": "2016-06-22T18:41:36.201836422Z",
             "status": "tradeable", "tradeable": true,
             "bids": [{"price": "1.13015", "liquidity": 10000000}, {"price": "1.13013", "liquidity": 50000000}],
             "asks": [{"price": "1.13028", "liquidity": 10000000}, {"price": "1.13030", "liquidity": 50000000}],
             "closeoutBid": "1.13015", "closeoutAsk": "1.13028",
             "quoteHomeConversionFactors": {"positiveUnits": "1.00000000", "negativeUnits": "1.00000000"},
             "unitsAvailable": {"default": {"long": "2013434", "short": "2013434"}}},
            {"type": "PRICE", "instrument": "USD_JPY", "time": "2016-06-22T18:41:32.000000000Z",
             "status": "non-tradeable", "tradeable": false, "bids": [], "asks": [],
             "closeoutBid": "104.346", "closeoutAsk": "104.380"},
            {"type": "PRICE", "instrument": "GBP_CHF", "time": "2016-06-22T18:41:30.5Z",
             "status": "tradeable", "bids": [{"price": "1.41170", "liquidity": 1000000}],
             "asks": [{"price": "1.41220", "liquidity": 1000000}],
             "quoteHomeConversionFactors": {"positiveUnits": "1.04132000", "negativeUnits": "1.04190000"}},
            {"type": "PRICE", "instrument": "EUR_GBP", "time": "2016-06-22T18:41:30Z", "bids": [], "asks": []}
        ],
        "homeConversions": [
            {"currency": "USD", "accountGain": "1", "accountLoss": "1", "positionValue": "1"},
            {"currency": "JPY", "accountGain": "0.00958372", "accountLoss": "0.00958525",
             "positionValue": "0.00958449"},
            {"currency": "EUR", "accountGain": "1.12972", "accountLoss": "1.13060", "positionValue": "1.13016"}
        ],
        "time": "2016-06-22T18:41:48.258142231Z"
    })
}

fn convert_pricing(body: serde_json::Value) -> Vec<Price> {
    let body: PricingBody = serde_json::from_value(body).unwrap();
    let conversions = home_conversions(&body.home_conversions);
    body.prices
        .iter()
        .filter_map(|p| client_price(p, &conversions))
        .collect()
}

#[test]
fn prices_take_the_best_bucket_and_the_quote_currency_conversion() {
    let prices = convert_pricing(pricing_body());
    assert_eq!(prices.len(), 3, "a price with no side at all is left out");
    assert_eq!(
        prices[0],
        Price {
            instrument: "EUR_USD".into(),
            time: time("2016-06-22T18:41:36.201836422Z"),
            bid: dec!(1.13015),
            ask: dec!(1.13028),
            bid_size: Some(dec!(10000000)),
            ask_size: Some(dec!(10000000)),
            tradeable: true,
            // homeConversions win over the deprecated factors.
            quote_to_home: Some((dec!(1), dec!(1))),
        }
    );
    assert_eq!(prices[0].time.timestamp_subsec_nanos(), 201_836_422);
    let jpy = &prices[1];
    assert_eq!(
        (jpy.bid, jpy.ask),
        (dec!(104.346), dec!(104.380)),
        "closeout prices when no liquidity"
    );
    assert_eq!(jpy.ask.to_string(), "104.380");
    assert_eq!((jpy.bid_size, jpy.ask_size), (None, None));
    assert!(!jpy.tradeable);
    assert_eq!(jpy.quote_to_home, Some((dec!(0.00958372), dec!(0.00958525))));
    let chf = &prices[2];
    assert!(
        chf.tradeable,
        "the deprecated status serves when tradeable is absent"
    );
    assert_eq!(chf.quote_to_home, Some((dec!(1.04132000), dec!(1.04190000))));
    assert_eq!(chf.quote_to_home.unwrap().0.to_string(), "1.04132000");
    assert_eq!(
        chf.time,
        Utc.with_ymd_and_hms(2016, 6, 22, 18, 41, 30).unwrap() + chrono::Duration::milliseconds(500)
    );
}

#[test]
fn prices_without_conversions_or_status_are_still_read() {
    let prices = convert_pricing(json!({"prices": [
        {"instrument": "EUR_USD", "time": "2016-06-22T18:41:36Z", "status": "non-tradeable",
         "bids": [{"price": "1.1", "liquidity": "500000"}], "asks": [{"price": 1.2}]}
    ]}));
    assert_eq!(prices.len(), 1);
    let p = &prices[0];
    assert_eq!(
        (p.bid, p.ask),
        (dec!(1.1), dec!(1.2)),
        "numbers are tolerated where strings are documented"
    );
    assert_eq!((p.bid_size, p.ask_size), (Some(dec!(500000)), None));
    assert!(!p.tradeable);
    assert_eq!(p.quote_to_home, None);
}

fn convert_candles(side: CandleSide) -> Vec<Candle> {
    let body: CandlesBody = serde_json::from_value(candles_body()).unwrap();
    body.candles.iter().filter_map(|c| candle(c, side)).collect()
}

#[test]
fn candles_use_the_requested_side() {
    let mid = convert_candles(CandleSide::Mid);
    assert_eq!(
        mid,
        vec![
            Candle {
                time: time("2016-10-17T15:16:40Z"),
                open: dec!(1.09887),
                high: dec!(1.09896),
                low: dec!(1.09882),
                close: dec!(1.09890),
                volume: 12,
                complete: true,
            },
            Candle {
                time: time("2016-10-17T15:16:45Z"),
                open: dec!(1.09890),
                high: dec!(1.09900),
                low: dec!(1.09890),
                close: dec!(1.09900),
                volume: 3,
                complete: false,
            },
        ]
    );
    assert_eq!(mid[1].close.to_string(), "1.09900");
    let bid = convert_candles(CandleSide::Bid);
    assert_eq!(bid.len(), 1, "a candle without the requested side is left out");
    assert_eq!((bid[0].open, bid[0].close), (dec!(1.09880), dec!(1.09885)));
    let ask = convert_candles(CandleSide::Ask);
    assert_eq!((ask[0].high, ask[0].low), (dec!(1.09902), dec!(1.09889)));
}
