//! OANDA backend: v20 REST and streams, and v1 REST for legacy accounts, behind the `Broker` trait.
//!
//! Layers: `client` sends one request (pacing, retries of reads, failure classification); `venue` is the
//! contract each API version (`v20`, `v1`) implements in version-neutral terms; `registry` holds the
//! sessions; `catalog` maps symbols; `trading` and `feed` implement the trait's areas on top of them;
//! `stream` keeps the pricing and transaction streams.

pub mod catalog;
pub mod client;
pub mod config;
pub mod convert;
pub mod credentials;
pub mod errors;
mod feed;
pub mod history;
pub mod model;
pub mod registry;
pub mod stream;
mod trading;
pub mod v1;
pub mod v20;
pub mod venue;

use crate::sync::MutexExt;
pub use config::OandaConfig;

use crate::broker::{
    Broker, BrokerAccount, BrokerError, BrokerResult, Capabilities, Login, LoginKind, LoginOutcome,
    SessionCtx,
};
use crate::tv;
use crate::upstream::clock::Now;
use async_trait::async_trait;
use catalog::{AccountCatalog, SymbolRules};
use config::{ApiVersion, Environment, ResolvedConfig};
use registry::{Registry, Session};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stream::prices::{PriceSource, PriceStreams};
use stream::transactions::Watchers;
use stream::StreamOptions;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use venue::{AccountHead, Conn, Ctx, Venue};

/// How long an account's instrument list is reused (OANDA changes it rarely).
const CATALOG_FRESH: Duration = Duration::from_secs(600);

/// Shared state of the backend.
pub(crate) struct Inner {
    config: Arc<ResolvedConfig>,
    rules: SymbolRules,
    registry: Arc<Registry>,
    catalogs: Mutex<HashMap<String, (Instant, Arc<AccountCatalog>)>>,
    prices: PriceStreams,
    watchers: Watchers,
    /// Reachability of the REST host, for `/readyz`.
    probe: crate::upstream::probe::UpstreamProbe,
    /// What "now" is for the data feed (the system clock, or a test's).
    now: Now,
}

/// The OANDA broker.
#[derive(Clone)]
pub struct OandaBroker {
    inner: Arc<Inner>,
}

/// The data feed's pricing stream source: the registry's data-feed token, asked at every (re)connection.
struct FeedSource {
    registry: Arc<Registry>,
}

#[async_trait]
impl PriceSource for FeedSource {
    async fn price_source(&self) -> BrokerResult<(Conn, String, Arc<dyn Venue>)> {
        let source = self.registry.data_source().await?;
        let venue = self.registry.venue(&source.account);
        Ok((source.conn.clone(), source.account.clone(), venue))
    }
}

impl OandaBroker {
    /// Reads the tokens the configuration names from the environment. No upstream call is made until the
    /// first login or data-feed request.
    pub fn start(config: &config::OandaConfig) -> anyhow::Result<OandaBroker> {
        let resolved = config
            .resolve(&|name| std::env::var(name).ok())
            .map_err(|e| anyhow::anyhow!(e))?;
        Self::start_resolved(resolved)
    }

    /// Starts from an already resolved configuration (tests).
    pub fn start_resolved(resolved: ResolvedConfig) -> anyhow::Result<OandaBroker> {
        Self::start_with(resolved, None)
    }

    /// Starts with stream timings of the caller's choice (tests shorten the silence and back-off).
    pub fn start_with(
        resolved: ResolvedConfig,
        streams: Option<StreamOptions>,
    ) -> anyhow::Result<OandaBroker> {
        Self::start_with_clock(resolved, streams, crate::upstream::clock::system())
    }

    /// [`Self::start_with`] with the clock the data feed calls "now" (tests give the fake's).
    pub fn start_with_clock(
        resolved: ResolvedConfig,
        streams: Option<StreamOptions>,
        now: Now,
    ) -> anyhow::Result<OandaBroker> {
        let config = Arc::new(resolved);
        let http = Arc::new(client::Http::new(
            &config.rest_url,
            &config.stream_url,
            config.requests_per_second,
            config.request_timeout,
        )?);
        let v20: Arc<dyn Venue> = Arc::new(v20::V20Venue::new());
        let v1: Arc<dyn Venue> = Arc::new(v1::V1Venue::new());
        let registry = Arc::new(Registry::new(config.clone(), http, v20, v1));
        let options = streams.unwrap_or_else(|| StreamOptions::new(config.stream_timeout));
        let prices = PriceStreams::new(
            Arc::new(FeedSource {
                registry: registry.clone(),
            }),
            options,
        );
        let probe = crate::upstream::probe::UpstreamProbe::new(&config.rest_url);
        Ok(OandaBroker {
            inner: Arc::new(Inner {
                probe,
                rules: SymbolRules::new(&config.instruments),
                config,
                registry,
                catalogs: Mutex::new(HashMap::new()),
                prices,
                watchers: Watchers::new(options),
                now,
            }),
        })
    }

