//! The WebSocket stream: session checks, subscribe / quote / unsubscribe, ping, the 40-epic limit and
//! the ways a socket ends.

use crate::client::{dec, login, num, relaxed, start, Client};
use fakes::capital::{FakeCapital, FakeMarket, FakeOptions};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(crate) async fn connect(fake: &FakeCapital) -> Ws {
    connect_async(fake.ws_url.as_str())
        .await
        .expect("websocket connect")
        .0
}

pub(crate) async fn send(ws: &mut Ws, c: &Client, destination: &str, correlation: &str, payload: Value) {
    let msg = json!({
        "destination": destination,
        "correlationId": correlation,
        "cst": c.cst,
        "securityToken": c.token,
        "payload": payload,
    });
    ws.send(Message::text(msg.to_string()))
        .await
        .expect("websocket send");
}

/// The next text message as JSON (fails the test after two seconds).
pub(crate) async fn recv(ws: &mut Ws) -> Value {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(2), ws.next()).await;
        match next.expect("a websocket message in time") {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(t.as_str()).expect("json message"),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// How the socket ended: `Some(true)` with a close frame, `Some(false)` without one.
async fn ending(ws: &mut Ws) -> Option<bool> {
    loop {
        match tokio::time::timeout(Duration::from_secs(2), ws.next())
            .await
            .ok()?
        {
            Some(Ok(Message::Close(_))) => return Some(true),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Some(false),
        }
    }
}

#[tokio::test]
async fn subscribe_quote_ping_unsubscribe() {
    let fake = start().await;
    let c = login(&fake).await;
    let mut ws = connect(&fake).await;
    assert_eq!(fake.ws_connections(), 1);

    send(
        &mut ws,
        &c,
        "marketData.subscribe",
        "1",
        json!({ "epics": ["EURUSD", "GOLD", "NOPE"] }),
    )
    .await;
    let answer = recv(&mut ws).await;
    assert_eq!(answer["status"], "OK");
    assert_eq!(answer["destination"], "marketData.subscribe");
    assert_eq!(answer["correlationId"], "1");
    assert_eq!(answer["payload"]["subscriptions"]["EURUSD"], "PROCESSED");
    assert_eq!(answer["payload"]["subscriptions"]["GOLD"], "PROCESSED");
    assert_ne!(answer["payload"]["subscriptions"]["NOPE"], "PROCESSED");
    let first = recv(&mut ws).await;
    assert_eq!(
        (first["destination"].as_str(), first["payload"]["epic"].as_str()),
        (Some("quote"), Some("EURUSD"))
    );
    assert_eq!(first["payload"]["product"], "CFD");
    assert_eq!(
        (num(&first["payload"]["bid"]), num(&first["payload"]["ofr"])),
        (dec("1.08512"), dec("1.08518"))
    );
    assert!(first["payload"]["bidQty"].is_number() && first["payload"]["timestamp"].is_i64());
    assert_eq!(recv(&mut ws).await["payload"]["epic"], "GOLD");
    assert_eq!(fake.ws_subscriptions(), ["EURUSD", "GOLD"]);

    fake.set_price("GOLD", dec("2040.00"), dec("2040.30"));
    fake.set_price("AAPL", dec("190.00"), dec("190.20"));
    let pushed = recv(&mut ws).await;
    assert_eq!(pushed["payload"]["epic"], "GOLD");
    assert_eq!(num(&pushed["payload"]["ofr"]), dec("2040.3"));

    fake.advance_clock(Duration::from_secs(9 * 60));
    send(&mut ws, &c, "ping", "2", json!({})).await;
    let pong = recv(&mut ws).await;
    assert_eq!(
        (pong["status"].as_str(), pong["destination"].as_str()),
        (Some("OK"), Some("ping"))
    );
    assert_eq!(pong["payload"], json!({}));
    // The WebSocket ping kept the REST session alive too.
    fake.advance_clock(Duration::from_secs(9 * 60));
    assert_eq!(c.get("/accounts").await.0, 200);

    send(
        &mut ws,
        &c,
        "marketData.unsubscribe",
        "3",
        json!({ "epics": ["GOLD"] }),
    )
    .await;
    let answer = recv(&mut ws).await;
    assert_eq!(answer["payload"]["subscriptions"]["GOLD"], "PROCESSED");
    assert_eq!(fake.ws_subscriptions(), ["EURUSD"]);
    fake.set_price("GOLD", dec("2041.00"), dec("2041.30"));
    fake.set_price("EURUSD", dec("1.08600"), dec("1.08606"));
    assert_eq!(recv(&mut ws).await["payload"]["epic"], "EURUSD");

    send(
        &mut ws,
        &c,
        "OHLCMarketData.subscribe",
        "4",
        json!({ "epics": ["AAPL"], "resolutions": ["MINUTE_5"] }),
    )
    .await;
    let ohlc = recv(&mut ws).await;
    assert_eq!(
        ohlc["payload"]["subscriptions"]["AAPL:MINUTE_5:classic"],
        "PROCESSED"
    );
}

#[tokio::test]
async fn messages_need_a_live_session() {
    let fake = start().await;
    let c = login(&fake).await;
    let mut ws = connect(&fake).await;
    let forged = Client {
        cst: "forged".into(),
        ..login(&fake).await
    };
    send(
        &mut ws,
        &forged,
        "marketData.subscribe",
        "9",
        json!({ "epics": ["GOLD"] }),
    )
    .await;
    let err = recv(&mut ws).await;
    assert_eq!(err["status"], "ERROR");
    assert_eq!(err["correlationId"], "9");
    assert_eq!(err["payload"]["errorCode"], "error.invalid.session.token");
    assert!(fake.ws_subscriptions().is_empty());

    // Once the session behind the socket expires, the server closes the socket.
    send(&mut ws, &c, "ping", "1", json!({})).await;
    recv(&mut ws).await;
    fake.advance_clock(Duration::from_secs(11 * 60));
    assert_eq!(ending(&mut ws).await, Some(true));
    assert_eq!(fake.ws_connections(), 0);
}

#[tokio::test]
async fn at_most_forty_epics_per_socket() {
    let mut markets = FakeMarket::defaults();
    let template = markets[0].clone();
    for i in 0..45 {
        markets.push(FakeMarket {
            epic: format!("FX{i:02}"),
            ..template.clone()
        });
    }
    let fake = FakeCapital::start(FakeOptions { markets, ..relaxed() }).await;
    let c = login(&fake).await;
    let mut ws = connect(&fake).await;
    let first: Vec<String> = (0..30).map(|i| format!("FX{i:02}")).collect();
    send(
        &mut ws,
        &c,
        "marketData.subscribe",
        "1",
        json!({ "epics": first }),
    )
    .await;
    assert_eq!(recv(&mut ws).await["status"], "OK");
    for _ in 0..30 {
        recv(&mut ws).await;
    }
    let more: Vec<String> = (20..41).map(|i| format!("FX{i:02}")).collect();
    send(&mut ws, &c, "marketData.subscribe", "2", json!({ "epics": more })).await;
    let err = recv(&mut ws).await;
    assert_eq!(
        (err["status"].as_str(), err["correlationId"].as_str()),
        (Some("ERROR"), Some("2"))
    );
    assert!(err["payload"]["errorCode"].is_string());
    assert_eq!(fake.ws_subscriptions().len(), 30);
    let fits: Vec<String> = (20..40).map(|i| format!("FX{i:02}")).collect();
    send(&mut ws, &c, "marketData.subscribe", "3", json!({ "epics": fits })).await;
    assert_eq!(recv(&mut ws).await["status"], "OK");
    assert_eq!(fake.ws_subscriptions().len(), 40);

    // A second socket has its own budget.
    let mut other = connect(&fake).await;
    send(
        &mut other,
        &c,
        "marketData.subscribe",
        "1",
        json!({ "epics": ["FX44"] }),
    )
    .await;
    assert_eq!(recv(&mut other).await["status"], "OK");
    assert_eq!(fake.ws_subscriptions().len(), 41);
}

#[tokio::test]
async fn sockets_end_on_drop_logout_and_account_switch() {
    let fake = start().await;
    let c = login(&fake).await;
    let mut a = connect(&fake).await;
    let mut b = connect(&fake).await;
    assert_eq!(fake.ws_connections(), 2);
    fake.drop_websockets();
    assert_eq!(fake.ws_connections(), 0);
    assert_eq!(ending(&mut a).await, Some(false));
    assert_eq!(ending(&mut b).await, Some(false));

    // Documented: streaming falls off when the account is switched.
    let mut ws = connect(&fake).await;
    send(
        &mut ws,
        &c,
        "marketData.subscribe",
        "1",
        json!({ "epics": ["GOLD"] }),
    )
    .await;
    recv(&mut ws).await;
    c.switch("ACC-HEDGE").await;
    assert_eq!(ending(&mut ws).await, Some(true));

    let mut ws = connect(&fake).await;
    send(&mut ws, &c, "ping", "1", json!({})).await;
    recv(&mut ws).await;
    fake.expire_all_sessions();
    assert_eq!(ending(&mut ws).await, Some(true));
    assert_eq!(fake.ws_connections(), 0);
}
