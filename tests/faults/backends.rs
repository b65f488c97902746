//! Per backend: the fake upstream (in this test process, so it outlives the bridge's restarts), the
//! bridge's configuration on it, the login (a password, or TradingView's Code flow through IBKR for the
//! third-party backend), the account and instrument traded, the faults the fake can inject and how, and
//! the fake's ledger of buy orders for the checker.

use crate::checker::UpstreamOrder;
use crate::schedule::FaultKind;
use fakes::capital::{self as fcap, FakeCapital};
use fakes::ibkr::{self as fib, FakeIbkr, FakeIbkrAccount, FakeIbkrOptions};
use fakes::ibkr_third_party::{self as ftp, FakeIbkrThirdParty, FakeIbkrThirdPartyOptions};
use fakes::oanda::{self as foa, FakeOanda};
use rust_decimal::prelude::ToPrimitive;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Which backend a campaign runs against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Paper,
    Capital,
    Oanda,
    /// OANDA's legacy v1 API (an all-digit account id), on the same fake.
    OandaV1,
    Ibkr,
    /// IBKR's Third-Party Web API (OAuth 1.0a consumer, a grant per user).
    IbkrThirdParty,
}

/// How long a fault that accepts a write then withholds the answer holds it: longer than the bridge's
/// upstream timeout (`request_timeout_ms = 2000` below), so the bridge must find out by itself.
const HANG: Duration = Duration::from_secs(6);

