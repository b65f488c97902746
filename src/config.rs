//! Typed configuration: `[server]`, `[auth]`, `[tradingview]`, `[backend]` from a TOML file (or the built-in
//! paper demo), overridden by `TVBRIDGE__SECTION__KEY` environment variables. Unknown keys and bad values fail
//! start-up, naming the key and where it came from, never the value.

mod describe;
mod load;

pub use crate::auth::UserConfig;
pub use load::{Loaded, BUILTIN};

use crate::backends::paper::PaperConfig;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Prefix of environment overrides: `TVBRIDGE__SECTION__KEY`.
pub const ENV_PREFIX: &str = "TVBRIDGE__";

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub tradingview: TradingViewConfig,
    #[serde(default)]
    pub hub: crate::hub::HubConfig,
    #[serde(default)]
    pub datafeed: crate::http::datafeed::DatafeedConfig,
    #[serde(default)]
    pub backend: BackendConfig,
    #[serde(default)]
    pub idempotency: crate::idempotency::IdempotencyConfig,
    #[serde(default)]
    pub store: crate::store::StoreConfig,
    #[serde(default)]
    pub oauth: crate::auth::oauth::config::OAuthConfig,
    #[serde(default)]
    pub metrics: crate::metrics::MetricsConfig,
    #[serde(default)]
    pub telemetry: crate::telemetry::TelemetryConfig,
}

/// `[server]`: where and how the HTTP server listens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Path prefix of the TradingView API (`/api`); `/healthz` stays at the root.
    pub base_path: String,
    /// Allowed browser origins; `*` matches one or more sub-domain labels (`https://*.tradingview.com`).
    pub cors_origins: Vec<String>,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// `text` or `json` log lines.
    pub log_format: LogFormat,
    /// A request head (request line and headers) must arrive within this many seconds of its first byte.
    pub header_read_timeout_secs: u64,
    /// A request body must arrive whole within this many seconds of its head.
    pub body_read_timeout_secs: u64,
    /// A keep-alive connection with no request for this long is closed (also a connection that never sends).
    pub idle_timeout_secs: u64,
    /// Open connections at most; further clients wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// Streams one login session may hold open at once.
    pub max_streams_per_session: usize,
    /// Streams one user may hold open at once, over all their sessions.
    pub max_streams_per_user: usize,
    /// On SIGTERM, in-flight requests get this long to finish before the process exits anyway.
    pub shutdown_grace_secs: u64,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_path: "/api".into(),
            cors_origins: vec!["https://*.tradingview.com".into(), "https://*.xstaging.tv".into()],
            max_body_bytes: 64 * 1024,
            log_format: LogFormat::Text,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 15,
            // Longer than any browser poll gap, as long as nginx's default keep-alive.
            idle_timeout_secs: 75,
            max_connections: 10_000,
            // TradingView opens about five streams per account and tab; tabs of one login share a session.
            max_streams_per_session: 100,
            max_streams_per_user: 300,
            shutdown_grace_secs: 10,
        }
    }
}

impl ServerConfig {
    /// Problems of the connection limits and timeouts, each naming its key.
    pub fn edge_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, value, range) in [
            ("header_read_timeout_secs", self.header_read_timeout_secs, 1..=300),
            ("body_read_timeout_secs", self.body_read_timeout_secs, 1..=600),
            ("idle_timeout_secs", self.idle_timeout_secs, 1..=3600),
            ("shutdown_grace_secs", self.shutdown_grace_secs, 1..=600),
        ] {
            if !range.contains(&value) {
                out.push(format!(
                    "server.{name} must be {}..={}, got {value}",
                    range.start(),
                    range.end()
                ));
            }
        }
        for (name, value, range) in [
            ("max_connections", self.max_connections, 1..=1_000_000),
            (
                "max_streams_per_session",
                self.max_streams_per_session,
                1..=100_000,
            ),
            ("max_streams_per_user", self.max_streams_per_user, 1..=1_000_000),
        ] {
            if !range.contains(&value) {
                out.push(format!(
                    "server.{name} must be {}..={}, got {value}",
                    range.start(),
                    range.end()
                ));
            }
        }
        out
    }
}

