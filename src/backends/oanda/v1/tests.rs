//! The v1 venue against a tiny in-process server answering documented v1 payloads: what is sent (paths,
//! forms, auth), how often (caching, single flight), and that no write is ever sent twice.

use super::convert::fixtures::*;
use super::V1Venue;
use crate::backends::oanda::catalog::{AccountCatalog, SymbolRules};
use crate::backends::oanda::client::Http;
use crate::backends::oanda::v1::convert::instrument_spec;
use crate::backends::oanda::v1::model;
use crate::backends::oanda::venue::{ClientRef, Conn, Ctx, StreamLine, Venue};
use crate::broker::BrokerError;
use crate::secret::Secret;
use crate::sync::MutexExt;
use crate::tv::{self, Brackets, OrderStatus, OrderType, Side};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{TimeZone, Utc};
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ACCOUNT_ID: &str = "8954947";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Hit {
    method: Method,
    path: String,
    query: String,
    body: String,
}

/// What the server answers.
#[derive(Default)]
struct State {
    hits: Vec<Hit>,
    orders: Vec<Value>,
    trades: Vec<Value>,
    /// Newest first.
    transactions: Vec<Value>,
    /// Answer of `POST /orders`; a transaction to record when it arrives; a delay before answering.
    post: Option<(u16, Value)>,
    post_records: Option<Value>,
    post_delay: Option<Duration>,
    /// Answer of `PATCH`es and `DELETE`s.
    write: Option<(u16, Value)>,
}

type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, State> {
    s.locked()
}

fn param(query: &str, name: &str) -> Option<u64> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
}

