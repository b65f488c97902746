//! The WebSocket: waiting for a session, the `system`/`sts` greeting, `smd`, `sor`, `spl`, `tic`, the
//! heartbeat, and the ways a socket ends.

use crate::client::{dec, lmt, mkt, Api, AAPL};
use fakes::ibkr::{FakeIbkr, FakeIbkrOptions};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(fake: &FakeIbkr) -> Ws {
    connect_async(fake.ws_url.as_str())
        .await
        .expect("websocket connect")
        .0
}

async fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text.to_string()))
        .await
        .expect("websocket send");
}

/// The next text message as JSON (fails the test after two seconds).
async fn recv(ws: &mut Ws) -> Value {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(2), ws.next()).await;
        match next.expect("a websocket message in time") {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(t.as_str()).expect("json message"),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// The next message of a topic, skipping others.
async fn recv_topic(ws: &mut Ws, topic: &str) -> Value {
    loop {
        let m = recv(ws).await;
        if m["topic"] == topic {
            return m;
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

/// A socket that sent the tickle session and was greeted.
async fn authed(fake: &FakeIbkr) -> Ws {
    let mut ws = connect(fake).await;
    assert_eq!(recv(&mut ws).await, json!({ "message": "waiting for session" }));
    send(&mut ws, &json!({ "session": fake.session_token() }).to_string()).await;
    let system = recv(&mut ws).await;
    assert_eq!(system["topic"], "system");
    assert_eq!(system["success"], "fakeuser1");
    let sts = recv(&mut ws).await;
    assert_eq!(sts, json!({ "topic": "sts", "args": { "authenticated": true } }));
    ws
}

#[tokio::test]
async fn a_socket_waits_for_the_session_from_tickle() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let mut ws = connect(&fake).await;
    assert_eq!(recv(&mut ws).await["message"], "waiting for session");
    send(&mut ws, &format!("smd+{AAPL}+{{\"fields\":[\"31\"]}}")).await;
    assert_eq!(recv(&mut ws).await["message"], "waiting for session");
    send(&mut ws, r#"{"session":"wrong"}"#).await;
    assert_eq!(recv(&mut ws).await["message"], "waiting for session");
    let api = Api::new(&fake);
    let (_, tickle) = api.post("/tickle", json!({})).await;
    send(&mut ws, &json!({ "session": tickle["session"] }).to_string()).await;
    assert_eq!(recv(&mut ws).await["topic"], "system");
}

#[tokio::test]
async fn market_data_streams_at_once_and_on_every_move() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let mut ws = authed(&fake).await;
    send(
        &mut ws,
        &format!("smd+{AAPL}+{{\"fields\":[\"31\",\"84\",\"86\"]}}"),
    )
    .await;
    let first = recv(&mut ws).await;
    assert_eq!(first["topic"], format!("smd+{AAPL}"));
    assert_eq!(first["conid"], AAPL);
    assert_eq!(first["84"], "185.42");
    assert_eq!(first["86"], "185.44");
    fake.set_price(AAPL, dec("186"), dec("186.03"));
    let moved = recv_topic(&mut ws, &format!("smd+{AAPL}")).await;
    assert_eq!(moved["84"], "186.00");
    send(&mut ws, &format!("umd+{AAPL}+{{}}")).await;
    send(&mut ws, "tic").await;
    assert_eq!(recv(&mut ws).await["topic"], "tic");
    // After unsubscribing, a move sends nothing: the next message is the next tic answer.
    fake.set_price(AAPL, dec("187"), dec("187.03"));
    send(&mut ws, "tic").await;
    assert_eq!(recv(&mut ws).await["topic"], "tic");
}

#[tokio::test]
async fn order_changes_and_pnl_are_pushed() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::ready(&fake).await;
    let id = api.place_one(lmt(AAPL, "BUY", 2, 180.0)).await;
    let mut ws = authed(&fake).await;
    send(&mut ws, "sor+{}").await;
    let all = recv_topic(&mut ws, "sor").await;
    assert_eq!(all["args"][0]["orderId"], id);
    assert_eq!(all["args"][0]["status"], "Submitted");
    // Numbers, as the documented stream sample has them.
    assert_eq!(all["args"][0]["totalSize"], 2.0);
    assert_eq!(all["args"][0]["conid"], AAPL as f64);
    send(&mut ws, "spl+{}").await;
    let pnl = recv_topic(&mut ws, "spl").await;
    assert_eq!(pnl["args"]["DU1234567.Core"]["rowType"], 1);
    let id2 = api.place_one(mkt(AAPL, "BUY", 1)).await;
    let pending = recv_topic(&mut ws, "sor").await;
    assert_eq!(pending["args"][0]["orderId"], id2);
    assert_eq!(pending["args"][0]["status"], "PendingSubmit");
    let mut filled = false;
    for _ in 0..6 {
        let m = recv(&mut ws).await;
        if m["topic"] == "sor" && m["args"][0]["status"] == "Filled" {
            filled = true;
            break;
        }
    }
    assert!(filled, "no Filled push");
}

#[tokio::test]
async fn an_expired_session_closes_the_socket_after_sts() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let mut ws = authed(&fake).await;
    fake.expire_session();
    let sts = recv(&mut ws).await;
    assert_eq!(sts["topic"], "sts");
    assert_eq!(sts["args"]["authenticated"], false);
    assert_eq!(ending(&mut ws).await, Some(true));
}

#[tokio::test]
async fn a_competing_session_says_so_before_closing() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let mut ws = authed(&fake).await;
    fake.compete();
    let sts = recv(&mut ws).await;
    assert_eq!(sts["args"]["competing"], true);
    assert_eq!(ending(&mut ws).await, Some(true));
}

#[tokio::test]
async fn a_dropped_socket_ends_without_a_close_frame() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let mut ws = authed(&fake).await;
    assert_eq!(fake.ws_connections(), 1);
    fake.drop_websockets();
    assert_eq!(ending(&mut ws).await, Some(false));
}

#[tokio::test]
async fn an_authenticated_socket_gets_heartbeats() {
    let fake = FakeIbkr::start(FakeIbkrOptions {
        ws_heartbeat: Duration::from_millis(200),
        ..FakeIbkrOptions::relaxed()
    })
    .await;
    let mut ws = authed(&fake).await;
    let hb = recv_topic(&mut ws, "system").await;
    assert!(hb["hb"].is_i64());
}
