//! The streaming API at `/connect`: JSON messages `{destination, correlationId, cst, securityToken,
//! payload}`, each checked against a live session. `marketData.subscribe` (at most 40 epics per socket)
//! answers, pushes the current quote at once and then one quote per `set_price`; nothing moves on its
//! own, so tests stay deterministic. A socket is closed when its session ends or expires.

use super::state::{Shared, State, WsConn, WsOut};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State as AxState;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Most epics one socket may be subscribed to.
const MAX_EPICS: usize = 40;
/// Resolutions `OHLCMarketData.subscribe` accepts.
const RESOLUTIONS: [&str; 8] = [
    "MINUTE",
    "MINUTE_5",
    "MINUTE_15",
    "MINUTE_30",
    "HOUR",
    "HOUR_4",
    "DAY",
    "WEEK",
];

/// `GET /connect` (WebSocket upgrade). The connection is registered before the handshake answer goes
/// out, so a client that sees the upgrade succeed also sees it counted.
pub(super) async fn connect(AxState(shared): AxState<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    let (tx, rx) = mpsc::unbounded_channel();
    let id = {
        let mut st = shared.lock();
        st.next_ws += 1;
        let id = st.next_ws;
        st.ws.insert(
            id,
            WsConn {
                tx,
                session: None,
                epics: Vec::new(),
            },
        );
        id
    };
    let failed = shared.clone();
    ws.on_failed_upgrade(move |_| {
        failed.lock().ws.remove(&id);
    })
    .on_upgrade(move |socket| run(shared, socket, id, rx))
}

