//! Interactive Brokers backend: the IBKR Web API through the Client Portal gateway, or on `api.ibkr.com`
//! over OAuth 1.0a or OAuth 2.0 (`oauth1`, `oauth2`).
//!
//! Layers: `client` sends one documented request on the toolkit transport, signed with the transport's
//! `credentials`; `session` is the brokerage session (status, `ssodh/init`, accounts, tickle, re-open on
//! 401, account switching);
//! `catalog` the offered symbols and their contracts; `orders` the reply loop and the `cOID` look-up;
//! `legs` the stop loss and take profit of positions and working orders, `orphans` those left behind by
//! their position;
//! `convert` maps wire types to TradingView's; `account`, `trading`, `prices`, `history` and `preview`
//! implement the trait's areas on top of them. This file is the thin `Broker` impl.

mod account;
pub mod catalog;
pub mod check;
pub mod client;
pub mod config;
pub mod convert;
pub mod credentials;
pub mod errors;
mod history;
mod legs;
pub mod model;
pub mod oauth1;
pub mod oauth2;
pub mod orders;
mod orphans;
mod preview;
mod prices;
mod recent;
pub mod session;
pub mod stream;
#[cfg(test)]
mod testing;
mod trading;

pub use config::IbkrConfig;

use crate::broker::{
    Broker, BrokerAccount, BrokerError, BrokerResult, Capabilities, Login, LoginKind, LoginOutcome,
    RefreshMode, RefreshPolicy, SessionCtx, INVALID_LOGIN,
};
use crate::tv;
use crate::upstream::data_session::{DataSession, DataSources};
use crate::upstream::sessions::{SessionRegistry, UpstreamSession};
use async_trait::async_trait;
use catalog::{Catalog, Table};
use rust_decimal::Decimal;
use session::Gateway;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// IBKR allows one `/iserver/account/orders` and one `/iserver/account/trades` per 5 s: the hub refreshes
/// an account no more often.
pub const MIN_REFRESH: Duration = Duration::from_secs(5);

/// A bridge user's session: the IBKR accounts they may see (all when `None`).
pub struct UserSession {
    allowed: Option<Vec<String>>,
}

#[async_trait]
impl UpstreamSession for UserSession {
    // The gateway holds the only IBKR login: sessions lend the data feed nothing.
    type Lend = ();
    type Data = ();
    fn lend(&self) {}
}

struct Inner {
    config: config::ResolvedConfig,
    gateway: Arc<Gateway>,
    registry: SessionRegistry<UserSession>,
    catalog: Catalog,
    allow: HashSet<String>,
    finished: account::Finished,
    trades: account::RecentTrades,
    live: account::RecentOrders,
    confirms: preview::Confirms,
    /// The sweep of orphaned legs, when the configuration turns it on.
    orphans: Option<orphans::Orphans>,
    probe: crate::upstream::probe::UpstreamProbe,
    /// The WebSocket (quotes, order and P&L pushes); `None` where it cannot be used (see
    /// [`stream::unusable`]): the bridge then polls.
    streams: Option<stream::IbkrStreams>,
    /// What "now" is for the data feed and the trading schedule (the system clock, or a test's).
    now: crate::upstream::clock::Now,
}

/// The Interactive Brokers broker.
#[derive(Clone)]
pub struct IbkrBroker {
    inner: Arc<Inner>,
}

impl IbkrBroker {
    /// Reads the configuration's files and starts the tickle loop; no upstream call is made until the first
    /// login.
    pub async fn start(config: &IbkrConfig) -> anyhow::Result<IbkrBroker> {
        Self::start_with_clock(config, crate::upstream::clock::system()).await
    }

    /// [`Self::start`] with the clock the data feed calls "now" (tests give the fake's, so that a fake
    /// clock far from real time and the bridge agree on what is recent, as IBKR and the bridge do).
    pub async fn start_with_clock(
        config: &IbkrConfig,
        now: crate::upstream::clock::Now,
    ) -> anyhow::Result<IbkrBroker> {
        Self::start_in(config, now, None).await
    }

