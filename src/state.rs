//! `AppState`: what every handler shares (config, the backend, tokens, sessions, idempotency keys, hubs).

use crate::auth::{LoginThrottle, SessionStore, TokenIssuer};
use crate::broker::Broker;
use crate::config::Config;
use crate::http::client_addr::TrustedProxies;
use crate::http::stream_life::StreamRegistry;
use crate::hub::{AccountHubs, QuoteHub};
use crate::idempotency::IdempotencyCache;
use crate::server::Shutdown;
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
    hubs: AccountHubs,
    quotes: QuoteHub,
    login_throttle: LoginThrottle,
    trusted_proxies: TrustedProxies,
    shutdown: Shutdown,
    streams: StreamRegistry,
}

impl AppState {
    /// State for `config` trading through `broker`.
    pub fn new(config: Config, broker: Arc<dyn Broker>) -> Self {
        let tokens = TokenIssuer::new(
            config.auth.token_secret.expose().as_bytes(),
            config.auth.token_ttl_secs,
        );
        let hubs = AccountHubs::new(broker.clone(), config.hub.clone());
        let idle = Duration::from_secs(config.hub.idle_timeout_secs);
        let quotes = QuoteHub::new(broker.clone(), config.hub.stream_queue, idle);
        // Validated with the configuration; a list that still fails to parse trusts no proxy.
        let trusted_proxies = TrustedProxies::parse(&config.auth.trusted_proxies).unwrap_or_default();
        let streams = StreamRegistry::new(
            config.server.max_streams_per_session,
            config.server.max_streams_per_user,
        );
        AppState(Arc::new(Inner {
            tokens,
            sessions: SessionStore::new(config.auth.max_sessions_per_user),
            idempotency: IdempotencyCache::new(config.idempotency.clone()),
            hubs,
            quotes,
            login_throttle: LoginThrottle::new(&config.auth.login_throttle),
            trusted_proxies,
            config,
            broker,
            shutdown: Shutdown::new(),
            streams,
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

    /// Account hubs: snapshots, coalesced refreshes, stream updates.
    pub fn hubs(&self) -> &AccountHubs {
        &self.0.hubs
    }

    /// Market data fan-out.
    pub fn quotes(&self) -> &QuoteHub {
        &self.0.quotes
    }

    /// Failed-login back-off per login name and client address.
    pub fn login_throttle(&self) -> &LoginThrottle {
        &self.0.login_throttle
    }

    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.0.trusted_proxies
    }

    /// The process-wide shutdown signal: streams end with a final line once it is set.
    pub fn shutdown(&self) -> &Shutdown {
        &self.0.shutdown
    }

    /// Open streams per session and user, with their limits and logout signal.
    pub fn streams(&self) -> &StreamRegistry {
        &self.0.streams
    }
}
