//! The streaming protocol: outgoing messages rendered to text, incoming text classified (pure functions,
//! so every case is unit-tested without a socket), and [`QuoteProtocol`], what the shared stream pool
//! ([`crate::upstream::stream`]) needs to speak it.

use super::model::{EpicsPayload, StreamDestination, StreamMessage, StreamQuote, StreamRequest};
use super::{StreamTokens, TokenSource};
use crate::broker::BrokerError;
use crate::upstream::stream::ws::WsLink;
use crate::upstream::stream::{Incoming as PoolIncoming, OpenError, Opened, Protocol};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::timeout;

/// The status an epic gets in a successful subscription answer.
const PROCESSED: &str = "PROCESSED";

/// Longest error code kept from an upstream message (it ends up in logs).
const MAX_CODE_LEN: usize = 120;

/// What a socket does with one incoming text message.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Incoming {
    /// A price update.
    Quote(StreamQuote),
    /// A `status: OK` answer to `marketData.subscribe`; `failed` lists epics answered with anything else
    /// than `PROCESSED`, with that answer.
    Subscribed {
        correlation_id: Option<String>,
        failed: Vec<(String, String)>,
    },
    /// A `status: ERROR` saying the session tokens are dead: invalidate them and reconnect.
    SessionInvalid { code: String },
    /// Any other `status: ERROR`.
    Error {
        destination: StreamDestination,
        correlation_id: Option<String>,
        code: String,
    },
    /// A well-formed message needing no action (ping and unsubscribe answers, other destinations).
    Other,
    /// Not a message of the protocol.
    Malformed,
}

/// Classifies one text message.
pub(super) fn classify(text: &str) -> Incoming {
    let Ok(msg) = serde_json::from_str::<StreamMessage>(text) else {
        return Incoming::Malformed;
    };
    let status = msg.status.as_deref().unwrap_or("OK");
    if status.eq_ignore_ascii_case("ERROR") {
        let code = error_code(&msg.payload).unwrap_or_else(|| "no error code".to_string());
        return if is_session_error(&code) {
            Incoming::SessionInvalid { code }
        } else {
            Incoming::Error {
                destination: msg.destination,
                correlation_id: msg.correlation_id,
                code,
            }
        };
    }
    match msg.destination {
        StreamDestination::Quote => msg.quote().map_or(Incoming::Malformed, Incoming::Quote),
        StreamDestination::MarketDataSubscribe => Incoming::Subscribed {
            failed: failed_epics(&msg.payload),
            correlation_id: msg.correlation_id,
        },
        _ => Incoming::Other,
    }
}

/// Epics of a subscription answer whose status is not `PROCESSED`.
fn failed_epics(payload: &Value) -> Vec<(String, String)> {
    let Some(subs) = payload.get("subscriptions").and_then(Value::as_object) else {
        return Vec::new();
    };
    subs.iter()
        .filter(|(_, status)| status.as_str() != Some(PROCESSED))
        .map(|(epic, status)| {
            let status = status.as_str().map_or_else(|| status.to_string(), str::to_string);
            (sanitize(epic), sanitize(&status))
        })
        .collect()
}

/// The `errorCode` of an error payload, printable and bounded.
fn error_code(payload: &Value) -> Option<String> {
    payload
        .get("errorCode")
        .and_then(Value::as_str)
        .map(sanitize)
        .filter(|c| !c.is_empty())
}

/// Whether an error code means the session tokens are dead. Capital.com does not document the stream's
/// codes; the REST API answers `error.invalid.session.token`, `error.security.token-invalid` and the like,
/// so any code about the session or a token counts.
pub(super) fn is_session_error(code: &str) -> bool {
    let code = code.to_ascii_lowercase();
    code.contains("session") || code.contains("token")
}

/// Keeps printable characters only and bounds the length, so upstream text cannot garble a log line.
fn sanitize(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_CODE_LEN)
        .collect()
}