/// The running fake, if the backend has one.
pub enum Upstream {
    Paper,
    Capital(FakeCapital),
    /// The fake and the path prefix of the API version's account calls (`/v3/accounts`, `/v1/accounts`).
    Oanda(FakeOanda, &'static str),
    Ibkr(FakeIbkr),
    IbkrThirdParty(FakeIbkrThirdParty),
}

/// How the campaign's client gets its bridge token.
#[derive(Clone, Debug)]
pub enum Login {
    /// `POST /authorize` with the bridge user's password.
    Password,
    /// TradingView's OAuth2 Code flow: the bridge's login page, IBKR's authorization page when the
    /// bridge sends the browser there (a user without a grant), the federated callback, the code
    /// exchanged at the token endpoint.
    CodeFlow(CodeFlow),
}

/// What the Code flow needs: the OAuth client TradingView is, and the user at IBKR.
#[derive(Clone, Debug)]
pub struct CodeFlow {
    pub client_id: &'static str,
    pub client_secret: &'static str,
    pub redirect_uri: &'static str,
    pub ibkr_user: &'static str,
    pub ibkr_password: &'static str,
}

/// The OAuth client of the third-party campaign (TradingView's staging client, test-only secret).
const TP_CLIENT: CodeFlow = CodeFlow {
    client_id: "tv-faults",
    client_secret: "tv-faults-secret-0123456789",
    redirect_uri: "https://www.tradingview.com/oauth-redirect/staging",
    ibkr_user: "alice",
    ibkr_password: "alice-pass-1",
};

/// Settings the bridge gets whatever the backend: streams ping every second (so a stream's silence
/// means something), `requestId` claims of a killed process lapse after 3 s.
const COMMON: &str = "[hub]\nping_secs = 1\n\n[idempotency]\nclaim_lease_secs = 3\n";

pub struct Setup {
    pub upstream: Upstream,
    pub config: String,
    /// Environment variables of the bridge process (the mapped users' upstream secrets).
    pub env: Vec<(String, String)>,
    pub login: String,
    pub password: String,
    /// How the client logs in (with `login` and `password` at the bridge either way).
    pub login_flow: Login,
    pub account: String,
    /// Form fields naming the instrument.
    pub instrument: &'static str,
    /// A buy limit this far below the market never fills (so it can be modified and cancelled).
    pub far_limit: &'static str,
    pub modified_limit: &'static str,
    /// Attempt `n` buys `qty_step * (key_base + n)` (see the checker's module doc); `key_base` is also the
    /// most attempts a run may make.
    pub qty_step: u64,
    pub key_base: u64,
    /// `positions` (netting) or `individualPositions` (OANDA's accounts keep each trade apart).
    pub positions: &'static str,
}

impl Setup {
    /// The fake of `kind` and the bridge's configuration on it; the bridge will listen on `port` (the
    /// third-party backend's callback URL names it).
    pub async fn start(kind: Kind, port: u16) -> Setup {
        match kind {
            Kind::Paper => Setup {
                upstream: Upstream::Paper,
                env: Vec::new(),
                config: format!(
                    "{COMMON}\n[[auth.users]]\nlogin = \"demo\"\npassword = \"demo\"\n\n[backend]\nkind = \"paper\"\ninitial_balance = 1000000000\n"
                ),
                login: "demo".into(),
                password: "demo".into(),
                login_flow: Login::Password,
                account: "demo-net".into(),
                instrument: "instrument=EURUSD",
                far_limit: "0.5",
                modified_limit: "0.45",
                qty_step: 1000,
                key_base: 2000,
                positions: "positions",
            },
            Kind::Capital => {
                let fake = FakeCapital::start(fcap::FakeOptions::default()).await;
                // A mapped user: the bridge keeps its Capital.com credentials, so a restart logs nobody
                // out (a pass-through session lives only in the process that opened it; see the README).
                let config = format!(
                    "{COMMON}\n[[auth.users]]\nlogin = \"trader\"\npassword = \"trader-pass\"\n\n\
                     [backend]\nkind = \"capital\"\nbase_url = \"{}\"\nstream_url = \"{}\"\n\
                     api_key = \"{}\"\nrequest_timeout_ms = 2000\nlogin = \"mapped\"\n\n\
                     [[backend.users]]\nlogin = \"trader\"\nidentifier_env = \"TVB_FAULTS_CAPITAL_ID\"\n\
                     password_env = \"TVB_FAULTS_CAPITAL_PASSWORD\"\n",
                    fake.base_url, fake.ws_url, fake.api_key
                );
                Setup {
                    upstream: Upstream::Capital(fake),
                    config,
                    env: vec![
                        ("TVB_FAULTS_CAPITAL_ID".into(), "demo@example.com".into()),
                        ("TVB_FAULTS_CAPITAL_PASSWORD".into(), "demo-password".into()),
                    ],
                    login: "trader".into(),
                    password: "trader-pass".into(),
                    login_flow: Login::Password,
                    account: "ACC-NET".into(),
                    instrument: "instrument=EURUSD",
                    far_limit: "0.5",
                    modified_limit: "0.45",
                    qty_step: 1,
                    key_base: 10_000,
                    positions: "positions",
                }
            }
            Kind::Oanda | Kind::OandaV1 => {
                let (account, prefix, api) = if kind == Kind::Oanda {
                    ("101-004-1234567-001", "/v3/accounts", "")
                } else {
                    // The fake's legacy account (an all-digit id), the token's accounts listed by v1.
                    ("7654321", "/v1/accounts", "api = \"v1\"\n")
                };
                let fake = FakeOanda::start(foa::FakeOptions {
                    heartbeat: Duration::from_millis(500),
                    ..foa::FakeOptions::default()
                })
                .await;
                // A mapped user, as for Capital.com: its sessions are reopened after a restart.
                let config = format!(
                    "{COMMON}\n[[auth.users]]\nlogin = \"trader\"\npassword = \"trader-pass\"\n\n\
                     [backend]\nkind = \"oanda\"\nrest_url = \"{}\"\nstream_url = \"{}\"\n\
                     request_timeout_ms = 2000\nlogin = \"mapped\"\n{api}\n[[backend.users]]\nlogin = \"trader\"\n\
                     token_env = \"TVB_FAULTS_OANDA_TOKEN\"\n",
                    fake.rest_url, fake.stream_url
                );
                Setup {
                    upstream: Upstream::Oanda(fake, prefix),
                    config,
                    env: vec![("TVB_FAULTS_OANDA_TOKEN".into(), "fake-token".into())],
                    login: "trader".into(),
                    password: "trader-pass".into(),
                    login_flow: Login::Password,
                    account: account.into(),
                    instrument: "instrument=EURUSD",
                    far_limit: "0.5",
                    modified_limit: "0.45",
                    qty_step: 1,
                    key_base: 10_000,
                    positions: "individualPositions",
                }
            }
            Kind::Ibkr => {
                let fake = FakeIbkr::start(FakeIbkrOptions {
                    accounts: vec![FakeIbkrAccount::paper("DU1234567", "USD")],
                    ..FakeIbkrOptions::relaxed()
                })
                .await;
                let config = format!(
                    "{COMMON}\n[[auth.users]]\nlogin = \"demo\"\npassword = \"demo\"\n\n[backend]\n\
                     kind = \"ibkr\"\ntransport = \"gateway\"\nbase_url = \"{}\"\nsnapshot_retry_ms = 100\n\
                     request_timeout_ms = 2000\n\n[[backend.users]]\nlogin = \"demo\"\naccounts = [\"DU1234567\"]\n\n\
                     [[backend.symbols]]\nsymbol = \"EURUSD\"\nsearch = \"EUR.USD\"\nsec_type = \"CASH\"\n\
                     tradingview = \"FX:EURUSD\"\n",
                    fake.base_url
                );
                Setup {
                    upstream: Upstream::Ibkr(fake),
                    config,
                    env: Vec::new(),
                    login: "demo".into(),
                    password: "demo".into(),
                    login_flow: Login::Password,
                    account: "DU1234567".into(),
                    instrument: "instrument=EURUSD",
                    far_limit: "0.5",
                    modified_limit: "0.45",
                    qty_step: 1,
                    key_base: 10_000,
                    positions: "positions",
                }
            }
            Kind::IbkrThirdParty => {
                // IBKR's rate limit as the fake models it (50 requests a second), alice already covered
                // by a nightly refresh (so her accounts answer right after she grants). The fake's 423
                // lock (a same-path call within a second) is off: it locks writes too, so two traders'
                // placements within a second would meet it all the time; 423s come as injected faults.
                let fake = FakeIbkrThirdParty::start(FakeIbkrThirdPartyOptions {
                    lock_interval: Duration::ZERO,
                    ..FakeIbkrThirdPartyOptions::default().all_refreshed()
                })
                .await;
                let c = fake.consumer();
                let config = format!(
                    "{COMMON}\n[[auth.users]]\nlogin = \"trader\"\npassword = \"trader-pass\"\n\n\
                     [oauth]\npublic_url = \"http://127.0.0.1:{port}/api\"\n\n[[oauth.clients]]\n\
                     client_id = \"{client}\"\nname = \"TradingView\"\nclient_secret = \"{secret}\"\n\
                     redirect_uris = [\"{redirect}\"]\n\n[backend]\nkind = \"ibkr-third-party\"\n\
                     base_url = \"{base}\"\nauthorize_url = \"{authorize}\"\n\
                     consumer_key_env = \"TVB_FAULTS_TP_CONSUMER_KEY\"\nsignature_key_file = \"{sig}\"\n\
                     encryption_key_file = \"{enc}\"\ndh_param_file = \"{dh}\"\nrealm = \"{realm}\"\n\
                     link_key_env = \"TVB_FAULTS_TP_LINK_KEY\"\nrequest_timeout_ms = 2000\n\
                     accepted_retry_ms = 200\nlocked_backoff_ms = 500\n\n[[backend.symbols]]\n\
                     symbol = \"EURUSD\"\ninstrument_type = \"CASH\"\nticker = \"EUR\"\ncurrency = \"USD\"\n\
                     tradingview = \"FX:EURUSD\"\n",
                    client = TP_CLIENT.client_id,
                    secret = TP_CLIENT.client_secret,
                    redirect = TP_CLIENT.redirect_uri,
                    base = fake.base_url,
                    authorize = fake.authorize_url,
                    sig = c.signature_key_file.display(),
                    enc = c.encryption_key_file.display(),
                    dh = c.dh_param_file.display(),
                    realm = c.realm,
                );
                let env = vec![
                    ("TVB_FAULTS_TP_CONSUMER_KEY".into(), c.consumer_key.clone()),
                    // 32 bytes, base64: a throw-away test key for the grants kept in the store.
                    (
                        "TVB_FAULTS_TP_LINK_KEY".into(),
                        "dGVzdC1vbmx5LWxpbmsta2V5LTMyLWJ5dGVzLWxvbmc=".into(),
                    ),
                ];
                Setup {
                    upstream: Upstream::IbkrThirdParty(fake),
                    config,
                    env,
                    login: "trader".into(),
                    password: "trader-pass".into(),
                    login_flow: Login::CodeFlow(TP_CLIENT),
                    account: "U1234567".into(),
                    instrument: "instrument=EURUSD",
                    far_limit: "0.5",
                    modified_limit: "0.45",
                    qty_step: 1,
                    key_base: 10_000,
                    positions: "positions",
                }
            }
        }
    }

