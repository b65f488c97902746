//! How the fake IBKR gateway is set up: accounts, the contract universe, the order questions it asks,
//! pacing limits, session timing, and the hook an authentication scheme (OAuth 1.0a, OAuth 2.0) plugs
//! into. Every field has a realistic default ([`FakeIbkrOptions::default`]).

use super::contracts::FakeContract;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A request the authentication hook refused: answered with this status and JSON body, nothing else
/// happens (the request is still logged and counted).
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub body: Value,
}

impl Refusal {
    /// A 401 with `{"error": message}`, what IBKR answers a call it cannot authenticate.
    pub fn unauthorized(message: &str) -> Refusal {
        Refusal {
            status: 401,
            body: serde_json::json!({ "error": message, "statusCode": 401 }),
        }
    }
}

/// Checks the credentials of every HTTP request (and WebSocket upgrade) before the fake looks at it:
/// the head (method, URI, headers) and the raw body. Gateway mode needs none; an OAuth 1.0a or OAuth 2.0
/// verifier implements this to check signatures and tokens for real.
pub trait Verifier: Send + Sync {
    /// `Ok` lets the request through; `Err` answers it with the refusal.
    fn verify(&self, parts: &Parts, body: &[u8]) -> Result<(), Refusal>;
}

impl<F> Verifier for F
where
    F: Fn(&Parts, &[u8]) -> Result<(), Refusal> + Send + Sync,
{
    fn verify(&self, parts: &Parts, body: &[u8]) -> Result<(), Refusal> {
        self(parts, body)
    }
}

/// One order question ("order reply message") the fake asks before it accepts an order ticket.
#[derive(Clone, Debug)]
pub struct FakeQuestion {
    /// IBKR's message id, e.g. `o163`.
    pub message_id: String,
    /// The human-readable question.
    pub text: String,
    /// Order types (`MKT`, `LMT`, `STP`, `STOP_LIMIT`) it applies to; empty means every type.
    pub order_types: Vec<String>,
    /// It applies only to tickets of at least this quantity.
    pub min_quantity: Option<Decimal>,
}

impl FakeQuestion {
    /// A question for every ticket of the given types (all types when empty).
    pub fn new(message_id: &str, text: &str, order_types: &[&str]) -> FakeQuestion {
        FakeQuestion {
            message_id: message_id.to_string(),
            text: text.to_string(),
            order_types: order_types.iter().map(|t| t.to_string()).collect(),
            min_quantity: None,
        }
    }

    /// The same question, asked only from `quantity` up.
    pub fn from_quantity(mut self, quantity: Decimal) -> FakeQuestion {
        self.min_quantity = Some(quantity);
        self
    }

    /// The default questions, modelled on IBKR's "size limit" (`o383`) and "price percentage" (`o163`)
    /// precautions: any ticket of more than 500 units gets `o383`, a market order of more than 500 units
    /// then gets `o163` too (two chained questions). Smaller tickets are accepted at once.
    pub fn defaults() -> Vec<FakeQuestion> {
        vec![
            FakeQuestion::new(
                "o383",
                "The following order size exceeds the Size Limit of 500. Are you sure you want to submit this order?",
                &[],
            )
            .from_quantity(Decimal::from(501)),
            FakeQuestion::new(
                "o163",
                "The following order exceeds the price percentage limit of 3%. Are you sure you want to submit this order?",
                &["MKT"],
            )
            .from_quantity(Decimal::from(501)),
        ]
    }

    /// Whether the question is asked for a ticket.
    pub(super) fn applies(&self, order_type: &str, quantity: Decimal) -> bool {
        (self.order_types.is_empty() || self.order_types.iter().any(|t| t == order_type))
            && self.min_quantity.is_none_or(|m| quantity >= m)
    }
}

/// One brokerage account of the gateway's user.
#[derive(Clone, Debug)]
pub struct FakeIbkrAccount {
    /// `DU1234567` (paper) or `U1234567`.
    pub id: String,
    pub alias: String,
    /// Base currency.
    pub currency: String,
    /// Starting cash.
    pub cash: Decimal,
    /// `INDIVIDUAL`...
    pub account_type: String,
}