/// Renders an outgoing message. `epics` is the payload of (un)subscribe messages; `ping` has none, as in
/// the official example.
pub(super) fn request(
    destination: StreamDestination,
    correlation_id: u64,
    tokens: &StreamTokens,
    epics: Option<&[String]>,
) -> String {
    let req = StreamRequest {
        destination,
        correlation_id: correlation_id.to_string(),
        cst: tokens.cst.expose(),
        security_token: tokens.security_token.expose(),
        payload: epics.map(|e| EpicsPayload { epics: e.to_vec() }),
    };
    let mut value = serde_json::to_value(&req).unwrap_or(Value::Null);
    if epics.is_none() {
        if let Some(obj) = value.as_object_mut() {
            obj.remove("payload");
        }
    }
    value.to_string()
}

/// Longest epic accepted (upstream epics are short identifiers such as `OIL_CRUDE`).
const MAX_EPIC_LEN: usize = 100;
/// Upstream messages are a few hundred bytes; anything near this is not Capital.com talking.
const MAX_MESSAGE: usize = 1 << 20;

/// Capital.com's streaming WebSocket as the pool speaks it: epics are the keys, every message carries the
/// REST session's tokens, answers name the `correlationId` (the pool's frame number).
pub(super) struct QuoteProtocol {
    /// The streaming endpoint.
    pub url: String,
    /// Where connections get session tokens.
    pub tokens: Arc<dyn TokenSource>,
    /// Limit of the handshake and of every send.
    pub connect_timeout: Duration,
}

#[async_trait::async_trait]
impl Protocol for QuoteProtocol {
    type Event = StreamQuote;
    type Session = StreamTokens;

