//! `AppState`: what every handler shares (config, the backend, tokens, sessions, idempotency keys, hubs).

use crate::auth::{LoginThrottle, SessionStore, TokenIssuer};
use crate::broker::Broker;
use crate::config::Config;
use crate::http::client_addr::TrustedProxies;
use crate::http::stream_life::StreamRegistry;
use crate::hub::{AccountHubs, QuoteHub};
use crate::idempotency::IdempotencyCache;
use crate::server::Shutdown;
use crate::store::{MemoryStore, Store};
use std::sync::Arc;
use std::time::Duration;

/// A weak [`AppState`].
#[derive(Clone)]
pub struct WeakState(std::sync::Weak<Inner>);

impl WeakState {
    pub fn upgrade(&self) -> Option<AppState> {
        self.0.upgrade().map(AppState)
    }
}

/// Shared application state, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Config,
    store: Arc<dyn Store>,
    /// This process's id among the replicas sharing the store (owner of its `requestId` claims).
    instance: String,
    broker: Arc<dyn Broker>,
    tokens: TokenIssuer,
    sessions: SessionStore,
    idempotency: IdempotencyCache,
    hubs: AccountHubs,
    quotes: QuoteHub,
    login_throttle: LoginThrottle,
    oauth: crate::auth::oauth::Clients,
    forms: crate::auth::oauth::forms::FormSealer,
    trusted_proxies: TrustedProxies,
    shutdown: Shutdown,
    streams: StreamRegistry,
}

impl AppState {
    /// State for `config` trading through `broker`, kept in memory only (tests, and `kind = "memory"`
    /// through [`AppState::start`]).
    pub fn new(config: Config, broker: Arc<dyn Broker>) -> Self {
        AppState::with_clock(config, broker, crate::auth::clock::Clock::system())
    }

    /// [`AppState::new`] judging tokens, sessions and grants by `clock` (tests move a manual one).
    pub fn with_clock(config: Config, broker: Arc<dyn Broker>, clock: crate::auth::clock::Clock) -> Self {
        let key = config.auth.token_secret.expose().as_bytes().to_vec();
        AppState::build(config, broker, Arc::new(MemoryStore::new()), key, clock)
            .unwrap_or_else(|e| panic!("invalid OAuth configuration: {e}"))
    }

    /// State for `config` trading through `broker`, with sessions, `requestId` records and throttle
    /// counters in `store`. Without a configured `auth.token_secret` the token key is generated once and
    /// kept in the store, so tokens outlive restarts and work on every replica.
    pub async fn start(
        config: Config,
        broker: Arc<dyn Broker>,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<Self> {
        let key = if config.auth.token_secret.is_empty() {
            crate::auth::tokens::key_from_store(store.as_ref())
                .await
                .map_err(|e| anyhow::anyhow!("cannot read the token key from the state store: {e}"))?
        } else {
            config.auth.token_secret.expose().as_bytes().to_vec()
        };
        let state = AppState::build(config, broker, store, key, crate::auth::clock::Clock::system())
            .map_err(|e| anyhow::anyhow!(e))?;
        crate::http::session::spawn_revocation_listener(&state);
        Ok(state)
    }

    fn build(
        config: Config,
        broker: Arc<dyn Broker>,
        store: Arc<dyn Store>,
        key: Vec<u8>,
        clock: crate::auth::clock::Clock,
    ) -> Result<Self, String> {
        let oauth = crate::auth::oauth::Clients::load(
            &config.oauth.clients,
            &config.oauth.token_url(),
            config.oauth.assertion_leeway_secs,
            &|name| std::env::var(name).ok(),
        )?;
        let tokens = TokenIssuer::new(&key, config.auth.token_ttl_secs)
            .with_previous_keys(
                config
                    .auth
                    .previous_token_secrets
                    .iter()
                    .map(|k| k.expose().as_bytes()),
            )
            .with_clock(clock);
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let hubs = AccountHubs::with_store(
            broker.clone(),
            config.hub.clone(),
            store.clone(),
            instance.clone(),
        );
        let idle = Duration::from_secs(config.hub.idle_timeout_secs);
        let quotes = QuoteHub::new(broker.clone(), config.hub.stream_queue, idle);
        // Validated with the configuration; a list that still fails to parse trusts no proxy.
        let trusted_proxies = TrustedProxies::parse(&config.auth.trusted_proxies).unwrap_or_default();
        let streams = StreamRegistry::new(
            config.server.max_streams_per_session,
            config.server.max_streams_per_user,
        );
        Ok(AppState(Arc::new(Inner {
            forms: crate::auth::oauth::forms::FormSealer::new(&key),
            tokens,
            oauth,
            sessions: SessionStore::new(store.clone(), config.auth.max_sessions_per_user),
            idempotency: IdempotencyCache::with_store(
                config.idempotency.clone(),
                store.clone(),
                instance.clone(),
            ),
            hubs,
            quotes,
            login_throttle: LoginThrottle::new(&config.auth.login_throttle),
            trusted_proxies,
            config,
            broker,
            store,
            instance,
            shutdown: Shutdown::new(),
            streams,
        })))
    }

    /// A handle that does not keep the state alive (for background tasks that end with it).
    pub fn downgrade(&self) -> WeakState {
        WeakState(Arc::downgrade(&self.0))
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub fn broker(&self) -> &dyn Broker {
        self.0.broker.as_ref()
    }

    /// The state store (sessions, `requestId` records, counters).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.store
    }

    /// This process's id among replicas.
    pub fn instance(&self) -> &str {
        &self.0.instance
    }

    pub fn tokens(&self) -> &TokenIssuer {
        &self.0.tokens
    }

    /// Now (unix seconds) by the clock tokens, sessions and OAuth grants are judged by.
    pub fn now(&self) -> u64 {
        self.0.tokens.now()
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

    /// The registered OAuth clients.
    pub fn oauth(&self) -> &crate::auth::oauth::Clients {
        &self.0.oauth
    }

    /// Seals and opens the login forms of the OAuth pages.
    pub fn forms(&self) -> &crate::auth::oauth::forms::FormSealer {
        &self.0.forms
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