impl FakeIbkrAccount {
    /// A paper account with one million in `currency`.
    pub fn paper(id: &str, currency: &str) -> FakeIbkrAccount {
        FakeIbkrAccount {
            id: id.to_string(),
            alias: format!("{id} paper"),
            currency: currency.to_string(),
            cash: Decimal::from(1_000_000),
            account_type: "INDIVIDUAL".to_string(),
        }
    }
}

/// A fixed minimum interval between two calls of one endpoint (`GET /iserver/account/orders`: 5 s).
#[derive(Clone, Debug)]
pub struct EndpointPacing {
    /// `GET`, `POST`...
    pub method: String,
    /// The path below `/v1/api`, exact.
    pub path: String,
    pub interval: Duration,
}

impl EndpointPacing {
    pub fn new(method: &str, path: &str, interval: Duration) -> EndpointPacing {
        EndpointPacing {
            method: method.to_string(),
            path: path.to_string(),
            interval,
        }
    }

    /// IBKR's documented per-endpoint limits: live orders, trades and portfolio accounts once per 5 s.
    pub fn defaults() -> Vec<EndpointPacing> {
        let five = Duration::from_secs(5);
        vec![
            EndpointPacing::new("GET", "/iserver/account/orders", five),
            EndpointPacing::new("GET", "/iserver/account/trades", five),
            EndpointPacing::new("GET", "/portfolio/accounts", five),
        ]
    }
}

/// How the fake is set up.
#[derive(Clone)]
pub struct FakeIbkrOptions {
    /// The gateway's logged-in user (the `submitter` of trades, the WebSocket `system` greeting).
    pub username: String,
    /// The user's accounts; the first is selected at start (default: one paper account `DU1234567`).
    pub accounts: Vec<FakeIbkrAccount>,
    /// The contract universe (default: [`FakeContract::defaults`]).
    pub contracts: Vec<FakeContract>,
    /// Questions asked before an order is accepted (default: [`FakeQuestion::defaults`]).
    pub questions: Vec<FakeQuestion>,
    /// Requests per sliding second over all endpoints (10 through the gateway, 50 over OAuth).
    pub requests_per_second: u32,
    /// Per-endpoint minimum intervals (default: [`EndpointPacing::defaults`]).
    pub endpoint_pacing: Vec<EndpointPacing>,
    /// History requests served at once; one more gets 429.
    pub max_concurrent_history: usize,
    /// How long a history request takes (real time), so that concurrency is observable.
    pub history_latency: Duration,
    /// Positions per page of `/portfolio/{acct}/positions/{page}`.
    pub positions_page_size: usize,
    /// The brokerage session dies after this long without a request (fake clock).
    pub idle_expiry: Duration,
    /// Whether the brokerage session is authenticated at start (a user logged in at the gateway); an
    /// OAuth set-up starts unauthenticated and needs `ssodh/init`.
    pub start_authenticated: bool,
    /// Gateway mode with a cookie: every request must carry this in its `Cookie` header (`None`: the
    /// gateway holds the session and needs nothing).
    pub cookie: Option<String>,
    /// The authentication hook (`None`: gateway mode).
    pub verifier: Option<Arc<dyn Verifier>>,
    /// Extra routes served next to the API (an OAuth scheme's token endpoints), behind the same gate.
    pub extra_routes: Option<axum::Router>,
    /// The ready-made OAuth mode ([`FakeIbkrOptions::oauth1`], [`FakeIbkrOptions::oauth2`]) whose
    /// switches [`super::FakeIbkr::oauth`] hands to tests (`None`: gateway mode or a custom verifier).
    pub oauth: Option<Arc<super::oauth::FakeOauth>>,
    /// Commission charged per execution, in the account currency.
    pub commission: Decimal,
    /// Where the fake clock starts (default: the real time); it then advances with real time.
    pub now: Option<DateTime<Utc>>,
    /// Seed of the price paths.
    pub seed: u64,
    /// Prices move by themselves once a second (and fill orders, and stream); otherwise they stay put
    /// until `set_price`.
    pub moving: bool,
    /// How often a subscribed WebSocket gets the `system` heartbeat.
    pub ws_heartbeat: Duration,
    /// How long a cancelled order shows `PendingCancel` before `Cancelled` (real time; zero: at once).
    pub cancel_latency: Duration,
}

