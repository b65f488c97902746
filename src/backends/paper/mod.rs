//! The built-in paper broker: a simulated broker with a deterministic price feed and a matching engine,
//! run as an actor that owns its state, takes jobs on a channel and answers on oneshots once the change
//! is in the state store. Replicas sharing a store are one broker.

mod actor;
mod books;
mod clock;
mod config;
mod data;
mod data_start;
mod engine;
pub mod feed;
mod history;
mod market;
mod persist;

pub use books::MAX_STATE_BYTES;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{default_instruments, InstrumentConfig, PaperConfig};
pub use data_start::DataStart;
pub use engine::{Engine, PaperState};
pub use engine::{MAX_ACTIVE_ORDERS, MAX_POSITIONS};
pub use history::{HistoryStats, BAR_COST, MINUTE_BUDGET};
pub use market::Market;

use crate::broker::{
    Broker, BrokerAccount, BrokerError, BrokerResult, Capabilities, Login, LoginOutcome, SessionCtx,
    INVALID_LOGIN,
};
use crate::store::{MemoryStore, Store};
use crate::tv;
use async_trait::async_trait;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};

/// Handle to the paper broker actor.
pub struct PaperBroker {
    jobs: mpsc::Sender<actor::Job>,
    events: broadcast::Sender<String>,
    /// The market is a pure function of time: market data is served from here, outside the actor.
    market: Arc<Market>,
    clock: Arc<dyn Clock>,
    history: Arc<history::PaperHistory>,
}

impl PaperBroker {
    /// Starts the actor on the wall clock, its books in memory only (tests and tools).
    pub async fn start(config: PaperConfig) -> anyhow::Result<Self> {
        Self::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Starts the actor on `clock` (tests pass a [`ManualClock`]), its books in memory only.
    pub async fn start_with_clock(config: PaperConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        Self::start_with_store_and_clock(config, Arc::new(MemoryStore::new()), clock).await
    }

    /// Starts the actor on the wall clock with its books in `store`.
    pub async fn start_with_store(config: PaperConfig, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        Self::start_with_store_and_clock(config, store, Arc::new(SystemClock)).await
    }

    /// Starts the actor on `clock` with its books in `store`: resumed from it, or imported from
    /// `backend.state_file` when the store holds none yet.
    pub async fn start_with_store_and_clock(
        config: PaperConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let data_start = config
            .data_start
            .check()
            .map_err(|problem| anyhow::anyhow!(problem))?;
        let instruments = config.effective_instruments();
        for ins in &instruments {
            let market = Market::new(config.seed, vec![ins.clone()]);
            if let Some(p) = market.instruments().first() {
                p.feed
                    .validate()
                    .map_err(|e| anyhow::anyhow!("backend.instruments: {e}"))?;
            }
        }
        let market = Market::new(config.seed, instruments);
        // Every P/L, pip value and margin is converted into the account currencies: refuse at start-up an
        // instrument whose currency no FX pair connects to them, rather than failing every request later.
        let probe = clock.now_ms().div_euclid(1000);
        for ins in market.instruments() {
            for account_ccy in engine::ACCOUNT_CURRENCIES {
                if market.rate(&ins.cfg.currency, account_ccy, probe).is_none() {
                    anyhow::bail!(
                        "backend.instruments ({}): no FX instrument converts {} into the account currency {}",
                        ins.cfg.symbol,
                        ins.cfg.currency,
                        account_ccy
                    );
                }
            }
        }
        let ttl = Duration::from_secs(u64::from(config.state_ttl_days.max(1)) * 86_400);
        let (books, saved) = books::Books::open(store, ttl, config.state_file.as_deref()).await?;
        if saved.is_some() {
            tracing::info!("paper books resumed from the state store");
        }
        let shared_market = Arc::new(market.clone());
        // A user's accounts are opened at their first login (`ensure_accounts`), saved ones reloaded.
        let engine = Engine::new(market, saved, config.initial_balance, clock.now_ms());
        let (jobs, rx) = mpsc::channel::<actor::Job>(1024);
        let (events, _) = broadcast::channel(1024);
        let actor = actor::Actor {
            engine,
            books,
            clock: clock.clone(),
            tick: Duration::from_millis(config.tick_interval_ms),
            events: events.clone(),
        };
        tokio::spawn(actor.run(rx));
        let history = history::PaperHistory::new(
            shared_market.clone(),
            clock.clone(),
            data_start,
            config.history_concurrency,
        );
        Ok(PaperBroker {
            jobs,
            market: shared_market,
            clock: clock.clone(),
            history: Arc::new(history),
            events,
        })
    }

    /// Account ids whose orders, positions or balances changed, as they change.
    pub fn subscribe_changes(&self) -> broadcast::Receiver<String> {
        self.events.subscribe()
    }

    /// What the history has computed so far and how many daily bars it keeps (a work counter for tests and
    /// benchmarks).
    pub fn history_stats(&self) -> HistoryStats {
        self.history.stats()
    }

    /// Runs `f` on the engine inside the actor and returns its result once any change it made is saved.
    /// `f` may run more than once: when another replica changed the books first, it runs again on theirs.
    pub async fn call<R: Send + 'static>(
        &self,
        mut f: impl FnMut(&mut Engine, i64) -> R + Send + 'static,
    ) -> BrokerResult<R> {
        let (tx, rx) = oneshot::channel::<BrokerResult<R>>();
        let job = actor::Job {
            run: Box::new(move |engine, now| Box::new(f(engine, now)) as actor::Output),
            reply: Box::new(move |outcome| {
                let outcome = outcome.and_then(|out| {
                    out.downcast::<R>()
                        .map(|r| *r)
                        .map_err(|_| BrokerError::Internal("paper engine answered another type".into()))
                });
                let _ = tx.send(outcome);
            }),
        };
        self.jobs
            .send(job)
            .await
            .map_err(|_| BrokerError::Unavailable("paper engine stopped".into()))?;
        rx.await
            .map_err(|_| BrokerError::Internal("paper engine dropped a request".into()))?
    }

