//! The real client's wire traffic against a local stub on 127.0.0.1:0 that records every request and
//! answers each path from a fixture: paths, methods, query strings, bodies, the error body, and the
//! documented one-per-5-s pacing of the order list.

use super::*;
use crate::backends::ibkr::model::tests::fixture;
use crate::backends::ibkr::IbkrConfig;
use axum::http::{Method as AxumMethod, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_decimal_macros::dec;
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

async fn stub() -> (Seen, String) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |m: AxumMethod, uri: Uri, body: String| {
        let s = s.clone();
        async move {
            let path = uri.path().to_string();
            s.lock().unwrap().push((m.to_string(), uri.to_string(), body));
            let file = match path.as_str() {
                "/v1/api/iserver/auth/status" => "auth_status.json",
                "/v1/api/iserver/account/DU1/orders" => "place_question.json",
                "/v1/api/iserver/account/orders" => "live_orders.json",
                "/v1/api/iserver/marketdata/snapshot" => "snapshot.json",
                "/v1/api/iserver/marketdata/history" => "history.json",
                "/v1/api/portfolio/DU1/positions/0" => "positions_page0.json",
                _ => return (StatusCode::UNAUTHORIZED, fixture("error_401.json")).into_response(),
            };
            Response::new(fixture(file).into())
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (seen, base)
}

fn client(base: &str) -> IbkrClient {
    let c = IbkrConfig {
        base_url: Some(base.to_string()),
        symbols: vec![],
        ..IbkrConfig::default()
    };
    IbkrClient::new(&c.resolve(&|_| unreachable!()).unwrap()).unwrap()
}

#[tokio::test]
async fn each_endpoint_is_called_as_documented() {
    let (seen, base) = stub().await;
    let c = client(&base);
    assert!(c.auth_status().await.unwrap().authenticated);
    let ticket = OrderTicket {
        acct_id: "DU1".into(),
        conid: 265598,
        c_oid: Some("tvb-1".into()),
        parent_id: None,
        order_type: "LMT",
        side: "BUY",
        tif: "GTC",
        quantity: dec!(5),
        price: Some(dec!(150.5)),
        aux_price: None,
        is_single_group: None,
        outside_rth: false,
    };
    let answer = c
        .place("DU1", &OrdersBody { orders: vec![ticket] })
        .await
        .unwrap();
    assert!(matches!(&answer[..], [SubmitItem::Question(_)]));
    c.live_orders("DU1").await.unwrap();
    c.snapshot(&[265598, 8314], "31,84").await.unwrap();
    let q = HistoryQuery {
        conid: 265598,
        period: "1000min".into(),
        bar: "1min".into(),
        start_time: Some("20231211-14:30:00".into()),
        outside_rth: false,
    };
    assert_eq!(c.history(&q).await.unwrap().data.len(), 3);
    assert_eq!(c.positions("DU1", 0).await.unwrap().len(), 2);
    // A refused session: IBKR's error body parsed once, a 401 the session layer recognises.
    let e = c.summary("DU1").await.unwrap_err();
    assert!(crate::backends::ibkr::errors::is_session_gone(&e));
    assert_eq!(
        crate::backends::ibkr::errors::message(&e).as_deref(),
        Some("not authenticated")
    );
    let seen = seen.lock().unwrap().clone();
    let line = |i: usize| format!("{} {}", seen[i].0, seen[i].1);
    assert_eq!(line(0), "POST /v1/api/iserver/auth/status");
    assert_eq!(line(1), "POST /v1/api/iserver/account/DU1/orders");
    let body: serde_json::Value = serde_json::from_str(&seen[1].2).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"orders": [{"acctId": "DU1", "conid": 265598, "cOID": "tvb-1", "orderType": "LMT",
            "side": "BUY", "tif": "GTC", "quantity": 5.0, "price": 150.5, "outsideRth": false}]})
    );
    assert_eq!(line(2), "GET /v1/api/iserver/account/orders?accountId=DU1");
    assert_eq!(
        line(3),
        "GET /v1/api/iserver/marketdata/snapshot?conids=265598%2C8314&fields=31%2C84"
    );
    assert_eq!(
        line(4),
        "GET /v1/api/iserver/marketdata/history?conid=265598&period=1000min&bar=1min&outsideRth=false&startTime=20231211-14%3A30%3A00"
    );
    assert_eq!(line(5), "GET /v1/api/portfolio/DU1/positions/0");
    assert_eq!(line(6), "GET /v1/api/portfolio/DU1/summary");
    assert_eq!(seen.len(), 7, "a 401 is not retried by the client");
}

#[tokio::test(start_paused = true)]
async fn the_order_list_is_read_at_most_once_per_five_seconds() {
    let (seen, base) = stub().await;
    let c = client(&base);
    let started = tokio::time::Instant::now();
    for _ in 0..3 {
        c.live_orders("DU1").await.unwrap();
    }
    // Three reads need two full waits between them.
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn the_socket_upgrade_is_one_more_request_in_the_pace_of_every_call() {
    let (seen, base) = stub().await;
    let c = client(&base);
    let started = std::time::Instant::now();
    // Through the gateway the upgrade carries nothing, but ten of them fill the 10/s pace...
    for _ in 0..10 {
        let pass = c.socket_pass().await.unwrap();
        assert!(pass.query.is_empty() && pass.headers.is_empty() && !pass.session_cookie);
    }
    assert!(started.elapsed() < Duration::from_millis(900));
    // ...so the next REST call waits for the window to pass.
    assert!(c.auth_status().await.unwrap().authenticated);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the upgrades were not counted"
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "the pass itself sends nothing");
}