/// One connection: reads requests, writes answers and pushed messages, and checks once a second that
/// its session is still alive (the fake clock may have moved).
async fn run(shared: Arc<Shared>, socket: WebSocket, id: u64, mut rx: mpsc::UnboundedReceiver<WsOut>) {
    let (mut sink, mut stream) = socket.split();
    let mut sweep = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let replies = shared.lock().ws_message(id, text.as_str());
                    for r in replies {
                        if sink.send(Message::Text(r.into())).await.is_err() {
                            break;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            out = rx.recv() => match out {
                Some(WsOut::Text(t)) => {
                    if sink.send(Message::Text(t.into())).await.is_err() {
                        break;
                    }
                }
                Some(WsOut::Close) => {
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
                // Dropping both halves ends the TCP connection without a close frame.
                Some(WsOut::Abort) | None => break,
            },
            _ = sweep.tick() => shared.lock().sweep_sockets(),
        }
    }
    shared.lock().ws.remove(&id);
}

/// A `{status:"ERROR"}` answer.
fn error(destination: &Value, correlation: &Value, code: &str) -> String {
    json!({
        "status": "ERROR",
        "destination": destination,
        "correlationId": correlation,
        "payload": { "errorCode": code },
    })
    .to_string()
}

/// An `{status:"OK"}` answer.
fn answer(destination: &str, correlation: &Value, payload: Value) -> String {
    json!({
        "status": "OK",
        "destination": destination,
        "correlationId": correlation,
        "payload": payload,
    })
    .to_string()
}

/// The `epics` of a payload (strings only), or `None` when missing or malformed.
fn epics(payload: &Value) -> Option<Vec<String>> {
    payload
        .get("epics")?
        .as_array()?
        .iter()
        .map(|e| e.as_str().map(str::to_string))
        .collect()
}

impl State {
    /// Handles one text message of socket `id`; returns the messages to send back, in order.
    fn ws_message(&mut self, id: u64, text: &str) -> Vec<String> {
        let msg: Map<String, Value> = match serde_json::from_str(text) {
            Ok(Value::Object(m)) => m,
            _ => return vec![error(&Value::Null, &Value::Null, "error.malformed.request")],
        };
        let destination = msg.get("destination").cloned().unwrap_or(Value::Null);
        let correlation = msg.get("correlationId").cloned().unwrap_or(Value::Null);
        let cst = msg.get("cst").and_then(Value::as_str).unwrap_or("");
        let token = msg.get("securityToken").and_then(Value::as_str).unwrap_or("");
        if self.check_session(cst, token).is_err() {
            return vec![error(&destination, &correlation, "error.invalid.session.token")];
        }
        self.touch(cst);
        if let Some(conn) = self.ws.get_mut(&id) {
            conn.session = Some(cst.to_string());
        }
        let payload = msg.get("payload").cloned().unwrap_or(Value::Null);
        let dest = destination.as_str().unwrap_or("");
        match dest {
            "marketData.subscribe" => self.subscribe(id, &destination, &correlation, &payload),
            "marketData.unsubscribe" => {
                let Some(list) = epics(&payload) else {
                    return vec![error(&destination, &correlation, "error.null.epics")];
                };
                if let Some(conn) = self.ws.get_mut(&id) {
                    conn.epics.retain(|e| !list.contains(e));
                }
                let subs: Map<String, Value> = list.into_iter().map(|e| (e, json!("PROCESSED"))).collect();
                vec![answer(dest, &correlation, json!({ "subscriptions": subs }))]
            }
            "OHLCMarketData.subscribe" | "OHLCMarketData.unsubscribe" => {
                let Some(list) = epics(&payload) else {
                    return vec![error(&destination, &correlation, "error.null.epics")];
                };
                if list.len() > MAX_EPICS {
                    return vec![error(&destination, &correlation, "error.invalid.epics")];
                }
                let strings = |key: &str, default: &[&str]| -> Vec<String> {
                    match payload.get(key).and_then(Value::as_array) {
                        Some(a) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
                        None => default.iter().map(|s| s.to_string()).collect(),
                    }
                };
                let subscribe = dest == "OHLCMarketData.subscribe";
                let resolutions = strings("resolutions", if subscribe { &["MINUTE"] } else { &RESOLUTIONS });
                if resolutions.iter().any(|r| !RESOLUTIONS.contains(&r.as_str())) {
                    return vec![error(&destination, &correlation, "error.invalid.resolution")];
                }
                let types = if subscribe {
                    vec![payload
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("classic")
                        .to_string()]
                } else {
                    strings("types", &["classic", "heikin-ashi"])
                };
                // Accepted, but the fake sends no `ohlc.event` (only `set_price` moves prices).
                let mut subs = Map::new();
                for e in &list {
                    for r in &resolutions {
                        for t in &types {
                            subs.insert(format!("{e}:{r}:{t}"), json!("PROCESSED"));
                        }
                    }
                }
                vec![answer(dest, &correlation, json!({ "subscriptions": subs }))]
            }
            "ping" => vec![answer("ping", &correlation, json!({}))],
            _ => vec![error(&destination, &correlation, "error.invalid.destination")],
        }
    }

    /// `marketData.subscribe`: the answer, then the current quote of each epic.
    fn subscribe(
        &mut self,
        id: u64,
        destination: &Value,
        correlation: &Value,
        payload: &Value,
    ) -> Vec<String> {
        let Some(list) = epics(payload) else {
            return vec![error(destination, correlation, "error.null.epics")];
        };
        let (known, unknown): (Vec<String>, Vec<String>) =
            list.into_iter().partition(|e| self.market(e).is_some());
        let mut next = self.ws.get(&id).map(|c| c.epics.clone()).unwrap_or_default();
        for e in &known {
            if !next.contains(e) {
                next.push(e.clone());
            }
        }
        if next.len() > MAX_EPICS {
            return vec![error(
                destination,
                correlation,
                "error.invalid.epics.maxvalue: 40",
            )];
        }
        if let Some(conn) = self.ws.get_mut(&id) {
            conn.epics = next;
        }
        let mut subs = Map::new();
        for e in &known {
            subs.insert(e.clone(), json!("PROCESSED"));
        }
        for e in &unknown {
            subs.insert(e.clone(), json!("NOT_FOUND"));
        }
        let mut out = vec![answer(
            "marketData.subscribe",
            correlation,
            json!({ "subscriptions": subs }),
        )];
        out.extend(known.iter().filter_map(|e| self.quote_message(e)));
        out
    }

    /// The `quote` message of an epic.
    fn quote_message(&self, epic: &str) -> Option<String> {
        let m = self.market(epic)?;
        // Depth is not modelled: the quantities are a fixed multiple of the largest deal.
        let qty = super::wire::num(m.spec.max_deal_size);
        Some(
            json!({
                "status": "OK",
                "destination": "quote",
                "payload": {
                    "epic": epic,
                    "product": "CFD",
                    "bid": super::wire::num(m.spec.bid),
                    "bidQty": qty,
                    "ofr": super::wire::num(m.spec.offer),
                    "ofrQty": qty,
                    "timestamp": m.updated.timestamp_millis(),
                },
            })
            .to_string(),
        )
    }

    /// Sends the current quote of `epic` to every socket subscribed to it.
    pub fn push_quote(&mut self, epic: &str) {
        let Some(msg) = self.quote_message(epic) else {
            return;
        };
        for conn in self.ws.values() {
            if conn.epics.iter().any(|e| e == epic) {
                let _ = conn.tx.send(WsOut::Text(msg.clone()));
            }
        }
    }

    /// Closes (with a close frame) the sockets bound to a session.
    pub fn close_session_sockets(&mut self, cst: &str) {
        let ids: Vec<u64> = self
            .ws
            .iter()
            .filter(|(_, c)| c.session.as_deref() == Some(cst))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(conn) = self.ws.remove(&id) {
                let _ = conn.tx.send(WsOut::Close);
            }
        }
    }

    /// Ends sessions idle for too long and closes the sockets bound to a session that is gone.
    pub fn sweep_sockets(&mut self) {
        let now = self.now();
        let idle = self.idle_expiry;
        self.sessions.retain(|_, s| now - s.last_used < idle);
        let dead: Vec<u64> = self
            .ws
            .iter()
            .filter(|(_, c)| c.session.as_ref().is_some_and(|s| !self.sessions.contains_key(s)))
            .map(|(id, _)| *id)
            .collect();
        for id in dead {
            if let Some(conn) = self.ws.remove(&id) {
                let _ = conn.tx.send(WsOut::Close);
            }
        }
    }

    /// Drops every socket without a close frame.
    pub fn abort_sockets(&mut self) {
        for (_, conn) in std::mem::take(&mut self.ws) {
            let _ = conn.tx.send(WsOut::Abort);
        }
    }
}
