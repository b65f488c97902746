//! `[oauth]` and `[[oauth.clients]]`: which logins are on, the endpoints' paths, and the OAuth clients
//! (one per TradingView environment) with their redirect URIs, secrets, flows and token lifetimes.

use crate::secret::Secret;
use serde::{Deserialize, Serialize};

/// The flows an OAuth client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// OAuth2 Code flow with refresh tokens (TradingView's recommendation).
    Code,
    /// OAuth2 Implicit flow: the access token in the redirect's fragment, renewed with `prompt=none`.
    Implicit,
    /// ServerOAuth2Bearer: TradingView's servers trade a signed JWT for a data-feed token.
    ServerBearer,
}

/// `[oauth]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuthConfig {
    /// Whether `POST /authorize` (TradingView's PasswordBearer login, and curl) is on.
    pub password_login: bool,
    /// The bridge's public URL as TradingView reaches it, base path included (for example
    /// `https://bridge.example.com/api`). The token URL ServerOAuth2Bearer assertions must name as their
    /// audience is this plus `token_path`; required when a client has the `server_bearer` flow.
    pub public_url: String,
    /// Paths under the base path.
    pub authorize_path: String,
    pub login_path: String,
    pub token_path: String,
    pub logout_path: String,
    /// Where the upstream sends the browser back to after a federated grant (under `public_url`).
    pub federated_callback_path: String,
    /// How long an authorization code can be exchanged (at most 60 s).
    pub code_ttl_secs: u64,
    /// How long the access token a refresh replaced keeps working (TradingView switches asynchronously).
    pub refresh_grace_secs: u64,
    /// How long the browser's login (its cookie) answers `prompt=none` and skips the form.
    pub browser_session_ttl_secs: u64,
    /// How long a login form may stay open before it must be started again from TradingView.
    pub login_form_ttl_secs: u64,
    /// Clock skew allowed on a ServerOAuth2Bearer assertion's `exp`, `nbf` and `iat`.
    pub assertion_leeway_secs: u64,
    pub clients: Vec<ClientConfig>,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            password_login: true,
            public_url: String::new(),
            authorize_path: "/oauth/authorize".into(),
            login_path: "/oauth/login".into(),
            token_path: "/oauth/token".into(),
            logout_path: "/oauth/logout".into(),
            federated_callback_path: "/oauth/federated/callback".into(),
            code_ttl_secs: 30,
            refresh_grace_secs: 120,
            browser_session_ttl_secs: 12 * 3600,
            login_form_ttl_secs: 15 * 60,
            assertion_leeway_secs: 30,
            clients: Vec::new(),
        }
    }
}

/// One `[[oauth.clients]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub client_id: String,
    /// Shown on the login page ("Log in to continue to ...").
    #[serde(default = "default_client_name")]
    pub name: String,
    /// The secret itself; prefer `client_secret_env`.
    #[serde(default)]
    pub client_secret: Secret,
    /// The environment variable holding the secret.
    #[serde(default)]
    pub client_secret_env: String,
    /// Redirect URIs, matched exactly (no prefix, no wildcard, no normalisation).
    pub redirect_uris: Vec<String>,
    /// Where `/oauth/logout` may send the browser afterwards (also matched exactly); the redirect URIs
    /// are allowed too.
    #[serde(default)]
    pub logout_redirect_uris: Vec<String>,
    #[serde(default = "default_flows")]
    pub flows: Vec<Flow>,
    #[serde(default = "default_access_ttl")]
    pub access_token_ttl_secs: u64,
    #[serde(default = "default_refresh_ttl")]
    pub refresh_token_ttl_secs: u64,
    /// ServerOAuth2Bearer: the `grant_type` URN registered with TradingView.
    #[serde(default)]
    pub assertion_grant_type: String,
    /// ServerOAuth2Bearer: the PEM file of the X.509 certificate registered with TradingView.
    #[serde(default)]
    pub certificate_file: String,
    /// ServerOAuth2Bearer: the bridge users assertions may name as `sub`; empty: any bridge user.
    #[serde(default)]
    pub assertion_users: Vec<String>,
}

fn default_client_name() -> String {
    "TradingView".into()
}
fn default_flows() -> Vec<Flow> {
    vec![Flow::Code]
}
fn default_access_ttl() -> u64 {
    20 * 60
}
fn default_refresh_ttl() -> u64 {
    30 * 86_400
}

/// Longest accepted client id, redirect URI, and URN.
pub const MAX_IDENTIFIER: usize = 2048;

impl OAuthConfig {
    /// Whether any client is configured (the OAuth endpoints exist only then).
    pub fn enabled(&self) -> bool {
        !self.clients.is_empty()
    }

    /// The token URL that ServerOAuth2Bearer assertions must name as their audience.
    pub fn token_url(&self) -> String {
        format!("{}{}", self.public_url.trim_end_matches('/'), self.token_path)
    }