    /// The faults this backend's fake can inject (a bridge restart is possible everywhere).
    pub fn faults(&self) -> Vec<FaultKind> {
        use FaultKind::*;
        match self.upstream {
            Upstream::Paper => vec![Restart],
            Upstream::Capital(_) => vec![
                Burst5xx,
                AcceptThenHang,
                Restart,
                DropStreams,
                Storm429,
                ExpireSession,
                Slow,
            ],
            // No session expiry: OANDA's personal access tokens do not expire (a revoked one is for the
            // user to replace, not for the bridge to recover from).
            Upstream::Oanda(..) => vec![Burst5xx, AcceptThenHang, Restart, DropStreams, Storm429, Slow],
            Upstream::Ibkr(_) => vec![
                Burst5xx,
                AcceptThenHang,
                Restart,
                DropStreams,
                Storm429,
                ExpireSession,
                Slow,
            ],
            // No upstream streams: the Web API is polled.
            Upstream::IbkrThirdParty(_) => vec![
                Burst5xx,
                AcceptThenHang,
                Restart,
                Storm429,
                ExpireSession,
                Slow,
                AcceptThen500,
                Locked423,
                Accepted202,
            ],
        }
    }

    /// Injects `fault` at the fake (a restart is the campaign's job). `nth` varies which write a hang hits.
    pub fn inject(&self, fault: FaultKind, nth: u32) {
        use FaultKind::*;
        let write_path = |capital: bool| match (capital, nth % 2) {
            (true, 0) => "/positions",
            (true, _) => "/workingorders",
            (false, _) => "/orders",
        };
        match (&self.upstream, fault) {
            (Upstream::Capital(f), Burst5xx | Storm429) => f.inject(fcap::Fault::Status {
                method: None,
                path_prefix: "/".into(),
                status: if fault == Burst5xx { 500 } else { 429 },
                body: if fault == Burst5xx {
                    json!({"errorCode": "error.internal"})
                } else {
                    json!({"errorCode": "error.too-many.requests"})
                },
                times: if fault == Burst5xx { 3 } else { 8 },
            }),
            (Upstream::Capital(f), AcceptThenHang) => f.inject(fcap::Fault::AcceptThenHang {
                method: Some("POST".into()),
                path_prefix: write_path(true).into(),
                delay: HANG,
            }),
            (Upstream::Capital(f), Slow) => {
                for _ in 0..3 {
                    f.inject(fcap::Fault::DelayBefore {
                        method: None,
                        path_prefix: "/".into(),
                        delay: Duration::from_millis(1500),
                    });
                }
            }
            (Upstream::Capital(f), DropStreams) => f.drop_websockets(),
            (Upstream::Capital(f), ExpireSession) => f.expire_all_sessions(),
            (Upstream::Oanda(f, prefix), Burst5xx | Storm429) => f.inject(foa::Fault::Status {
                status: if fault == Burst5xx { 500 } else { 429 },
                times: if fault == Burst5xx { 3 } else { 8 },
                path: Some((*prefix).into()),
            }),
            (Upstream::Oanda(f, prefix), AcceptThenHang) => f.inject(foa::Fault::TimeoutAfterAccept {
                method: "POST".into(),
                path: format!("{prefix}/{}{}", self.account, write_path(false)),
            }),
            (Upstream::Oanda(f, prefix), Slow) => {
                for _ in 0..3 {
                    f.inject(foa::Fault::Delay {
                        delay: Duration::from_millis(1500),
                        path: Some((*prefix).into()),
                    });
                }
            }
            (Upstream::Oanda(f, _), DropStreams) => f.drop_streams(),
            (Upstream::Ibkr(f), Burst5xx | Storm429) => f.inject(fib::Fault::Status {
                method: None,
                path_prefix: "/iserver".into(),
                status: if fault == Burst5xx { 500 } else { 429 },
                body: json!({"error": if fault == Burst5xx { "Internal Server Error" } else { "Too Many Requests" }}),
                times: if fault == Burst5xx { 3 } else { 8 },
            }),
            (Upstream::Ibkr(f), AcceptThenHang) => f.hang_after_accept("POST", "/iserver/account/", HANG),
            (Upstream::Ibkr(f), DropStreams) => f.drop_websockets(),
            (Upstream::Ibkr(f), ExpireSession) => f.expire_session(),
            (Upstream::Ibkr(f), Slow) => f.delay_next(None, "/iserver", Duration::from_millis(1500), 3),
            (Upstream::IbkrThirdParty(f), Burst5xx | Storm429) => f.inject(ftp::Fault::Status {
                method: None,
                path_prefix: "/".into(),
                status: if fault == Burst5xx { 500 } else { 429 },
                times: if fault == Burst5xx { 3 } else { 8 },
            }),
            (Upstream::IbkrThirdParty(f), AcceptThenHang | AcceptThen500) => {
                // Placements, modifications and cancellations in turn.
                let (method, path) = match nth % 3 {
                    1 => ("POST", format!("/accounts/{}/orders", self.account)),
                    2 => ("PUT", format!("/accounts/{}/orders/", self.account)),
                    _ => ("DELETE", format!("/accounts/{}/orders/", self.account)),
                };
                if fault == AcceptThenHang {
                    f.accept_then_hang(method, &path, HANG);
                } else {
                    f.accept_then_fail(method, &path, 500);
                }
            }
            (Upstream::IbkrThirdParty(f), Slow) => f.inject(ftp::Fault::Delay {
                method: None,
                path_prefix: "/accounts".into(),
                delay: Duration::from_millis(1500),
                times: 3,
            }),
            (Upstream::IbkrThirdParty(f), Locked423 | Accepted202) => f.inject(ftp::Fault::Status {
                method: Some("GET".into()),
                path_prefix: format!("/accounts/{}/", self.account),
                status: if fault == Locked423 { 423 } else { 202 },
                times: 3,
            }),
            (Upstream::IbkrThirdParty(f), ExpireSession) => f.expire_lsts(),
            _ => {}
        }
    }

