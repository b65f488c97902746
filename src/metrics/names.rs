//! Every series the bridge emits: its name, kind and description, in one table, so the recorder
//! describes each (`# HELP`/`# TYPE`) and tests can check the dashboard against it.

/// What kind of series a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One series family.
#[derive(Debug, Clone, Copy)]
pub struct Series {
    pub name: &'static str,
    pub kind: Kind,
    /// Its labels, in the order the README lists them.
    pub labels: &'static [&'static str],
    pub help: &'static str,
}

pub const HTTP_REQUESTS: &str = "tvbridge_http_requests_total";
pub const HTTP_DURATION: &str = "tvbridge_http_request_duration_seconds";
pub const STREAMS_OPEN: &str = "tvbridge_streams_open";
pub const STREAMS_OPENED: &str = "tvbridge_streams_opened_total";
pub const STREAMS_CLOSED: &str = "tvbridge_streams_closed_total";
pub const HUB_SNAPSHOTS: &str = "tvbridge_hub_snapshots_total";
pub const HUB_LEASES: &str = "tvbridge_hub_leases_total";
pub const HUB_FETCH: &str = "tvbridge_hub_fetch_duration_seconds";
pub const UPSTREAM_REQUESTS: &str = "tvbridge_upstream_requests_total";
pub const UPSTREAM_DURATION: &str = "tvbridge_upstream_request_duration_seconds";
pub const UPSTREAM_LIMIT_WAITS: &str = "tvbridge_upstream_limit_waits_total";
pub const UPSTREAM_LIMIT_WAIT: &str = "tvbridge_upstream_limit_wait_seconds";
pub const UPSTREAM_STREAM_CONNECTS: &str = "tvbridge_upstream_stream_connects_total";
pub const LOGINS: &str = "tvbridge_logins_total";
pub const IDEMPOTENCY: &str = "tvbridge_idempotency_total";
pub const STORE_DURATION: &str = "tvbridge_store_operation_duration_seconds";
pub const STORE_ERRORS: &str = "tvbridge_store_errors_total";
pub const TV_ROUND_TRIP: &str = "tvbridge_tradingview_round_trip_seconds";
pub const TRADING_ACTIONS: &str = "tvbridge_trading_actions_total";
pub const BUILD_INFO: &str = "tvbridge_build_info";

/// The table.
pub const ALL: &[Series] = &[
    Series {
        name: HTTP_REQUESTS,
        kind: Kind::Counter,
        labels: &["endpoint", "method", "outcome"],
        help: "HTTP requests answered, by route template (`unmatched` for unknown paths), method and outcome \
               (ok, tv_error = a TradingView error envelope on HTTP 200, 4xx, 5xx); a stream counts once, when it opens.",
    },
    Series {
        name: HTTP_DURATION,
        kind: Kind::Histogram,
        labels: &["endpoint", "method", "outcome"],
        help: "Seconds from a request's arrival to its response head (for streams: until the stream opened).",
    },
    Series {
        name: STREAMS_OPEN,
        kind: Kind::Gauge,
        labels: &["kind"],
        help: "Streams open now, by kind (orders, positions, executions, balances, accountState, quotes, streaming).",
    },
    Series {
        name: STREAMS_OPENED,
        kind: Kind::Counter,
        labels: &["kind"],
        help: "Streams opened, by kind.",
    },
    Series {
        name: STREAMS_CLOSED,
        kind: Kind::Counter,
        labels: &["kind", "reason"],
        help: "Streams closed, by kind and reason (client_left, token_expired, logged_out, shutdown, ended).",
    },
    Series {
        name: HUB_SNAPSHOTS,
        kind: Kind::Counter,
        labels: &["source"],
        help: "Account snapshots asked of the account hub, by where they came from: fresh (cached, no wait), \
               coalesced (shared a fetch in flight), replica (another replica's), fetched (from the backend), \
               failed (the backend fetch failed).",
    },
    Series {
        name: HUB_LEASES,
        kind: Kind::Counter,
        labels: &["event"],
        help: "Shared account-hub leases (replicas on one Redis store) this replica took, renewed or lost.",
    },
    Series {
        name: HUB_FETCH,
        kind: Kind::Histogram,
        labels: &[],
        help: "Seconds one account snapshot fetch from the backend took.",
    },
    Series {
        name: UPSTREAM_REQUESTS,
        kind: Kind::Counter,
        labels: &["backend", "endpoint", "outcome"],
        help: "Upstream HTTP attempts (each retry counts), by backend, endpoint (method and path with ids as {id}) \
               and outcome (ok, refused = 4xx, throttled = 429, server_error = 5xx, no_answer = timeout or reset, \
               not_sent, decode = an answer that is not what the upstream documents).",
    },
    Series {
        name: UPSTREAM_DURATION,
        kind: Kind::Histogram,
        labels: &["backend", "endpoint"],
        help: "Seconds one upstream HTTP attempt took, from sending to the whole answer (streams: to the answer head).",
    },
    Series {
        name: UPSTREAM_LIMIT_WAITS,
        kind: Kind::Counter,
        labels: &["backend"],
        help: "Upstream attempts that waited at least a millisecond for the bridge's own rate limits and in-flight caps.",
    },
    Series {
        name: UPSTREAM_LIMIT_WAIT,
        kind: Kind::Histogram,
        labels: &["backend"],
        help: "Seconds each upstream attempt waited for the bridge's own rate limits and in-flight caps (0 when none).",
    },
    Series {
        name: UPSTREAM_STREAM_CONNECTS,
        kind: Kind::Counter,
        labels: &["stream", "kind"],
        help: "Upstream push-stream connections opened, by stream and kind (first, reconnect), and attempts that \
               failed (failed).",
    },
    Series {
        name: LOGINS,
        kind: Kind::Counter,
        labels: &["outcome"],
        help: "Logins (password, OAuth login page), by outcome: ok, failed, throttled.",
    },
    Series {
        name: IDEMPOTENCY,
        kind: Kind::Counter,
        labels: &["outcome"],
        help: "Order placements with a requestId, by outcome: placed, replayed (answered from the record), joined \
               (waited for the same attempt in flight here), waited (for an attempt in flight on another process), \
               recovered (an interrupted attempt's order found upstream), refused_conflict, refused_full, \
               refused_pending, refused_unknown (outcome of an earlier attempt unknown), refused_store.",
    },
    Series {
        name: STORE_DURATION,
        kind: Kind::Histogram,
        labels: &["store", "op"],
        help: "Seconds one state-store operation took, by store kind (memory, embedded, redis) and operation.",
    },
    Series {
        name: STORE_ERRORS,
        kind: Kind::Counter,
        labels: &["store", "op"],
        help: "State-store operations that failed, by store kind and operation.",
    },
    Series {
        name: TV_ROUND_TRIP,
        kind: Kind::Histogram,
        labels: &["type"],
        help: "Round trips TradingView reported through trackLatency (its roundTripDuration), by transactionType.",
    },
    Series {
        name: TRADING_ACTIONS,
        kind: Kind::Counter,
        labels: &["action", "outcome"],
        help: "Trading actions (place, modify, cancel, close, reverse, brackets, leverage), by outcome (ok, refused).",
    },
    Series {
        name: BUILD_INFO,
        kind: Kind::Gauge,
        labels: &["version"],
        help: "Always 1; the bridge's version as a label.",
    },
];