    /// Upstream stream connections opened so far: (pricing, transactions). For tests and diagnostics.
    pub fn stream_connections(&self) -> (u64, u64) {
        (self.inner.prices.connections(), self.inner.watchers.connections())
    }
}

/// What OANDA can do on an account.
fn capabilities(version: ApiVersion, head: &AccountHead) -> Capabilities {
    let v20 = version == ApiVersion::V20;
    Capabilities {
        market_orders: true,
        limit_orders: true,
        stop_orders: true,
        // v20 stop orders take a price bound (the worst fill accepted); v1 has no such field.
        stop_limit_orders: v20,
        order_brackets: true,
        market_brackets: true,
        position_brackets: true,
        trailing_stop: true,
        guaranteed_stop: v20 && head.guaranteed_stops,
        modify_order_price: true,
        modify_order_qty: true,
        modify_order_brackets: true,
        modify_order_duration: true,
        // Trades are individual positions, positions are their net per instrument, on every account.
        hedging: true,
        close_position: true,
        // v20 closes any part of a trade; v1 only whole trades.
        partial_close: v20,
        native_reverse: false,
        // Without hedging, OANDA fills an opposite order against open trades first (FIFO).
        opposite_orders_reduce: !head.hedging,
        order_preview: false,
        order_info: false,
        crypto_balances: false,
        executions: true,
        orders_history: true,
        leverage: false,
        level2: false,
        logout: true,
        track_latency: false,
        partial_fills: false,
    }
}

/// The durations an account of `version` accepts. v20 pending orders take GTC, GTD and GFD (stop-limit
/// included, as a stop with a price bound) and market orders FOK or IOC; v1 has no time in force at all:
/// its pending orders only carry an expiry (GTC is the furthest one, GTD a chosen one) and its market
/// orders fill at once or are rejected, which is fill or kill.
fn durations(version: ApiVersion) -> Vec<tv::DurationConfig> {
    use venue::durations::{FOK, GFD, GTC, GTD, IOC};
    let v20 = version == ApiVersion::V20;
    let pending = if v20 {
        vec![
            tv::OrderType::Limit,
            tv::OrderType::Stop,
            tv::OrderType::StopLimit,
        ]
    } else {
        vec![tv::OrderType::Limit, tv::OrderType::Stop]
    };
    let market = vec![tv::OrderType::Market];
    let row = tv::DurationConfig::new;
    let mut rows = vec![
        row(GTC, "Good till cancelled", false, true, &pending),
        row(GTD, "Good till date", true, false, &pending),
    ];
    if v20 {
        rows.push(row(GFD, "Good for the day", false, false, &pending));
    }
    rows.push(row(FOK, "Fill or kill", false, true, &market));
    if v20 {
        rows.push(row(IOC, "Immediate or cancel", false, false, &market));
    }
    rows
}

/// One account call's pieces.
pub(crate) struct Scope {
    session: Arc<Session>,
    catalog: Arc<AccountCatalog>,
    venue: Arc<dyn Venue>,
    account: String,
}

impl Scope {
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            conn: &self.session.conn,
            account: &self.account,
            catalog: &self.catalog,
            since: self.session.since,
        }
    }

    fn head(&self) -> BrokerResult<&AccountHead> {
        self.session.account(&self.account)
    }
}

impl Inner {
    fn version(&self, account: &str) -> ApiVersion {
        self.config.api.version_for(account)
    }

    fn venue(&self, account: &str) -> Arc<dyn Venue> {
        self.registry.venue(account)
    }

    /// The account's instruments, reused for [`CATALOG_FRESH`].
    async fn catalog(&self, conn: &Conn, account: &str) -> BrokerResult<Arc<AccountCatalog>> {
        if let Some((at, catalog)) = self.catalogs.locked().get(account) {
            if at.elapsed() < CATALOG_FRESH {
                return Ok(catalog.clone());
            }
        }
        let specs = self.venue(account).instruments(conn, account).await?;
        let catalog = Arc::new(AccountCatalog::new(specs, &self.rules));
        self.catalogs
            .locked()
            .insert(account.to_string(), (Instant::now(), catalog.clone()));
        Ok(catalog)
    }

