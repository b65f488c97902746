//! Capital.com backend: REST v1 trading and its WebSocket quotes behind the `Broker` trait.
//!
//! Layers: `client` sends one documented request; `session` adds pacing, re-login and account switching;
//! `registry` holds a session per bridge session; `convert` maps wire types to TradingView types; the
//! `orders`, `positions`, `account` and `data` modules implement the trait's areas on top of them.

mod account;
pub mod catalog;
pub mod client;
pub mod config;
pub mod convert;
pub mod credentials;
mod data;
mod deal;
pub mod errors;
pub mod model;
mod orders;
mod positions;
mod prices;
pub mod registry;
mod scope;
pub mod session;
mod snapshot;
pub mod stream;

pub use config::CapitalConfig;

use crate::broker::{
    Broker, BrokerAccount, BrokerError, BrokerResult, Capabilities, Login, LoginKind, LoginOutcome,
    SessionCtx,
};
use crate::tv;
use crate::upstream::journal::{AccountJournal, Journals};
use async_trait::async_trait;
use catalog::Catalog;
use registry::Registry;
use rust_decimal::Decimal;
use session::{AccountInfo, AccountScope, Upstream};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Shared state of the backend.
struct Inner {
    /// Whether this is Capital.com's demo environment (the account list does not say).
    demo: bool,
    registry: Arc<Registry>,
    catalog: Catalog,
    /// Per (bridge session, account): orders of the session that Capital.com no longer lists (filled
    /// market deals, rejected deals, cancelled and filled working orders); TradingView expects them in
    /// `/orders` until the session ends.
    journal: Journals<Mutex<AccountJournal>>,
    streams: stream::QuoteStreams,
    /// Reachability of the REST base, for `/readyz`.
    probe: crate::upstream::probe::UpstreamProbe,
    /// `backend.data_start`: the oldest bar `/history` asks for.
    data_start: i64,
    /// `backend.history_max_pages`: `/prices` requests one `/history` answer may make.
    history_max_pages: usize,
    /// What "now" is for the data feed (the system clock, or a test's).
    now: crate::upstream::clock::Now,
}

/// The Capital.com broker.
#[derive(Clone)]
pub struct CapitalBroker {
    inner: Arc<Inner>,
}

impl CapitalBroker {
    /// Resolves the configuration's environment variables and starts the keep-alive loop. No upstream call is
    /// made until the first login.
    pub fn start(config: &CapitalConfig) -> anyhow::Result<CapitalBroker> {
        let resolved = config
            .resolve(&|name| std::env::var(name).ok())
            .map_err(|e| anyhow::anyhow!(e))?;
        Self::start_resolved(resolved)
    }

    /// [`Self::start`] for a bridge whose replicas share `store`: when it is shared, `POST /session` (one
    /// per second per API key) is paced across every replica instead of in each one.
    pub fn start_with_store(
        config: &CapitalConfig,
        store: Arc<dyn crate::store::Store>,
    ) -> anyhow::Result<CapitalBroker> {
        let resolved = config
            .resolve(&|name| std::env::var(name).ok())
            .map_err(|e| anyhow::anyhow!(e))?;
        Self::start_in(resolved, crate::upstream::clock::system(), Some(store))
    }

    /// Starts from an already resolved configuration (tests).
    pub fn start_resolved(resolved: config::ResolvedConfig) -> anyhow::Result<CapitalBroker> {
        Self::start_with_clock(resolved, crate::upstream::clock::system())
    }

    /// [`Self::start_resolved`] on the state store `store` (see [`Self::start_with_store`]; tests).
    pub fn start_resolved_with_store(
        resolved: config::ResolvedConfig,
        store: Arc<dyn crate::store::Store>,
    ) -> anyhow::Result<CapitalBroker> {
        Self::start_in(resolved, crate::upstream::clock::system(), Some(store))
    }

    /// [`Self::start_resolved`] with the clock the data feed calls "now" (tests give the fake's).
    pub fn start_with_clock(
        resolved: config::ResolvedConfig,
        now: crate::upstream::clock::Now,
    ) -> anyhow::Result<CapitalBroker> {
        Self::start_in(resolved, now, None)
    }

    fn start_in(
        resolved: config::ResolvedConfig,
        now: crate::upstream::clock::Now,
        store: Option<Arc<dyn crate::store::Store>>,
    ) -> anyhow::Result<CapitalBroker> {
        let resolved = Arc::new(resolved);
        let registry = Arc::new(Registry::new(resolved.clone(), store)?);
        registry.spawn_keepalive();
        let catalog = Catalog::new(
            &resolved.instruments,
            resolved.market_node.clone(),
            resolved.market_cache,
        );
        let tokens = Arc::new(data::DataTokens::new(registry.clone()));
        let streams = stream::QuoteStreams::new(
            resolved.stream_url.clone(),
            tokens,
            stream::StreamOptions::default(),
        );
        Ok(CapitalBroker {
            inner: Arc::new(Inner {
                demo: resolved.environment == config::Environment::Demo,
                registry,
                catalog,
                // A journal unused this long belongs to a session the registry has dropped.
                journal: Journals::new(resolved.keepalive_max_idle, 0),
                streams,
                probe: crate::upstream::probe::UpstreamProbe::new(&resolved.base_url),
                data_start: resolved.data_start,
                history_max_pages: resolved.history_max_pages,
                now,
            }),
        })
    }
}

