//! `[backend] kind = "capital"` settings: environment, hosts, login mode, instruments and client limits.
//!
//! Secrets (the API key, mapped users' Capital.com identifiers and passwords) are never written in the file:
//! the file names environment variables, and [`CapitalConfig::resolve`] reads them once at start-up so that a
//! missing variable stops the server with its name instead of failing at the first login.

use crate::secret::Secret;
use crate::upstream::data_session::DataSession;
use serde::{Deserialize, Serialize};

/// Capital.com's documented REST hosts (the API lives under `/api/v1`).
pub const LIVE_BASE_URL: &str = "https://api-capital.backend-capital.com/api/v1";
pub const DEMO_BASE_URL: &str = "https://demo-api-capital.backend-capital.com/api/v1";
/// The streaming host (the same for demo and live).
pub const STREAM_URL: &str = "wss://api-streaming-capital.backend-capital.com/connect";

/// Which Capital.com environment to trade on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Demo,
    Live,
}

/// How TradingView users become Capital.com sessions: pass-through (the Capital.com identifier and API-key
/// password typed into TradingView) or mapped (bridge users mapped to configured credentials).
pub use crate::upstream::sessions::LoginMode;

/// One instrument offered to TradingView.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentConfig {
    /// Capital.com epic (`EURUSD`, `GOLD`, `US100`...).
    pub epic: String,
    /// The bridge's symbol for it; defaults to the epic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// TradingView's own symbol with its exchange prefix for `/mapping`; defaults to `CAPITALCOM:<symbol>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tradingview: Option<String>,
}

/// A bridge user mapped to Capital.com credentials (mapped login mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappedUser {
    /// The bridge login (must also be listed in `[auth] users`, which holds the bridge password).
    pub login: String,
    /// Environment variable holding the Capital.com identifier (login e-mail).
    pub identifier_env: String,
    /// Environment variable holding the Capital.com API-key password.
    pub password_env: String,
}

/// The Capital.com backend's configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CapitalConfig {
    pub environment: Environment,
    /// REST base including `/api/v1`; overrides the environment's host (tests point it at the fake).
    pub base_url: Option<String>,
    /// WebSocket URL; overrides the documented streaming host.
    pub stream_url: Option<String>,
    /// The API key itself. Prefer `api_key_env`; set this only through `TVBRIDGE__BACKEND__API_KEY`.
    pub api_key: Secret,
    /// Environment variable the API key is read from when `api_key` is empty.
    pub api_key_env: String,
    pub login: LoginMode,
    /// Mapped users (login mode `mapped`).
    pub users: Vec<MappedUser>,
    /// Instruments offered to TradingView; empty: those of `market_node`, or a default set.
    pub instruments: Vec<InstrumentConfig>,
    /// A `/marketnavigation` node whose markets are offered (used when `instruments` is empty).
    pub market_node: Option<String>,
    /// Upstream requests per second per Capital.com session (the documented limit is 10).
    pub requests_per_second: u32,
    /// Timeout of one upstream request, in milliseconds.
    pub request_timeout_ms: u64,
    /// A session idle this long is pinged (Capital.com ends sessions after 10 idle minutes).
    pub keepalive_secs: u64,
    /// Sessions no TradingView request used for this long are logged out (the user then logs in again; keep it
    /// above `[auth] token_ttl_secs`).
    pub keepalive_max_idle_secs: u64,
    /// How long market details (dealing rules, snapshot) are reused before being fetched again, in seconds.
    pub market_cache_secs: u64,
    /// The oldest date `/history` asks Capital.com for (`YYYY-MM-DD`, UTC); older ranges are answered
    /// with the bars from here on, or with no bars. Capital.com documents no limit; see README, Known gaps.
    pub data_start: String,
    /// Most `/prices` requests one `/history` answer makes (1000 bars each); a longer range is answered
    /// with its newest bars.
    pub history_max_pages: usize,
    /// Whose Capital.com login serves the data feed: `first-login` (in mapped mode the first mapped user,
    /// otherwise the first TradingView login), or `user:<login>` (a mapped user).
    pub data_session: DataSession,
}