    /// Problems that types cannot express, each naming its key. Secrets are looked up in the environment
    /// here, so a missing one fails start-up rather than the first login.
    pub fn problems(&self, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        let mut out = Vec::new();
        let paths = [
            ("authorize_path", &self.authorize_path),
            ("login_path", &self.login_path),
            ("token_path", &self.token_path),
            ("logout_path", &self.logout_path),
            ("federated_callback_path", &self.federated_callback_path),
        ];
        for (i, (key, path)) in paths.iter().enumerate() {
            if !path.starts_with('/') || path.ends_with('/') || path.contains(['?', '#', ' ', '{', '*']) {
                out.push(format!(
                    "oauth.{key} must be a plain path starting with '/', got {path:?}"
                ));
            }
            if paths[..i].iter().any(|(_, other)| other == path) {
                out.push(format!("oauth.{key} is the same path as another OAuth endpoint"));
            }
        }
        let reserved = [
            "/authorize",
            "/logout",
            "/config",
            "/accounts",
            "/streaming",
            "/history",
        ];
        for (key, path) in paths {
            if reserved.contains(&path.as_str()) {
                out.push(format!("oauth.{key} {path:?} is a TradingView API path"));
            }
        }
        if !(1..=60).contains(&self.code_ttl_secs) {
            out.push(format!(
                "oauth.code_ttl_secs must be 1..=60, got {}",
                self.code_ttl_secs
            ));
        }
        if self.refresh_grace_secs > 3600 {
            out.push(format!(
                "oauth.refresh_grace_secs must be at most 3600, got {}",
                self.refresh_grace_secs
            ));
        }
        if !(60..=30 * 86_400).contains(&self.browser_session_ttl_secs) {
            out.push(format!(
                "oauth.browser_session_ttl_secs must be 60..=2592000, got {}",
                self.browser_session_ttl_secs
            ));
        }
        if !(60..=86_400).contains(&self.login_form_ttl_secs) {
            out.push(format!(
                "oauth.login_form_ttl_secs must be 60..=86400, got {}",
                self.login_form_ttl_secs
            ));
        }
        if self.assertion_leeway_secs > 300 {
            out.push(format!(
                "oauth.assertion_leeway_secs must be at most 300, got {}",
                self.assertion_leeway_secs
            ));
        }
        let mut ids = std::collections::HashSet::new();
        for (i, client) in self.clients.iter().enumerate() {
            let at = format!("oauth.clients[{i}]");
            let id = &client.client_id;
            if id.is_empty()
                || id.len() > 256
                || !id.chars().all(|c| c.is_ascii_graphic())
                || id.contains(':')
            {
                out.push(format!(
                    "{at}.client_id must be 1..=256 printable ASCII characters without ':' or spaces, got {id:?}"
                ));
            }
            if !ids.insert(id.as_str()) {
                out.push(format!("{at}.client_id {id:?} is listed twice"));
            }
            if client.flows.is_empty() {
                out.push(format!(
                    "{at}.flows must name at least one of code, implicit, server_bearer"
                ));
            }
            if client.name.trim().is_empty() || client.name.chars().count() > 100 {
                out.push(format!("{at}.name must be 1..=100 characters"));
            }
            match client.secret(env) {
                Ok(secret) if secret.expose().len() < 16 => {
                    out.push(format!("{at}: the client secret must be at least 16 characters"))
                }
                Ok(_) => {}
                Err(e) => out.push(format!("{at}: {e}")),
            }
            let needs_redirect = client.flows.iter().any(|f| *f != Flow::ServerBearer);
            if needs_redirect && client.redirect_uris.is_empty() {
                out.push(format!(
                    "{at}.redirect_uris must list TradingView's redirect URI for the code and implicit flows"
                ));
            }
            for uri in client.redirect_uris.iter().chain(&client.logout_redirect_uris) {
                if let Some(problem) = redirect_problem(uri) {
                    out.push(format!("{at}: redirect URI {uri:?} {problem}"));
                }
            }
            if !(60..=86_400).contains(&client.access_token_ttl_secs) {
                out.push(format!(
                    "{at}.access_token_ttl_secs must be 60..=86400 (TradingView needs at least 60), got {}",
                    client.access_token_ttl_secs
                ));
            }
            if !(300..=365 * 86_400).contains(&client.refresh_token_ttl_secs)
                || client.refresh_token_ttl_secs <= client.access_token_ttl_secs
            {
                out.push(format!(
                    "{at}.refresh_token_ttl_secs must be 300..=31536000 and longer than the access token's, got {}",
                    client.refresh_token_ttl_secs
                ));
            }
            if client.flows.contains(&Flow::ServerBearer) {
                let urn = &client.assertion_grant_type;
                if !urn.starts_with("urn:") || urn.len() > MAX_IDENTIFIER || urn.contains(char::is_whitespace)
                {
                    out.push(format!(
                        "{at}.assertion_grant_type must be the URN registered with TradingView (urn:...), got {urn:?}"
                    ));
                }
                if client.certificate_file.trim().is_empty() {
                    out.push(format!(
                        "{at}.certificate_file must name the PEM certificate registered with TradingView"
                    ));
                }
                if !(self.public_url.starts_with("https://") || self.public_url.starts_with("http://")) {
                    out.push(
                        "oauth.public_url must be the bridge's public URL (the token URL assertions name as aud is it plus oauth.token_path)".into(),
                    );
                }
            }
        }
        out
    }
}

