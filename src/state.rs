//! `AppState`: what every handler shares (config, the backend, tokens, sessions, idempotency keys).

use crate::auth::{SessionStore, TokenIssuer};
use crate::broker::Broker;
use crate::config::Config;
use crate::idempotency::IdempotencyCache;
use std::sync::Arc;
use std::time::Duration;

/// Shared application state, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Config,
    broker: Arc<dyn Broker>,
    tokens: TokenIssuer,
    sessions: SessionStore,
    idempotency: IdempotencyCache,
}

impl AppState {
    /// State for `config` trading through `broker`.
    pub fn new(config: Config, broker: Arc<dyn Broker>) -> Self {
        let tokens = TokenIssuer::new(
            config.auth.token_secret.expose().as_bytes(),
            config.auth.token_ttl_secs,
        );
        AppState(Arc::new(Inner {
            config,
            broker,
            tokens,
            sessions: SessionStore::default(),
            // TradingView resends a request within seconds; a day covers any client retry policy.
            idempotency: IdempotencyCache::new(Duration::from_secs(24 * 3600)),
        }))
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub fn broker(&self) -> &dyn Broker {
        self.0.broker.as_ref()
    }

    pub fn tokens(&self) -> &TokenIssuer {
        &self.0.tokens
    }

    pub fn sessions(&self) -> &SessionStore {
        &self.0.sessions
    }

    pub fn idempotency(&self) -> &IdempotencyCache {
        &self.0.idempotency
    }
}
