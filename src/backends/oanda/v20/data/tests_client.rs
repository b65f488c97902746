//! The requests market data sends, checked against a tiny v20 server on 127.0.0.1 that answers documented
//! payloads, checks the bearer token like OANDA, and records what it was asked.

use super::super::convert::fixtures::{candles_body, instruments_body};
use super::*;
use crate::backends::oanda::venue::Granularity;
use crate::broker::BrokerError;
use crate::upstream::days::DayCut;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::{TimeZone, Utc};
use rust_decimal_macros::dec;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TOKEN: &str = "good-token";
const ACCOUNT: &str = "101-004-1234567-001";

/// One request the fake received.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    query: HashMap<String, String>,
    auth: Option<String>,
    datetime_format: Option<String>,
}

type Log = Arc<Mutex<Vec<Seen>>>;

async fn fake() -> (Http, Log) {
    let log: Log = Arc::default();
    let app = Router::new().fallback(answer).with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let http = Http::new(&base, &base, 1000, Duration::from_secs(5)).unwrap();
    (http, log)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"errorMessage": message}))).into_response()
}

async fn answer(State(log): State<Log>, uri: Uri, headers: HeaderMap) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let query: HashMap<String, String> = serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap();
    let seen = Seen {
        path: uri.path().to_string(),
        query: query.clone(),
        auth: header("authorization"),
        datetime_format: header("accept-datetime-format"),
    };
    log.lock().unwrap().push(seen.clone());
    if seen.auth.as_deref() != Some(&format!("Bearer {TOKEN}")) {
        return error(
            StatusCode::UNAUTHORIZED,
            "Insufficient authorization to perform request.",
        );
    }
    let path: Vec<&str> = seen.path.split('/').collect();
    match path.as_slice() {
        ["", "v3", "accounts", ACCOUNT, "instruments"] => Json(instruments_body()).into_response(),
        ["", "v3", "accounts", ACCOUNT, "pricing"] => {
            let names: Vec<&str> = query
                .get("instruments")
                .map(|s| s.split(',').collect())
                .unwrap_or_default();
            if names.iter().any(|n| n.starts_with("NOPE")) {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Invalid value specified for 'instruments'",
                );
            }
            let prices: Vec<_> = names
                .iter()
                .map(|n| {
                    json!({"type": "PRICE", "instrument": n, "time": "2016-06-22T18:41:36.201836422Z",
                           "tradeable": true, "bids": [{"price": "1.13015", "liquidity": 10000000}],
                           "asks": [{"price": "1.13028", "liquidity": 10000000}],
                           "closeoutBid": "1.13015", "closeoutAsk": "1.13028"})
                })
                .collect();
            Json(json!({"prices": prices, "time": "2016-06-22T18:41:48.258142231Z",
                        "homeConversions": [{"currency": "USD", "accountGain": "1", "accountLoss": "1",
                                             "positionValue": "1"}]}))
            .into_response()
        }
        ["", "v3", "instruments", "EUR_USD", "candles"] => Json(candles_body()).into_response(),
        ["", "v3", "instruments", _, "candles"] => error(
            StatusCode::BAD_REQUEST,
            "Invalid value specified for 'instrument'",
        ),
        _ => error(StatusCode::NOT_FOUND, "The requested resource does not exist"),
    }
}

fn seen(log: &Log) -> Vec<Seen> {
    log.lock().unwrap().clone()
}

fn token() -> Secret {
    Secret::new(TOKEN)
}

#[tokio::test]
async fn instruments_are_read_with_the_bearer_token() {
    let (http, log) = fake().await;
    let specs = instruments(&http, &token(), ACCOUNT).await.unwrap();
    assert_eq!(specs.len(), 5);
    assert_eq!(specs[0].name, "EUR_USD");
    assert_eq!(specs[0].min_trailing_distance, Some(dec!(0.00050)));
    let seen = seen(&log);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v3/accounts/101-004-1234567-001/instruments");
    assert_eq!(seen[0].auth.as_deref(), Some("Bearer good-token"));
    assert_eq!(seen[0].datetime_format.as_deref(), Some("RFC3339"));
}