    async fn scope(&self, session: &SessionCtx, account: &str) -> BrokerResult<Scope> {
        let s = self.registry.get(&session.session_id)?;
        if let Some(refused) = credentials::recently_refused(&s) {
            return Err(refused);
        }
        s.account(account)?;
        let catalog = self.catalog(&s.conn, account).await?;
        Ok(Scope {
            session: s,
            catalog,
            venue: self.venue(account),
            account: account.to_string(),
        })
    }
}

impl OandaBroker {
    /// A call's outcome as the user should read it: in mapped mode a token OANDA refuses is the operator's
    /// configuration, not a reason to log in again (see [`credentials`]).
    fn answer<T>(&self, session: &SessionCtx, result: BrokerResult<T>) -> BrokerResult<T> {
        result.map_err(|e| match (&e, self.inner.registry.get(&session.session_id)) {
            (BrokerError::Unauthorized(_), Ok(s)) => credentials::later(&s, e),
            _ => e,
        })
    }
}

#[async_trait]
impl Broker for OandaBroker {
    async fn readiness(&self) -> crate::broker::Readiness {
        self.inner.probe.check().await
    }

    fn login_kind(&self) -> LoginKind {
        self.inner.registry.login_kind()
    }

    async fn login(&self, session_id: &str, login: &Login) -> BrokerResult<LoginOutcome> {
        let inner = &self.inner;
        let session = inner.registry.login(session_id, login).await?;
        for account in &session.accounts {
            inner
                .watchers
                .watch(&session.conn, &account.id, inner.venue(&account.id));
        }
        Ok(LoginOutcome {
            user_id: session.user.clone(),
            display_name: session.user.clone(),
        })
    }

    async fn logout(&self, session: &SessionCtx) -> BrokerResult<()> {
        if let Some(s) = self.inner.registry.logout(&session.session_id).await {
            for account in &s.accounts {
                self.inner.watchers.unwatch(&account.id);
            }
        }
        Ok(())
    }

    async fn accounts(&self, session: &SessionCtx) -> BrokerResult<Vec<BrokerAccount>> {
        let s = self.inner.registry.get(&session.session_id)?;
        let kind = match self.inner.config.environment {
            Environment::Practice => tv::AccountType::Demo,
            Environment::Live => tv::AccountType::Live,
        };
        Ok(s.accounts
            .iter()
            .map(|a| BrokerAccount {
                id: a.id.clone(),
                name: a.name.clone(),
                kind,
                currency: a.currency.clone(),
                capabilities: capabilities(self.inner.version(&a.id), a),
                durations: durations(self.inner.version(&a.id)),
            })
            .collect())
    }

    fn durations(&self) -> Vec<tv::DurationConfig> {
        // v20 accounts accept every duration v1 accounts do, and more.
        durations(ApiVersion::V20)
    }

    async fn symbol_mapping(&self) -> BrokerResult<Vec<tv::SymbolMapping>> {
        feed::symbol_mapping(&self.inner).await
    }