    /// The paper broker's durations; every account accepts all of them.
    fn duration_rows() -> Vec<tv::DurationConfig> {
        use tv::OrderType::*;
        let pending = vec![Limit, Stop, StopLimit];
        vec![
            tv::DurationConfig::new(engine::GTC, "Good till cancelled", false, true, &pending),
            tv::DurationConfig::new(engine::DAY, "Day", false, false, &pending),
            tv::DurationConfig::new(engine::GTT, "Good till time", true, false, &pending),
        ]
    }

    fn capabilities(hedging: bool) -> Capabilities {
        Capabilities {
            market_orders: true,
            limit_orders: true,
            stop_orders: true,
            stop_limit_orders: true,
            order_brackets: true,
            market_brackets: true,
            position_brackets: true,
            trailing_stop: true,
            guaranteed_stop: true,
            modify_order_price: true,
            modify_order_qty: true,
            modify_order_brackets: true,
            modify_order_duration: true,
            hedging,
            close_position: true,
            partial_close: true,
            native_reverse: !hedging,
            opposite_orders_reduce: false,
            order_preview: true,
            order_info: true,
            crypto_balances: false,
            executions: true,
            orders_history: true,
            leverage: true,
            level2: true,
            logout: true,
            track_latency: true,
            partial_fills: false,
        }
    }
}

impl Drop for PaperBroker {
    /// History computations still running on blocking threads stop: they must not outlive the broker.
    fn drop(&mut self) {
        self.history.close();
    }
}

#[async_trait]
impl Broker for PaperBroker {
    async fn login(&self, _session_id: &str, login: &Login) -> BrokerResult<LoginOutcome> {
        // Only bridge users trade here, and the core has checked their password.
        let Login::Bridge(user) = login else {
            return Err(BrokerError::Rejected(INVALID_LOGIN.into()));
        };
        let name = user.login.clone();
        self.call(move |engine, _| engine.ensure_accounts(&name)).await?;
        Ok(LoginOutcome {
            user_id: user.login.clone(),
            display_name: user.display_name.clone(),
        })
    }

