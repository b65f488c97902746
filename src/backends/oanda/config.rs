//! `[backend] kind = "oanda"`: environment (practice or live host), API version choice, login mode, the
//! instruments offered to TradingView and client-side limits; [`OandaConfig::resolve`] reads the tokens the
//! configuration names from the environment.

use crate::secret::Secret;
use crate::upstream::data_session::DataSession;
use serde::{Deserialize, Serialize};

pub const PRACTICE_REST_URL: &str = "https://api-fxpractice.oanda.com";
pub const PRACTICE_STREAM_URL: &str = "https://stream-fxpractice.oanda.com";
pub const LIVE_REST_URL: &str = "https://api-fxtrade.oanda.com";
pub const LIVE_STREAM_URL: &str = "https://stream-fxtrade.oanda.com";

/// OANDA's requests-per-second limit (per IP address); the bridge stays below it.
pub const UPSTREAM_REQUESTS_PER_SECOND: u32 = 120;

/// Which of OANDA's hosts to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Practice,
    Live,
}

/// Which REST API serves an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiChoice {
    /// v1 for legacy accounts (all-digit ids), v20 for the others.
    Auto,
    V20,
    V1,
}

/// The API version that serves one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiVersion {
    V20,
    V1,
}

impl ApiChoice {
    /// The version serving `account` (OANDA: legacy v1 accounts are the ones whose id is all digits).
    pub fn version_for(self, account: &str) -> ApiVersion {
        match self {
            ApiChoice::V20 => ApiVersion::V20,
            ApiChoice::V1 => ApiVersion::V1,
            ApiChoice::Auto if !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()) => {
                ApiVersion::V1
            }
            ApiChoice::Auto => ApiVersion::V20,
        }
    }
}

/// How TradingView's `/authorize` login is turned into an OANDA token: pass-through (the account id as
/// login, the personal access token as password) or mapped (bridge users mapped to configured tokens).
pub use crate::upstream::sessions::LoginMode;

/// A bridge user of the mapped mode and the token that trades for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappedUser {
    pub login: String,
    /// The environment variable holding the user's personal access token.
    pub token_env: String,
    /// The accounts the user may trade (all accounts the token reaches when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
}

/// An OANDA instrument offered to TradingView, optionally under another symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentConfig {
    /// OANDA's name, e.g. `EUR_USD`.
    pub instrument: String,
    /// The bridge's symbol (default: the name without `_`, e.g. `EURUSD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// TradingView's symbol for `/mapping` (default `OANDA:<symbol>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tradingview: Option<String>,
}

/// The `[backend]` table of `kind = "oanda"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OandaConfig {
    pub environment: Environment,
    /// Another REST host, e.g. `http://127.0.0.1:8098` (`cargo run --example fake_oanda`); no trailing `/`.
    pub rest_url: Option<String>,
    /// Another stream host; no trailing `/`.
    pub stream_url: Option<String>,
    pub api: ApiChoice,
    pub login: LoginMode,
    pub users: Vec<MappedUser>,
    /// Offered instruments; empty: every instrument of the account.
    pub instruments: Vec<InstrumentConfig>,
    /// Token of the data feed (`/symbol_info`, `/history`, `/streaming`) when no TradingView user is logged
    /// in; empty: the data feed borrows a logged-in user's token.
    pub data_token_env: String,
    /// Account whose pricing stream feeds the data feed (default: the first account of the data token).
    pub data_account: Option<String>,
    /// Requests per second for the whole bridge (OANDA allows 120 per IP address).
    pub requests_per_second: u32,
    pub request_timeout_ms: u64,
    /// A stream that sent nothing (not even a heartbeat, which OANDA sends every 5 s) for this long is
    /// considered dead and reopened.
    pub stream_timeout_secs: u64,
    /// The oldest date `/history` asks OANDA for (`YYYY-MM-DD`, UTC); older ranges are answered with
    /// the bars from here on, or with no bars. OANDA documents no limit; see README, Known gaps.
    pub data_start: String,
    /// Most candle requests one `/history` answer makes (5000 candles each); a longer range is answered
    /// with its newest bars.
    pub history_max_pages: usize,
    /// Whose token serves the data feed: `first-login` (the first TradingView login's, or `data_token_env`
    /// while nobody lends one), `configured` (only `data_token_env`) or `user:<login>` (a mapped user's).
    pub data_session: DataSession,
}

/// The default `backend.data_start`: OANDA's history is commonly available from 2005 (not documented).
pub const DEFAULT_DATA_START: &str = "2005-01-01";

impl Default for OandaConfig {
    fn default() -> Self {
        OandaConfig {
            environment: Environment::Practice,
            rest_url: None,
            stream_url: None,
            api: ApiChoice::Auto,
            login: LoginMode::PassThrough,
            users: Vec::new(),
            instruments: Vec::new(),
            data_token_env: String::new(),
            data_account: None,
            requests_per_second: 100,
            request_timeout_ms: 10_000,
            stream_timeout_secs: 20,
            data_start: DEFAULT_DATA_START.to_string(),
            history_max_pages: 20,
            data_session: DataSession::FirstLogin,
        }
    }
}