/// The default `backend.data_start` (Capital.com says nothing about how far back `/prices` reaches).
pub const DEFAULT_DATA_START: &str = "2010-01-01";

impl Default for CapitalConfig {
    fn default() -> Self {
        CapitalConfig {
            environment: Environment::Demo,
            base_url: None,
            stream_url: None,
            api_key: Secret::default(),
            api_key_env: "CAPITAL_API_KEY".to_string(),
            login: LoginMode::PassThrough,
            users: Vec::new(),
            instruments: Vec::new(),
            market_node: None,
            requests_per_second: 10,
            request_timeout_ms: 10_000,
            keepalive_secs: 480,
            keepalive_max_idle_secs: 3_600,
            market_cache_secs: 300,
            data_start: DEFAULT_DATA_START.to_string(),
            history_max_pages: 20,
            data_session: DataSession::FirstLogin,
        }
    }
}

/// Epics offered when neither `instruments` nor `market_node` is configured.
const DEFAULT_EPICS: [&str; 6] = ["EURUSD", "GBPUSD", "GOLD", "US100", "BTCUSD", "AAPL"];

/// Credentials of one Capital.com login. `Debug` masks both values.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamCredentials {
    pub identifier: Secret,
    pub password: Secret,
    /// Mapped mode: which bridge user and which environment variables they come from. `None` in
    /// pass-through mode, where they are what the user typed.
    pub source: Option<MappedSource>,
}

impl std::fmt::Debug for UpstreamCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpstreamCredentials(********)")
    }
}

/// Where a mapped user's Capital.com credentials come from: the bridge login and the names of the
/// variables holding them (never their values), so that a refusal can tell the operator what to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedSource {
    pub login: String,
    pub identifier_env: String,
    pub password_env: String,
}

/// The configuration with every environment variable read.
#[derive(Debug, Clone)]
pub struct ResolvedConfig {
    pub environment: Environment,
    pub base_url: String,
    pub stream_url: String,
    pub api_key: Secret,
    pub login: LoginMode,
    /// Bridge login -> Capital.com credentials (mapped mode).
    pub users: Vec<(String, UpstreamCredentials)>,
    pub instruments: Vec<InstrumentConfig>,
    pub market_node: Option<String>,
    pub requests_per_second: u32,
    pub request_timeout: std::time::Duration,
    pub keepalive: std::time::Duration,
    pub keepalive_max_idle: std::time::Duration,
    pub market_cache: std::time::Duration,
    /// Unix time of `data_start`.
    pub data_start: i64,
    pub history_max_pages: usize,
    pub data_session: DataSession,
}

impl CapitalConfig {
    /// Problems that types cannot express, each naming the key.
    pub fn problems(&self) -> Vec<String> {
        use crate::upstream::settings::{
            check_common, check_env_name, check_range, check_sessions, check_url,
        };
        let mut out = Vec::new();
        check_url(
            "backend.base_url",
            self.base_url.as_deref(),
            ["http://", "https://"],
            &mut out,
        );
        check_url(
            "backend.stream_url",
            self.stream_url.as_deref(),
            ["ws://", "wss://"],
            &mut out,
        );
        if self.api_key.is_empty() && self.api_key_env.trim().is_empty() {
            out.push("backend.api_key_env must name the environment variable holding the API key".into());
        }
        let rps = (self.requests_per_second, " (Capital.com allows 10)");
        check_range("backend.requests_per_second", rps.0, 1..=10, rps.1, &mut out);
        let why = " (sessions end after 600 idle seconds)";
        check_range(
            "backend.keepalive_secs",
            self.keepalive_secs,
            1..=590,
            why,
            &mut out,
        );
        if self.keepalive_max_idle_secs < self.keepalive_secs {
            out.push("backend.keepalive_max_idle_secs must be at least backend.keepalive_secs".into());
        }
        check_common(
            self.request_timeout_ms,
            &self.data_start,
            self.history_max_pages,
            &mut out,
        );
        let logins: Vec<&str> = self.users.iter().map(|u| u.login.as_str()).collect();
        check_sessions(
            self.login,
            &logins,
            &self.data_session,
            None,
            "Capital.com",
            &mut out,
        );
        for (i, user) in self.users.iter().enumerate() {
            check_env_name(i, "identifier_env", &user.identifier_env, &mut out);
            check_env_name(i, "password_env", &user.password_env, &mut out);
        }
        let mut symbols = std::collections::HashSet::new();
        for (i, ins) in self.instruments.iter().enumerate() {
            let symbol = ins.symbol.as_deref().unwrap_or(&ins.epic);
            if ins.epic.trim().is_empty() || ins.epic.contains(['/', '?', '#', ' ', ',']) {
                out.push(format!(
                    "backend.instruments[{i}]: epic {:?} is not a Capital.com epic",
                    ins.epic
                ));
            }
            crate::upstream::settings::check_symbol(i, symbol, &mut symbols, &mut out);
        }
        out
    }

