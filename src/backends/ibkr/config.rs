//! `[backend] kind = "ibkr"`: which transport reaches the IBKR Web API (the Client Portal gateway, OAuth
//! 1.0a or OAuth 2.0), its URL and certificate trust, the bridge users and the accounts each may see, the
//! symbols offered (TradingView symbol -> conid, given or searched at start), the order questions
//! confirmed automatically, and pacing. [`IbkrConfig::resolve`] reads what the files and environment hold.

use crate::upstream::settings::{check_common, check_range, check_url};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The gateway's default address (it listens on the user's own machine).
pub const GATEWAY_URL: &str = "https://localhost:5000/v1/api";
/// IBKR's OAuth host.
pub const OAUTH_URL: &str = "https://api.ibkr.com/v1/api";
/// Requests per second IBKR allows through the gateway.
pub const GATEWAY_REQUESTS_PER_SECOND: u32 = 10;
/// Requests per second IBKR allows over OAuth.
pub const OAUTH_REQUESTS_PER_SECOND: u32 = 50;
/// The default `backend.data_start` (IBKR documents no limit; see README, Known gaps).
pub const DEFAULT_DATA_START: &str = "2000-01-01";

/// `backend.transport`: how the bridge reaches the IBKR Web API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// The Client Portal gateway the user runs and logs in to.
    Gateway,
    /// First-party OAuth 1.0a on `api.ibkr.com`.
    Oauth1,
    /// OAuth 2.0 (server to server) on `api.ibkr.com`.
    Oauth2,
}

/// A bridge user and the IBKR accounts they may see (all the session's accounts when empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappedUser {
    pub login: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
}

/// A symbol offered to TradingView: a conid, or a search resolved at start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolConfig {
    /// The bridge's symbol (`AAPL`, `EURUSD`).
    pub symbol: String,
    /// IBKR's contract id; when absent, `search` finds it at start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conid: Option<i64>,
    /// What `/iserver/secdef/search` is asked for (default: the symbol).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// The security type the search must find (`STK`, `CASH`, `FUT`, `CFD`...; default `STK`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sec_type: Option<String>,
    /// TradingView's symbol for `/mapping` (default `<symbol>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tradingview: Option<String>,
}

/// `[backend.oauth1]`: first-party OAuth 1.0a (wired by the OAuth module).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuth1Config {
    pub consumer_key_env: String,
    pub access_token_env: String,
    pub access_token_secret_env: String,
    /// PEM file of the private signature key.
    pub signature_key_file: String,
    /// PEM file of the private encryption key.
    pub encryption_key_file: String,
    /// The Diffie-Hellman prime, hex (or a PEM `dhparam` file in `dh_param_file`).
    pub dh_prime: String,
    pub dh_param_file: String,
    pub dh_generator: u32,
    /// `limited_poa`, or `test_realm` for the TESTCONS consumer.
    pub realm: String,
}

/// `[backend.oauth2]`: IBKR OAuth 2.0 (wired by the OAuth module).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuth2Config {
    pub client_id_env: String,
    pub key_id: String,
    /// PEM file of the RSA private key the client assertions are signed with.
    pub private_key_file: String,
    /// The IBKR username the SSO session is opened for.
    pub username: String,
    pub token_url: String,
    pub sso_session_url: String,
}

/// The `[backend]` table of `kind = "ibkr"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IbkrConfig {
    pub transport: TransportKind,
    /// Another base URL (default: the gateway's, or `api.ibkr.com` for OAuth); no trailing `/`.
    pub base_url: Option<String>,
    /// Accept any server certificate: the gateway's self-signed one. Only ever by explicit opt-in.
    pub insecure_tls: bool,
    /// A PEM file of certificates to trust in addition to the public roots (the gateway's own).
    pub ca_file: Option<String>,
    /// Bridge users and their accounts; empty: every bridge user sees every account of the session.
    pub users: Vec<MappedUser>,
    /// The symbols offered to TradingView.
    pub symbols: Vec<SymbolConfig>,
    /// Order reply message ids (`o163`...) confirmed without asking the user; any other question refuses
    /// the order with its text.
    pub auto_confirm: Vec<String>,
    /// Requests per second for the whole bridge (IBKR: 10 through the gateway, 50 over OAuth).
    pub requests_per_second: u32,
    pub request_timeout_ms: u64,
    /// Seconds between keep-alive tickles (IBKR: about every 60 s).
    pub tickle_secs: u64,
    /// Snapshot requests one quote may make while IBKR is still subscribing (its first answer is empty).
    pub snapshot_attempts: u32,
    /// Milliseconds between those requests.
    pub snapshot_retry_ms: u64,
    /// Orders may fill outside regular trading hours.
    pub outside_rth: bool,
    pub data_start: String,
    pub history_max_pages: usize,
    pub oauth1: Option<Box<OAuth1Config>>,
    pub oauth2: Option<Box<OAuth2Config>>,
}

