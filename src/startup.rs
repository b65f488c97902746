//! The start-up announcement: where the API listens, which backend, environment and upstream URLs are in use,
//! and (on the built-in demo only) how to log in. In JSON log mode every line is JSON, so a log collector never
//! meets a stray text line, and the demo password is left out of it.

use crate::config::{BackendSummary, Config, LogFormat};
use std::net::SocketAddr;

/// What the announcement says about the configuration, taken before the configuration moves into the state.
pub struct Summary {
    backend: BackendSummary,
    log_format: LogFormat,
}

impl Summary {
    pub fn of(config: &Config) -> Summary {
        Summary {
            backend: config.backend.summary(),
            log_format: config.server.log_format,
        }
    }
}

/// Logs the OAuth endpoints to give TradingView, when clients are registered (their ids, never secrets).
pub fn announce_oauth(oauth: &crate::auth::oauth::config::OAuthConfig, addr: SocketAddr, base: &str) {
    if !oauth.enabled() {
        return;
    }
    let public = if oauth.public_url.is_empty() {
        format!("http://{addr}{base}")
    } else {
        oauth.public_url.trim_end_matches('/').to_owned()
    };
    let clients: Vec<&str> = oauth.clients.iter().map(|c| c.client_id.as_str()).collect();
    tracing::info!(
        authorize = %format!("{public}{}", oauth.authorize_path),
        token = %format!("{public}{}", oauth.token_path),
        logout = %format!("{public}{}", oauth.logout_path),
        clients = ?clients,
        password_login = oauth.password_login,
        "OAuth 2.0 endpoints"
    );
}

/// Logs (and, for a person at a terminal, prints) that the server is up.
pub fn announce(summary: &Summary, addr: SocketAddr, base: &str, demo_login: bool) {
    let b = &summary.backend;
    let api = format!("http://{addr}{base}");
    let version = env!("CARGO_PKG_VERSION");
    if b.kind == "paper" {
        tracing::info!(%addr, %api, version, backend = b.kind, "tvbridge listening");
    } else {
        tracing::info!(%addr, %api, version, backend = b.kind, environment = %b.environment,
            rest_url = %b.rest_url, stream_url = %b.stream_url, "tvbridge listening");
    }
    if summary.log_format == LogFormat::Json {
        return;
    }
    println!("tvbridge is up: API at http://{addr}{base}");
    match b.kind {
        "paper" => println!("backend: paper (simulated prices, no upstream)"),
        kind => println!(
            "backend: {kind} ({} environment), REST {}, stream {}",
            b.environment, b.rest_url, b.stream_url
        ),
    }
    if demo_login {
        println!("paper trading user 'demo', password 'demo'; try:");
        println!("  curl -s -X POST http://{addr}{base}/authorize -d 'login=demo&password=demo&locale=en'");
    }
}