/// Capital.com's durations; every account accepts all of them.
fn durations() -> Vec<tv::DurationConfig> {
    // Market deals have no duration on Capital.com; working orders live until cancelled or until a date.
    let pending = vec![tv::OrderType::Limit, tv::OrderType::Stop];
    vec![
        tv::DurationConfig::new(convert::GTC, "Good till cancelled", false, true, &pending),
        tv::DurationConfig::new(convert::GTT, "Good till time", true, false, &pending),
    ]
}

/// What Capital.com can do on an account in the given hedging mode.
fn capabilities(hedging: bool) -> Capabilities {
    Capabilities {
        market_orders: true,
        limit_orders: true,
        stop_orders: true,
        // Capital.com has no stop-limit order type.
        stop_limit_orders: false,
        order_brackets: true,
        market_brackets: true,
        position_brackets: true,
        trailing_stop: true,
        // Documented: guaranteed stops cannot be set while hedging mode is on.
        guaranteed_stop: !hedging,
        modify_order_price: true,
        // A working order's size cannot be changed upstream.
        modify_order_qty: false,
        modify_order_brackets: true,
        modify_order_duration: true,
        hedging,
        close_position: true,
        // Netting accounts reduce a position with an opposite deal; a hedging deal can only be closed whole.
        partial_close: !hedging,
        native_reverse: !hedging,
        opposite_orders_reduce: false,
        order_preview: false,
        order_info: false,
        crypto_balances: false,
        executions: true,
        orders_history: true,
        leverage: true,
        level2: false,
        logout: true,
        track_latency: false,
        partial_fills: false,
    }
}

impl Inner {
    /// The journal of finished orders of the session's `account`.
    fn journal_of(&self, session: &SessionCtx, account: &str) -> Arc<Mutex<AccountJournal>> {
        self.journal.of(&session.session_id, account)
    }

    fn upstream(&self, session: &SessionCtx) -> BrokerResult<Arc<Upstream>> {
        self.registry.get(&session.session_id)
    }

    fn account_info(&self, session: &SessionCtx, account: &str) -> BrokerResult<AccountInfo> {
        self.upstream(session)?
            .account_info(account)
            .ok_or_else(|| BrokerError::NotFound(format!("Unknown account '{account}'")))
    }

    /// The deals of the scope's account: one `GET /positions`.
    async fn deals(&self, scope: &AccountScope<'_>) -> BrokerResult<Arc<Vec<model::PositionEntry>>> {
        let answer = scope
            .call(session::Kind::Read, |c, t| async move { c.positions(&t).await })
            .await?;
        Ok(Arc::new(answer.positions))
    }

    /// Pip size of an epic from its (cached) details.
    async fn pip_size(&self, upstream: &Upstream, epic: &str) -> BrokerResult<Decimal> {
        let details = self.catalog.detail(upstream, epic).await?;
        Ok(convert::pip_size(&details))
    }
}

#[async_trait]
impl Broker for CapitalBroker {
    async fn readiness(&self) -> crate::broker::Readiness {
        self.inner.probe.check().await
    }

    fn login_kind(&self) -> LoginKind {
        self.inner.registry.login_kind()
    }

    async fn login(&self, session_id: &str, login: &Login) -> BrokerResult<LoginOutcome> {
        let (user, opened) = self.inner.registry.login(session_id, login).await?;
        if self.inner.catalog.needs_load().await {
            self.inner.catalog.load(&opened.upstream).await?;
        }
        Ok(LoginOutcome {
            user_id: user.clone(),
            display_name: user,
        })
    }

    async fn logout(&self, session: &SessionCtx) -> BrokerResult<()> {
        self.inner.registry.logout(&session.session_id).await;
        self.inner.journal.end_login(&session.session_id);
        Ok(())
    }

    async fn accounts(&self, session: &SessionCtx) -> BrokerResult<Vec<BrokerAccount>> {
        account::accounts(&self.inner, session).await
    }

    fn durations(&self) -> Vec<tv::DurationConfig> {
        durations()
    }

    async fn symbol_mapping(&self) -> BrokerResult<Vec<tv::SymbolMapping>> {
        if self.inner.catalog.needs_load().await {
            let upstream = self.inner.registry.data_session().await?;
            self.inner.catalog.load(&upstream).await?;
        }
        Ok(self.inner.catalog.mapping())
    }