impl Default for IbkrConfig {
    fn default() -> Self {
        IbkrConfig {
            transport: TransportKind::Gateway,
            base_url: None,
            insecure_tls: false,
            ca_file: None,
            users: Vec::new(),
            symbols: Vec::new(),
            auto_confirm: Vec::new(),
            requests_per_second: GATEWAY_REQUESTS_PER_SECOND,
            request_timeout_ms: 10_000,
            tickle_secs: 60,
            snapshot_attempts: 5,
            snapshot_retry_ms: 500,
            outside_rth: false,
            data_start: DEFAULT_DATA_START.to_string(),
            history_max_pages: 20,
            oauth1: None,
            oauth2: None,
        }
    }
}

/// The configuration with its files read.
#[derive(Debug, Clone)]
pub struct ResolvedConfig {
    pub transport: TransportKind,
    pub base_url: String,
    pub insecure_tls: bool,
    /// The PEM text of `ca_file`.
    pub ca_pem: Option<Vec<u8>>,
    pub users: Vec<MappedUser>,
    pub symbols: Vec<SymbolConfig>,
    pub auto_confirm: Vec<String>,
    pub requests_per_second: u32,
    pub request_timeout: std::time::Duration,
    pub tickle: std::time::Duration,
    pub snapshot_attempts: u32,
    pub snapshot_retry: std::time::Duration,
    pub outside_rth: bool,
    pub data_start: i64,
    pub history_max_pages: usize,
}

/// Whether `id` looks like an order reply message id (`o163`, `p12`...).
fn is_message_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 16 && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Whether `id` may be an IBKR account id (letters and digits).
fn is_account_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.chars().all(|c| c.is_ascii_alphanumeric())
}

impl IbkrConfig {
    /// The base URL: the configured one, or the transport's default.
    pub fn base_url(&self) -> String {
        self.base_url.clone().unwrap_or_else(|| {
            match self.transport {
                TransportKind::Gateway => GATEWAY_URL,
                TransportKind::Oauth1 | TransportKind::Oauth2 => OAUTH_URL,
            }
            .to_string()
        })
    }

    /// The most requests per second IBKR allows on this transport.
    pub fn upstream_limit(&self) -> u32 {
        match self.transport {
            TransportKind::Gateway => GATEWAY_REQUESTS_PER_SECOND,
            TransportKind::Oauth1 | TransportKind::Oauth2 => OAUTH_REQUESTS_PER_SECOND,
        }
    }