    async fn accounts(&self, session: &SessionCtx) -> BrokerResult<Vec<BrokerAccount>> {
        let user = session.user.clone();
        self.call(move |engine, _| {
            engine
                .accounts_of(&user)
                .into_iter()
                .map(|a| BrokerAccount {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    kind: tv::AccountType::Demo,
                    currency: a.currency.clone(),
                    capabilities: PaperBroker::capabilities(a.hedging),
                    durations: PaperBroker::duration_rows(),
                })
                .collect()
        })
        .await
    }

    fn durations(&self) -> Vec<tv::DurationConfig> {
        PaperBroker::duration_rows()
    }

    async fn symbol_mapping(&self) -> BrokerResult<Vec<tv::SymbolMapping>> {
        self.call(|engine, _| {
            engine
                .market()
                .instruments()
                .iter()
                .map(|i| tv::SymbolMapping {
                    f: [i.cfg.symbol.clone()],
                    s: i.cfg.tradingview_symbol.clone(),
                })
                .collect()
        })
        .await
    }

    async fn instruments(&self, _s: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Instrument>> {
        let account = account.to_owned();
        self.call(move |e, now| e.instruments(&account, now)).await?
    }

    async fn state(&self, _s: &SessionCtx, account: &str) -> BrokerResult<tv::AccountState> {
        let account = account.to_owned();
        self.call(move |e, now| e.account_state(&account, now)).await?
    }

    async fn orders(&self, _s: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Order>> {
        let account = account.to_owned();
        self.call(move |e, _| e.orders(&account)).await?
    }

    async fn place_order(
        &self,
        _s: &SessionCtx,
        account: &str,
        order: tv::PlaceOrder,
        request_id: Option<&str>,
    ) -> BrokerResult<String> {
        let (account, request_id) = (account.to_owned(), request_id.map(String::from));
        self.call(move |e, now| {
            e.atomically(&account, |e| {
                e.place_once(&account, order.clone(), request_id.as_deref(), now)
            })
        })
        .await?
    }

    /// The paper broker keeps each account's `requestId`s with their orders (a day), in its books.
    async fn order_by_request_id(
        &self,
        _s: &SessionCtx,
        account: &str,
        request_id: &str,
    ) -> BrokerResult<Option<String>> {
        let (account, request_id) = (account.to_owned(), request_id.to_owned());
        self.call(move |e, now| e.order_for_request(&account, &request_id, now))
            .await?
    }

    async fn modify_order(
        &self,
        _s: &SessionCtx,
        account: &str,
        order_id: &str,
        change: tv::ModifyOrder,
    ) -> BrokerResult<()> {
        let (account, order_id) = (account.to_owned(), order_id.to_owned());
        self.call(move |e, now| {
            e.atomically(&account, |e| e.modify(&account, &order_id, change.clone(), now))
        })
        .await?
    }

    async fn cancel_order(&self, _s: &SessionCtx, account: &str, order_id: &str) -> BrokerResult<()> {
        let (account, order_id) = (account.to_owned(), order_id.to_owned());
        self.call(move |e, now| e.atomically(&account, |e| e.cancel(&account, &order_id, now)))
            .await?
    }

    async fn preview_order(
        &self,
        _s: &SessionCtx,
        account: &str,
        order: tv::PlaceOrder,
        _modifying: Option<&str>,
    ) -> BrokerResult<tv::OrderPreview> {
        let account = account.to_owned();
        self.call(move |e, now| e.preview(&account, order.clone(), now))
            .await?
    }

    async fn redeem_confirm_id(
        &self,
        _s: &SessionCtx,
        account: &str,
        confirm_id: &str,
        order: &tv::PlaceOrder,
    ) -> BrokerResult<()> {
        let (account, confirm_id, order) = (account.to_owned(), confirm_id.to_owned(), order.clone());
        self.call(move |e, now| {
            e.atomically(&account, |e| e.redeem_confirm(&account, &confirm_id, &order, now))
        })
        .await?
    }

    async fn order_info(
        &self,
        _s: &SessionCtx,
        account: &str,
        order: tv::PlaceOrder,
    ) -> BrokerResult<tv::OrderInfo> {
        let account = account.to_owned();
        self.call(move |e, now| e.order_info(&account, &order, now))
            .await?
    }

    async fn positions(&self, _s: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Position>> {
        let account = account.to_owned();
        self.call(move |e, now| e.positions(&account, now)).await?
    }

    async fn modify_position(
        &self,
        _s: &SessionCtx,
        account: &str,
        id: &str,
        change: tv::ModifyPosition,
    ) -> BrokerResult<()> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.call(move |e, now| {
            e.atomically(&account, |e| {
                e.modify_position(&account, &id, change.clone(), now)
            })
        })
        .await?
    }

    async fn close_position(
        &self,
        _s: &SessionCtx,
        account: &str,
        id: &str,
        amount: Option<Decimal>,
    ) -> BrokerResult<()> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.call(move |e, now| e.atomically(&account, |e| e.close_position(&account, &id, amount, now)))
            .await?
    }

    async fn net_positions(&self, _s: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::NetPosition>> {
        let account = account.to_owned();
        self.call(move |e, _| e.net_positions(&account)).await?
    }

    async fn close_net_position(&self, _s: &SessionCtx, account: &str, id: &str) -> BrokerResult<()> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.call(move |e, now| e.atomically(&account, |e| e.close_net_position(&account, &id, now)))
            .await?
    }

    async fn individual_positions(
        &self,
        _s: &SessionCtx,
        account: &str,
    ) -> BrokerResult<Vec<tv::IndividualPosition>> {
        let account = account.to_owned();
        self.call(move |e, now| e.individual_positions(&account, now))
            .await?
    }

    async fn modify_individual_position(
        &self,
        _s: &SessionCtx,
        account: &str,
        id: &str,
        brackets: tv::Brackets,
    ) -> BrokerResult<()> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.call(move |e, now| {
            e.atomically(&account, |e| {
                e.modify_individual_position(&account, &id, brackets.clone(), now)
            })
        })
        .await?
    }

