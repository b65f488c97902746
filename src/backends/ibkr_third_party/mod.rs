//! Interactive Brokers' Third-Party Web API v1 (`kind = "ibkr-third-party"`): a firm's registered OAuth
//! 1.0a consumer trades for many IBKR customers, each of whom granted it access once at IBKR (the login
//! page's federated login, [`federation`]), through IBKR's FIX-style resources (`/accounts`, orders by
//! `CustomerOrderId`, `/secdef`, `/marketdata`).
//!
//! Layers: `client` sends one resource call for one bridge user, signed with that user's live session
//! (`session`), and types the API's statuses (202, 204, 423); `catalog` the offered symbols and every
//! contract met; `aliases` keeps TradingView's order id across modifications (in the store); `convert`
//! maps wire types (through the one FIX code table, `convert::fix`) to TradingView's; `account`,
//! `trading`, `preview` and `prices` implement the trait's areas. This file is the thin `Broker` impl.
//! There is no history: the API has none, so the data feed is unavailable for this backend.

mod account;
mod aliases;
pub mod catalog;
pub mod client;
pub mod config;
pub mod convert;
pub mod credentials;
pub mod errors;
pub mod federation;
pub mod model;
mod preview;
mod prices;
pub mod session;
#[cfg(test)]
mod tests;
mod trading;

pub use config::IbkrThirdPartyConfig;

use crate::broker::federation::Federation;
use crate::broker::{
    Broker, BrokerAccount, BrokerError, BrokerResult, Capabilities, Login, LoginOutcome, RefreshMode,
    RefreshPolicy, SessionCtx, INVALID_LOGIN,
};
use crate::tv;
use async_trait::async_trait;
use catalog::{Catalog, Namer};
use client::{read, Api, Patience};
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Duration;

/// IBKR locks a resource polled more often than about once a second (ASSUMED interval): the hub
/// refreshes an account no more often.
pub const MIN_REFRESH: Duration = Duration::from_millis(1_100);

/// What the broker takes from the configuration besides credentials.
#[derive(Debug, Clone)]
pub struct Settings {
    pub symbols: Vec<config::SymbolConfig>,
    /// 202 on reads: asked again this often, this many times.
    pub patience: Patience,
    pub locked_backoff: Duration,
    /// An account read younger than this is served again rather than asked for ([`MIN_REFRESH`]).
    pub read_gap: Duration,
    pub quote_interval: Duration,
    pub outside_rth: bool,
}

impl Settings {
    pub fn of(c: &config::ResolvedConfig) -> Settings {
        Settings {
            symbols: c.symbols.clone(),
            patience: Patience {
                attempts: c.accepted_attempts,
                wait: c.accepted_retry,
            },
            locked_backoff: c.locked_backoff,
            read_gap: MIN_REFRESH,
            quote_interval: c.quote_interval,
            outside_rth: c.outside_rth,
        }
    }
}

struct Inner {
    api: Arc<dyn Api>,
    settings: Settings,
    catalog: Arc<Catalog>,
    aliases: aliases::Aliases,
    reads: account::Reads,
    confirms: preview::Confirms,
    market: Arc<prices::Market>,
    federation: Option<Arc<federation::IbkrFederation>>,
    /// Whether IBKR answers at the base URL (`/readyz`); `None` over a double.
    probe: Option<crate::upstream::probe::UpstreamProbe>,
}

/// The IBKR third-party broker.
#[derive(Clone)]
pub struct IbkrThirdPartyBroker {
    inner: Arc<Inner>,
}

/// What the API can do through the bridge, on every account. No brackets: the API has none.
fn capabilities() -> Capabilities {
    Capabilities {
        market_orders: true,
        limit_orders: true,
        stop_orders: true,
        stop_limit_orders: true,
        order_brackets: false,
        market_brackets: false,
        position_brackets: false,
        trailing_stop: false,
        guaranteed_stop: false,
        modify_order_price: true,
        modify_order_qty: true,
        modify_order_brackets: false,
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
        orders_history: true,
        leverage: false,
        level2: true,
        logout: true,
        track_latency: false,
        partial_fills: true,
    }
}

