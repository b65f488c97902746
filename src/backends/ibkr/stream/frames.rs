//! The IBKR WebSocket's messages as pure functions: the topics the bridge sends rendered to text, and an
//! incoming message classified (a market-data update, an order or P&L change, the session gone, or
//! nothing to act on). Market-data updates carry only the fields that changed; [`Merged`] keeps the last
//! value of every field per contract so that each update yields the whole quote.

use crate::backends::ibkr::convert::market::quote;
use crate::backends::ibkr::model::market::{SnapshotRow, ASK, ASK_SIZE, BID, BID_SIZE, LAST};
use crate::backends::ibkr::model::num::Conid;
use serde_json::Value;
use std::collections::HashMap;

/// The pool key of the live-orders topic (`sor`); contract keys are conids, all digits.
pub const ORDERS: &str = "sor";
/// The pool key of the P&L topic (`spl`).
pub const PNL: &str = "spl";

/// The market-data fields asked for: last, bid, ask size, ask, bid size (as the snapshot asks).
const FIELDS: [&str; 5] = [LAST, BID, ASK_SIZE, ASK, BID_SIZE];

/// Longest conid accepted as a key (IBKR's conids are positive 64-bit integers).
const MAX_CONID_LEN: usize = 19;

/// Whether `key` is a conid: digits only, not empty, not longer than an `i64`.
pub fn is_conid(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_CONID_LEN && key.bytes().all(|b| b.is_ascii_digit())
}

/// The subscribe message of `key`: `smd+CONID+{"fields":[..]}`, `sor+{}` or `spl+{}`.
pub fn subscribe(key: &str) -> Option<String> {
    match key {
        ORDERS => Some("sor+{}".to_string()),
        PNL => Some("spl+{}".to_string()),
        conid if is_conid(conid) => {
            let fields = serde_json::json!({ "fields": FIELDS });
            Some(format!("smd+{conid}+{fields}"))
        }
        _ => None,
    }
}

/// The unsubscribe message of `key`: `umd+CONID+{}`, `uor+{}` or `upl+{}`.
pub fn unsubscribe(key: &str) -> Option<String> {
    match key {
        ORDERS => Some("uor+{}".to_string()),
        PNL => Some("upl+{}".to_string()),
        conid if is_conid(conid) => Some(format!("umd+{conid}+{{}}")),
        _ => None,
    }
}

/// The session keep-alive (`tic`), advised at least once a minute.
pub const KEEP_ALIVE: &str = "tic";

/// The first message a client application sends: the session id from `/tickle`.
pub fn session(id: &str) -> String {
    serde_json::json!({ "session": id }).to_string()
}

/// One contract's market data, every field with its latest value.
#[derive(Debug, Clone, Default)]
pub struct QuoteState {
    /// Field number -> value, as IBKR formats it (`"193.18"`, `"C193.18"`, `"1,200"`).
    pub row: SnapshotRow,
    /// Unix milliseconds of the latest update (`_updated`), when IBKR said.
    pub updated_ms: Option<i64>,
}

/// What one incoming message means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A market-data update of the contract `conid` (only the fields that changed).
    MarketData {
        conid: i64,
        fields: Vec<(String, String)>,
        updated_ms: Option<i64>,
    },
    /// Orders changed; the accounts named (empty: the message named none).
    Orders(Vec<String>),
    /// Profit and loss changed; the accounts named.
    Pnl(Vec<String>),
    /// `sts` with `authenticated: true`, or the `system` greeting naming the user.
    Authenticated,
    /// The socket has no (more) session: `{"message":"waiting for session"}` or `sts` not authenticated.
    SessionGone(&'static str),
    /// Any other well-formed message (heartbeats, `tic` answers, notifications, bulletins).
    Other,
    /// Not JSON, or not an object.
    Malformed,
}

/// Classifies one text message.
pub fn classify(text: &str) -> Message {
    let Ok(Value::Object(m)) = serde_json::from_str::<Value>(text) else {
        return Message::Malformed;
    };
    if m.get("message").and_then(Value::as_str) == Some("waiting for session") {
        return Message::SessionGone("the socket is waiting for a session");
    }
    let topic = m.get("topic").and_then(Value::as_str).unwrap_or("");
    let args = m.get("args");
    match topic {
        "sts" => match args.and_then(|a| a.get("authenticated")).and_then(Value::as_bool) {
            Some(false) => Message::SessionGone("the session is no longer authenticated (sts)"),
            Some(true) => Message::Authenticated,
            None => Message::Other,
        },
        "system" if m.get("success").is_some_and(Value::is_string) => Message::Authenticated,
        ORDERS => Message::Orders(order_accounts(args)),
        PNL => Message::Pnl(pnl_accounts(args)),
        t if t.starts_with("smd+") => market_data(&t[4..], &m),
        _ => Message::Other,
    }
}

/// The accounts of a `sor` message's rows (`acct`).
fn order_accounts(args: Option<&Value>) -> Vec<String> {
    let rows = args.and_then(Value::as_array).into_iter().flatten();
    distinct_accounts(rows.filter_map(|row| row.get("acct").and_then(Value::as_str)))
}

/// The accounts of a `spl` message: its keys are `ACCOUNT.MODEL` (`DU1234.Core`).
fn pnl_accounts(args: Option<&Value>) -> Vec<String> {
    let keys = args.and_then(Value::as_object).into_iter().flat_map(|o| o.keys());
    distinct_accounts(keys.filter_map(|k| k.split('.').next()))
}

/// The valid account ids among `ids`, each once, sorted.
fn distinct_accounts<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = ids.filter(|a| is_account(a)).map(str::to_string).collect();
    out.sort();
    out.dedup();
    out
}

/// Whether `id` may be an IBKR account id (it ends up in the hub's comparisons, not in logs).
fn is_account(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An `smd+CONID` message: its numbered fields (strings as IBKR sends them; numbers kept as text).
fn market_data(topic_conid: &str, m: &serde_json::Map<String, Value>) -> Message {
    // `conid@EXCHANGE` names an exchange; the topic echoes what was subscribed.
    let conid = topic_conid.split('@').next().unwrap_or("");
    let Ok(conid) = conid.parse::<i64>() else {
        return Message::Malformed;
    };
    let fields = m
        .iter()
        .filter(|(k, _)| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.clone())),
            Value::Number(n) => Some((k.clone(), n.to_string())),
            _ => None,
        })
        .collect();
    Message::MarketData {
        conid,
        fields,
        updated_ms: m.get("_updated").and_then(Value::as_i64),
    }
}

/// The latest value of every field per contract, across updates.
#[derive(Debug, Default)]
pub struct Merged {
    quotes: HashMap<i64, QuoteState>,
}

impl Merged {
    /// Folds an update into the contract's state; returns the state when it now holds a readable bid
    /// and ask (`Err` with the reason when a price is there but not a number).
    pub fn update(
        &mut self,
        conid: i64,
        fields: Vec<(String, String)>,
        updated_ms: Option<i64>,
    ) -> Result<Option<QuoteState>, String> {
        let state = self.quotes.entry(conid).or_default();
        state.row.conid = Conid(conid);
        // An empty value says nothing new; it never erases a known one.
        state
            .row
            .fields
            .extend(fields.into_iter().filter(|(_, v)| !v.trim().is_empty()));
        if updated_ms.is_some() {
            state.updated_ms = updated_ms;
        }
        Ok(quote(&state.row)?.map(|_| state.clone()))
    }

    /// Forgets a contract no longer subscribed.
    pub fn forget(&mut self, conid: i64) {
        self.quotes.remove(&conid);
    }
}