    /// [`Self::start`] for a bridge whose replicas share `store`: IBKR's overall request rate is then one
    /// budget for all of them.
    pub async fn start_with_store(
        config: &IbkrConfig,
        store: Arc<dyn crate::store::Store>,
    ) -> anyhow::Result<IbkrBroker> {
        Self::start_in(config, crate::upstream::clock::system(), Some(store)).await
    }

    async fn start_in(
        config: &IbkrConfig,
        now: crate::upstream::clock::Now,
        store: Option<Arc<dyn crate::store::Store>>,
    ) -> anyhow::Result<IbkrBroker> {
        let resolved = config
            .resolve(&|path| std::fs::read(path))
            .map_err(|e| anyhow::anyhow!(e))?;
        let client = client::IbkrClient::with_store(&resolved, store)?;
        // No secret here: the scheme, the URL and the pace.
        tracing::info!(
            transport = client.scheme(),
            base_url = %resolved.base_url,
            requests_per_second = resolved.requests_per_second,
            "IBKR backend ready; the brokerage session opens at the first login"
        );
        Ok(Self::with_api_and_clock(resolved, Arc::new(client), now))
    }

    /// The broker over any implementation of the API (tests give a double), on the system clock.
    pub fn with_api(config: config::ResolvedConfig, api: Arc<dyn client::Api>) -> IbkrBroker {
        Self::with_api_and_clock(config, api, crate::upstream::clock::system())
    }

    /// [`Self::with_api`] with the clock the data feed calls "now".
    pub fn with_api_and_clock(
        config: config::ResolvedConfig,
        api: Arc<dyn client::Api>,
        now: crate::upstream::clock::Now,
    ) -> IbkrBroker {
        let gateway = Arc::new(Gateway::over(api, config.transport).with_refusal_hold(config.refusal_hold));
        gateway.spawn_tickle(config.tickle);
        let sources = DataSources {
            mapped: Vec::new(),
            configured: None,
            first_mapped_serves: false,
        };
        let registry = SessionRegistry::new(
            "IBKR",
            DataSession::FirstLogin,
            sources,
            BrokerError::Unavailable("no IBKR session".into()),
        );
        let tls = crate::upstream::transport::Tls {
            extra_roots_pem: config.ca_pem.clone(),
            accept_invalid_certs: config.insecure_tls,
        };
        let probe = crate::upstream::probe::UpstreamProbe::with_tls(
            &config.base_url,
            crate::upstream::probe::PROBE_TIMEOUT,
            crate::upstream::probe::PROBE_TTL,
            &tls,
        );
        let streams = match (stream::unusable(&config), stream::ws_url(&config.base_url)) {
            (None, Some(url)) => Some(stream::IbkrStreams::new(
                url,
                tls.clone(),
                gateway.clone(),
                stream::StreamOptions::default(),
            )),
            (why, _) => {
                tracing::info!(
                    reason = why.unwrap_or("no URL"),
                    "IBKR WebSocket not used; quotes and orders are polled"
                );
                None
            }
        };
        let orphan_sweep = config.orphan_grace.map(orphans::Orphans::new);
        IbkrBroker {
            inner: Arc::new(Inner {
                streams,
                catalog: Catalog::new(config.symbols.clone()),
                allow: config.auto_confirm.iter().cloned().collect(),
                config,
                gateway,
                registry,
                finished: account::Finished::default(),
                trades: recent::Recent::new(MIN_REFRESH),
                live: recent::Recent::new(MIN_REFRESH),
                confirms: preview::Confirms::default(),
                orphans: orphan_sweep,
                probe,
                now,
            }),
        }
    }
}

/// What IBKR can do through the bridge, on every account.
fn capabilities() -> Capabilities {
    Capabilities {
        market_orders: true,
        limit_orders: true,
        stop_orders: true,
        stop_limit_orders: true,
        order_brackets: true,
        market_brackets: true,
        position_brackets: true,
        trailing_stop: false,
        guaranteed_stop: false,
        modify_order_price: true,
        modify_order_qty: true,
        modify_order_brackets: true,
        modify_order_duration: true,
        hedging: false,
        close_position: true,
        partial_close: true,
        native_reverse: false,
        opposite_orders_reduce: false,
        order_preview: true,
        order_info: false,
        crypto_balances: false,
        executions: true,
        orders_history: false,
        leverage: false,
        level2: true,
        logout: true,
        track_latency: false,
        partial_fills: true,
    }
}