impl IbkrThirdPartyBroker {
    /// Reads the configuration's files and secrets; no IBKR call is made until a user logs in. The
    /// users' grants and the order id aliases live in `store`.
    pub async fn start(
        config: &IbkrThirdPartyConfig,
        store: Arc<dyn crate::store::Store>,
    ) -> anyhow::Result<Self> {
        let resolved = config.resolve_with(&|path| std::fs::read(path), &|name| std::env::var(name).ok())?;
        let transport = Arc::new(resolved.transport()?);
        let links = Arc::new(credentials::Links::new(store.clone(), resolved.link_key.clone()));
        let sessions = Arc::new(session::Sessions::new(
            transport.clone(),
            resolved.keys.clone(),
            links.clone(),
        ));
        let fed = Arc::new(federation::IbkrFederation::new(
            transport.clone(),
            resolved.clone(),
            links,
            sessions.clone(),
        ));
        let api = Arc::new(client::TpClient::new(transport, sessions));
        tracing::info!(
            base_url = %resolved.base_url,
            symbols = resolved.symbols.len(),
            requests_per_second = resolved.requests_per_second,
            "IBKR third-party backend ready; each user's session opens at their first call"
        );
        let mut broker = Self::with_api(Settings::of(&resolved), api, store);
        if let Some(inner) = Arc::get_mut(&mut broker.inner) {
            inner.federation = Some(fed);
            inner.probe = Some(crate::upstream::probe::UpstreamProbe::new(&resolved.base_url));
        }
        Ok(broker)
    }

    /// The broker over any implementation of the API (tests give a double); no federated login.
    pub fn with_api(settings: Settings, api: Arc<dyn Api>, store: Arc<dyn crate::store::Store>) -> Self {
        IbkrThirdPartyBroker {
            inner: Arc::new(Inner {
                api,
                catalog: Arc::new(Catalog::new(settings.symbols.clone())),
                aliases: aliases::Aliases::new(store),
                reads: account::Reads::new(settings.locked_backoff, settings.read_gap),
                confirms: preview::Confirms::default(),
                market: Arc::new(prices::Market::default()),
                federation: None,
                probe: None,
                settings,
            }),
        }
    }
}

impl Inner {
    fn patience(&self) -> Patience {
        self.settings.patience
    }

    fn desk<'a>(&'a self, user: &'a str, account: &'a str) -> trading::Desk<'a> {
        trading::Desk {
            api: &*self.api,
            aliases: &self.aliases,
            user,
            account,
            patience: self.settings.patience,
            locked_backoff: self.settings.locked_backoff,
            outside_rth: self.settings.outside_rth,
        }
    }

    fn namer<'a>(&'a self, user: &'a str) -> Namer<'a> {
        Namer {
            catalog: &self.catalog,
            api: &*self.api,
            user,
            patience: self.settings.patience,
        }
    }

    /// `result` of a call made for `user`: a working session makes them the market data user; one that
    /// no longer works stops them being it.
    fn seen<T>(&self, user: &str, result: BrokerResult<T>) -> BrokerResult<T> {
        match &result {
            Err(BrokerError::LogInAgain(_) | BrokerError::Unauthorized(_)) => self.market.drop_user(user),
            Ok(_) => self.market.touch(user),
            Err(_) => {}
        }
        result
    }

    async fn raw_positions(&self, user: &str, account: &str) -> BrokerResult<Vec<tv::Position>> {
        let api = &*self.api;
        let rows = self
            .reads
            .positions
            .get(user, account, self.patience(), || api.positions(user, account))
            .await?;
        let namer = self.namer(user);
        let mut out = Vec::with_capacity(rows.len());
        for p in &rows {
            let symbol = namer.symbol(p.contract_id.0, None).await;
            out.extend(convert::account::position(p, &symbol));
        }
        Ok(out)
    }

    async fn raw_orders(&self, user: &str, account: &str) -> BrokerResult<Vec<tv::Order>> {
        let api = &*self.api;
        let list = self
            .reads
            .orders
            .get(user, account, self.patience(), || api.orders(user, account))
            .await?;
        account::tv_orders(&list, account, &self.aliases, &self.namer(user)).await
    }

    async fn fills(&self, user: &str, account: &str) -> BrokerResult<Vec<model::trades::Trade>> {
        let since = account::trades_since(None, chrono::Utc::now().timestamp());
        read("reading the fills", self.patience(), || {
            self.api.trades(user, account, Some(&since))
        })
        .await
    }
}

#[async_trait]
impl Broker for IbkrThirdPartyBroker {
    /// IBKR answers at the base URL (any status: the probe carries no credentials).
    async fn readiness(&self) -> crate::broker::Readiness {
        match &self.inner.probe {
            Some(probe) => probe.check().await,
            None => crate::broker::Readiness::local(),
        }
    }