/// `[auth]`: access tokens and the bridge's own users.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Access token lifetime in seconds (TradingView never refreshes password tokens: the user logs in again).
    pub token_ttl_secs: u64,
    /// HMAC key that signs access tokens. Empty: a random key kept in the state store.
    pub token_secret: Secret,
    /// Keys that signed tokens before `token_secret` was rotated: their tokens keep working until they
    /// expire.
    pub previous_token_secrets: Vec<Secret>,
    /// Users the bridge itself authenticates (the paper backend's traders).
    pub users: Vec<UserConfig>,
    /// Sessions one user may hold; a login beyond it ends that user's oldest session.
    pub max_sessions_per_user: usize,
    /// Back-off of failed logins per login name and per client address.
    pub login_throttle: crate::auth::LoginThrottleConfig,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client; empty: the
    /// TCP peer is the client.
    pub trusted_proxies: Vec<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            token_ttl_secs: 20 * 60,
            token_secret: Secret::default(),
            previous_token_secrets: Vec::new(),
            users: Vec::new(),
            max_sessions_per_user: 20,
            login_throttle: crate::auth::LoginThrottleConfig::default(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl AuthConfig {
    /// Problems of the session cap, login throttle and trusted proxies, each naming its key.
    pub fn limit_problems(&self) -> Vec<String> {
        let mut out = self.login_throttle.problems();
        if !(1..=10_000).contains(&self.max_sessions_per_user) {
            out.push(format!(
                "auth.max_sessions_per_user must be 1..=10000, got {}",
                self.max_sessions_per_user
            ));
        }
        if let Err(e) = crate::http::client_addr::TrustedProxies::parse(&self.trusted_proxies) {
            out.push(format!("auth.trusted_proxies: {e}"));
        }
        out
    }
}

/// `[tradingview]`: what `/config` tells TradingView.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TradingViewConfig {
    /// Polling intervals in milliseconds (validated against the spec's maxima).
    pub pulling_interval: PullingIntervalConfig,
}

/// `[tradingview.pulling_interval]`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PullingIntervalConfig {
    pub quotes: u32,
    pub orders: u32,
    pub positions: u32,
    pub account_manager: u32,
    pub balances: u32,
}

impl Default for PullingIntervalConfig {
    fn default() -> Self {
        PullingIntervalConfig {
            quotes: 500,
            orders: 500,
            positions: 1000,
            account_manager: 500,
            balances: 1000,
        }
    }
}

/// `[backend]`: which upstream the bridge trades on, tagged by `kind`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum BackendConfig {
    /// The built-in simulated broker.
    Paper(PaperConfig),
    /// Capital.com (REST v1 and its WebSocket stream).
    Capital(crate::backends::capital::CapitalConfig),
    /// OANDA (v20 REST and streams, v1 for legacy accounts).
    Oanda(crate::backends::oanda::OandaConfig),
    /// Interactive Brokers (the IBKR Web API through the Client Portal gateway).
    Ibkr(crate::backends::ibkr::IbkrConfig),
    /// Interactive Brokers' Third-Party Web API: each bridge user grants the bridge access to their own
    /// IBKR login once (federated login).
    #[serde(rename = "ibkr-third-party")]
    IbkrThirdParty(crate::backends::ibkr_third_party::IbkrThirdPartyConfig),
}

/// Which upstream, environment and URLs a backend configuration uses, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendSummary {
    pub kind: &'static str,
    /// `demo`/`live`, `practice`/`live`; `simulated` for the paper broker.
    pub environment: String,
    /// REST and streaming URLs (empty for the paper broker).
    pub rest_url: String,
    pub stream_url: String,
}