impl Inner {
    /// How patiently a snapshot is asked for while IBKR is still subscribing (`/quotes`, `/depth`).
    fn patience(&self) -> prices::Patience {
        prices::Patience {
            attempts: self.config.snapshot_attempts,
            wait: self.config.snapshot_retry,
        }
    }

    /// Net position `position_id` of `account`, as IBKR lists it now.
    async fn position(&self, table: &Table, account: &str, position_id: &str) -> BrokerResult<tv::Position> {
        let positions = account::positions(&self.gateway, table, account).await?;
        positions
            .into_iter()
            .find(|p| p.id == position_id)
            .ok_or_else(|| BrokerError::NotFound(format!("Unknown position '{position_id}'")))
    }

    async fn table(&self) -> BrokerResult<Arc<Table>> {
        self.catalog.table(&self.gateway).await
    }

    fn desk<'a>(&'a self, table: &'a Table) -> trading::Desk<'a> {
        trading::Desk {
            gateway: &self.gateway,
            table,
            allow: &self.allow,
            outside_rth: self.config.outside_rth,
        }
    }

    /// Forgets the account's shared order and execution reads after a write (whatever its outcome), so
    /// that the next refresh shows what changed.
    fn written(&self, account: &str) {
        self.live.forget(account);
        self.trades.forget(account);
    }

    /// When the configuration turns the sweep on: cancels the account's legs left behind by their position
    /// and cuts those larger than it (see [`orphans`]), on the account's shared order read; a failure is
    /// logged, never in the way of the positions read that called it.
    async fn sweep(&self, table: &Table, account: &str, positions: &[tv::Position]) {
        let Some(orphans) = &self.orphans else {
            return;
        };
        let acct = account.to_string();
        let live = self
            .live
            .get(account, || {
                self.gateway.on_account(account, "reading orders", |api| {
                    let a = acct.clone();
                    async move { api.live_orders(&a).await }
                })
            })
            .await;
        let live = match live {
            Ok(live) => live,
            Err(e) => {
                tracing::debug!(account, error = %e, "IBKR orders not read; orphaned legs checked next time");
                return;
            }
        };
        let due = orphans.due(account, table, &live.orders, positions, std::time::Instant::now());
        for fix in &due {
            let (order_id, done, what) = match fix {
                orphans::Fix::Cancel(id) => (
                    id.clone(),
                    self.desk(table).cancel(account, id).await,
                    "cancelled",
                ),
                orphans::Fix::Shrink(leg, qty) => {
                    let change = tv::ModifyOrder {
                        qty: Some(*qty),
                        limit_price: None,
                        stop_price: None,
                        duration: None,
                        brackets: tv::Brackets::default(),
                    };
                    let done = self.desk(table).modify_live(account, leg, &change).await;
                    (leg.order_id.0.to_string(), done, "cut to its position")
                }
            };
            match done {
                Ok(()) => {
                    orphans.done(account, &order_id);
                    tracing::warn!(account, order_id = %order_id, what, "IBKR bracket leg outlived or outgrew its position");
                }
                Err(e) => {
                    tracing::warn!(account, order_id = %order_id, error = %e, "IBKR bracket leg left by its position could not be fixed")
                }
            }
        }
        if !due.is_empty() {
            self.written(account);
        }
    }

    /// The user's accounts among the gateway's.
    async fn visible(&self, session: &SessionCtx) -> BrokerResult<Vec<session::AccountInfo>> {
        let user = self.registry.get(&session.session_id)?;
        let all = self.gateway.accounts().await?;
        Ok(all
            .iter()
            .filter(|a| user.allowed.as_ref().is_none_or(|ids| ids.contains(&a.id)))
            .cloned()
            .collect())
    }
}

#[async_trait]
impl Broker for IbkrBroker {
    /// IBKR answers at the base URL (any status: the probe carries no credentials), and, over OAuth, did
    /// not refuse the operator's credentials in the last minute.
    async fn readiness(&self) -> crate::broker::Readiness {
        let mut readiness = self.inner.probe.check().await;
        if let Some(reason) = self.inner.gateway.refused_reason() {
            readiness.ready = false;
            readiness.reason = Some(reason);
        }
        readiness
    }