    fn federation(&self) -> Option<Arc<dyn Federation>> {
        self.inner.federation.clone().map(|f| f as Arc<dyn Federation>)
    }

    /// The user's grant is checked by reading their accounts; accounts not yet available (before IBKR's
    /// nightly refresh) do not stop the login: `/accounts` then says why there are none.
    async fn login(&self, _session_id: &str, login: &Login) -> BrokerResult<LoginOutcome> {
        let Login::Bridge(user) = login else {
            return Err(BrokerError::Rejected(INVALID_LOGIN.into()));
        };
        let inner = &self.inner;
        inner.reads.forget(&user.login);
        match inner
            .reads
            .accounts(&*inner.api, &user.login, inner.patience())
            .await
        {
            Ok(ids) => {
                inner.market.touch(&user.login);
                tracing::info!(user = %user.login, accounts = ids.len(), "IBKR third-party login");
            }
            Err(BrokerError::Rejected(m)) if m == errors::NIGHTLY_REFRESH => {
                inner.market.touch(&user.login);
                tracing::info!(user = %user.login, "IBKR third-party login; accounts available after IBKR's nightly refresh");
            }
            Err(e) => {
                if matches!(e, BrokerError::LogInAgain(_) | BrokerError::Unauthorized(_)) {
                    inner.market.drop_user(&user.login);
                }
                return Err(e);
            }
        }
        Ok(LoginOutcome {
            user_id: user.login.clone(),
            display_name: user.display_name.clone(),
        })
    }