impl BackendConfig {
    /// The backend's kind, environment and upstream URLs (no secrets).
    pub fn summary(&self) -> BackendSummary {
        let lower = |v: &dyn std::fmt::Debug| format!("{v:?}").to_lowercase();
        match self {
            BackendConfig::Paper(_) => BackendSummary {
                kind: "paper",
                environment: "simulated".into(),
                rest_url: String::new(),
                stream_url: String::new(),
            },
            BackendConfig::Capital(c) => {
                let (rest_url, stream_url) = c.urls();
                BackendSummary {
                    kind: "capital",
                    environment: lower(&c.environment),
                    rest_url,
                    stream_url,
                }
            }
            BackendConfig::Oanda(o) => {
                let (rest_url, stream_url) = o.urls();
                BackendSummary {
                    kind: "oanda",
                    environment: lower(&o.environment),
                    rest_url,
                    stream_url,
                }
            }
            BackendConfig::Ibkr(i) => BackendSummary {
                kind: "ibkr",
                environment: lower(&i.transport),
                rest_url: i.base_url(),
                stream_url: String::new(),
            },
            BackendConfig::IbkrThirdParty(t) => BackendSummary {
                kind: "ibkr-third-party",
                environment: if t.realm == "test_realm" {
                    "test".into()
                } else {
                    "live".into()
                },
                rest_url: t.base_url.clone(),
                stream_url: String::new(),
            },
        }
    }
}

impl BackendConfig {
    /// The bridge logins the backend maps to upstream credentials (mapped login mode); none otherwise.
    pub fn mapped_logins(&self) -> Vec<&str> {
        use crate::upstream::sessions::LoginMode;
        match self {
            BackendConfig::Capital(c) if c.login == LoginMode::Mapped => {
                c.users.iter().map(|u| u.login.as_str()).collect()
            }
            BackendConfig::Oanda(o) if o.login == LoginMode::Mapped => {
                o.users.iter().map(|u| u.login.as_str()).collect()
            }
            BackendConfig::Ibkr(i) => i.users.iter().map(|u| u.login.as_str()).collect(),
            _ => Vec::new(),
        }
    }
}

impl Default for BackendConfig {
    fn default() -> Self {
        BackendConfig::Paper(PaperConfig::default())
    }
}