    /// Upstream stream connections so far (to see the bridge reconnect after a drop), where countable.
    pub fn upstream_streams(&self) -> Option<usize> {
        match &self.upstream {
            Upstream::Oanda(f, _) => Some(f.stream_connections()),
            Upstream::Capital(f) => Some(f.ws_connections()),
            Upstream::Ibkr(f) => Some(f.ws_connections()),
            Upstream::Paper | Upstream::IbkrThirdParty(_) => None,
        }
    }

    /// Error answers (401, 429, 5xx) the fake gave between `from` and `to`; 0 where its log has no times
    /// (OANDA's), which holds such a recovery to the limit.
    pub fn upstream_errors_between(&self, from: std::time::Instant, to: std::time::Instant) -> usize {
        let error = |s: u16| s == 401 || s == 429 || s >= 500;
        match &self.upstream {
            Upstream::Capital(f) => f
                .requests()
                .iter()
                .filter(|r| r.at >= from && r.at <= to && error(r.status))
                .count(),
            Upstream::Ibkr(f) => f
                .requests()
                .iter()
                .filter(|r| r.at >= from && r.at <= to && error(r.status))
                .count(),
            Upstream::IbkrThirdParty(f) => f
                .requests()
                .iter()
                .filter(|r| r.at >= from && r.at <= to && error(r.status))
                .count(),
            Upstream::Oanda(..) | Upstream::Paper => 0,
        }
    }