    fn login_kind(&self) -> LoginKind {
        LoginKind::Bridge
    }

    async fn login(&self, session_id: &str, login: &Login) -> BrokerResult<LoginOutcome> {
        let Login::Bridge(user) = login else {
            return Err(BrokerError::Rejected(INVALID_LOGIN.into()));
        };
        let users = &self.inner.config.users;
        let allowed = if users.is_empty() {
            None
        } else {
            let mapped = users
                .iter()
                .find(|u| u.login == user.login)
                .ok_or_else(|| BrokerError::Rejected(INVALID_LOGIN.into()))?;
            (!mapped.accounts.is_empty()).then(|| mapped.accounts.clone())
        };
        let accounts = self.inner.gateway.accounts().await?;
        if let Some(ids) = &allowed {
            if !accounts.iter().any(|a| ids.contains(&a.id)) {
                return Err(BrokerError::Rejected(
                    "None of the IBKR accounts configured for this user is on the gateway's login".into(),
                ));
            }
        }
        self.inner
            .registry
            .insert(session_id, &user.login, Arc::new(UserSession { allowed }));
        tracing::info!(user = %user.login, transport = ?self.inner.config.transport, "IBKR login");
        Ok(LoginOutcome {
            user_id: user.login.clone(),
            display_name: user.display_name.clone(),
        })
    }

    async fn logout(&self, session: &SessionCtx) -> BrokerResult<()> {
        // The gateway's brokerage session is shared by every user: only the bridge session ends.
        self.inner.registry.logout(&session.session_id).await;
        Ok(())
    }

    async fn accounts(&self, session: &SessionCtx) -> BrokerResult<Vec<BrokerAccount>> {
        Ok(self
            .inner
            .visible(session)
            .await?
            .into_iter()
            .map(|a| BrokerAccount {
                id: a.id,
                name: a.name,
                kind: a.kind,
                currency: a.currency,
                capabilities: capabilities(),
                durations: convert::orders::durations(),
            })
            .collect())
    }

    fn durations(&self) -> Vec<tv::DurationConfig> {
        convert::orders::durations()
    }

    async fn symbol_mapping(&self) -> BrokerResult<Vec<tv::SymbolMapping>> {
        let table = self
            .inner
            .catalog
            .resolved()
            .map_or_else(|| self.inner.catalog.known(), |t| (*t).clone());
        Ok(table
            .entries
            .iter()
            .map(|e| tv::SymbolMapping {
                f: [e.symbol.clone()],
                s: e.tradingview.clone(),
            })
            .collect())
    }

    async fn instruments(&self, _session: &SessionCtx, _account: &str) -> BrokerResult<Vec<tv::Instrument>> {
        let table = self.inner.table().await?;
        let mut out = Vec::new();
        for e in &table.entries {
            let info = self.inner.catalog.contract(&self.inner.gateway, e.conid).await?;
            out.push(convert::market::instrument(&e.symbol, &info).map_err(BrokerError::Internal)?);
        }
        Ok(out)
    }

    async fn state(&self, _session: &SessionCtx, account: &str) -> BrokerResult<tv::AccountState> {
        account::state(&self.inner.gateway, account).await
    }

