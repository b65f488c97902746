//! `[backend] kind = "ibkr-third-party"`: the registered OAuth 1.0a consumer (key, signature and
//! encryption keys, DH group, realm), IBKR's URLs, the key that encrypts the users' IBKR tokens in the
//! store, the symbols offered, and pacing. Why a kind of its own rather than an `ibkr` transport: its users
//! come from many IBKR logins (one grant each) and it speaks other resources (FIX-style), so almost none of
//! the `ibkr` table's keys apply.

use crate::backends::ibkr::oauth1::{KeyFiles, Oauth1Keys};
use crate::secret::Secret;
use crate::upstream::limiter::SlidingWindow;
use crate::upstream::settings::{check_range, check_symbol_of, check_url, EnvSecrets};
use crate::upstream::transport::{RetryPolicy, Transport};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

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

/// Requests per second IBKR allows an OAuth consumer (its Web API's documented 50 per second for OAuth;
/// the third-party reference gives no other figure).
pub const MAX_REQUESTS_PER_SECOND: u32 = 50;

/// The length of `link_key` (AES-256).
pub const LINK_KEY_BYTES: usize = 32;

/// The error body of every failed call: `{"error": "<text>"}`, as the first-party Web API's.
pub use crate::backends::ibkr::errors::IbkrError as TpError;

/// Whether `name` may name an environment variable (letters, digits and `_`, not starting with a digit).
fn is_env_name(name: &str) -> bool {
    let name = name.trim();
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl IbkrThirdPartyConfig {
    /// The consumer's key files and DH group as `[backend]` names them.
    fn key_files(&self) -> KeyFiles<'_> {
        KeyFiles {
            table: "",
            signature_key_file: &self.signature_key_file,
            encryption_key_file: &self.encryption_key_file,
            dh_prime: &self.dh_prime,
            dh_param_file: &self.dh_param_file,
            dh_generator: self.dh_generator,
        }
    }

    /// Every problem of the configuration, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let schemes = ["https://", "http://"];
        for (key, url) in [
            ("backend.base_url", &self.base_url),
            ("backend.authorize_url", &self.authorize_url),
        ] {
            check_url(key, Some(url.as_str()), schemes, &mut out);
            if url.contains(['?', '#']) && key == "backend.base_url" {
                out.push(format!("{key} must not carry a query or fragment, got {url:?}"));
            }
        }
        for (key, name) in [
            ("consumer_key_env", &self.consumer_key_env),
            ("link_key_env", &self.link_key_env),
        ] {
            if !is_env_name(name) {
                out.push(format!(
                    "backend.{key} must name an environment variable (letters, digits, '_'), got {name:?}"
                ));
            }
        }
        self.key_files().problems(&mut out);
        if self.realm.trim().is_empty() {
            out.push(format!(
                "backend.realm must be set ({} for a registered consumer, test_realm for TESTCONS)",
                crate::backends::ibkr::oauth1::DEFAULT_REALM
            ));
        }
        self.symbol_problems(&mut out);
        let why = format!(" (IBKR allows an OAuth consumer {MAX_REQUESTS_PER_SECOND})");
        check_range(
            "backend.requests_per_second",
            self.requests_per_second,
            1..=MAX_REQUESTS_PER_SECOND,
            &why,
            &mut out,
        );
        check_range(
            "backend.request_timeout_ms",
            self.request_timeout_ms,
            100..=120_000,
            "",
            &mut out,
        );
        check_range(
            "backend.quote_interval_ms",
            self.quote_interval_ms,
            250..=60_000,
            "",
            &mut out,
        );
        check_range(
            "backend.locked_backoff_ms",
            self.locked_backoff_ms,
            100..=30_000,
            " (it doubles up to 30 s while IBKR keeps the resource locked)",
            &mut out,
        );
        check_range(
            "backend.accepted_retry_ms",
            self.accepted_retry_ms,
            100..=10_000,
            "",
            &mut out,
        );
        check_range(
            "backend.accepted_attempts",
            self.accepted_attempts,
            1..=20,
            "",
            &mut out,
        );
        out
    }

    fn symbol_problems(&self, out: &mut Vec<String>) {
        if self.symbols.is_empty() {
            out.push("backend.symbols must list at least one symbol (symbol and conid, or symbol with ticker and exchange / currency)".into());
        }
        let mut seen = HashSet::new();
        for (i, s) in self.symbols.iter().enumerate() {
            let at = format!("backend.symbols[{i}]");
            check_symbol_of("backend.symbols", i, &s.symbol, &mut seen, out);
            if let Some(conid) = s.conid {
                if conid <= 0 {
                    out.push(format!("{at}.conid must be positive, got {conid}"));
                }
            }
            for (key, value) in [
                ("ticker", &s.ticker),
                ("exchange", &s.exchange),
                ("tradingview", &s.tradingview),
            ] {
                if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                    out.push(format!("{at}.{key} must not be empty when given"));
                }
            }
            if let Some(c) = &s.currency {
                if c.len() != 3 || !c.chars().all(|c| c.is_ascii_uppercase()) {
                    out.push(format!(
                        "{at}.currency must be an ISO currency code like \"USD\", got {c:?}"
                    ));
                }
            }
            match s.instrument_type.as_deref().unwrap_or("STK") {
                "STK" => {
                    if s.conid.is_none() && s.exchange.is_none() {
                        out.push(format!("{at}: a stock (STK) needs exchange (its listing exchange, e.g. \"NASDAQ\") or conid"));
                    }
                    if s.currency.is_some() {
                        out.push(format!(
                            "{at}.currency is only used with instrument_type = \"CASH\""
                        ));
                    }
                }
                "CASH" => {
                    if s.conid.is_none() && s.currency.is_none() {
                        out.push(format!("{at}: an FX pair (CASH) needs currency (the quote currency, e.g. \"USD\") or conid"));
                    }
                    if s.exchange.is_some() {
                        out.push(format!(
                            "{at}.exchange is only used with instrument_type = \"STK\""
                        ));
                    }
                }
                other => out.push(format!(
                    "{at}.instrument_type must be \"STK\" or \"CASH\", got {other:?}"
                )),
            }
        }
    }

    /// Reads the files and environment the table names. Errors name the key, never a value.
    pub fn resolve_with(
        &self,
        read: crate::backends::ibkr::oauth1::ReadFile<'_>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<ResolvedConfig> {
        let mut secrets = EnvSecrets::new(env);
        let consumer_key = secrets.read(&self.consumer_key_env);
        let link_key = secrets.read(&self.link_key_env);
        secrets.finish("IBKR third-party").map_err(anyhow::Error::msg)?;
        link_key_bytes(&link_key).map_err(|e| {
            anyhow::anyhow!(
                "backend.link_key_env: the variable {} {e}",
                self.link_key_env.trim()
            )
        })?;
        let files = self.key_files().load(read).map_err(anyhow::Error::msg)?;
        let keys = Oauth1Keys {
            consumer_key: consumer_key.expose().to_string(),
            // Each user's own, from their grant.
            access_token: Secret::default(),
            access_token_secret: Secret::default(),
            signature_key: files.signature_key,
            encryption_key: files.encryption_key,
            dh: files.dh,
            realm: self.realm.trim().to_string(),
        };
        Ok(ResolvedConfig {
            keys: Arc::new(keys),
            link_key,
            base_url: self.base_url.trim_end_matches('/').to_string(),
            authorize_url: self.authorize_url.clone(),
            symbols: self.symbols.clone(),
            requests_per_second: self.requests_per_second,
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            quote_interval: Duration::from_millis(self.quote_interval_ms),
            locked_backoff: Duration::from_millis(self.locked_backoff_ms),
            accepted_retry: Duration::from_millis(self.accepted_retry_ms),
            accepted_attempts: self.accepted_attempts,
            outside_rth: self.outside_rth,
        })
    }
}