    /// The upstream's buy orders (every one it ever accepted on the account), for the checker. The paper
    /// broker has no upstream: its books (read back through the bridge after the run) stand in.
    pub fn ledger(&self, paper_books: &[Value]) -> Vec<UpstreamOrder> {
        match &self.upstream {
            Upstream::Paper => paper_books
                .iter()
                .filter(|o| o["side"] == "buy" || o["side"] == 1)
                .filter_map(|o| {
                    Some(UpstreamOrder {
                        id: o["id"].as_str()?.to_owned(),
                        qty: o["qty"].as_f64()? as u64,
                        detail: o.to_string(),
                        refused: false,
                    })
                })
                .collect(),
            Upstream::Capital(f) => {
                // Distinct deals opened by a buy (a position's opening is stored under two references;
                // amendments, closes and deletions repeat a deal id that is already counted).
                let mut deals: BTreeMap<String, UpstreamOrder> = BTreeMap::new();
                for c in f.confirms() {
                    let opening = matches!(c["status"].as_str(), Some("OPEN" | "OPENED"));
                    if c["dealStatus"] != "ACCEPTED" || c["direction"] != "BUY" || !opening {
                        continue;
                    }
                    // An order's confirm names its own deal and, in `affectedDeals`, the position or
                    // working order it opened: that one is the order's identity (its `p_` confirm too).
                    let opened = c["affectedDeals"].as_array().and_then(|deals| {
                        deals
                            .iter()
                            .find(|d| d["status"] == "OPENED")
                            .and_then(|d| d["dealId"].as_str())
                    });
                    let (Some(id), Some(size)) = (opened.or(c["dealId"].as_str()), c["size"].as_f64()) else {
                        continue;
                    };
                    deals.entry(id.to_owned()).or_insert(UpstreamOrder {
                        id: id.to_owned(),
                        qty: size as u64,
                        detail: c.to_string(),
                        refused: false,
                    });
                }
                deals.into_values().collect()
            }
            Upstream::Oanda(f, _) => f
                .orders(&self.account)
                .into_iter()
                // A replacement (how OANDA modifies an order) is the same order, not a new placement.
                .filter(|o| matches!(o.kind.as_str(), "MARKET" | "LIMIT") && o.units.is_sign_positive())
                .filter(|o| o.replaces.is_none())
                .filter_map(|o| {
                    Some(UpstreamOrder {
                        qty: o.units.to_u64()?,
                        detail: format!(
                            "{} {} {} {} client {:?}",
                            o.id, o.kind, o.units, o.state, o.client_id
                        ),
                        // A market order is filled in full or cancelled (FOK): cancelled means unfilled.
                        refused: o.kind == "MARKET" && o.state == "CANCELLED",
                        id: o.id,
                    })
                })
                .collect(),
            Upstream::Ibkr(f) => f
                .orders(&self.account)
                .into_iter()
                .filter(|o| o["side"] == "BUY")
                .filter_map(|o| {
                    Some(UpstreamOrder {
                        id: o["orderId"].to_string(),
                        qty: o["totalSize"].as_str()?.parse::<f64>().ok()? as u64,
                        detail: format!(
                            "{} {} {} {}",
                            o["orderId"], o["orderDesc"], o["status"], o["order_ref"]
                        ),
                        refused: false,
                    })
                })
                .collect(),
            // By CustomerOrderId: a modification is a replacement under a new one (not a placement).
            Upstream::IbkrThirdParty(f) => f
                .ledger()
                .orders
                .into_iter()
                .filter(|o| o.account == self.account && o.side == "1" && o.replaces.is_none())
                .filter_map(|o| {
                    Some(UpstreamOrder {
                        id: o.customer_order_id.to_string(),
                        qty: o.quantity.to_u64()?,
                        detail: format!(
                            "CustomerOrderId {} conid {} qty {} filled {} FIX status {}",
                            o.customer_order_id, o.contract_id, o.quantity, o.filled, o.status
                        ),
                        refused: false,
                    })
                })
                .collect(),
        }
    }