    async fn instruments(&self, session: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Instrument>> {
        data::instruments(&self.inner, session, account).await
    }

    async fn state(&self, session: &SessionCtx, account: &str) -> BrokerResult<tv::AccountState> {
        account::state(&self.inner, session, account).await
    }

    async fn orders(&self, session: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Order>> {
        orders::orders(&self.inner, session, account).await
    }

    async fn snapshot(
        &self,
        session: &SessionCtx,
        account: &BrokerAccount,
    ) -> BrokerResult<crate::broker::AccountSnapshot> {
        snapshot::snapshot(&self.inner, session, account).await
    }

    async fn place_order(
        &self,
        session: &SessionCtx,
        account: &str,
        order: tv::PlaceOrder,
        _request_id: Option<&str>,
    ) -> BrokerResult<String> {
        // Capital.com takes no client order id; duplicates are prevented by the bridge's requestId
        // single-flight and by looking deals up after an ambiguous failure (see `orders::place`).
        orders::place(&self.inner, session, account, order).await
    }

    async fn modify_order(
        &self,
        session: &SessionCtx,
        account: &str,
        order_id: &str,
        change: tv::ModifyOrder,
    ) -> BrokerResult<()> {
        orders::modify(&self.inner, session, account, order_id, change).await
    }

    async fn cancel_order(&self, session: &SessionCtx, account: &str, order_id: &str) -> BrokerResult<()> {
        orders::cancel(&self.inner, session, account, order_id).await
    }

    async fn positions(&self, session: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Position>> {
        positions::positions(&self.inner, session, account).await
    }

    async fn modify_position(
        &self,
        session: &SessionCtx,
        account: &str,
        position_id: &str,
        change: tv::ModifyPosition,
    ) -> BrokerResult<()> {
        positions::modify(&self.inner, session, account, position_id, change).await
    }

    async fn close_position(
        &self,
        session: &SessionCtx,
        account: &str,
        position_id: &str,
        amount: Option<Decimal>,
    ) -> BrokerResult<()> {
        positions::close(&self.inner, session, account, position_id, amount).await
    }

    async fn net_positions(&self, session: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::NetPosition>> {
        positions::net_positions(&self.inner, session, account).await
    }

    async fn close_net_position(
        &self,
        session: &SessionCtx,
        account: &str,
        position_id: &str,
    ) -> BrokerResult<()> {
        positions::close(&self.inner, session, account, position_id, None).await
    }

    async fn individual_positions(
        &self,
        session: &SessionCtx,
        account: &str,
    ) -> BrokerResult<Vec<tv::IndividualPosition>> {
        positions::individual_positions(&self.inner, session, account).await
    }

    async fn modify_individual_position(
        &self,
        session: &SessionCtx,
        account: &str,
        position_id: &str,
        brackets: tv::Brackets,
    ) -> BrokerResult<()> {
        positions::modify_deal(&self.inner, session, account, position_id, brackets).await
    }

    async fn close_individual_position(
        &self,
        session: &SessionCtx,
        account: &str,
        position_id: &str,
        amount: Option<Decimal>,
    ) -> BrokerResult<()> {
        positions::close_deal(&self.inner, session, account, position_id, amount).await
    }

    async fn executions(
        &self,
        session: &SessionCtx,
        account: &str,
        instrument: Option<&str>,
        max_count: Option<usize>,
    ) -> BrokerResult<Vec<tv::Execution>> {
        account::executions(&self.inner, session, account, instrument, max_count).await
    }

    async fn orders_history(
        &self,
        session: &SessionCtx,
        account: &str,
        max_count: Option<usize>,
    ) -> BrokerResult<Vec<tv::Order>> {
        account::orders_history(&self.inner, session, account, max_count).await
    }

    async fn get_leverage(
        &self,
        session: &SessionCtx,
        account: &str,
        query: tv::LeverageQuery,
    ) -> BrokerResult<tv::LeverageInfo> {
        account::get_leverage(&self.inner, session, account, &query).await
    }

    async fn set_leverage(
        &self,
        session: &SessionCtx,
        account: &str,
        query: tv::LeverageQuery,
        leverage: Decimal,
    ) -> BrokerResult<tv::LeverageSet> {
        account::set_leverage(&self.inner, session, account, &query, leverage).await
    }

    async fn preview_leverage(
        &self,
        session: &SessionCtx,
        account: &str,
        query: tv::LeverageQuery,
        leverage: Decimal,
    ) -> BrokerResult<tv::LeveragePreview> {
        account::preview_leverage(&self.inner, session, account, &query, leverage).await
    }

    async fn quotes(
        &self,
        session: &SessionCtx,
        account: &str,
        symbols: &[String],
    ) -> BrokerResult<Vec<tv::QuoteEntry>> {
        data::quotes(&self.inner, session, account, symbols).await
    }

    async fn subscribe_market(&self, symbol: &str) -> BrokerResult<mpsc::Receiver<tv::MarketTick>> {
        data::subscribe_market(&self.inner, symbol).await
    }

    async fn data_symbols(&self) -> BrokerResult<Vec<tv::SymbolInfo>> {
        data::data_symbols(&self.inner).await
    }

    async fn history(&self, query: &tv::HistoryQuery) -> BrokerResult<Vec<tv::Bar>> {
        prices::history(&self.inner, query).await
    }
}