impl ClientConfig {
    /// The client secret: inline, or from `client_secret_env`.
    pub fn secret(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Secret, String> {
        if !self.client_secret.is_empty() {
            return Ok(self.client_secret.clone());
        }
        let name = self.client_secret_env.trim();
        if name.is_empty() {
            return Err(
                "client_secret_env must name the environment variable holding the client secret".into(),
            );
        }
        match env(name) {
            Some(value) if !value.is_empty() => Ok(Secret::new(value)),
            _ => Err(format!(
                "the environment variable {name} (client_secret_env) is not set"
            )),
        }
    }
}

/// Why `uri` cannot be a registered redirect URI (RFC 6749 §3.1.2: absolute, no fragment; RFC 9700:
/// https except for loopback development).
fn redirect_problem(uri: &str) -> Option<&'static str> {
    if uri.len() > MAX_IDENTIFIER {
        return Some("is too long");
    }
    if uri.contains('#') {
        return Some("must not have a fragment");
    }
    if uri.contains(char::is_whitespace) {
        return Some("must not contain spaces");
    }
    if let Some(rest) = uri.strip_prefix("https://") {
        return (rest.is_empty() || rest.starts_with('/')).then_some("has no host");
    }
    if let Some(rest) = uri.strip_prefix("http://") {
        let host = rest.split(['/', '?']).next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
            return None;
        }
        return Some("must use https (plain http only for localhost)");
    }
    Some("must be an absolute https URL")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> ClientConfig {
        ClientConfig {
            client_id: "tv-staging".into(),
            name: "TradingView".into(),
            client_secret: Secret::new("0123456789abcdef"),
            client_secret_env: String::new(),
            redirect_uris: vec!["https://www.tradingview.com/oauth-redirect/".into()],
            logout_redirect_uris: vec![],
            flows: vec![Flow::Code, Flow::Implicit],
            access_token_ttl_secs: 1200,
            refresh_token_ttl_secs: 86_400,
            assertion_grant_type: String::new(),
            certificate_file: String::new(),
            assertion_users: vec![],
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn a_sound_client_has_no_problems_and_the_defaults_are_sound() {
        let config = OAuthConfig {
            clients: vec![client()],
            ..OAuthConfig::default()
        };
        assert_eq!(config.problems(&no_env), Vec::<String>::new());
        assert!(OAuthConfig::default().problems(&no_env).is_empty());
    }

    #[test]
    fn each_bad_setting_is_named() {
        let mut bad = client();
        bad.client_secret = Secret::default();
        bad.client_secret_env = "TV_SECRET".into();
        bad.redirect_uris = vec!["http://evil.example/cb".into(), "https://x/cb#frag".into()];
        bad.access_token_ttl_secs = 30;
        bad.flows.push(Flow::ServerBearer);
        let config = OAuthConfig {
            clients: vec![bad, client()],
            code_ttl_secs: 600,
            token_path: "/authorize".into(),
            ..OAuthConfig::default()
        };
        let text = config.problems(&no_env).join("\n");
        for expected in [
            "TV_SECRET (client_secret_env) is not set",
            "must use https",
            "must not have a fragment",
            "access_token_ttl_secs must be 60..=86400",
            "assertion_grant_type",
            "certificate_file",
            "oauth.public_url",
            "is listed twice",
            "oauth.code_ttl_secs",
            "is a TradingView API path",
        ] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
        assert!(!text.contains("0123456789abcdef"), "secrets never in messages");
    }

    #[test]
    fn the_secret_comes_from_the_environment_when_named() {
        let mut c = client();
        c.client_secret = Secret::default();
        c.client_secret_env = "TV_SECRET".into();
        let env = |name: &str| (name == "TV_SECRET").then(|| "from-the-environment!".to_string());
        assert_eq!(c.secret(&env).unwrap().expose(), "from-the-environment!");
        assert!(redirect_problem("http://localhost:8080/cb").is_none());
        assert!(redirect_problem("http://127.0.0.1/cb").is_none());
        assert!(redirect_problem("https://www.tradingview.com/x").is_none());
        assert!(redirect_problem("javascript:alert(1)").is_some());
    }
}