async fn handle(
    state: axum::extract::State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let s = state.0;
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer tok") {
        return (StatusCode::UNAUTHORIZED, Json(json!({"code":4,"message":"The access token provided does not allow this request to be made"}))).into_response();
    }
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or_default().to_string();
    lock(&s).hits.push(Hit {
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let base = format!("/v1/accounts/{ACCOUNT_ID}");
    let rest = path.strip_prefix(&base).map(str::to_owned);
    match (method.as_str(), rest.as_deref()) {
        ("GET", _) if path == "/v1/accounts" => ok(serde_json::from_str(ACCOUNTS).unwrap()),
        ("GET", Some("")) => ok(serde_json::from_str(ACCOUNT).unwrap()),
        ("GET", Some("/orders")) => ok(json!({"orders": lock(&s).orders})),
        ("GET", Some("/trades")) => ok(json!({"trades": lock(&s).trades})),
        ("GET", Some("/positions")) => ok(serde_json::from_str(POSITIONS).unwrap()),
        ("GET", Some("/transactions")) => {
            let (min, max, count) = (
                param(&query, "minId"),
                param(&query, "maxId"),
                param(&query, "count"),
            );
            let txs: Vec<Value> = lock(&s)
                .transactions
                .iter()
                .filter(|t| {
                    let id = t["id"].as_u64().unwrap_or_default();
                    min.is_none_or(|m| id >= m) && max.is_none_or(|m| id <= m)
                })
                .take(count.unwrap_or(50) as usize)
                .cloned()
                .collect();
            ok(json!({ "transactions": txs }))
        }
        ("GET", _) if path == "/v1/prices" => ok(serde_json::from_str(PRICES).unwrap()),
        ("POST", Some("/orders")) => {
            let (answer, records, delay) = {
                let mut st = lock(&s);
                (st.post.clone(), st.post_records.take(), st.post_delay)
            };
            if let Some(tx) = records {
                lock(&s).transactions.insert(0, tx);
            }
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            let (status, body) = answer.unwrap_or((200, serde_json::from_str(MARKET_ANSWER).unwrap()));
            (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
        }
        ("PATCH" | "DELETE", Some(_)) => {
            let (status, body) = lock(&s).write.clone().unwrap_or((200, json!({})));
            (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({"code":43,"message":"Order not found"})),
        )
            .into_response(),
    }
}

use axum::Json;

fn ok(v: Value) -> Response {
    Json(v).into_response()
}

struct Rig {
    state: Shared,
    conn: Conn,
    catalog: AccountCatalog,
    venue: V1Venue,
}

impl Rig {
    async fn new() -> Rig {
        let state: Shared = Arc::default();
        let app = axum::Router::new().fallback(handle).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let http = Http::new(&base, &base, 1000, Duration::from_millis(400)).unwrap();
        let specs: Vec<_> = serde_json::from_str::<model::Instruments>(INSTRUMENTS_FULL)
            .unwrap()
            .instruments
            .iter()
            .map(instrument_spec)
            .collect();
        Rig {
            state,
            conn: Conn {
                http: Arc::new(http),
                token: Secret::new("tok"),
            },
            catalog: AccountCatalog::new(specs, &SymbolRules::default()),
            venue: V1Venue::new(),
        }
    }

    fn cx(&self) -> Ctx<'_> {
        Ctx {
            conn: &self.conn,
            account: ACCOUNT_ID,
            catalog: &self.catalog,
            since: Utc.with_ymd_and_hms(2014, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    fn hits(&self, method: &str, suffix: &str) -> Vec<Hit> {
        lock(&self.state)
            .hits
            .iter()
            .filter(|h| h.method.as_str() == method && h.path.ends_with(suffix))
            .cloned()
            .collect()
    }

    fn with(&self, f: impl FnOnce(&mut State)) {
        f(&mut lock(&self.state));
    }
}

fn market(qty: i64, side: Side) -> tv::PlaceOrder {
    tv::PlaceOrder::new("EURUSD", side, OrderType::Market, qty.into())
}

fn spec(rig: &Rig) -> crate::backends::oanda::venue::InstrumentSpec {
    rig.catalog.spec("EUR_USD").unwrap().clone()
}

#[tokio::test]
async fn accounts_state_and_prices() {
    let rig = Rig::new().await;
    let accounts = rig.venue.accounts(&rig.conn).await.unwrap();
    assert_eq!(
        (accounts[0].id.as_str(), accounts[0].currency.as_str()),
        (ACCOUNT_ID, "USD")
    );
    let state = rig.venue.state(rig.cx()).await.unwrap();
    assert_eq!((state.balance, state.equity), (dec!(100000), dec!(100000)));
    let prices = rig
        .venue
        .prices(rig.cx(), &["EUR_USD".into(), "NOPE_XYZ".into()])
        .await
        .unwrap();
    assert_eq!(prices.len(), 3, "the fake answers the seed's three prices");
    let asked = &rig.hits("GET", "/v1/prices")[0];
    assert_eq!(
        asked.query, "instruments=EUR_USD",
        "an instrument the account lacks is not asked for"
    );
    let bad = Conn {
        http: rig.conn.http.clone(),
        token: Secret::new("wrong"),
    };
    let e = rig.venue.accounts(&bad).await.unwrap_err();
    assert!(matches!(e, BrokerError::Unauthorized(m) if m.contains("does not allow")));
}

#[tokio::test]
async fn one_refresh_reads_each_list_once() {
    let rig = Rig::new().await;
    rig.with(|s| {
        s.orders = serde_json::from_str::<Value>(ORDERS).unwrap()["orders"]
            .as_array()
            .unwrap()
            .clone();
        s.trades = serde_json::from_str::<Value>(TRADES).unwrap()["trades"]
            .as_array()
            .unwrap()
            .clone();
    });
    let cx = rig.cx();
    let snapshot = rig.venue.snapshot(cx).await.unwrap();
    let (orders, individual) = (snapshot.orders, snapshot.individual_positions);
    assert_eq!(snapshot.net_positions.len(), 2);
    assert_eq!(
        orders.len(),
        4 + 1 + 2 + 3,
        "pending orders, their brackets, the trade brackets"
    );
    assert_eq!(individual.len(), 2);
    assert_eq!(
        individual[0].unrealized_pl,
        dec!(0.10),
        "a EUR_USD sell of 2 at 1.36687, ask 1.31528"
    );
    assert_eq!(
        individual[1].unrealized_pl,
        dec!(-4.59),
        "a USD_JPY buy of 100 at 102.1, bid 97.618"
    );
    for suffix in ["/orders", "/trades", "/positions", ACCOUNT_ID] {
        assert_eq!(rig.hits("GET", suffix).len(), 1, "{suffix} read once");
    }
    // Nothing is cached in the venue (the account hub serves polls): the next listing reads again.
    rig.venue.orders(cx).await.unwrap();
    assert_eq!(rig.hits("GET", "/orders").len(), 2);
}

#[tokio::test]
async fn a_market_order_is_sent_once_and_shows_as_filled() {
    let rig = Rig::new().await;
    rig.with(|s| {
        s.transactions = vec![serde_json::from_str(TRANSACTION).unwrap()];
        s.post_records = Some(json!({"id":176403890,"accountId":8954947,"time":"2014-04-07T18:40:00Z","type":"MARKET_ORDER_CREATE","instrument":"EUR_USD","units":2,"side":"buy","price":1.37041,"tradeOpened":{"id":176403890,"units":2}}));
        s.post = Some((200, json!({"instrument":"EUR_USD","time":"2014-04-07T18:40:00Z","price":1.37041,"tradeOpened":{"id":176403890,"units":2,"side":"buy","takeProfit":0,"stopLoss":1.3,"trailingStop":0},"tradesClosed":[],"tradeReduced":{}})));
    });
    let mut order = market(2, Side::Buy);
    order.brackets.stop_loss = Some(dec!(1.3));
    let id = rig
        .venue
        .place_order(rig.cx(), &spec(&rig), &order, ClientRef::of_tests("req-1"))
        .await
        .unwrap();
    assert_eq!(id, "176403890");
    let posts = rig.hits("POST", "/orders");
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].body,
        "instrument=EUR_USD&units=2&side=buy&type=market&stopLoss=1.3"
    );
    let first = lock(&rig.state).hits[0].clone();
    assert!(
        first.path.ends_with("/transactions") && first.query.contains("count=1"),
        "newest id read first"
    );
    let orders = rig.venue.orders(rig.cx()).await.unwrap();
    let filled = orders.iter().find(|o| o.id == "176403890").unwrap();
    assert_eq!(
        (filled.status, filled.avg_price),
        (OrderStatus::Filled, Some(dec!(1.37041)))
    );
}

#[tokio::test]
async fn a_lost_answer_is_looked_up_never_resent() {
    let rig = Rig::new().await;
    rig.with(|s| {
        s.transactions = vec![serde_json::from_str(TRANSACTION).unwrap()];
        s.post_delay = Some(Duration::from_secs(2));
        s.post_records = Some(json!({"id":176403900,"accountId":8954947,"time":"2014-04-07T18:40:00Z","type":"LIMIT_ORDER_CREATE","instrument":"EUR_USD","units":3,"side":"sell","price":1.5,"expiry":"2014-05-01T00:00:00Z"}));
    });
    let mut order = market(3, Side::Sell);
    order.kind = OrderType::Limit;
    order.limit_price = Some(dec!(1.5));
    let id = rig
        .venue
        .place_order(rig.cx(), &spec(&rig), &order, ClientRef::of_tests("req-2"))
        .await
        .unwrap();
    assert_eq!(id, "176403900");
    assert_eq!(rig.hits("POST", "/orders").len(), 1);
    let lookups = rig.hits("GET", "/transactions");
    assert!(
        lookups.iter().any(|h| h.query.contains("minId=176403880")),
        "{lookups:?}"
    );
}

#[tokio::test]
async fn a_placement_that_certainly_failed_says_so() {
    let rig = Rig::new().await;
    rig.with(|s| s.post = Some((502, json!({}))));
    let e = rig
        .venue
        .place_order(
            rig.cx(),
            &spec(&rig),
            &market(2, Side::Buy),
            ClientRef::of_tests("req-3"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, BrokerError::Rejected(m) if m.contains("not placed")),
        "{e:?}"
    );
    assert_eq!(rig.hits("POST", "/orders").len(), 1);
    // Another order on the instrument appeared meanwhile: "not placed" can no longer be said.
    rig.with(|s| {
        s.post_records = Some(json!({"id":900,"accountId":8954947,"time":"2014-04-07T18:40:00Z","type":"MARKET_ORDER_CREATE","instrument":"EUR_USD","units":7,"side":"buy","price":1.2}));
    });
    let e = rig
        .venue
        .place_order(
            rig.cx(),
            &spec(&rig),
            &market(2, Side::Buy),
            ClientRef::of_tests("req-3b"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, BrokerError::OutcomeUnknown(m) if m.contains("does not settle")),
        "{e:?}"
    );
    assert_eq!(rig.hits("POST", "/orders").len(), 2);
    rig.with(|s| s.post = Some((400, json!({"code":1,"message":"Insufficient margin"}))));
    let e = rig
        .venue
        .place_order(
            rig.cx(),
            &spec(&rig),
            &market(2, Side::Buy),
            ClientRef::of_tests("req-4"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e,
        BrokerError::Rejected("OANDA refused the order: Insufficient margin".into())
    );
}

#[tokio::test]
async fn brackets_are_changed_on_their_order_or_trade() {
    let rig = Rig::new().await;
    rig.with(|s| {
        s.orders = serde_json::from_str::<Value>(ORDERS).unwrap()["orders"]
            .as_array()
            .unwrap()
            .clone();
        s.trades = serde_json::from_str::<Value>(TRADES).unwrap()["trades"]
            .as_array()
            .unwrap()
            .clone();
    });
    let mut change = tv::ModifyOrder {
        qty: None,
        limit_price: None,
        stop_price: Some(dec!(101.5)),
        duration: None,
        brackets: Brackets::default(),
    };
    rig.venue
        .modify_order(rig.cx(), "175427800.sl", &change)
        .await
        .unwrap();
    let patch = rig.hits("PATCH", "/trades/175427800");
    assert_eq!(patch[0].body, "stopLoss=101.5");
    rig.venue.cancel_order(rig.cx(), "175427700.tp").await.unwrap();
    assert_eq!(rig.hits("PATCH", "/orders/175427700")[0].body, "takeProfit=0");
    change.stop_price = None;
    let e = rig
        .venue
        .modify_order(rig.cx(), "999.sl", &change)
        .await
        .unwrap_err();
    assert!(matches!(e, BrokerError::NotFound(_)));
    let e = rig.venue.cancel_order(rig.cx(), "../x").await.unwrap_err();
    assert!(matches!(e, BrokerError::NotFound(_)));
}

#[tokio::test]
async fn partial_closes_follow_first_in_first_out() {
    let rig = Rig::new().await;
    rig.with(|s| {
        s.trades = vec![
            json!({"id":20,"units":10,"side":"buy","instrument":"EUR_USD","time":"2014-02-13T18:00:00Z","price":1.3}),
            json!({"id":10,"units":5,"side":"buy","instrument":"EUR_USD","time":"2014-02-13T17:00:00Z","price":1.2}),
        ];
    });
    let e = rig
        .venue
        .close_trade(rig.cx(), "20", Some(dec!(4)))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, BrokerError::Rejected(m) if m.contains("oldest")),
        "{e:?}"
    );
    rig.venue
        .close_trade(rig.cx(), "10", Some(dec!(2)))
        .await
        .unwrap();
    let posts = rig.hits("POST", "/orders");
    assert_eq!(posts[0].body, "instrument=EUR_USD&units=2&side=sell&type=market");
    rig.venue.close_trade(rig.cx(), "20", None).await.unwrap();
    assert_eq!(rig.hits("DELETE", "/trades/20").len(), 1);
    let e = rig.venue.close_trade(rig.cx(), "30", None).await.unwrap_err();
    assert!(matches!(e, BrokerError::NotFound(_)));
}

#[tokio::test]
async fn streams_and_candles() {
    let rig = Rig::new().await;
    let s = rig
        .venue
        .price_stream(ACCOUNT_ID, &["EUR_USD".into(), "USD_JPY".into()]);
    assert_eq!(s.path, "/v1/prices");
    assert_eq!(
        s.query,
        vec![
            ("accountId", ACCOUNT_ID.to_string()),
            ("instruments", "EUR_USD,USD_JPY".into())
        ]
    );
    assert!(matches!(
        rig.venue.parse_price_line(PRICE_TICK.as_bytes()),
        StreamLine::Item(_)
    ));
    assert_eq!(rig.venue.parse_price_line(b"{oops"), StreamLine::Other);
    let t = rig.venue.transaction_stream(ACCOUNT_ID);
    assert_eq!((t.path.as_str(), t.query[0].0), ("/v1/events", "accountIds"));
    assert_eq!(
        rig.venue.parse_transaction_line(HEARTBEAT.as_bytes()),
        StreamLine::Heartbeat
    );
}
