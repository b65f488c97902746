//! `[metrics]`: whether the bridge records metrics, where Prometheus scrapes them (a separate listener,
//! and/or a path on the main listener behind a bearer token read from the environment only).

use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Shortest accepted scrape token.
pub const MIN_TOKEN_CHARS: usize = 16;

/// `[metrics]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Record metrics at all (off: no recorder, no page, no listener).
    pub enabled: bool,
    /// A separate listener serving only `GET <path>` without a token (e.g. `127.0.0.1:9464`); empty: none.
    pub listen: String,
    /// The page's path, on the separate listener and on the main one.
    pub path: String,
    /// The environment variable holding the bearer token that opens `path` on the main listener; empty:
    /// the path is not served there (it answers like any unknown endpoint).
    pub token_env: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            listen: String::new(),
            path: "/metrics".into(),
            token_env: String::new(),
        }
    }
}

impl MetricsConfig {
    /// The separate listener's address, if one is configured (and valid).
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        let listen = self.listen.trim();
        (!listen.is_empty()).then(|| listen.parse().ok()).flatten()
    }

    /// The main listener's token, when `token_env` names a variable that is set.
    pub fn token(&self, env: &dyn Fn(&str) -> Option<String>) -> Option<Secret> {
        let name = self.token_env.trim();
        if name.is_empty() {
            return None;
        }
        env(name).filter(|t| !t.is_empty()).map(Secret::new)
    }

    /// Problems, each naming its key; the token's value is never quoted.
    pub fn problems(&self, env: &dyn Fn(&str) -> Option<String>, base_path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let listen = self.listen.trim();
        if !listen.is_empty() && listen.parse::<SocketAddr>().is_err() {
            out.push(format!(
                "metrics.listen must be an address and port such as 127.0.0.1:9464 (or empty), got {listen:?}"
            ));
        }
        let path = &self.path;
        if !path.starts_with('/')
            || path.len() < 2
            || path.ends_with('/')
            || path.contains(['?', '#', '{', '}', '*'])
        {
            out.push(format!(
                "metrics.path must start with '/', not end with one and hold no '?', '#', '{{', '}}' or '*', got {path:?}"
            ));
        } else if ["/healthz", "/readyz"].contains(&path.as_str())
            || (!base_path.is_empty() && (path == base_path || path.starts_with(&format!("{base_path}/"))))
        {
            out.push(format!(
                "metrics.path {path:?} collides with the API (server.base_path {base_path:?}) or /healthz, /readyz"
            ));
        }
        let name = self.token_env.trim();
        if !name.is_empty() {
            match env(name) {
                None => out.push(format!(
                    "metrics.token_env: the environment variable {name} is not set"
                )),
                Some(t) if t.chars().count() < MIN_TOKEN_CHARS => out.push(format!(
                    "metrics.token_env: the token in {name} must be at least {MIN_TOKEN_CHARS} characters"
                )),
                Some(_) => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "GOOD" => Some("0123456789abcdef-scrape".into()),
            "SHORT" => Some("short-secret".into()),
            _ => None,
        }
    }

    #[test]
    fn defaults_are_valid_and_serve_nothing_extra() {
        let c = MetricsConfig::default();
        assert!(c.problems(&env, "/api").is_empty());
        assert!(c.listen_addr().is_none() && c.token(&env).is_none());
    }

    #[test]
    fn every_problem_names_its_key_and_never_the_token() {
        let c = MetricsConfig {
            listen: "nowhere".into(),
            path: "/api/metrics".into(),
            token_env: "SHORT".into(),
            ..MetricsConfig::default()
        };
        let p = c.problems(&env, "/api").join("; ");
        assert!(
            p.contains("metrics.listen") && p.contains("metrics.path") && p.contains("metrics.token_env"),
            "{p}"
        );
        assert!(!p.contains("short-secret"));
        let missing = MetricsConfig {
            token_env: "MISSING".into(),
            ..MetricsConfig::default()
        };
        assert!(missing.problems(&env, "/api")[0].contains("MISSING is not set"));
        let good = MetricsConfig {
            listen: "127.0.0.1:9464".into(),
            token_env: "GOOD".into(),
            ..MetricsConfig::default()
        };
        assert!(good.problems(&env, "/api").is_empty());
        assert_eq!(good.token(&env).unwrap().expose(), "0123456789abcdef-scrape");
        assert_eq!(format!("{good:?}").matches("0123456789abcdef").count(), 0);
    }
}