/// The 32 bytes of `link_key` (base64, standard or URL-safe alphabet, padded or not). The error says what
/// is wrong with the value, never the value.
pub fn link_key_bytes(link_key: &Secret) -> Result<[u8; LINK_KEY_BYTES], String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    let text = link_key.expose().trim();
    let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .ok_or("is not base64 (make one with: openssl rand -base64 32)")?;
    bytes.as_slice().try_into().map_err(|_| {
        format!(
            "holds {} bytes; it must hold exactly {LINK_KEY_BYTES} (make one with: openssl rand -base64 32)",
            bytes.len()
        )
    })
}

impl ResolvedConfig {
    /// The one transport every call goes through (token requests and resources): the base URL, the
    /// pace of the whole bridge, the timeout, IBKR's error bodies (`{"error": ...}`, as [`TpError`]).
    /// Every request carries the toolkit's `User-Agent` (`tvbridge/<version>`), which IBKR requires.
    pub fn transport(&self) -> anyhow::Result<crate::upstream::transport::Transport> {
        Transport::builder(&self.base_url)
            .backend("ibkr-third-party")
            .request_timeout(Some(self.request_timeout))
            .retry(RetryPolicy {
                // IBKR's 429 may come without Retry-After: a second, as its pacing is per second.
                throttled_wait: Some(Duration::from_secs(1)),
                ..RetryPolicy::default()
            })
            .pace_all(SlidingWindow::per_second(self.requests_per_second))
            .error_body::<TpError>()
            .build()
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
