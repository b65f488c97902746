//! `[backend] kind = "ibkr-third-party"`: the registered OAuth 1.0a consumer (key, signature and
//! encryption keys, DH group, realm), IBKR's URLs, the key that encrypts the users' IBKR tokens in the
//! store, the symbols offered, and pacing. Why a kind of its own rather than an `ibkr` transport: its users
//! come from many IBKR logins (one grant each) and it speaks other resources (FIX-style), so almost none of
//! the `ibkr` table's keys apply.

use serde::{Deserialize, Serialize};

/// IBKR's OAuth host of the Web API.
pub const BASE_URL: &str = "https://api.ibkr.com/v1/api";
/// The page a user grants a consumer access on.
pub const AUTHORIZE_URL: &str = "https://www.interactivebrokers.com/authorize";

/// A symbol offered to TradingView, resolved to a contract by `/secdef` at start when no conid is given:
/// `ticker` + `exchange` for a stock (`STK`), `ticker` + `currency` for FX (`CASH`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolConfig {
    /// The bridge's symbol (`AAPL`, `EURUSD`).
    pub symbol: String,
    /// IBKR's contract id; when absent, `/secdef` finds it at start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conid: Option<i64>,
    /// `STK` (default) or `CASH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument_type: Option<String>,
    /// The ticker `/secdef` is asked for (default: the symbol; for `CASH` the base currency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticker: Option<String>,
    /// The listing exchange of a stock (`NASDAQ`, `NYSE`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<String>,
    /// The quote currency of an FX pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// TradingView's symbol for `/mapping` (default `<symbol>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tradingview: Option<String>,
}

/// The `[backend]` table of `kind = "ibkr-third-party"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IbkrThirdPartyConfig {
    /// The Web API's base URL (no trailing `/`).
    pub base_url: String,
    /// IBKR's authorization page the login page sends users to.
    pub authorize_url: String,
    /// The environment variable holding the consumer key IBKR registered.
    pub consumer_key_env: String,
    /// PEM file of the private signature key.
    pub signature_key_file: String,
    /// PEM file of the private encryption key.
    pub encryption_key_file: String,
    /// The Diffie-Hellman prime, hex (or the `dhparam.pem` file in `dh_param_file`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dh_prime: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dh_param_file: String,
    /// The generator (default: the PEM's, else 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dh_generator: Option<u32>,
    /// `limited_poa` by default; `test_realm` for the TESTCONS consumer.
    pub realm: String,
    /// The environment variable holding the key (32 bytes, base64) that encrypts each user's IBKR access
    /// token and token secret in the store. Losing it only means users grant access again.
    pub link_key_env: String,
    /// The symbols offered to TradingView.
    pub symbols: Vec<SymbolConfig>,
    /// Requests per second for the whole bridge.
    pub requests_per_second: u32,
    pub request_timeout_ms: u64,
    /// Milliseconds between quote snapshots of one symbol while someone watches it.
    pub quote_interval_ms: u64,
    /// First wait after IBKR answered 423 (resource locked) on a resource; doubles up to 30 s while the
    /// resource stays locked, and the hub serves the last snapshot meanwhile.
    pub locked_backoff_ms: u64,
    /// Wait between requests for a resource IBKR answered 202 (accepted, not yet available) for.
    pub accepted_retry_ms: u64,
    /// Requests one read makes while IBKR answers 202 before it gives up.
    pub accepted_attempts: u32,
    /// Orders may fill outside regular trading hours.
    pub outside_rth: bool,
}

impl Default for IbkrThirdPartyConfig {
    fn default() -> Self {
        IbkrThirdPartyConfig {
            base_url: BASE_URL.to_string(),
            authorize_url: AUTHORIZE_URL.to_string(),
            consumer_key_env: String::new(),
            signature_key_file: String::new(),
            encryption_key_file: String::new(),
            dh_prime: String::new(),
            dh_param_file: String::new(),
            dh_generator: None,
            realm: crate::backends::ibkr::oauth1::DEFAULT_REALM.to_string(),
            link_key_env: String::new(),
            symbols: Vec::new(),
            requests_per_second: 10,
            request_timeout_ms: 10_000,
            quote_interval_ms: 1_000,
            locked_backoff_ms: 1_000,
            accepted_retry_ms: 500,
            accepted_attempts: 6,
            outside_rth: false,
        }
    }
}

/// The configuration with its files and secrets read (`Debug` shows no secret).
#[derive(Debug, Clone)]
pub struct ResolvedConfig {
    /// The consumer's key material; its access token fields are empty (each user has their own).
    pub keys: std::sync::Arc<crate::backends::ibkr::oauth1::Oauth1Keys>,
    /// The key encrypting the users' IBKR tokens in the store.
    pub link_key: crate::secret::Secret,
    pub base_url: String,
    pub authorize_url: String,
    pub symbols: Vec<SymbolConfig>,
    pub requests_per_second: u32,
    pub request_timeout: std::time::Duration,
    pub quote_interval: std::time::Duration,
    pub locked_backoff: std::time::Duration,
    pub accepted_retry: std::time::Duration,
    pub accepted_attempts: u32,
    pub outside_rth: bool,
}

impl IbkrThirdPartyConfig {
    /// Every problem of the configuration, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        // SKELETON (helper AUTH): every key checked.
        Vec::new()
    }

    /// Reads the files and environment the table names. Errors name the key, never a value.
    pub fn resolve_with(
        &self,
        _read: crate::backends::ibkr::oauth1::ReadFile<'_>,
        _env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<ResolvedConfig> {
        // SKELETON (helper AUTH).
        anyhow::bail!("backend kind ibkr-third-party: not built yet")
    }
}

impl ResolvedConfig {
    /// The one transport every call goes through (token requests and resources): the base URL, the
    /// pace of the whole bridge, the timeout, IBKR's error bodies.
    pub fn transport(&self) -> anyhow::Result<crate::upstream::transport::Transport> {
        // SKELETON (helper AUTH).
        anyhow::bail!("not built yet")
    }
}