impl Default for FakeIbkrOptions {
    fn default() -> Self {
        FakeIbkrOptions {
            username: "fakeuser1".to_string(),
            accounts: vec![FakeIbkrAccount::paper("DU1234567", "USD")],
            contracts: FakeContract::defaults(),
            questions: FakeQuestion::defaults(),
            requests_per_second: 10,
            endpoint_pacing: EndpointPacing::defaults(),
            max_concurrent_history: 5,
            history_latency: Duration::from_millis(20),
            positions_page_size: 100,
            idle_expiry: Duration::from_secs(6 * 60),
            start_authenticated: true,
            cookie: None,
            verifier: None,
            extra_routes: None,
            oauth: None,
            commission: Decimal::ONE,
            now: None,
            seed: 20_240_101,
            moving: false,
            ws_heartbeat: Duration::from_secs(10),
            cancel_latency: Duration::ZERO,
        }
    }
}

impl FakeIbkrOptions {
    /// Moving prices with realistic trading hours for every contract, the clock starting at `now`.
    pub fn moving_market(now: DateTime<Utc>) -> FakeIbkrOptions {
        let mut options = FakeIbkrOptions {
            now: Some(now),
            moving: true,
            ..FakeIbkrOptions::default()
        };
        for c in &mut options.contracts {
            c.hours = FakeContract::usual_hours(&c.sec_type);
            c.schedule = super::schedule::FakeSchedule::usual(&c.sec_type);
        }
        options
    }

    /// Limits high enough that only pacing tests meet them (and no questions asked).
    pub fn relaxed() -> FakeIbkrOptions {
        FakeIbkrOptions {
            requests_per_second: 100_000,
            endpoint_pacing: Vec::new(),
            questions: Vec::new(),
            ..FakeIbkrOptions::default()
        }
    }
}

/// A misbehaviour applied to the next matching HTTP request(s), after logging.
#[derive(Clone, Debug)]
pub enum Fault {
    /// The next `times` requests matching method (None = any) and path prefix get this status and
    /// body and have no effect (5xx, 401...).
    Status {
        method: Option<String>,
        path_prefix: String,
        status: u16,
        body: Value,
        times: usize,
    },
    /// The next matching request is fully executed (an order is placed) but its answer is withheld for
    /// `delay`: a timeout after accepting.
    AcceptThenHang {
        method: Option<String>,
        path_prefix: String,
        delay: Duration,
    },
    /// The next `times` matching requests wait `delay` before anything else happens (a slow gateway),
    /// then are handled as usual.
    Delay {
        method: Option<String>,
        path_prefix: String,
        delay: Duration,
        times: usize,
    },
}

impl Fault {
    /// Whether the fault applies to a request (path below `/v1/api`).
    pub(super) fn matches(&self, req_method: &str, req_path: &str) -> bool {
        let (method, prefix) = match self {
            Fault::Status {
                method, path_prefix, ..
            }
            | Fault::AcceptThenHang {
                method, path_prefix, ..
            }
            | Fault::Delay {
                method, path_prefix, ..
            } => (method, path_prefix),
        };
        method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(req_method))
            && req_path.starts_with(prefix.as_str())
    }
}

/// One HTTP request as the fake saw it (refused ones included).
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    /// When it arrived (real time).
    pub at: std::time::Instant,
    pub method: String,
    /// Below `/v1/api`, without the query, e.g. `/iserver/account/orders`.
    pub path: String,
    pub query: String,
    /// The status answered (0 while the answer is being made).
    pub status: u16,
}