    async fn instruments(&self, session: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Instrument>> {
        let result = trading::instruments(&self.inner, session, account).await;
        self.answer(session, result)
    }

    async fn state(&self, session: &SessionCtx, account: &str) -> BrokerResult<tv::AccountState> {
        let result = async {
            let scope = self.inner.scope(session, account).await?;
            scope.venue.state(scope.ctx()).await
        }
        .await;
        self.answer(session, result)
    }

    async fn orders(&self, session: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Order>> {
        let result = async {
            let scope = self.inner.scope(session, account).await?;
            scope.venue.orders(scope.ctx()).await
        }
        .await;
        self.answer(session, result)
    }

    async fn snapshot(
        &self,
        session: &SessionCtx,
        account: &BrokerAccount,
    ) -> BrokerResult<crate::broker::AccountSnapshot> {
        let result = async {
            let scope = self.inner.scope(session, &account.id).await?;
            scope.venue.snapshot(scope.ctx()).await
        }
        .await;
        self.answer(session, result)
    }

    async fn place_order(
        &self,
        session: &SessionCtx,
        account: &str,
        order: tv::PlaceOrder,
        request_id: Option<&str>,
    ) -> BrokerResult<String> {
        let result = trading::place_order(&self.inner, session, account, order, request_id).await;
        self.answer(session, result)
    }

    async fn order_by_request_id(
        &self,
        session: &SessionCtx,
        account: &str,
        request_id: &str,
    ) -> BrokerResult<Option<String>> {
        let result = trading::order_by_request_id(&self.inner, session, account, request_id).await;
        self.answer(session, result)
    }

    async fn modify_order(
        &self,
        session: &SessionCtx,
        account: &str,
        order_id: &str,
        change: tv::ModifyOrder,
    ) -> BrokerResult<()> {
        let result = trading::modify_order(&self.inner, session, account, order_id, change).await;
        self.answer(session, result)
    }

    async fn cancel_order(&self, session: &SessionCtx, account: &str, order_id: &str) -> BrokerResult<()> {
        let result = async {
            let scope = self.inner.scope(session, account).await?;
            scope.venue.cancel_order(scope.ctx(), order_id).await
        }
        .await;
        self.answer(session, result)
    }

    async fn net_positions(&self, session: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::NetPosition>> {
        let result = async {
            let scope = self.inner.scope(session, account).await?;
            scope.venue.net_positions(scope.ctx()).await
        }
        .await;
        self.answer(session, result)
    }

    async fn close_net_position(
        &self,
        session: &SessionCtx,
        account: &str,
        position_id: &str,
    ) -> BrokerResult<()> {
        let result = trading::close_net_position(&self.inner, session, account, position_id).await;
        self.answer(session, result)
    }

    async fn individual_positions(
        &self,
        session: &SessionCtx,
        account: &str,
    ) -> BrokerResult<Vec<tv::IndividualPosition>> {
        let result = async {
            let scope = self.inner.scope(session, account).await?;
            scope.venue.individual_positions(scope.ctx()).await
        }
        .await;
        self.answer(session, result)
    }

    async fn modify_individual_position(
        &self,
        session: &SessionCtx,
        account: &str,
        position_id: &str,
        brackets: tv::Brackets,
    ) -> BrokerResult<()> {
        let result = async {
            let scope = self.inner.scope(session, account).await?;
            scope
                .venue
                .set_trade_brackets(scope.ctx(), position_id, &brackets)
                .await
        }
        .await;
        self.answer(session, result)
    }

    async fn close_individual_position(
        &self,
        session: &SessionCtx,
        account: &str,
        position_id: &str,
        amount: Option<Decimal>,
    ) -> BrokerResult<()> {
        let result = trading::close_trade(&self.inner, session, account, position_id, amount).await;
        self.answer(session, result)
    }

    async fn executions(
        &self,
        session: &SessionCtx,
        account: &str,
        instrument: Option<&str>,
        max_count: Option<usize>,
    ) -> BrokerResult<Vec<tv::Execution>> {
        let result = trading::executions(&self.inner, session, account, instrument, max_count).await;
        self.answer(session, result)
    }

    async fn orders_history(
        &self,
        session: &SessionCtx,
        account: &str,
        max_count: Option<usize>,
    ) -> BrokerResult<Vec<tv::Order>> {
        let result = async {
            let scope = self.inner.scope(session, account).await?;
            scope
                .venue
                .orders_history(
                    scope.ctx(),
                    max_count
                        .unwrap_or(trading::DEFAULT_MAX_COUNT)
                        .min(trading::MAX_COUNT),
                )
                .await
        }
        .await;
        self.answer(session, result)
    }

    async fn quotes(
        &self,
        session: &SessionCtx,
        account: &str,
        symbols: &[String],
    ) -> BrokerResult<Vec<tv::QuoteEntry>> {
        let result = trading::quotes(&self.inner, session, account, symbols).await;
        self.answer(session, result)
    }

    fn account_changes(&self) -> Option<broadcast::Receiver<String>> {
        Some(self.inner.watchers.subscribe())
    }

    /// Every change is announced on `account_changes`; the hub polls only for valuations.
    fn refresh_policy(&self, _account: &BrokerAccount) -> crate::broker::RefreshPolicy {
        crate::broker::RefreshPolicy::PUSH
    }

    async fn subscribe_market(&self, symbol: &str) -> BrokerResult<mpsc::Receiver<tv::MarketTick>> {
        feed::subscribe_market(&self.inner, symbol).await
    }

    async fn data_symbols(&self) -> BrokerResult<Vec<tv::SymbolInfo>> {
        feed::data_symbols(&self.inner).await
    }

    async fn history(&self, query: &tv::HistoryQuery) -> BrokerResult<Vec<tv::Bar>> {
        feed::history(&self.inner, query).await
    }
}

/// The "unknown symbol" refusal, naming the symbol.
fn unknown_symbol(symbol: &str) -> BrokerError {
    BrokerError::NotFound(format!("Unknown symbol '{symbol}'"))
}
