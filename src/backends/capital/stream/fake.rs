//! A fake of Capital.com's streaming endpoint for the tests, built from the official WebSocket examples:
//! it checks `cst`/`securityToken` on every message (a mismatch gets the `status: ERROR` answer with
//! `error.invalid.session.token`), answers subscribe, unsubscribe and ping, and pushes quotes on demand.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Status of an epic the fake refuses. Capital.com does not document this answer; any value other than
/// `PROCESSED` must fail the subscription.
pub const REFUSED: &str = "NOT_FOUND";

#[derive(Clone, Debug)]
enum Event {
    Quote(Value),
    DropAll,
}

struct FakeState {
    valid: Mutex<(String, String)>,
    received: Mutex<Vec<(u64, Value)>>,
    subscribed: Mutex<BTreeMap<u64, BTreeSet<String>>>,
    refused: Mutex<HashSet<String>>,
    connections: AtomicU64,
    rejected: AtomicU64,
    mute: AtomicBool,
    events: broadcast::Sender<Event>,
}

/// A running fake; the server task lives until the test's runtime ends.
pub struct FakeStream {
    /// `ws://127.0.0.1:<port>/connect`.
    pub url: String,
    state: Arc<FakeState>,
}

impl FakeStream {
    /// Starts a fake accepting the tokens `cst` / `security_token`.
    pub async fn start(cst: &str, security_token: &str) -> FakeStream {
        let state = Arc::new(FakeState {
            valid: Mutex::new((cst.to_string(), security_token.to_string())),
            received: Mutex::default(),
            subscribed: Mutex::default(),
            refused: Mutex::default(),
            connections: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            mute: AtomicBool::new(false),
            events: broadcast::channel(1024).0,
        });
        let app = Router::new()
            .route("/connect", get(upgrade))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeStream {
            url: format!("ws://{addr}/connect"),
            state,
        }
    }

    /// From now on only these tokens are valid (the session was renewed upstream).
    pub fn set_tokens(&self, cst: &str, security_token: &str) {
        *self.state.valid.lock().unwrap() = (cst.to_string(), security_token.to_string());
    }

    /// Subscriptions of `epic` are answered with [`REFUSED`].
    pub fn refuse(&self, epic: &str) {
        self.state.refused.lock().unwrap().insert(epic.to_string());
    }

    /// While muted the fake reads but answers nothing, like a dead upstream behind a live TCP connection.
    pub fn mute(&self, on: bool) {
        self.state.mute.store(on, Ordering::SeqCst);
    }

    /// Pushes a quote of `epic` to every connection subscribed to it.
    pub fn quote(&self, epic: &str, bid: f64) {
        let payload = json!({"epic": epic, "product": "CFD", "bid": bid, "bidQty": 4976.0,
            "ofr": bid + 0.03, "ofrQty": 5000.0, "timestamp": 1660297190627i64});
        let _ = self.state.events.send(Event::Quote(payload));
    }

    /// Drops every connection without a close handshake.
    pub fn drop_all(&self) {
        let _ = self.state.events.send(Event::DropAll);
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Messages that carried wrong tokens.
    pub fn rejected(&self) -> u64 {
        self.state.rejected.load(Ordering::SeqCst)
    }

    /// Subscribed epics per open connection.
    pub fn subscriptions(&self) -> BTreeMap<u64, BTreeSet<String>> {
        self.state.subscribed.lock().unwrap().clone()
    }

    /// Epics subscribed on any open connection.
    pub fn subscribed(&self) -> BTreeSet<String> {
        self.subscriptions().into_values().flatten().collect()
    }

    /// Messages received with `destination`, with the number of the connection that sent them.
    pub fn received(&self, destination: &str) -> Vec<(u64, Value)> {
        let all = self.state.received.lock().unwrap();
        all.iter()
            .filter(|(_, m)| m["destination"] == destination)
            .cloned()
            .collect()
    }
}

async fn upgrade(ws: WebSocketUpgrade, State(state): State<Arc<FakeState>>) -> Response {
    ws.on_upgrade(move |socket| serve(socket, state))
}

async fn serve(mut socket: WebSocket, state: Arc<FakeState>) {
    let id = state.connections.fetch_add(1, Ordering::SeqCst) + 1;
    let mut events = state.events.subscribe();
    state.subscribed.lock().unwrap().insert(id, BTreeSet::new());
    'conn: loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => {
                    for reply in state.answer(id, text.as_str()) {
                        if socket.send(Message::Text(reply.to_string().into())).await.is_err() {
                            break 'conn;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            event = events.recv() => match event {
                Ok(Event::Quote(payload)) => {
                    let epic = payload["epic"].as_str().unwrap_or_default().to_string();
                    let wanted = state.subscribed.lock().unwrap().get(&id).is_some_and(|s| s.contains(&epic));
                    let msg = json!({"status": "OK", "destination": "quote", "payload": payload});
                    if wanted && socket.send(Message::Text(msg.to_string().into())).await.is_err() {
                        break;
                    }
                }
                Ok(Event::DropAll) | Err(broadcast::error::RecvError::Closed) => break,
                Err(broadcast::error::RecvError::Lagged(_)) => {}
            },
        }
    }
    state.subscribed.lock().unwrap().remove(&id);
}

impl FakeState {
    /// The answers to one message of connection `id`.
    fn answer(&self, id: u64, text: &str) -> Vec<Value> {
        let Ok(msg) = serde_json::from_str::<Value>(text) else {
            return Vec::new();
        };
        self.received.lock().unwrap().push((id, msg.clone()));
        if self.mute.load(Ordering::SeqCst) {
            return Vec::new();
        }
        let destination = msg["destination"].clone();
        let cid = msg["correlationId"].clone();
        let valid = self.valid.lock().unwrap().clone();
        if msg["cst"] != valid.0.as_str() || msg["securityToken"] != valid.1.as_str() {
            self.rejected.fetch_add(1, Ordering::SeqCst);
            return vec![
                json!({"status": "ERROR", "destination": destination, "correlationId": cid,
                "payload": {"errorCode": "error.invalid.session.token"}}),
            ];
        }
        let epics: Vec<String> = msg["payload"]["epics"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let mut subscriptions = serde_json::Map::new();
        match destination.as_str() {
            Some("marketData.subscribe") => {
                let refused = self.refused.lock().unwrap().clone();
                let mut subscribed = self.subscribed.lock().unwrap();
                for epic in epics {
                    let status = if refused.contains(&epic) {
                        REFUSED
                    } else {
                        subscribed.entry(id).or_default().insert(epic.clone());
                        "PROCESSED"
                    };
                    subscriptions.insert(epic, json!(status));
                }
            }
            Some("marketData.unsubscribe") => {
                let mut subscribed = self.subscribed.lock().unwrap();
                for epic in epics {
                    if let Some(s) = subscribed.get_mut(&id) {
                        s.remove(&epic);
                    }
                    subscriptions.insert(epic, json!("PROCESSED"));
                }
            }
            Some("ping") => {
                return vec![
                    json!({"status": "OK", "destination": "ping", "correlationId": cid,
                    "payload": {}}),
                ];
            }
            _ => return Vec::new(),
        }
        vec![
            json!({"status": "OK", "destination": destination, "correlationId": cid,
            "payload": {"subscriptions": subscriptions}}),
        ]
    }
}