/// The configuration with its environment variables read.
#[derive(Debug, Clone)]
pub struct ResolvedConfig {
    pub environment: Environment,
    pub rest_url: String,
    pub stream_url: String,
    pub api: ApiChoice,
    pub login: LoginMode,
    /// Mapped users: login, token, allowed accounts.
    pub users: Vec<(String, Secret, Vec<String>)>,
    /// Mapped users: login and the name of the variable holding their token (never its value), so that a
    /// refused token can be reported to the operator by name.
    pub token_envs: Vec<(String, String)>,
    pub instruments: Vec<InstrumentConfig>,
    pub data_token: Option<Secret>,
    pub data_account: Option<String>,
    pub requests_per_second: u32,
    pub request_timeout: std::time::Duration,
    pub stream_timeout: std::time::Duration,
    /// Unix time of `data_start`.
    pub data_start: i64,
    pub history_max_pages: usize,
    pub data_session: DataSession,
}

/// Whether `name` looks like an OANDA instrument (`EUR_USD`, `SPX500_USD`, `XAU_XAG`).
fn is_instrument_name(name: &str) -> bool {
    let mut parts = name.split('_');
    let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    [a, b]
        .iter()
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
}

impl OandaConfig {
    /// Every problem of the configuration, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        use crate::upstream::settings::{
            check_common, check_env_name, check_range, check_sessions, check_url,
        };
        let mut out = Vec::new();
        check_url(
            "backend.rest_url",
            self.rest_url.as_deref(),
            ["http://", "https://"],
            &mut out,
        );
        check_url(
            "backend.stream_url",
            self.stream_url.as_deref(),
            ["http://", "https://"],
            &mut out,
        );
        let limit = UPSTREAM_REQUESTS_PER_SECOND;
        let why = format!(" (OANDA allows {limit})");
        check_range(
            "backend.requests_per_second",
            self.requests_per_second,
            1..=limit,
            &why,
            &mut out,
        );
        let why = " (OANDA sends a heartbeat every 5 s)";
        check_range(
            "backend.stream_timeout_secs",
            self.stream_timeout_secs,
            6..=300,
            why,
            &mut out,
        );
        check_common(
            self.request_timeout_ms,
            &self.data_start,
            self.history_max_pages,
            &mut out,
        );
        let logins: Vec<&str> = self.users.iter().map(|u| u.login.as_str()).collect();
        let data_token = ("data_token_env", !self.data_token_env.trim().is_empty());
        check_sessions(
            self.login,
            &logins,
            &self.data_session,
            Some(data_token),
            "OANDA",
            &mut out,
        );
        for (i, user) in self.users.iter().enumerate() {
            check_env_name(i, "token_env", &user.token_env, &mut out);
            for account in &user.accounts {
                if account.trim().is_empty() || account.contains(['/', '?', '#', ' ']) {
                    out.push(format!(
                        "backend.users[{i}].accounts: {account:?} is not an OANDA account id"
                    ));
                }
            }
        }
        let mut symbols = std::collections::HashSet::new();
        for (i, ins) in self.instruments.iter().enumerate() {
            if !is_instrument_name(&ins.instrument) {
                out.push(format!(
                    "backend.instruments[{i}]: {:?} is not an OANDA instrument name (like EUR_USD)",
                    ins.instrument
                ));
            }
            let symbol = ins
                .symbol
                .clone()
                .unwrap_or_else(|| ins.instrument.replace('_', ""));
            crate::upstream::settings::check_symbol(i, &symbol, &mut symbols, &mut out);
        }
        out
    }

    /// Reads the environment variables the configuration names; every missing one is named.
    /// The REST and stream hosts in use: the overrides, or the environment's documented hosts.
    pub fn urls(&self) -> (String, String) {
        let (rest, stream) = match self.environment {
            Environment::Practice => (PRACTICE_REST_URL, PRACTICE_STREAM_URL),
            Environment::Live => (LIVE_REST_URL, LIVE_STREAM_URL),
        };
        (
            self.rest_url.clone().unwrap_or_else(|| rest.to_string()),
            self.stream_url.clone().unwrap_or_else(|| stream.to_string()),
        )
    }

    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<ResolvedConfig, String> {
        let mut secrets = crate::upstream::settings::EnvSecrets::new(env);
        let users = self
            .users
            .iter()
            .map(|u| (u.login.clone(), secrets.read(&u.token_env), u.accounts.clone()))
            .collect();
        let data_token = (!self.data_token_env.trim().is_empty()).then(|| secrets.read(&self.data_token_env));
        secrets.finish("OANDA")?;
        let (rest_url, stream_url) = self.urls();
        Ok(ResolvedConfig {
            environment: self.environment,
            rest_url,
            stream_url,
            api: self.api,
            login: self.login,
            users,
            token_envs: self
                .users
                .iter()
                .map(|u| (u.login.clone(), u.token_env.clone()))
                .collect(),
            instruments: self.instruments.clone(),
            data_token,
            data_account: self.data_account.clone(),
            requests_per_second: self.requests_per_second,
            request_timeout: std::time::Duration::from_millis(self.request_timeout_ms),
            stream_timeout: std::time::Duration::from_secs(self.stream_timeout_secs),
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
    fn defaults_resolve_to_the_practice_hosts() {
        let r = OandaConfig::default().resolve(&env(&[])).unwrap();
        assert_eq!(r.rest_url, PRACTICE_REST_URL);
        assert_eq!(r.stream_url, PRACTICE_STREAM_URL);
        assert!(r.data_token.is_none());
        assert!(OandaConfig::default().problems().is_empty());
        let live = OandaConfig {
            environment: Environment::Live,
            ..OandaConfig::default()
        };
        let r = live.resolve(&env(&[])).unwrap();
        assert_eq!(
            (r.rest_url.as_str(), r.stream_url.as_str()),
            (LIVE_REST_URL, LIVE_STREAM_URL)
        );
    }

    #[test]
    fn legacy_accounts_are_the_all_digit_ones() {
        assert_eq!(ApiChoice::Auto.version_for("7654321"), ApiVersion::V1);
        assert_eq!(
            ApiChoice::Auto.version_for("101-004-1234567-001"),
            ApiVersion::V20
        );
        assert_eq!(ApiChoice::Auto.version_for(""), ApiVersion::V20);
        assert_eq!(ApiChoice::V20.version_for("7654321"), ApiVersion::V20);
        assert_eq!(ApiChoice::V1.version_for("101-004-1234567-001"), ApiVersion::V1);
    }

    #[test]
    fn every_missing_variable_is_named() {
        let config = OandaConfig {
            login: LoginMode::Mapped,
            users: vec![
                MappedUser {
                    login: "alice".into(),
                    token_env: "ALICE_TOKEN".into(),
                    accounts: vec![],
                },
                MappedUser {
                    login: "bob".into(),
                    token_env: "BOB_TOKEN".into(),
                    accounts: vec![],
                },
            ],
            data_token_env: "DATA_TOKEN".into(),
            ..OandaConfig::default()
        };
        let err = config.resolve(&env(&[("ALICE_TOKEN", "t")])).unwrap_err();
        assert!(err.contains("BOB_TOKEN") && err.contains("DATA_TOKEN") && !err.contains("ALICE_TOKEN"));
    }

    #[test]
    fn bad_values_are_named() {
        let config = OandaConfig {
            rest_url: Some("ftp://x/".into()),
            requests_per_second: 500,
            stream_timeout_secs: 2,
            login: LoginMode::Mapped,
            instruments: vec![
                InstrumentConfig {
                    instrument: "EURUSD".into(),
                    symbol: None,
                    tradingview: None,
                },
                InstrumentConfig {
                    instrument: "EUR_USD".into(),
                    symbol: Some("EUR/USD".into()),
                    tradingview: None,
                },
            ],
            ..OandaConfig::default()
        };
        let all = config.problems().join("\n");
        for needle in [
            "backend.rest_url",
            "requests_per_second",
            "stream_timeout_secs",
            "[[backend.users]]",
            "\"EURUSD\" is not an OANDA instrument",
            "\"EUR/USD\"",
        ] {
            assert!(all.contains(needle), "{needle} missing from {all}");
        }
    }

    #[test]
    fn the_data_session_needs_what_it_names() {
        let configured = OandaConfig {
            data_session: DataSession::Configured,
            ..OandaConfig::default()
        };
        assert_eq!(
            configured.problems(),
            ["backend.data_session = \"configured\" needs backend.data_token_env"]
        );
        let with_token = OandaConfig {
            data_token_env: "DATA_TOKEN".into(),
            ..configured
        };
        assert!(with_token.problems().is_empty());
        let user = OandaConfig {
            data_session: DataSession::User("alice".into()),
            ..OandaConfig::default()
        };
        assert_eq!(
            user.problems(),
            ["backend.data_session = \"user:alice\" needs backend.login = \"mapped\""]
        );
    }

    #[test]
    fn instrument_names() {
        for ok in ["EUR_USD", "SPX500_USD", "XAU_XAG", "DE30_EUR"] {
            assert!(is_instrument_name(ok), "{ok}");
        }
        for bad in ["EURUSD", "EUR_USD_X", "eur_usd", "_USD", "EUR/USD"] {
            assert!(!is_instrument_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_example_configuration_is_valid() {
        let config = crate::config::Config::from_toml(include_str!("../../../config/oanda.example.toml"))
            .expect("config/oanda.example.toml is valid");
        let crate::config::BackendConfig::Oanda(oanda) = config.backend else {
            panic!("the example configures the oanda backend");
        };
        assert!(oanda.problems().is_empty(), "{:?}", oanda.problems());
        let resolved = oanda.resolve(&env(&[])).unwrap();
        assert_eq!(resolved.rest_url, PRACTICE_REST_URL);
    }
}
