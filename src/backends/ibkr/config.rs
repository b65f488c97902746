//! `[backend] kind = "ibkr"`: which transport reaches the IBKR Web API (the Client Portal gateway, OAuth
//! 1.0a or OAuth 2.0), its URL and certificate trust, the bridge users and the accounts each may see, the
//! symbols offered (TradingView symbol -> conid, given or searched at start), the order questions
//! confirmed automatically, and pacing. [`IbkrConfig::resolve`] reads what the files and environment hold.

use crate::upstream::settings::{check_common, check_range, check_url};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;

pub use super::oauth1::OAuth1Config;
pub use super::oauth2::OAuth2Config;

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
    /// Requests per second for the whole bridge (default and most: IBKR's 10 through the gateway, 50 over
    /// OAuth).
    pub requests_per_second: Option<u32>,
    pub request_timeout_ms: u64,
    /// Seconds between keep-alive tickles (IBKR: about every 60 s).
    pub tickle_secs: u64,
    /// Seconds after IBKR refused the bridge's OAuth credentials during which IBKR is not asked again (the
    /// credentials only change with a restart; the hold lets a refusal IBKR takes back be noticed without
    /// sending it a stream of logins it would refuse).
    pub refusal_hold_secs: u64,
    /// Seconds a leg the bridge placed must look orphaned (its position flat or turned) or oversized before
    /// the bridge cancels or cuts it on its own; 0 (the default) never. Off by default because IBKR's
    /// `/portfolio` positions are cached and may lag a fill: a sweep on a stale list could cancel the stop
    /// loss of a position that just opened.
    pub orphan_legs_grace_secs: u64,
    /// Snapshot requests one quote may make while IBKR is still subscribing (its first answer is empty).
    pub snapshot_attempts: u32,
    /// Milliseconds between those requests.
    pub snapshot_retry_ms: u64,
    /// Orders may fill outside regular trading hours.
    pub outside_rth: bool,
    pub data_start: String,
    pub history_max_pages: usize,
    /// `[backend.oauth1]`, required by (and only allowed with) `transport = "oauth1"`.
    pub oauth1: Option<Box<OAuth1Config>>,
    /// `[backend.oauth2]`, required by (and only allowed with) `transport = "oauth2"`.
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
            requests_per_second: None,
            request_timeout_ms: 10_000,
            tickle_secs: 60,
            refusal_hold_secs: 60,
            orphan_legs_grace_secs: 0,
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

/// The loaded credentials of the transport (`Debug` shows no secret).
#[derive(Debug, Clone)]
pub enum ResolvedAuth {
    /// The gateway holds the login: calls carry no credentials.
    Gateway,
    /// OAuth 1.0a: every call signed with a live session token obtained with these keys.
    Oauth1(Arc<super::oauth1::Oauth1Keys>),
    /// OAuth 2.0: every call carries the bearer the two login calls give.
    Oauth2 {
        keys: Arc<super::oauth2::Oauth2Keys>,
        token_url: String,
        sso_session_url: String,
    },
}

/// The configuration with its files read.
#[derive(Debug, Clone)]
pub struct ResolvedConfig {
    pub transport: TransportKind,
    /// The credentials the transport signs with.
    pub auth: ResolvedAuth,
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
    pub refusal_hold: std::time::Duration,
    /// `None`: the bridge never cancels or cuts legs on its own.
    pub orphan_grace: Option<std::time::Duration>,
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

    /// The pace of the whole bridge: the configured one, or the most IBKR allows on the transport.
    pub fn requests_per_second(&self) -> u32 {
        self.requests_per_second.unwrap_or_else(|| self.upstream_limit())
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
            self.requests_per_second(),
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
            "backend.refusal_hold_secs",
            self.refusal_hold_secs,
            1..=3_600,
            "",
            &mut out,
        );
        if self.orphan_legs_grace_secs != 0 {
            check_range(
                "backend.orphan_legs_grace_secs",
                self.orphan_legs_grace_secs,
                5..=3_600,
                " (0 turns the sweep off)",
                &mut out,
            );
        }
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
            TransportKind::Gateway => {}
            TransportKind::Oauth1 => match &self.oauth1 {
                None => out.push("backend.transport = \"oauth1\" needs a [backend.oauth1] table".into()),
                Some(o) => o.problems(out),
            },
            TransportKind::Oauth2 => match &self.oauth2 {
                None => out.push("backend.transport = \"oauth2\" needs a [backend.oauth2] table".into()),
                Some(o) => o.problems(out),
            },
        }
        for (table, present, transport) in [
            ("oauth1", self.oauth1.is_some(), TransportKind::Oauth1),
            ("oauth2", self.oauth2.is_some(), TransportKind::Oauth2),
        ] {
            if present && self.transport != transport {
                out.push(format!(
                    "backend.{table} is only used with backend.transport = \"{table}\""
                ));
            }
        }
    }

    /// Reads the files the configuration names and the secrets from the process environment. `Err` names
    /// the key and the file or variable that is missing or unusable, never a secret.
    pub fn resolve(
        &self,
        read_file: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
    ) -> Result<ResolvedConfig, String> {
        self.resolve_with(read_file, &|name| std::env::var(name).ok())
    }

    /// [`Self::resolve`] with the environment given (`check-config` and tests).
    pub fn resolve_with(
        &self,
        read_file: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ResolvedConfig, String> {
        let missing =
            |table: &str| format!("backend.transport = \"{table}\" needs a [backend.{table}] table");
        let auth = match self.transport {
            TransportKind::Gateway => ResolvedAuth::Gateway,
            TransportKind::Oauth1 => {
                let table = self.oauth1.as_deref().ok_or_else(|| missing("oauth1"))?;
                ResolvedAuth::Oauth1(Arc::new(table.load(env, read_file)?))
            }
            TransportKind::Oauth2 => {
                let table = self.oauth2.as_deref().ok_or_else(|| missing("oauth2"))?;
                ResolvedAuth::Oauth2 {
                    keys: Arc::new(table.load(env, read_file)?),
                    token_url: table.token_url.clone(),
                    sso_session_url: table.sso_session_url.clone(),
                }
            }
        };
        let ca_pem = match &self.ca_file {
            Some(path) => Some(read_file(path).map_err(|e| format!("backend.ca_file {path:?}: {e}"))?),
            None => None,
        };
        Ok(ResolvedConfig {
            transport: self.transport,
            auth,
            base_url: self.base_url(),
            insecure_tls: self.insecure_tls,
            ca_pem,
            users: self.users.clone(),
            symbols: self.symbols.clone(),
            auto_confirm: self.auto_confirm.clone(),
            requests_per_second: self.requests_per_second(),
            request_timeout: std::time::Duration::from_millis(self.request_timeout_ms),
            tickle: std::time::Duration::from_secs(self.tickle_secs),
            refusal_hold: std::time::Duration::from_secs(self.refusal_hold_secs),
            orphan_grace: (self.orphan_legs_grace_secs > 0)
                .then(|| std::time::Duration::from_secs(self.orphan_legs_grace_secs)),
            snapshot_attempts: self.snapshot_attempts,
            snapshot_retry: std::time::Duration::from_millis(self.snapshot_retry_ms),
            outside_rth: self.outside_rth,
            data_start: crate::upstream::settings::data_start(&self.data_start)?,
            history_max_pages: self.history_max_pages,
        })
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