    async fn accounts(&self, session: &SessionCtx) -> BrokerResult<Vec<BrokerAccount>> {
        let inner = &self.inner;
        let user = session.user.as_str();
        let ids = inner.seen(
            user,
            inner.reads.accounts(&*inner.api, user, inner.patience()).await,
        )?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let api = &*inner.api;
            // The currency from the summary (its last good answer while IBKR locks it); unknown: USD.
            let currency = inner
                .reads
                .summary
                .get(user, &id, inner.patience(), || api.summary(user, &id))
                .await
                .ok()
                .and_then(|s| s.currency)
                .unwrap_or_else(|| "USD".into());
            out.push(BrokerAccount {
                name: id.clone(),
                id,
                kind: tv::AccountType::Live,
                currency,
                capabilities: capabilities(),
                durations: convert::orders::durations(),
            });
        }
        Ok(out)
    }

    fn durations(&self) -> Vec<tv::DurationConfig> {
        convert::orders::durations()
    }

    async fn symbol_mapping(&self) -> BrokerResult<Vec<tv::SymbolMapping>> {
        Ok(self
            .inner
            .catalog
            .mapping()
            .into_iter()
            .map(|(f, s)| tv::SymbolMapping { f: [f], s })
            .collect())
    }

    async fn instruments(&self, session: &SessionCtx, _account: &str) -> BrokerResult<Vec<tv::Instrument>> {
        let inner = &self.inner;
        let mut out = Vec::new();
        let symbols: Vec<String> = inner.catalog.symbols().map(str::to_string).collect();
        for s in symbols {
            let c = inner.seen(
                &session.user,
                inner
                    .catalog
                    .contract(&*inner.api, &session.user, inner.patience(), &s)
                    .await,
            )?;
            out.push(convert::market::instrument(&c, inner.market.is_delayed(c.conid)));
        }
        Ok(out)
    }

    async fn state(&self, session: &SessionCtx, account: &str) -> BrokerResult<tv::AccountState> {
        let inner = &self.inner;
        let user = session.user.as_str();
        let api = &*inner.api;
        let summary = inner.seen(
            user,
            inner
                .reads
                .summary
                .get(user, account, inner.patience(), || api.summary(user, account))
                .await,
        )?;
        convert::account::state(&summary).map_err(BrokerError::Internal)
    }

    async fn orders(&self, session: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Order>> {
        let inner = &self.inner;
        inner.seen(&session.user, inner.raw_orders(&session.user, account).await)
    }

    async fn positions(&self, session: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Position>> {
        let inner = &self.inner;
        inner.seen(&session.user, inner.raw_positions(&session.user, account).await)
    }

    fn refresh_policy(&self, _account: &BrokerAccount) -> RefreshPolicy {
        RefreshPolicy {
            mode: RefreshMode::Poll(None),
            min_interval: MIN_REFRESH,
        }
    }

    async fn order_by_request_id(
        &self,
        session: &SessionCtx,
        account: &str,
        request_id: &str,
    ) -> BrokerResult<Option<String>> {
        let inner = &self.inner;
        let id = trading::coid(&session.user, Some(request_id));
        let found = inner.desk(&session.user, account).find(id).await;
        Ok(inner.seen(&session.user, found)?.map(|_| id.to_string()))
    }

    async fn place_order(
        &self,
        session: &SessionCtx,
        account: &str,
        order: tv::PlaceOrder,
        request_id: Option<&str>,
    ) -> BrokerResult<String> {
        let inner = &self.inner;
        let user = session.user.as_str();
        let conid = inner.seen(
            user,
            inner
                .catalog
                .conid(&*inner.api, user, inner.patience(), &order.instrument)
                .await,
        )?;
        let id = trading::coid(user, request_id);
        let placed = inner.desk(user, account).place("place", &order, conid, id).await;
        inner.reads.changed(user, account);
        inner.seen(user, placed)
    }

    async fn modify_order(
        &self,
        session: &SessionCtx,
        account: &str,
        order_id: &str,
        change: tv::ModifyOrder,
    ) -> BrokerResult<()> {
        let inner = &self.inner;
        let user = session.user.as_str();
        let conid_of = |o: &model::orders::Order| o.contract_id.map(|c| c.0);
        let modified = inner
            .desk(user, account)
            .modify(order_id, conid_of, &change)
            .await;
        inner.reads.changed(user, account);
        inner.seen(user, modified)
    }

    async fn cancel_order(&self, session: &SessionCtx, account: &str, order_id: &str) -> BrokerResult<()> {
        let inner = &self.inner;
        let cancelled = inner.desk(&session.user, account).cancel(order_id).await;
        inner.reads.changed(&session.user, account);
        inner.seen(&session.user, cancelled)
    }

    async fn preview_order(
        &self,
        session: &SessionCtx,
        account: &str,
        order: tv::PlaceOrder,
        modifying: Option<&str>,
    ) -> BrokerResult<tv::OrderPreview> {
        if modifying.is_some() {
            return Err(BrokerError::Unsupported("previewing a modification"));
        }
        let inner = &self.inner;
        let user = session.user.as_str();
        let conid = inner.seen(
            user,
            inner
                .catalog
                .conid(&*inner.api, user, inner.patience(), &order.instrument)
                .await,
        )?;
        let body = convert::orders::request(&order, conid, None, inner.settings.outside_rth)?;
        let impact = read("previewing the order", inner.patience(), || {
            inner.api.impact(user, account, &body)
        })
        .await;
        let impact = inner.seen(user, impact)?;
        let id = inner.confirms.issue(account, &order);
        Ok(preview::preview(&impact, id))
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

    /// An opposite market order of the position's size (or of `amount`, at most the size).
    async fn close_position(
        &self,
        session: &SessionCtx,
        account: &str,
        position_id: &str,
        amount: Option<Decimal>,
    ) -> BrokerResult<()> {
        let inner = &self.inner;
        let user = session.user.as_str();
        let positions = inner.seen(user, inner.raw_positions(user, account).await)?;
        let position = positions
            .into_iter()
            .find(|p| p.id == position_id)
            .ok_or_else(|| {
                BrokerError::NotFound(format!(
                    "Unknown position '{}'",
                    position_id.chars().take(32).collect::<String>()
                ))
            })?;
        let qty = match amount {
            Some(a) if a <= Decimal::ZERO || a > position.qty => {
                return Err(BrokerError::Rejected(format!(
                    "The amount to close must be more than 0 and at most the position's {}",
                    position.qty
                )))
            }
            Some(a) => a,
            None => position.qty,
        };
        let conid = inner
            .catalog
            .known_conid(&position.instrument)
            .ok_or_else(|| BrokerError::Internal(format!("no contract known for {}", position.instrument)))?;
        let order = tv::PlaceOrder::new(
            &position.instrument,
            position.side.opposite(),
            tv::OrderType::Market,
            qty,
        );
        let id = trading::fresh();
        // The placement's log line says it closes a position.
        let placed = inner
            .desk(user, account)
            .place("close position", &order, conid, id)
            .await;
        inner.reads.changed(user, account);
        inner.seen(user, placed).map(drop)
    }

    async fn executions(
        &self,
        session: &SessionCtx,
        account: &str,
        instrument: Option<&str>,
        max_count: Option<usize>,
    ) -> BrokerResult<Vec<tv::Execution>> {
        let inner = &self.inner;
        let user = session.user.as_str();
        let fills = inner.seen(user, inner.fills(user, account).await)?;
        let namer = inner.namer(user);
        let mut out = Vec::with_capacity(fills.len());
        for t in &fills {
            let symbol = match t.contract_id {
                Some(c) => namer.symbol(c.0, t.ticker.as_deref()).await,
                None => t.ticker.clone().unwrap_or_else(|| "?".into()),
            };
            if instrument.is_some_and(|i| i != symbol) {
                continue;
            }
            let order_id = match t.customer_order_id {
                Some(c) => inner.aliases.tv_id(account, c).await?.to_string(),
                None => t.order_id.clone().unwrap_or_default(),
            };
            match convert::account::execution(t, symbol, order_id) {
                Ok(e) => out.push(e),
                Err(e) => tracing::warn!(account, error = %e, "IBKR fill cannot be shown"),
            }
        }
        out.sort_by_key(|e| std::cmp::Reverse(e.time));
        if let Some(n) = max_count {
            out.truncate(n);
        }
        Ok(out)
    }

    /// Today's orders that ended (from `/orders`), and the orders of the past week's fills not among them
    /// (from `/trades`), newest first.
    async fn orders_history(
        &self,
        session: &SessionCtx,
        account: &str,
        max_count: Option<usize>,
    ) -> BrokerResult<Vec<tv::Order>> {
        let inner = &self.inner;
        let user = session.user.as_str();
        let mut out: Vec<tv::Order> = inner
            .seen(user, inner.raw_orders(user, account).await)?
            .into_iter()
            .filter(|o| o.status.is_final())
            .collect();
        let fills = inner.seen(user, inner.fills(user, account).await)?;
        let namer = inner.namer(user);
        let mut by_order: std::collections::BTreeMap<String, tv::Order> = Default::default();
        for t in &fills {
            let Some(c) = t.customer_order_id else { continue };
            let id = inner.aliases.tv_id(account, c).await?.to_string();
            if out.iter().any(|o| o.id == id) {
                continue;
            }
            let symbol = match t.contract_id {
                Some(conid) => namer.symbol(conid.0, t.ticker.as_deref()).await,
                None => t.ticker.clone().unwrap_or_else(|| "?".into()),
            };
            if let Some(o) = convert::orders::from_fill(t, id.clone(), symbol) {
                by_order
                    .entry(id)
                    .and_modify(|seen| {
                        if o.last_modified > seen.last_modified {
                            *seen = o.clone();
                        }
                    })
                    .or_insert(o);
            }
        }
        out.extend(by_order.into_values());
        out.sort_by_key(|o| std::cmp::Reverse(o.last_modified));
        if let Some(n) = max_count {
            out.truncate(n);
        }
        Ok(out)
    }

    async fn quotes(
        &self,
        session: &SessionCtx,
        _account: &str,
        symbols: &[String],
    ) -> BrokerResult<Vec<tv::QuoteEntry>> {
        let inner = &self.inner;
        let user = session.user.as_str();
        let q = prices::quotes(
            &*inner.api,
            &inner.catalog,
            &inner.market,
            user,
            inner.patience(),
            symbols,
        )
        .await;
        inner.seen(user, q)
    }

    async fn depth(&self, session: &SessionCtx, _account: &str, symbol: &str) -> BrokerResult<tv::Depth> {
        let inner = &self.inner;
        let user = session.user.as_str();
        let d = prices::depth(
            &*inner.api,
            &inner.catalog,
            &inner.market,
            user,
            inner.patience(),
            symbol,
        )
        .await;
        inner.seen(user, d)
    }

    async fn subscribe_market(
        &self,
        symbol: &str,
    ) -> BrokerResult<tokio::sync::mpsc::Receiver<tv::MarketTick>> {
        let inner = &self.inner;
        if !inner.catalog.symbols().any(|s| s == symbol) {
            return Err(BrokerError::NotFound(format!(
                "Unknown symbol '{}'",
                symbol.chars().take(32).collect::<String>()
            )));
        }
        Ok(prices::stream(
            inner.api.clone(),
            inner.catalog.clone(),
            inner.market.clone(),
            symbol.to_string(),
            inner.settings.quote_interval,
            inner.patience(),
        ))
    }
}