/// A configuration that could not be loaded, with every problem named.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems.join("; ")))
        }
    }

    /// What types alone cannot check, each problem starting with the key it concerns.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let p = &self.tradingview.pulling_interval;
        for (name, value, max) in [
            ("quotes", p.quotes, 1000),
            ("orders", p.orders, 1000),
            ("positions", p.positions, 1500),
            ("account_manager", p.account_manager, 1500),
            ("balances", p.balances, 1500),
        ] {
            if value == 0 || value > max {
                problems.push(format!(
                    "tradingview.pulling_interval.{name} must be 1..={max} ms, got {value}"
                ));
            }
        }
        if !self.server.base_path.is_empty()
            && (!self.server.base_path.starts_with('/') || self.server.base_path.ends_with('/'))
        {
            problems.push(format!(
                "server.base_path must start with '/' and not end with one (or be empty), got {:?}",
                self.server.base_path
            ));
        }
        if self.server.max_body_bytes < 1024 {
            problems.push(format!(
                "server.max_body_bytes must be at least 1024, got {}",
                self.server.max_body_bytes
            ));
        }
        problems.extend(self.server.edge_problems());
        if !(60..=24 * 3600).contains(&self.auth.token_ttl_secs) {
            problems.push(format!(
                "auth.token_ttl_secs must be 60..=86400, got {}",
                self.auth.token_ttl_secs
            ));
        }
        if !self.auth.token_secret.is_empty() && self.auth.token_secret.expose().len() < 32 {
            problems
                .push("auth.token_secret must be at least 32 characters (or empty for a random key)".into());
        }
        for origin in &self.server.cors_origins {
            if !(origin.starts_with("https://") || origin.starts_with("http://")) {
                problems.push(format!(
                    "server.cors_origins: {origin:?} must start with https:// or http://"
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for user in &self.auth.users {
            if user.login.trim().is_empty() {
                problems.push("auth.users: a user has an empty login".into());
            }
            if user.password.is_empty() {
                problems.push(format!("auth.users: user {:?} has an empty password", user.login));
            }
            if !seen.insert(user.login.as_str()) {
                problems.push(format!("auth.users: login {:?} is listed twice", user.login));
            }
        }
        problems.extend(self.auth.limit_problems());
        problems.extend(self.idempotency.problems());
        problems.extend(self.store.problems());
        problems.extend(self.oauth.problems(&|name| std::env::var(name).ok()));
        problems.extend(
            self.metrics
                .problems(&|name| std::env::var(name).ok(), &self.server.base_path),
        );
        if self
            .auth
            .previous_token_secrets
            .iter()
            .any(|k| k.expose().len() < 32)
        {
            problems.push("auth.previous_token_secrets: each key must be at least 32 characters".into());
        }
        problems.extend(self.hub.problems());
        problems.extend(self.datafeed.problems());
        problems.extend(self.telemetry.problems());
        match &self.backend {
            BackendConfig::Paper(paper) => problems.extend(paper.problems()),
            BackendConfig::Capital(capital) => problems.extend(capital.problems()),
            BackendConfig::Oanda(oanda) => problems.extend(oanda.problems()),
            BackendConfig::Ibkr(ibkr) => problems.extend(ibkr.problems()),
            BackendConfig::IbkrThirdParty(tp) => {
                problems.extend(tp.problems());
                // Users grant the bridge access at IBKR through the login page: OAuth must be on, and
                // IBKR must be able to send the browser back.
                use crate::auth::oauth::config::Flow;
                let browser_client = self
                    .oauth
                    .clients
                    .iter()
                    .any(|c| c.flows.iter().any(|f| matches!(f, Flow::Code | Flow::Implicit)));
                if !browser_client {
                    problems.push(
                        "oauth.clients: backend kind ibkr-third-party needs an OAuth client with the code (or implicit) \
                         flow: users grant the bridge access at IBKR from the login page"
                            .into(),
                    );
                }
                if !self.oauth.public_url.starts_with("https://")
                    && !self.oauth.public_url.starts_with("http://")
                {
                    problems.push(
                        "oauth.public_url: backend kind ibkr-third-party needs the bridge's public URL (IBKR sends \
                         the browser back to it plus oauth.federated_callback_path)"
                            .into(),
                    );
                }
                // Every user trades with their own IBKR grant, linked to their bridge login.
                if self.auth.users.is_empty() {
                    problems.push(
                        "auth.users: backend kind ibkr-third-party needs the bridge users ([[auth.users]]) who \
                         grant the bridge access to their IBKR login"
                            .into(),
                    );
                }
            }
        }
        // Mapped users log in with their bridge password, which only `[[auth.users]]` holds.
        for login in self.backend.mapped_logins() {
            if !self.auth.users.iter().any(|u| u.login == login) {
                problems.push(format!(
                    "backend.users: {login:?} has no [[auth.users]] entry holding its bridge password"
                ));
            }
        }
        problems.extend(self.demo_exposure());
        problems
    }

    /// The demo login (`demo`/`demo`) is for trying the bridge on one's own machine: on an address other
    /// machines reach, anybody could trade through it.
    fn demo_exposure(&self) -> Option<String> {
        let listen = self.server.listen;
        let demo = self
            .auth
            .users
            .iter()
            .any(|u| u.login == "demo" && u.password.constant_time_eq("demo"));
        (demo && !listen.ip().is_loopback()).then(|| {
            format!(
                "auth.users holds the demo login (demo/demo), which must not be reachable on {listen}: give your \
                 own users (--config FILE or TVBRIDGE__AUTH__USERS) or listen on a loopback address"
            )
        })
    }

    /// The environment variables the backend reads its secrets from, each missing one named: `serve` would
    /// stop on them, so `check-config` must too.
    pub fn environment_problems(&self, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        let outcome = match &self.backend {
            BackendConfig::Paper(_) => Ok(()),
            BackendConfig::Capital(capital) => capital.resolve(env).map(drop),
            BackendConfig::Oanda(oanda) => oanda.resolve(env).map(drop),
            BackendConfig::Ibkr(ibkr) => ibkr.resolve_with(&|path| std::fs::read(path), env).map(drop),
            BackendConfig::IbkrThirdParty(tp) => tp
                .resolve_with(&|path| std::fs::read(path), env)
                .map(drop)
                .map_err(|e| format!("{e:#}")),
        };
        outcome.err().into_iter().collect()
    }

    /// The effective configuration as TOML with every secret masked (`check-config`).
    pub fn to_masked_toml(&self) -> String {
        toml::to_string_pretty(self)
            .unwrap_or_else(|e| format!("# could not render the configuration: {e}\n"))
    }
}