    async fn orders(&self, _session: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Order>> {
        let table = self.inner.table().await?;
        let (finished, live) = (&self.inner.finished, &self.inner.live);
        account::orders(&self.inner.gateway, &table, finished, live, account).await
    }

    /// Pushed (`sor`/`spl` on the WebSocket) where the socket can be used, polled otherwise; never more
    /// often than [`MIN_REFRESH`] either way.
    fn refresh_policy(&self, _account: &BrokerAccount) -> RefreshPolicy {
        let mode = match self.inner.streams {
            Some(_) => RefreshMode::Push,
            None => RefreshMode::Poll(None),
        };
        RefreshPolicy {
            mode,
            min_interval: MIN_REFRESH,
        }
    }

    fn account_changes(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        self.inner.streams.as_ref().map(stream::IbkrStreams::changes)
    }

    async fn subscribe_market(
        &self,
        symbol: &str,
    ) -> BrokerResult<tokio::sync::mpsc::Receiver<tv::MarketTick>> {
        let Some(streams) = &self.inner.streams else {
            return Err(BrokerError::Unsupported("streaming market data"));
        };
        let table = self.inner.table().await?;
        let conid = table.conid(symbol)?;
        let info = self.inner.catalog.contract(&self.inner.gateway, conid).await?;
        let size_scale = convert::market::size_scale(&info);
        let limits = history::Limits {
            data_start: self.inner.config.data_start,
            max_pages: self.inner.config.history_max_pages,
            outside_rth: self.inner.config.outside_rth,
            now: (self.inner.now)(),
        };
        stream::ticks(streams, &self.inner.gateway, symbol, (conid, size_scale), limits).await
    }

    async fn place_order(
        &self,
        session: &SessionCtx,
        account: &str,
        order: tv::PlaceOrder,
        request_id: Option<&str>,
    ) -> BrokerResult<String> {
        let table = self.inner.table().await?;
        let coid = convert::orders::coid(&session.user, request_id);
        let placed = self.inner.desk(&table).place(account, &order, &coid).await;
        self.inner.written(account);
        placed
    }

    async fn order_by_request_id(
        &self,
        session: &SessionCtx,
        account: &str,
        request_id: &str,
    ) -> BrokerResult<Option<String>> {
        let coid = convert::orders::coid(&session.user, Some(request_id));
        orders::find_by_coid(&self.inner.gateway, account, &coid).await
    }

    async fn modify_order(
        &self,
        _session: &SessionCtx,
        account: &str,
        order_id: &str,
        change: tv::ModifyOrder,
    ) -> BrokerResult<()> {
        let table = self.inner.table().await?;
        // The read TradingView's last poll (or the bridge's look-up of the order) made is recent enough to
        // change the order by its id: a read of its own would wait up to 5 s for IBKR's pacing.
        let acct = account.to_string();
        let gateway = &self.inner.gateway;
        let recent = self
            .inner
            .live
            .get(account, || {
                gateway.on_account(account, "reading orders", |api| {
                    let a = acct.clone();
                    async move { api.live_orders(&a).await }
                })
            })
            .await?;
        let modified = self
            .inner
            .desk(&table)
            .modify_listed(account, order_id, &change, Some(recent.orders.clone()))
            .await;
        self.inner.written(account);
        modified
    }

    async fn cancel_order(&self, _session: &SessionCtx, account: &str, order_id: &str) -> BrokerResult<()> {
        let table = self.inner.table().await?;
        let cancelled = self.inner.desk(&table).cancel(account, order_id).await;
        self.inner.written(account);
        cancelled
    }

    async fn preview_order(
        &self,
        _session: &SessionCtx,
        account: &str,
        order: tv::PlaceOrder,
        modifying: Option<&str>,
    ) -> BrokerResult<tv::OrderPreview> {
        if modifying.is_some() {
            return Err(BrokerError::Unsupported("previewing a modification"));
        }
        let table = self.inner.table().await?;
        let conid = table.conid(&order.instrument)?;
        let coid = convert::orders::fresh_coid();
        let target = convert::orders::Target {
            account,
            conid,
            coid: &coid,
            outside_rth: self.inner.config.outside_rth,
        };
        let parent = convert::orders::ticket(&target, &order)?;
        let mut tickets = vec![parent.clone()];
        tickets.extend(convert::orders::bracket_children(&parent, &order.brackets)?);
        let body = model::orders::OrdersBody { orders: tickets };
        let acct = account.to_string();
        let whatif = self
            .inner
            .gateway
            .call("previewing the order", |api| {
                let (acct, body) = (acct.clone(), body.clone());
                async move { api.whatif(&acct, &body).await }
            })
            .await?;
        let id = self.inner.confirms.issue(account, &order);
        Ok(preview::preview(&whatif, id))
    }

    async fn redeem_confirm_id(
        &self,
        _session: &SessionCtx,
        account: &str,
        confirm_id: &str,
        order: &tv::PlaceOrder,
    ) -> BrokerResult<()> {
        self.inner.confirms.redeem(account, confirm_id, order)
    }

    async fn positions(&self, _session: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Position>> {
        let table = self.inner.table().await?;
        let positions = account::positions(&self.inner.gateway, &table, account).await?;
        self.inner.sweep(&table, account, &positions).await;
        Ok(positions)
    }

    /// Sets, changes or removes the stop loss and take profit of a net position (the complete set
    /// TradingView sent); IBKR has no native reverse, so a change of side is refused.
    async fn modify_position(
        &self,
        _session: &SessionCtx,
        account: &str,
        position_id: &str,
        change: tv::ModifyPosition,
    ) -> BrokerResult<()> {
        let table = self.inner.table().await?;
        let position = self.inner.position(&table, account, position_id).await?;
        if change.side.is_some_and(|s| s != position.side) {
            return Err(BrokerError::Unsupported("reversing a position in one request"));
        }
        let conid = table.conid(&position.instrument)?;
        let set = self
            .inner
            .desk(&table)
            .set_position_brackets(account, conid, &position, &change.brackets)
            .await;
        self.inner.written(account);
        set
    }

    async fn close_position(
        &self,
        _session: &SessionCtx,
        account: &str,
        position_id: &str,
        amount: Option<Decimal>,
    ) -> BrokerResult<()> {
        let table = self.inner.table().await?;
        let position = self.inner.position(&table, account, position_id).await?;
        let conid = table.conid(&position.instrument)?;
        let closed = self
            .inner
            .desk(&table)
            .close(account, conid, &position, amount)
            .await;
        self.inner.written(account);
        closed.map(drop)
    }

    async fn executions(
        &self,
        _session: &SessionCtx,
        account: &str,
        instrument: Option<&str>,
        max_count: Option<usize>,
    ) -> BrokerResult<Vec<tv::Execution>> {
        let table = self.inner.table().await?;
        let recent = &self.inner.trades;
        account::executions(
            &self.inner.gateway,
            &table,
            recent,
            account,
            (instrument, max_count),
        )
        .await
    }

    async fn quotes(
        &self,
        _session: &SessionCtx,
        _account: &str,
        symbols: &[String],
    ) -> BrokerResult<Vec<tv::QuoteEntry>> {
        let table = self.inner.table().await?;
        let patience = self.inner.patience();
        prices::quotes(&self.inner.gateway, &table, symbols, patience).await
    }

    async fn depth(&self, _session: &SessionCtx, _account: &str, symbol: &str) -> BrokerResult<tv::Depth> {
        let table = self.inner.table().await?;
        let conid = table.conid(symbol)?;
        let info = self.inner.catalog.contract(&self.inner.gateway, conid).await?;
        let patience = self.inner.patience();
        let scale = convert::market::size_scale(&info);
        prices::depth(&self.inner.gateway, symbol, conid, scale, patience).await
    }

    async fn data_symbols(&self) -> BrokerResult<Vec<tv::SymbolInfo>> {
        let table = self.inner.table().await?;
        let mut out = Vec::new();
        let now = (self.inner.now)();
        let whole_day = self.inner.config.outside_rth;
        for e in &table.entries {
            let catalog = &self.inner.catalog;
            let info = catalog.contract(&self.inner.gateway, e.conid).await?;
            let instrument = convert::market::instrument(&e.symbol, &info).map_err(BrokerError::Internal)?;
            let hours = catalog
                .trading_hours(&self.inner.gateway, e, &info, now, whole_day)
                .await;
            out.push(convert::market::symbol_info(
                &e.symbol,
                &instrument,
                hours.as_deref(),
            ));
        }
        Ok(out)
    }

    async fn history(&self, query: &tv::HistoryQuery) -> BrokerResult<Vec<tv::Bar>> {
        let table = self.inner.table().await?;
        let conid = table.conid(&query.symbol)?;
        let limits = history::Limits {
            data_start: self.inner.config.data_start,
            max_pages: self.inner.config.history_max_pages,
            outside_rth: self.inner.config.outside_rth,
            now: (self.inner.now)(),
        };
        history::history(&self.inner.gateway, conid, query, limits).await
    }
}

#[cfg(test)]
#[path = "broker_tests.rs"]
mod tests;