    async fn close_individual_position(
        &self,
        _s: &SessionCtx,
        account: &str,
        id: &str,
        amount: Option<Decimal>,
    ) -> BrokerResult<()> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.call(move |e, now| e.atomically(&account, |e| e.close_position(&account, &id, amount, now)))
            .await?
    }

    async fn executions(
        &self,
        _s: &SessionCtx,
        account: &str,
        instrument: Option<&str>,
        max: Option<usize>,
    ) -> BrokerResult<Vec<tv::Execution>> {
        let (account, instrument) = (account.to_owned(), instrument.map(String::from));
        self.call(move |e, _| e.executions(&account, instrument.as_deref(), max))
            .await?
    }

    async fn orders_history(
        &self,
        _s: &SessionCtx,
        account: &str,
        max: Option<usize>,
    ) -> BrokerResult<Vec<tv::Order>> {
        let account = account.to_owned();
        self.call(move |e, _| e.orders_history(&account, max)).await?
    }

    async fn get_leverage(
        &self,
        _s: &SessionCtx,
        account: &str,
        q: tv::LeverageQuery,
    ) -> BrokerResult<tv::LeverageInfo> {
        let account = account.to_owned();
        self.call(move |e, _| e.get_leverage(&account, &q.instrument))
            .await?
    }

    async fn set_leverage(
        &self,
        _s: &SessionCtx,
        account: &str,
        q: tv::LeverageQuery,
        leverage: Decimal,
    ) -> BrokerResult<tv::LeverageSet> {
        let account = account.to_owned();
        self.call(move |e, now| {
            e.atomically(&account, |e| {
                e.set_leverage(&account, &q.instrument, leverage, now)
            })
        })
        .await?
    }

    async fn preview_leverage(
        &self,
        _s: &SessionCtx,
        account: &str,
        q: tv::LeverageQuery,
        leverage: Decimal,
    ) -> BrokerResult<tv::LeveragePreview> {
        let account = account.to_owned();
        self.call(move |e, now| e.preview_leverage(&account, &q.instrument, leverage, now))
            .await?
    }

    async fn quotes(
        &self,
        _s: &SessionCtx,
        account: &str,
        symbols: &[String],
    ) -> BrokerResult<Vec<tv::QuoteEntry>> {
        let (account, symbols) = (account.to_owned(), symbols.to_vec());
        self.call(move |e, now| e.quotes(&account, &symbols, now)).await?
    }

    fn account_changes(&self) -> Option<broadcast::Receiver<String>> {
        Some(self.events.subscribe())
    }

    /// Every change is announced on `account_changes`; the hub polls only for valuations.
    fn refresh_policy(&self, _account: &BrokerAccount) -> crate::broker::RefreshPolicy {
        crate::broker::RefreshPolicy::PUSH
    }

    async fn subscribe_market(&self, symbol: &str) -> BrokerResult<mpsc::Receiver<tv::MarketTick>> {
        data::subscribe(self.market.clone(), self.clock.clone(), symbol)
    }

    async fn data_symbols(&self) -> BrokerResult<Vec<tv::SymbolInfo>> {
        Ok(data::symbols(&self.market))
    }

    fn warm_up(&self) {
        self.history.warm_up();
    }

    async fn history(&self, query: &tv::HistoryQuery) -> BrokerResult<Vec<tv::Bar>> {
        self.history.bars(query).await
    }

    async fn depth(&self, _s: &SessionCtx, _account: &str, symbol: &str) -> BrokerResult<tv::Depth> {
        let symbol = symbol.to_owned();
        self.call(move |e, now| e.depth(&symbol, now)).await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::BridgeUser;

    async fn demo_login(broker: &PaperBroker) {
        let demo = Login::Bridge(BridgeUser {
            login: "demo".into(),
            display_name: "demo".into(),
        });
        broker.login("s", &demo).await.unwrap();
    }

    #[tokio::test]
    async fn a_login_opens_the_users_accounts_and_a_pass_through_login_is_refused() {
        let broker = PaperBroker::start(PaperConfig::default()).await.unwrap();
        let accounts = broker.call(|engine, _| engine.accounts_of("demo").len()).await;
        assert_eq!(accounts, Ok(0), "nobody logged in yet");
        demo_login(&broker).await;
        let accounts = broker.call(|engine, _| engine.accounts_of("demo").len()).await;
        assert_eq!(accounts, Ok(2));
        let typed = Login::PassThrough(crate::broker::Credentials {
            login: "demo".into(),
            password: crate::secret::Secret::new("demo"),
        });
        assert_eq!(
            broker.login("t", &typed).await,
            Err(BrokerError::Rejected(INVALID_LOGIN.into()))
        );
    }

    #[tokio::test]
    async fn a_panicking_request_does_not_stop_the_broker() {
        let broker = PaperBroker::start(PaperConfig::default()).await.unwrap();
        demo_login(&broker).await;
        let failed = broker.call(|_, _| -> usize { panic!("simulated bug") }).await;
        assert_eq!(
            failed,
            Err(BrokerError::Internal("paper engine dropped a request".into()))
        );
        let accounts = broker.call(|engine, _| engine.accounts_of("demo").len()).await;
        assert_eq!(accounts, Ok(2));
    }

    /// The account hub of the next issue listens to these to push stream updates.
    #[tokio::test]
    async fn changes_are_announced_per_account() {
        let broker = PaperBroker::start(PaperConfig::default()).await.unwrap();
        demo_login(&broker).await;
        // A first round-trip flushes the events of the accounts' creation.
        broker.call(|_, _| ()).await.unwrap();
        let mut changes = broker.subscribe_changes();
        let order = tv::PlaceOrder::new(
            "EURUSD",
            tv::Side::Buy,
            tv::OrderType::Market,
            Decimal::from(1000),
        );
        let ctx = SessionCtx {
            session_id: "s".into(),
            user: "demo".into(),
        };
        broker.place_order(&ctx, "demo-net", order, None).await.unwrap();
        let changed = tokio::time::timeout(Duration::from_secs(2), changes.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(changed, "demo-net");
    }
}

#[cfg(test)]
mod store_tests;
