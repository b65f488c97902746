//! What a backend tells the pool about its upstream stream: how to open a connection (credentials, URL,
//! transport), what its subscribe, unsubscribe and keep-alive frames look like, and what an incoming frame
//! means. Everything else (keys, receivers, timing, reconnection) is the pool's.

use super::link::Link;
use crate::broker::BrokerError;

/// A connection the protocol opened: the credentials it used (handed back to every frame builder and to
/// the decoder) and the link itself.
pub struct Opened<S> {
    /// What the frames of this connection are built with (tokens, account, API version).
    pub session: S,
    /// The open transport.
    pub link: Box<dyn Link>,
}

/// Why a connection could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenError {
    /// For the log line (never a secret).
    pub reason: String,
    /// The upstream refused for good (a dead token): the keys of this connection are dropped and their
    /// receivers closed instead of retrying.
    pub fatal: bool,
}

impl OpenError {
    /// A failure worth retrying after the back-off.
    pub fn retry(reason: impl Into<String>) -> OpenError {
        OpenError {
            reason: reason.into(),
            fatal: false,
        }
    }

    /// A refusal not worth retrying.
    pub fn fatal(reason: impl Into<String>) -> OpenError {
        OpenError {
            reason: reason.into(),
            fatal: true,
        }
    }
}

/// What one incoming frame means to the pool.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming<E> {
    /// An event for the receivers of `key`.
    Data { key: String, event: E },
    /// The answer to the subscribe frame numbered `ack` (see [`Protocol::subscribe`]); `refused` lists keys
    /// the upstream would not stream, with its reason.
    Subscribed {
        ack: Option<String>,
        refused: Vec<(String, String)>,
    },
    /// An error answer; when `ack` names a subscribe frame, every key of that frame is refused.
    Error { ack: Option<String>, reason: String },
    /// The session the connection was opened with is dead: it is invalidated, and the connection replaced.
    SessionInvalid { reason: String },
    /// A heartbeat or any other well-formed frame needing no action: proof of life.
    Alive,
    /// Not a frame of the protocol (logged at debug; it still resets the silence watch).
    Malformed,
}

/// One upstream's stream protocol. The pool calls it from its connection tasks; it keeps no state of its
/// own about subscriptions.
#[async_trait::async_trait]
pub trait Protocol: Send + Sync + 'static {
    /// What a receiver gets.
    type Event: Clone + Send + 'static;
    /// The credentials a connection was opened with.
    type Session: Send + Sync + 'static;

    /// Name for log lines ("Capital.com quote stream").
    fn name(&self) -> &'static str;

    /// Rejects a key that cannot be valid before it reaches the upstream.
    fn check_key(&self, _key: &str) -> Result<(), BrokerError> {
        Ok(())
    }

    /// Opens one connection for `keys` (a transport whose request carries the set, such as NDJSON, puts
    /// them in its URL; a WebSocket ignores them and gets subscribe frames next). `reopened` is false for
    /// the first connection of a slot. The pool bounds nothing here: the protocol applies its timeouts.
    async fn open(&self, keys: &[String], reopened: bool) -> Result<Opened<Self::Session>, OpenError>;

    /// The frame subscribing `keys` (at most the per-connection cap), numbered `seq`; `None` when the
    /// transport carries the set in its request.
    fn subscribe(&self, _session: &Self::Session, _seq: u64, _keys: &[String]) -> Option<String> {
        None
    }

    /// The frame unsubscribing `keys`, numbered `seq`.
    fn unsubscribe(&self, _session: &Self::Session, _seq: u64, _keys: &[String]) -> Option<String> {
        None
    }

    /// The keep-alive frame numbered `seq`, sent every [`super::PoolOptions::keep_alive`].
    fn keep_alive(&self, _session: &Self::Session, _seq: u64) -> Option<String> {
        None
    }

    /// Whether subscribe frames get an answer naming their number (then an unanswered one, after
    /// [`super::PoolOptions::ack_within`], replaces the connection).
    fn acks_subscriptions(&self) -> bool {
        false
    }

    /// What a text frame (or NDJSON line) means.
    fn decode(&self, session: &Self::Session, frame: &[u8]) -> Incoming<Self::Event>;

    /// The session of a connection is dead (after [`Incoming::SessionInvalid`]): the next `open` must get
    /// fresh credentials.
    fn invalidate(&self, _session: &Self::Session) {}
}
