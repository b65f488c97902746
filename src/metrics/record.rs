//! One-line recording functions for the call sites. Every label is a `&'static str` from a closed set (or
//! a bounded [`LabelSet`](super::labels::LabelSet)), never an id, a symbol or a user's input.

use super::labels::{self, LabelSet};
use super::names;
use crate::upstream::call::CallError;
use std::time::Duration;

/// Outcomes of [`login`].
pub const LOGIN_OUTCOMES: &[&str] = &["ok", "failed", "throttled"];

/// Outcomes of [`idempotency`].
pub const IDEMPOTENCY_OUTCOMES: &[&str] = &[
    "placed",
    "replayed",
    "joined",
    "waited",
    "recovered",
    "refused_conflict",
    "refused_full",
    "refused_pending",
    "refused_unknown",
    "refused_store",
];

/// Sources of [`hub_snapshot`].
pub const HUB_SOURCES: &[&str] = &["fresh", "coalesced", "replica", "fetched", "failed"];

/// How a login ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    Ok,
    Failed,
    Throttled,
}

/// A login and its outcome.
pub fn login(outcome: Login) {
    let outcome = match outcome {
        Login::Ok => "ok",
        Login::Failed => "failed",
        Login::Throttled => "throttled",
    };
    ::metrics::counter!(names::LOGINS, "outcome" => outcome).increment(1);
}

/// A requestId placement's outcome (one of [`IDEMPOTENCY_OUTCOMES`]).
pub fn idempotency(outcome: &'static str) {
    debug_assert!(IDEMPOTENCY_OUTCOMES.contains(&outcome));
    ::metrics::counter!(names::IDEMPOTENCY, "outcome" => outcome).increment(1);
}

/// Where an account snapshot came from (one of [`HUB_SOURCES`]).
pub fn hub_snapshot(source: &'static str) {
    debug_assert!(HUB_SOURCES.contains(&source));
    // Every poll passes here: the handles are made once (after the recorder is installed, so they are
    // the recorder's and not the no-op's), then a poll costs one atomic add.
    static HANDLES: std::sync::OnceLock<Vec<::metrics::Counter>> = std::sync::OnceLock::new();
    if !super::recorder::installed() {
        return;
    }
    let handles = HANDLES.get_or_init(|| {
        HUB_SOURCES
            .iter()
            .map(|s| ::metrics::counter!(names::HUB_SNAPSHOTS, "source" => *s))
            .collect()
    });
    if let Some(i) = HUB_SOURCES.iter().position(|s| *s == source) {
        handles[i].increment(1);
    }
}

/// Events of [`hub_lease`].
pub const HUB_LEASE_EVENTS: &[&str] = &["taken", "renewed", "lost"];

/// A shared account hub's lease (replicas on one Redis) taken, renewed or lost by this replica.
pub fn hub_lease(event: &'static str) {
    debug_assert!(HUB_LEASE_EVENTS.contains(&event));
    ::metrics::counter!(names::HUB_LEASES, "event" => event).increment(1);
}

/// One backend snapshot fetch and how long it took.
pub fn hub_fetch(took: Duration) {
    ::metrics::histogram!(names::HUB_FETCH).record(took.as_secs_f64());
}

/// A stream of `kind` opened.
pub fn stream_opened(kind: &'static str) {
    ::metrics::gauge!(names::STREAMS_OPEN, "kind" => kind).increment(1.0);
    ::metrics::counter!(names::STREAMS_OPENED, "kind" => kind).increment(1);
}

/// A stream of `kind` closed for `reason` (a metric word: `client_left`, `token_expired`...).
pub fn stream_closed(kind: &'static str, reason: &'static str) {
    ::metrics::gauge!(names::STREAMS_OPEN, "kind" => kind).decrement(1.0);
    ::metrics::counter!(names::STREAMS_CLOSED, "kind" => kind, "reason" => reason).increment(1);
}

/// An upstream push stream (`stream` is its protocol's name) connected for the first time, again, or
/// failed to.
pub fn upstream_stream(stream: &'static str, kind: &'static str) {
    ::metrics::counter!(names::UPSTREAM_STREAM_CONNECTS, "stream" => stream, "kind" => kind).increment(1);
}

/// Registers an upstream stream's connection series at zero.
pub fn upstream_stream_registered(stream: &'static str, kind: &'static str) {
    ::metrics::counter!(names::UPSTREAM_STREAM_CONNECTS, "stream" => stream, "kind" => kind).increment(0);
}

/// A trading action and whether it went through.
pub fn trading_action(action: &'static str, ok: bool) {
    let outcome = if ok { "ok" } else { "refused" };
    ::metrics::counter!(names::TRADING_ACTIONS, "action" => action, "outcome" => outcome).increment(1);
}

/// The transaction types TradingView reports latency for (bounded: the first few words seen).
static ROUND_TRIP_TYPES: LabelSet = LabelSet::new(16);

/// A round trip TradingView measured and reported (`trackLatency`), in milliseconds.
pub fn tradingview_round_trip(transaction_type: &str, millis: f64) {
    let kind = labels::client_word(&ROUND_TRIP_TYPES, transaction_type);
    ::metrics::histogram!(names::TV_ROUND_TRIP, "type" => kind).record(millis / 1000.0);
}

/// The outcome label of one upstream attempt.
pub fn upstream_outcome<T>(result: &Result<T, CallError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => call_error_outcome(e),
    }
}

/// The outcome label of a failed upstream attempt.
pub fn call_error_outcome(e: &CallError) -> &'static str {
    match e {
        CallError::Status { status: 429, .. } => "throttled",
        CallError::Status { status, .. } if *status >= 500 => "server_error",
        CallError::Status { .. } => "refused",
        CallError::NoAnswer(_) => "no_answer",
        CallError::NotSent(_) => "not_sent",
        CallError::Decode(_) => "decode",
    }
}

/// One upstream HTTP attempt of `backend` to `endpoint` (from [`labels::upstream_endpoint`]).
pub fn upstream_call(backend: &'static str, endpoint: &'static str, outcome: &'static str, took: Duration) {
    ::metrics::counter!(names::UPSTREAM_REQUESTS, "backend" => backend, "endpoint" => endpoint, "outcome" => outcome)
        .increment(1);
    ::metrics::histogram!(names::UPSTREAM_DURATION, "backend" => backend, "endpoint" => endpoint)
        .record(took.as_secs_f64());
}

/// The time one upstream attempt of `backend` waited for the bridge's own limits.
pub fn upstream_limit_wait(backend: &'static str, waited: Duration) {
    ::metrics::histogram!(names::UPSTREAM_LIMIT_WAIT, "backend" => backend).record(waited.as_secs_f64());
    if waited >= Duration::from_millis(1) {
        ::metrics::counter!(names::UPSTREAM_LIMIT_WAITS, "backend" => backend).increment(1);
    }
}

/// Registers a backend's limiter series at zero (a transport was built), so the dashboard has them
/// before the first wait.
pub fn upstream_backend(backend: &'static str) {
    ::metrics::counter!(names::UPSTREAM_LIMIT_WAITS, "backend" => backend).increment(0);
}