    /// Every request the fake saw, one line each (`TVBRIDGE_FAULTS_DEBUG`), where its log has them.
    pub fn request_log(&self, since: std::time::Instant) -> Vec<String> {
        let line = |at: std::time::Instant, method: &str, path: &str, status: u16| {
            format!(
                "{:>8.3} {method} {path} -> {status}",
                at.saturating_duration_since(since).as_secs_f64()
            )
        };
        match &self.upstream {
            Upstream::IbkrThirdParty(f) => f
                .requests()
                .iter()
                .map(|r| line(r.at, &r.method, &r.path, r.status))
                .collect(),
            Upstream::Ibkr(f) => f
                .requests()
                .iter()
                .map(|r| line(r.at, &r.method, &r.path, r.status))
                .collect(),
            Upstream::Capital(f) => f
                .requests()
                .iter()
                .map(|r| line(r.at, &r.method, &r.path, r.status))
                .collect(),
            Upstream::Oanda(..) | Upstream::Paper => Vec::new(),
        }
    }

    /// A description of what the confirm bodies look like, for debugging a ledger that matched nothing.
    pub fn raw_ledger(&self) -> String {
        match &self.upstream {
            Upstream::Capital(f) => format!("{:?}", f.confirms().iter().take(6).collect::<Vec<_>>()),
            Upstream::Ibkr(f) => format!("{:?}", f.orders(&self.account).iter().take(3).collect::<Vec<_>>()),
            Upstream::Oanda(f, _) => {
                format!("{:?}", f.orders(&self.account).iter().take(6).collect::<Vec<_>>())
            }
            Upstream::IbkrThirdParty(f) => {
                format!("{:?}", f.ledger().orders.iter().take(6).collect::<Vec<_>>())
            }
            Upstream::Paper => String::new(),
        }
    }
}