    /// The REST base and WebSocket URL in use: the overrides, or the environment's documented hosts.
    pub fn urls(&self) -> (String, String) {
        let base = match self.environment {
            Environment::Demo => DEMO_BASE_URL,
            Environment::Live => LIVE_BASE_URL,
        };
        (
            self.base_url.clone().unwrap_or_else(|| base.to_string()),
            self.stream_url.clone().unwrap_or_else(|| STREAM_URL.to_string()),
        )
    }

    /// Reads the environment variables the configuration names; every missing one is named.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<ResolvedConfig, String> {
        let mut secrets = crate::upstream::settings::EnvSecrets::new(env);
        let api_key = if self.api_key.is_empty() {
            secrets.read(&self.api_key_env)
        } else {
            self.api_key.clone()
        };
        let users = self
            .users
            .iter()
            .map(|u| {
                let credentials = UpstreamCredentials {
                    identifier: secrets.read(&u.identifier_env),
                    password: secrets.read(&u.password_env),
                    source: Some(MappedSource {
                        login: u.login.clone(),
                        identifier_env: u.identifier_env.clone(),
                        password_env: u.password_env.clone(),
                    }),
                };
                (u.login.clone(), credentials)
            })
            .collect();
        secrets.finish("Capital.com")?;
        let instruments = if self.instruments.is_empty() && self.market_node.is_none() {
            DEFAULT_EPICS
                .iter()
                .map(|e| InstrumentConfig {
                    epic: (*e).to_string(),
                    symbol: None,
                    tradingview: None,
                })
                .collect()
        } else {
            self.instruments.clone()
        };
        let (base_url, stream_url) = self.urls();
        Ok(ResolvedConfig {
            environment: self.environment,
            base_url,
            stream_url,
            api_key,
            login: self.login,
            users,
            instruments,
            market_node: self.market_node.clone(),
            requests_per_second: self.requests_per_second,
            request_timeout: std::time::Duration::from_millis(self.request_timeout_ms),
            keepalive: std::time::Duration::from_secs(self.keepalive_secs),
            keepalive_max_idle: std::time::Duration::from_secs(self.keepalive_max_idle_secs),
            market_cache: std::time::Duration::from_secs(self.market_cache_secs),
            data_start: crate::upstream::settings::data_start(&self.data_start)?,
            history_max_pages: self.history_max_pages,
            data_session: self.data_session.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::upstream::settings::test_env as env;

    #[test]
    fn defaults_resolve_to_the_demo_host_and_default_epics() {
        let r = CapitalConfig::default()
            .resolve(&env(&[("CAPITAL_API_KEY", "k")]))
            .unwrap();
        assert_eq!(r.base_url, DEMO_BASE_URL);
        assert_eq!(r.stream_url, STREAM_URL);
        assert_eq!(r.api_key.expose(), "k");
        assert_eq!(r.instruments.len(), DEFAULT_EPICS.len());
        assert!(CapitalConfig::default().problems().is_empty());
    }

    #[test]
    fn every_missing_variable_is_named() {
        let config = CapitalConfig {
            login: LoginMode::Mapped,
            users: vec![MappedUser {
                login: "alice".into(),
                identifier_env: "ALICE_ID".into(),
                password_env: "ALICE_PW".into(),
            }],
            ..CapitalConfig::default()
        };
        let err = config.resolve(&env(&[("ALICE_ID", "a@b.c")])).unwrap_err();
        assert!(err.contains("CAPITAL_API_KEY") && err.contains("ALICE_PW") && !err.contains("ALICE_ID"));
    }

    #[test]
    fn bad_values_are_named() {
        let config = CapitalConfig {
            base_url: Some("ftp://x/".into()),
            requests_per_second: 50,
            keepalive_secs: 900,
            login: LoginMode::Mapped,
            instruments: vec![
                InstrumentConfig {
                    epic: "EURUSD".into(),
                    symbol: Some("EUR/USD".into()),
                    tradingview: None,
                },
                InstrumentConfig {
                    epic: "A B".into(),
                    symbol: None,
                    tradingview: None,
                },
            ],
            ..CapitalConfig::default()
        };
        let all = config.problems().join("\n");
        for needle in [
            "backend.base_url",
            "requests_per_second",
            "keepalive_secs",
            "[[backend.users]]",
            "\"EUR/USD\"",
            "epic \"A B\"",
        ] {
            assert!(all.contains(needle), "{needle} missing from {all}");
        }
    }

    #[test]
    fn the_example_configuration_is_valid() {
        let config = crate::config::Config::from_toml(include_str!("../../../config/capital.example.toml"))
            .expect("config/capital.example.toml is valid");
        let crate::config::BackendConfig::Capital(capital) = config.backend else {
            panic!("the example configures the capital backend");
        };
        let resolved = capital.resolve(&env(&[("CAPITAL_API_KEY", "k")])).unwrap();
        assert_eq!(resolved.instruments.len(), 3);
        assert_eq!(resolved.base_url, DEMO_BASE_URL);
    }

    #[test]
    fn the_data_session_must_be_a_mapped_user_or_the_first_login() {
        let mapped = CapitalConfig {
            login: LoginMode::Mapped,
            users: vec![MappedUser {
                login: "alice".into(),
                identifier_env: "ALICE_ID".into(),
                password_env: "ALICE_PW".into(),
            }],
            data_session: DataSession::User("alice".into()),
            ..CapitalConfig::default()
        };
        assert!(mapped.problems().is_empty(), "{:?}", mapped.problems());
        let bob = CapitalConfig {
            data_session: DataSession::User("bob".into()),
            ..mapped.clone()
        };
        assert_eq!(
            bob.problems(),
            ["backend.data_session: \"bob\" is not a [[backend.users]] login"]
        );
        let configured = CapitalConfig {
            data_session: DataSession::Configured,
            ..CapitalConfig::default()
        };
        assert!(configured.problems()[0].contains("Capital.com has no data credentials of its own"));
        let toml = "[[auth.users]]\nlogin = \"alice\"\npassword = \"pw\"\n\
                    [backend]\nkind = \"capital\"\nlogin = \"mapped\"\ndata_session = \"user:alice\"\n\
                    [[backend.users]]\nlogin = \"alice\"\nidentifier_env = \"A_ID\"\npassword_env = \"A_PW\"\n";
        let config = crate::config::Config::from_toml(toml).unwrap();
        let crate::config::BackendConfig::Capital(capital) = config.backend else {
            panic!("a capital backend");
        };
        assert_eq!(capital.data_session, DataSession::User("alice".into()));
        assert!(crate::config::Config::from_toml(
            "[backend]\nkind = \"capital\"\ndata_session = \"anyone\"\n"
        )
        .is_err());
    }

    #[test]
    fn credentials_never_print() {
        let c = UpstreamCredentials {
            identifier: Secret::new("me@example.com"),
            password: Secret::new("hunter2"),
            source: None,
        };
        let printed = format!("{c:?}");
        assert!(!printed.contains("hunter2") && !printed.contains("me@example.com"));
    }
}