    /// Every problem of the configuration, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        check_url(
            "backend.base_url",
            self.base_url.as_deref(),
            ["https://", "http://"],
            &mut out,
        );
        if self.insecure_tls && self.ca_file.is_some() {
            out.push("backend.insecure_tls and backend.ca_file exclude each other: give the gateway's certificate as ca_file, or accept any with insecure_tls = true".into());
        }
        if let Some(f) = &self.ca_file {
            if f.trim().is_empty() {
                out.push("backend.ca_file must name a PEM file".into());
            }
        }
        let limit = self.upstream_limit();
        let why = format!(" (IBKR allows {limit} on this transport)");
        check_range(
            "backend.requests_per_second",
            self.requests_per_second,
            1..=limit,
            &why,
            &mut out,
        );
        check_range(
            "backend.tickle_secs",
            self.tickle_secs,
            10..=300,
            " (IBKR wants one about every 60 s)",
            &mut out,
        );
        check_range(
            "backend.snapshot_attempts",
            self.snapshot_attempts,
            1..=20,
            "",
            &mut out,
        );
        check_range(
            "backend.snapshot_retry_ms",
            self.snapshot_retry_ms,
            100..=5_000,
            "",
            &mut out,
        );
        check_common(
            self.request_timeout_ms,
            &self.data_start,
            self.history_max_pages,
            &mut out,
        );
        let mut logins = HashSet::new();
        for (i, user) in self.users.iter().enumerate() {
            if user.login.trim().is_empty() {
                out.push(format!("backend.users[{i}].login must not be empty"));
            }
            if !logins.insert(user.login.as_str()) {
                out.push(format!(
                    "backend.users[{i}]: login {:?} is listed twice",
                    user.login
                ));
            }
            for account in &user.accounts {
                if !is_account_id(account) {
                    out.push(format!(
                        "backend.users[{i}].accounts: {account:?} is not an IBKR account id"
                    ));
                }
            }
        }
        self.symbol_problems(&mut out);
        for id in &self.auto_confirm {
            if !is_message_id(id) {
                out.push(format!(
                    "backend.auto_confirm: {id:?} is not an order reply message id (like \"o163\")"
                ));
            }
        }
        self.oauth_problems(&mut out);
        out
    }

    fn symbol_problems(&self, out: &mut Vec<String>) {
        if self.symbols.is_empty() {
            out.push(
                "backend.symbols must list at least one symbol (symbol and conid, or symbol to search)"
                    .into(),
            );
        }
        let mut seen = HashSet::new();
        for (i, s) in self.symbols.iter().enumerate() {
            crate::upstream::settings::check_symbol(i, &s.symbol, &mut seen, out);
            if let Some(conid) = s.conid {
                if conid <= 0 {
                    out.push(format!(
                        "backend.symbols[{i}].conid must be positive, got {conid}"
                    ));
                }
            }
            if let Some(t) = &s.sec_type {
                if ![
                    "STK", "CASH", "FUT", "CFD", "IND", "CRYPTO", "CMDTY", "BOND", "FUND",
                ]
                .contains(&t.as_str())
                {
                    out.push(format!("backend.symbols[{i}].sec_type: {t:?} is not an IBKR security type (STK, CASH, FUT, CFD...)"));
                }
            }
        }
    }

    fn oauth_problems(&self, out: &mut Vec<String>) {
        match self.transport {
            TransportKind::Gateway => {
                if self.oauth1.is_some() || self.oauth2.is_some() {
                    out.push("backend.oauth1 / backend.oauth2 are only used with backend.transport = \"oauth1\" / \"oauth2\"".into());
                }
            }
            TransportKind::Oauth1 => match &self.oauth1 {
                None => out.push("backend.transport = \"oauth1\" needs a [backend.oauth1] table".into()),
                Some(o) => {
                    for (key, value) in [
                        ("consumer_key_env", &o.consumer_key_env),
                        ("access_token_env", &o.access_token_env),
                        ("access_token_secret_env", &o.access_token_secret_env),
                        ("signature_key_file", &o.signature_key_file),
                        ("encryption_key_file", &o.encryption_key_file),
                        ("realm", &o.realm),
                    ] {
                        if value.trim().is_empty() {
                            out.push(format!("backend.oauth1.{key} must be set"));
                        }
                    }
                    if o.dh_prime.trim().is_empty() == o.dh_param_file.trim().is_empty() {
                        out.push("backend.oauth1: give exactly one of dh_prime and dh_param_file".into());
                    }
                }
            },
            TransportKind::Oauth2 => match &self.oauth2 {
                None => out.push("backend.transport = \"oauth2\" needs a [backend.oauth2] table".into()),
                Some(o) => {
                    for (key, value) in [
                        ("client_id_env", &o.client_id_env),
                        ("key_id", &o.key_id),
                        ("private_key_file", &o.private_key_file),
                        ("username", &o.username),
                    ] {
                        if value.trim().is_empty() {
                            out.push(format!("backend.oauth2.{key} must be set"));
                        }
                    }
                }
            },
        }
    }

    /// Reads the files the configuration names. `Err` names what is missing or not wired yet.
    pub fn resolve(
        &self,
        read_file: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
    ) -> Result<ResolvedConfig, String> {
        if self.transport != TransportKind::Gateway {
            // The OAuth signers are built in their own modules; until they are wired here the bridge refuses
            // to start rather than send unsigned requests to api.ibkr.com.
            return Err(format!(
                "backend.transport = \"{}\" is not wired to the IBKR backend in this build yet; use \"gateway\"",
                match self.transport {
                    TransportKind::Oauth1 => "oauth1",
                    _ => "oauth2",
                }
            ));
        }
        let ca_pem = match &self.ca_file {
            Some(path) => Some(read_file(path).map_err(|e| format!("backend.ca_file {path:?}: {e}"))?),
            None => None,
        };
        Ok(ResolvedConfig {
            transport: self.transport,
            base_url: self.base_url(),
            insecure_tls: self.insecure_tls,
            ca_pem,
            users: self.users.clone(),
            symbols: self.symbols.clone(),
            auto_confirm: self.auto_confirm.clone(),
            requests_per_second: self.requests_per_second,
            request_timeout: std::time::Duration::from_millis(self.request_timeout_ms),
            tickle: std::time::Duration::from_secs(self.tickle_secs),
            snapshot_attempts: self.snapshot_attempts,
            snapshot_retry: std::time::Duration::from_millis(self.snapshot_retry_ms),
            outside_rth: self.outside_rth,
            data_start: crate::upstream::settings::data_start(&self.data_start)?,
            history_max_pages: self.history_max_pages,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> IbkrConfig {
        IbkrConfig {
            symbols: vec![SymbolConfig {
                symbol: "AAPL".into(),
                conid: Some(265598),
                search: None,
                sec_type: None,
                tradingview: Some("NASDAQ:AAPL".into()),
            }],
            ..IbkrConfig::default()
        }
    }

    #[test]
    fn the_example_file_is_valid() {
        let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/config/ibkr.example.toml"));
        let config: crate::config::Config = toml::from_str(text).expect("example parses");
        let crate::config::BackendConfig::Ibkr(ibkr) = &config.backend else {
            panic!("the example is not an ibkr backend")
        };
        assert_eq!(ibkr.problems(), Vec::<String>::new());
        assert_eq!(ibkr.base_url(), GATEWAY_URL);
    }

    #[test]
    fn problems_name_their_keys() {
        assert_eq!(valid().problems(), Vec::<String>::new());
        let bad = IbkrConfig {
            requests_per_second: 11,
            insecure_tls: true,
            ca_file: Some("gw.pem".into()),
            auto_confirm: vec!["o163".into(), "no way".into()],
            users: vec![
                MappedUser {
                    login: "a".into(),
                    accounts: vec!["DU1/x".into()],
                },
                MappedUser {
                    login: "a".into(),
                    accounts: vec![],
                },
            ],
            ..valid()
        };
        let p = bad.problems().join("\n");
        for key in [
            "backend.requests_per_second must be 1..=10",
            "backend.insecure_tls and backend.ca_file",
            "backend.auto_confirm: \"no way\"",
            "backend.users[0].accounts",
            "backend.users[1]: login \"a\" is listed twice",
        ] {
            assert!(p.contains(key), "{key} missing from:\n{p}");
        }
        // OAuth allows 50 per second, and needs its table.
        let oauth = IbkrConfig {
            transport: TransportKind::Oauth1,
            requests_per_second: 50,
            ..valid()
        };
        let p = oauth.problems().join("\n");
        assert!(
            !p.contains("requests_per_second") && p.contains("needs a [backend.oauth1] table"),
            "{p}"
        );
        let none = IbkrConfig {
            symbols: vec![],
            ..IbkrConfig::default()
        };
        assert!(none.problems().join("\n").contains("backend.symbols must list"));
    }

    #[test]
    fn oauth_transports_are_refused_at_start_until_wired() {
        let c = IbkrConfig {
            transport: TransportKind::Oauth2,
            ..valid()
        };
        let e = c.resolve(&|_| Ok(Vec::new())).unwrap_err();
        assert!(e.contains("\"oauth2\" is not wired"), "{e}");
        let r = valid().resolve(&|_| unreachable!("no file to read")).unwrap();
        assert_eq!(r.base_url, GATEWAY_URL);
        let with_ca = IbkrConfig {
            ca_file: Some("missing.pem".into()),
            ..valid()
        };
        let e = with_ca
            .resolve(&|_| Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")))
            .unwrap_err();
        assert!(e.contains("backend.ca_file \"missing.pem\""), "{e}");
    }
}