#[tokio::test]
async fn a_refused_token_is_unauthorized_everywhere() {
    let (http, _log) = fake().await;
    let bad = Secret::new("expired-token");
    let query = CandleQuery {
        instrument: "EUR_USD".into(),
        granularity: Granularity::M1,
        side: CandleSide::Mid,
        before: Some(Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).unwrap()),
        count: 10,
        day_cut: DayCut::Utc,
    };
    let errors = [
        instruments(&http, &bad, ACCOUNT).await.unwrap_err(),
        prices(&http, &bad, ACCOUNT, &["EUR_USD".into()])
            .await
            .unwrap_err(),
        candles(&http, &bad, &query).await.unwrap_err(),
    ];
    for e in errors {
        match e {
            BrokerError::Unauthorized(m) => {
                assert!(m.contains("Insufficient authorization"), "{m}");
                assert!(!m.contains("expired-token"), "the token never shows: {m}");
            }
            other => panic!("expected Unauthorized, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn prices_ask_for_home_conversions() {
    let (http, log) = fake().await;
    let wanted = [
        "EUR_USD".to_string(),
        "USD_JPY".to_string(),
        "EUR_USD".to_string(),
    ];
    let prices = prices(&http, &token(), ACCOUNT, &wanted).await.unwrap();
    assert_eq!(
        prices.iter().map(|p| p.instrument.as_str()).collect::<Vec<_>>(),
        ["EUR_USD", "USD_JPY"]
    );
    assert_eq!(prices[0].quote_to_home, Some((dec!(1), dec!(1))));
    assert_eq!(prices[1].quote_to_home, None, "no JPY factors in the answer");
    let seen = seen(&log);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v3/accounts/101-004-1234567-001/pricing");
    assert_eq!(seen[0].query["instruments"], "EUR_USD,USD_JPY");
    assert_eq!(seen[0].query["includeHomeConversions"], "true");
    assert_eq!(seen[0].auth.as_deref(), Some("Bearer good-token"));
}

#[tokio::test]
async fn no_instruments_no_request() {
    let (http, log) = fake().await;
    assert_eq!(prices(&http, &token(), ACCOUNT, &[]).await.unwrap(), vec![]);
    assert_eq!(
        prices(&http, &token(), ACCOUNT, &[" ".into()]).await.unwrap(),
        vec![]
    );
    assert!(seen(&log).is_empty());
}

#[tokio::test]
async fn long_lists_are_split() {
    let (http, log) = fake().await;
    let wanted: Vec<String> = (0..120).map(|i| format!("I{i:03}_USD")).collect();
    let got = prices(&http, &token(), ACCOUNT, &wanted).await.unwrap();
    assert_eq!(got.len(), 120);
    let sizes: Vec<usize> = seen(&log)
        .iter()
        .map(|s| s.query["instruments"].split(',').count())
        .collect();
    assert_eq!(sizes, [50, 50, 20]);
}

#[tokio::test]
async fn an_unknown_instrument_is_left_out_and_the_others_priced() {
    let (http, log) = fake().await;
    let mut wanted: Vec<String> = (0..40).map(|i| format!("I{i:03}_USD")).collect();
    wanted.insert(17, "NOPE_XXX".into());
    let got = prices(&http, &token(), ACCOUNT, &wanted).await.unwrap();
    assert_eq!(got.len(), 40);
    assert!(got.iter().all(|p| p.instrument != "NOPE_XXX"));
    let requests = seen(&log).len();
    assert!(requests <= 13, "{requests} requests to isolate one name");
}

#[tokio::test]
async fn a_refusal_of_everything_is_reported_not_retried_forever() {
    let (http, log) = fake().await;
    let wanted: Vec<String> = (0..50).map(|i| format!("NOPE{i:02}_USD")).collect();
    let e = prices(&http, &token(), ACCOUNT, &wanted).await.unwrap_err();
    assert_eq!(
        e,
        BrokerError::Rejected("OANDA refused prices: Invalid value specified for 'instruments'".into())
    );
    assert!(seen(&log).len() <= 2 * MAX_PRICE_SPLITS as usize + 1);
}

#[tokio::test]
async fn candles_send_the_documented_query() {
    let (http, log) = fake().await;
    let query = CandleQuery {
        instrument: "EUR_USD".into(),
        granularity: Granularity::H4,
        side: CandleSide::Bid,
        before: Some(Utc.with_ymd_and_hms(2024, 3, 4, 8, 0, 0).unwrap()),
        count: 7000,
        day_cut: DayCut::NewYork17,
    };
    let got = candles(&http, &token(), &query).await.unwrap();
    assert_eq!(got.len(), 1, "only the candle with bid prices");
    assert_eq!(got[0].open, dec!(1.09880));
    let seen = seen(&log);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v3/instruments/EUR_USD/candles");
    assert_eq!(seen[0].auth.as_deref(), Some("Bearer good-token"));
    let expected: HashMap<String, String> = [
        ("price", "B"),
        ("granularity", "H4"),
        ("to", "2024-03-04T07:59:59Z"),
        ("count", "5000"),
        ("dailyAlignment", "0"),
        ("alignmentTimezone", "UTC"),
        ("weeklyAlignment", "Monday"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(seen[0].query, expected);
}

#[tokio::test]
async fn a_refused_candles_request_keeps_oandas_words() {
    let (http, _log) = fake().await;
    let query = CandleQuery {
        instrument: "FOO_BAR".into(),
        granularity: Granularity::M5,
        side: CandleSide::Mid,
        before: None,
        count: 100,
        day_cut: DayCut::Utc,
    };
    let e = candles(&http, &token(), &query).await.unwrap_err();
    assert_eq!(
        e,
        BrokerError::Rejected(
            "OANDA refused candles of FOO_BAR: Invalid value specified for 'instrument'".into()
        )
    );
}