    fn name(&self) -> &'static str {
        "Capital.com quote stream"
    }

    fn check_key(&self, epic: &str) -> Result<(), BrokerError> {
        if epic.trim().is_empty() {
            return Err(BrokerError::Rejected(
                "The instrument (epic) is missing.".to_string(),
            ));
        }
        if epic.len() > MAX_EPIC_LEN || epic.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(BrokerError::Rejected(
                "The instrument (epic) is not valid.".to_string(),
            ));
        }
        Ok(())
    }

    async fn open(&self, _epics: &[String], _reopened: bool) -> Result<Opened<StreamTokens>, OpenError> {
        let wait = self.connect_timeout;
        // Logging in can queue behind the upstream's one-login-per-second limit: allow more than a handshake.
        let tokens = match timeout(wait * 3, self.tokens.tokens()).await {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => return Err(OpenError::retry(format!("no session tokens: {e}"))),
            Err(_) => return Err(OpenError::retry("no session tokens: the login timed out")),
        };
        let link = WsLink::connect(&self.url, &[], wait, MAX_MESSAGE)
            .await
            .map_err(OpenError::retry)?;
        Ok(Opened {
            session: tokens,
            link: Box::new(link),
        })
    }

    fn subscribe(&self, tokens: &StreamTokens, seq: u64, epics: &[String]) -> Option<String> {
        Some(request(
            StreamDestination::MarketDataSubscribe,
            seq,
            tokens,
            Some(epics),
        ))
    }

    fn unsubscribe(&self, tokens: &StreamTokens, seq: u64, epics: &[String]) -> Option<String> {
        Some(request(
            StreamDestination::MarketDataUnsubscribe,
            seq,
            tokens,
            Some(epics),
        ))
    }

    fn keep_alive(&self, tokens: &StreamTokens, seq: u64) -> Option<String> {
        Some(request(StreamDestination::Ping, seq, tokens, None))
    }

    fn acks_subscriptions(&self) -> bool {
        true
    }

    fn decode(&self, _tokens: &StreamTokens, frame: &[u8]) -> PoolIncoming<StreamQuote> {
        let Ok(text) = std::str::from_utf8(frame) else {
            return PoolIncoming::Malformed;
        };
        match classify(text) {
            Incoming::Quote(quote) => PoolIncoming::Data {
                key: quote.epic.clone(),
                event: quote,
            },
            Incoming::Subscribed {
                correlation_id,
                failed,
            } => PoolIncoming::Subscribed {
                ack: correlation_id,
                refused: failed,
            },
            Incoming::SessionInvalid { code } => PoolIncoming::SessionInvalid { reason: code },
            Incoming::Error {
                destination,
                correlation_id,
                code,
            } => PoolIncoming::Error {
                // Only a subscribe request's error refuses epics.
                ack: correlation_id.filter(|_| destination == StreamDestination::MarketDataSubscribe),
                reason: format!("{destination:?}: {code}"),
            },
            Incoming::Other => PoolIncoming::Alive,
            Incoming::Malformed => PoolIncoming::Malformed,
        }
    }

    fn invalidate(&self, _tokens: &StreamTokens) {
        self.tokens.invalidate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn tokens() -> StreamTokens {
        StreamTokens {
            cst: Secret::new("C1"),
            security_token: Secret::new("S1"),
        }
    }

    #[test]
    fn renders_subscribe_and_ping_like_the_official_examples() {
        let epics = vec!["OIL_CRUDE".to_string()];
        let sub: Value = serde_json::from_str(&request(
            StreamDestination::MarketDataSubscribe,
            1,
            &tokens(),
            Some(&epics),
        ))
        .unwrap();
        assert_eq!(
            sub,
            json!({"destination": "marketData.subscribe", "correlationId": "1", "cst": "C1",
                   "securityToken": "S1", "payload": {"epics": ["OIL_CRUDE"]}})
        );
        let ping: Value =
            serde_json::from_str(&request(StreamDestination::Ping, 5, &tokens(), None)).unwrap();
        assert_eq!(
            ping,
            json!({"destination": "ping", "correlationId": "5", "cst": "C1", "securityToken": "S1"})
        );
    }

    #[test]
    fn classifies_quotes_and_answers() {
        let q = classify(
            r#"{"status":"OK","destination":"quote","payload":{"epic":"OIL_CRUDE","product":"CFD",
            "bid":93.87,"bidQty":4976.0,"ofr":93.9,"ofrQty":5000.0,"timestamp":1660297190627}}"#,
        );
        let Incoming::Quote(q) = q else { panic!("{q:?}") };
        assert_eq!(
            (q.epic.as_str(), q.bid, q.ofr),
            ("OIL_CRUDE", dec!(93.87), dec!(93.9))
        );

        let ok = classify(
            r#"{"status":"OK","destination":"marketData.subscribe","correlationId":"1",
            "payload":{"subscriptions":{"OIL_CRUDE":"PROCESSED","NOPE":"NOT_FOUND"}}}"#,
        );
        assert_eq!(
            ok,
            Incoming::Subscribed {
                correlation_id: Some("1".into()),
                failed: vec![("NOPE".into(), "NOT_FOUND".into())]
            }
        );
        let ping = r#"{"status":"OK","destination":"ping","correlationId":"5","payload":{}}"#;
        assert_eq!(classify(ping), Incoming::Other);
        assert_eq!(classify("not json"), Incoming::Malformed);
        assert_eq!(
            classify(r#"{"destination":"quote","payload":{}}"#),
            Incoming::Malformed
        );
    }

    #[test]
    fn classifies_errors() {
        let dead = r#"{"status":"ERROR","destination":"ping","correlationId":"2",
            "payload":{"errorCode":"error.invalid.session.token"}}"#;
        assert_eq!(
            classify(dead),
            Incoming::SessionInvalid {
                code: "error.invalid.session.token".into()
            }
        );
        let other = r#"{"status":"ERROR","destination":"marketData.subscribe","correlationId":"3",
            "payload":{"errorCode":"error.invalid.epics"}}"#;
        assert_eq!(
            classify(other),
            Incoming::Error {
                destination: StreamDestination::MarketDataSubscribe,
                correlation_id: Some("3".into()),
                code: "error.invalid.epics".into()
            }
        );
        assert!(is_session_error("error.security.token-invalid"));
        assert!(!is_session_error("error.too-many.requests"));
    }
}
