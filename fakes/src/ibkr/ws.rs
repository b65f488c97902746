//! The WebSocket at `/v1/api/ws`: a socket is answered `{"message":"waiting for session"}` until it sends
//! `{"session": "<from /tickle>"}`, then greeted with `system` and `sts`. Topics: `smd+CONID+{"fields":
//! [..]}` / `umd+CONID+{}` (quotes: the current values at once, then every change), `sor+{}` / `uor+{}`
//! (orders: all at once, then every change), `spl+{}` / `upl+{}` (P&L), `tic` (keeps the session alive).
//! A `system` heartbeat goes out regularly; when the brokerage session ends the socket hears `sts` and
//! closes.

use super::state::{Shared, State, WsConn, WsOut};
use super::wire::millis;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State as AxState;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc;

const WAITING: &str = r#"{"message":"waiting for session"}"#;

/// `GET /v1/api/ws` (upgrade): the connection is registered before the handshake answer goes out.
pub(super) async fn connect(AxState(shared): AxState<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    let (tx, rx) = mpsc::unbounded_channel();
    let id = {
        let mut st = shared.lock();
        st.next_ws += 1;
        let id = st.next_ws;
        let _ = tx.send(WsOut::Text(WAITING.to_string()));
        st.ws.insert(
            id,
            WsConn {
                tx,
                authed: false,
                smd: BTreeMap::new(),
                sor: false,
                spl: false,
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

/// One connection: reads topics, writes answers and pushed messages, sends heartbeats.
async fn run(shared: Arc<Shared>, socket: WebSocket, id: u64, mut rx: mpsc::UnboundedReceiver<WsOut>) {
    let (mut sink, mut stream) = socket.split();
    let mut heartbeat = tokio::time::interval(shared.ws_heartbeat);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => shared.lock().ws_message(id, text.as_str()),
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
            _ = heartbeat.tick() => {
                let hb = {
                    let st = shared.lock();
                    st.ws
                        .get(&id)
                        .is_some_and(|c| c.authed)
                        .then(|| json!({ "topic": "system", "hb": millis(st.now()) }).to_string())
                };
                if let Some(hb) = hb {
                    if sink.send(Message::Text(hb.into())).await.is_err() {
                        break;
                    }
                }
            }
        }
    }
    shared.lock().ws.remove(&id);
}

impl State {
    fn send(&self, id: u64, msg: String) {
        if let Some(c) = self.ws.get(&id) {
            let _ = c.tx.send(WsOut::Text(msg));
        }
    }

    /// Handles one text message of socket `id` (answers go through its queue, in order).
    fn ws_message(&mut self, id: u64, text: &str) {
        let text = text.trim();
        let authed = self.ws.get(&id).is_some_and(|c| c.authed);
        if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(text) {
            let token = m.get("session").and_then(Value::as_str);
            if token == Some(self.session.token.as_str()) && self.session.authenticated {
                if let Some(c) = self.ws.get_mut(&id) {
                    c.authed = true;
                }
                let paper = self.accounts.first().is_some_and(|a| a.spec.id.starts_with('D'));
                self.send(
                    id,
                    json!({ "topic": "system", "success": self.username, "isFT": false, "isPaper": paper })
                        .to_string(),
                );
                self.send(
                    id,
                    json!({ "topic": "sts", "args": { "authenticated": true } }).to_string(),
                );
            } else {
                self.send(id, WAITING.to_string());
            }
            return;
        }
        if !authed {
            self.send(id, WAITING.to_string());
            return;
        }
        let mut parts = text.splitn(3, '+');
        let topic = parts.next().unwrap_or("");
        let (arg1, arg2) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        match topic {
            "tic" => {
                self.session.last_used = self.now();
                self.send(
                    id,
                    json!({ "topic": "tic", "alive": true, "lastAccessed": millis(self.now()) }).to_string(),
                );
            }
            "smd" => {
                let Ok(conid) = arg1.split('@').next().unwrap_or("").parse::<i64>() else {
                    return;
                };
                let args: Value = serde_json::from_str(arg2).unwrap_or(Value::Null);
                let fields: Vec<String> = args
                    .get("fields")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|f| f.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                if !self.markets.contains_key(&conid) {
                    return;
                }
                if let Some(c) = self.ws.get_mut(&id) {
                    c.smd.insert(conid, fields);
                }
                self.push_quote_to(id, conid);
            }
            "umd" => {
                if let (Some(c), Ok(conid)) = (self.ws.get_mut(&id), arg1.parse::<i64>()) {
                    c.smd.remove(&conid);
                }
            }
            "sor" => {
                if let Some(c) = self.ws.get_mut(&id) {
                    c.sor = true;
                }
                let rows: Vec<Value> = self
                    .orders
                    .iter()
                    .filter_map(|o| self.ws_order_row(o.id))
                    .collect();
                self.send(id, json!({ "topic": "sor", "args": rows }).to_string());
            }
            "uor" => {
                if let Some(c) = self.ws.get_mut(&id) {
                    c.sor = false;
                }
            }
            "spl" => {
                if let Some(c) = self.ws.get_mut(&id) {
                    c.spl = true;
                }
                let msg = self.pnl_message();
                self.send(id, msg);
            }
            "upl" => {
                if let Some(c) = self.ws.get_mut(&id) {
                    c.spl = false;
                }
            }
            _ => {}
        }
    }

    /// An order as the `sor` topic sends it: the listing's row with numbers as numbers.
    fn ws_order_row(&self, order_id: i64) -> Option<Value> {
        let mut row = self.order_row(self.order(order_id)?)?;
        for key in [
            "conid",
            "remainingQuantity",
            "filledQuantity",
            "totalSize",
            "price",
            "lastExecutionTime_r",
        ] {
            if let Some(n) = row
                .get(key)
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<f64>().ok())
            {
                row[key] = json!(n);
            }
        }
        Some(row)
    }

    fn sor_subscribers(&self) -> Vec<u64> {
        self.ws
            .iter()
            .filter(|(_, c)| c.authed && c.sor)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Pushes an order's current state to `sor` subscribers.
    pub(super) fn push_order(&self, order_id: i64) {
        let Some(row) = self.ws_order_row(order_id) else {
            return;
        };
        let msg = json!({ "topic": "sor", "args": [row] }).to_string();
        for id in self.sor_subscribers() {
            self.send(id, msg.clone());
        }
    }

    /// Pushes the `PendingSubmit` step of a new order to `sor` subscribers.
    pub(super) fn push_pending(&self, order_id: i64) {
        let Some(o) = self.order(order_id) else { return };
        let msg = json!({ "topic": "sor", "args": [{ "acct": o.account, "orderId": o.id, "status": "PendingSubmit" }] })
            .to_string();
        for id in self.sor_subscribers() {
            self.send(id, msg.clone());
        }
    }

    fn quote_message(&self, conid: i64, fields: &[String]) -> String {
        let mut m = Map::new();
        m.insert("topic".into(), json!(format!("smd+{conid}")));
        m.insert("conid".into(), json!(conid));
        m.insert("conidEx".into(), json!(conid.to_string()));
        let updated = self
            .markets
            .get(&conid)
            .map_or_else(|| self.now(), |k| k.quote.updated);
        m.insert("_updated".into(), json!(millis(updated)));
        m.insert("server_id".into(), json!("q1"));
        m.extend(self.md_fields(conid, fields));
        Value::Object(m).to_string()
    }

    fn push_quote_to(&self, id: u64, conid: i64) {
        let Some(fields) = self.ws.get(&id).and_then(|c| c.smd.get(&conid)) else {
            return;
        };
        self.send(id, self.quote_message(conid, fields));
    }

    /// Pushes a contract's quote to its `smd` subscribers.
    pub(super) fn push_quote(&self, conid: i64) {
        let ids: Vec<u64> = self
            .ws
            .iter()
            .filter(|(_, c)| c.authed && c.smd.contains_key(&conid))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.push_quote_to(id, conid);
        }
    }

    fn pnl_message(&self) -> String {
        let mut args = Map::new();
        for a in &self.accounts {
            let v = self.valuation(a);
            args.insert(
                format!("{}.Core", a.spec.id),
                json!({
                    "rowType": 1,
                    "dpl": super::wire::num((v.net_liquidation - a.spec.cash).round_dp(2)),
                    "nl": super::wire::num(v.net_liquidation.round_dp(2)),
                    "upl": super::wire::num(v.unrealized.round_dp(2)),
                    "el": super::wire::num((v.net_liquidation - v.maint_margin).round_dp(2)),
                    "mv": super::wire::num(v.stock_value.round_dp(2)),
                }),
            );
        }
        json!({ "topic": "spl", "args": args }).to_string()
    }

    /// Pushes P&L to `spl` subscribers.
    pub(super) fn push_pnl(&self) {
        let ids: Vec<u64> = self
            .ws
            .iter()
            .filter(|(_, c)| c.authed && c.spl)
            .map(|(id, _)| *id)
            .collect();
        if ids.is_empty() {
            return;
        }
        let msg = self.pnl_message();
        for id in ids {
            self.send(id, msg.clone());
        }
    }

    /// Tells every socket the session is gone (`sts`) and closes it.
    pub(super) fn close_sockets_with_status(&mut self) {
        let sts = json!({
            "topic": "sts",
            "args": { "authenticated": false, "competing": self.session.competing },
        })
        .to_string();
        for c in self.ws.values_mut() {
            let _ = c.tx.send(WsOut::Text(sts.clone()));
            let _ = c.tx.send(WsOut::Close);
            c.authed = false;
        }
    }

    /// Drops every socket without a close frame.
    pub(super) fn abort_sockets(&mut self) {
        for c in self.ws.values() {
            let _ = c.tx.send(WsOut::Abort);
        }
    }
}
