//! The backend abstraction: the `Broker` trait every upstream implements, its capabilities and errors.
//!
//! Handlers only ever see `Arc<dyn Broker>`; nothing backend-specific crosses this line.

mod capabilities;
mod error;
pub mod federation;
mod login;
mod readiness;
mod snapshot;

pub use capabilities::Capabilities;
pub use error::BrokerError;
pub use login::{BridgeUser, Login, LoginKind, INVALID_LOGIN};
pub use readiness::Readiness;
pub use snapshot::{joined_snapshot, AccountSnapshot, RefreshMode, RefreshPolicy};

use crate::secret::Secret;
use crate::tv;
use async_trait::async_trait;
use rust_decimal::Decimal;
use tokio::sync::{broadcast, mpsc};

/// Result of a broker call.
pub type BrokerResult<T> = Result<T, BrokerError>;

/// The bridge session a call is made for (one per `/authorize`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCtx {
    /// Bridge session id; backends key their upstream sessions by it.
    pub session_id: String,
    /// The user's login as the bridge knows it.
    pub user: String,
}

/// Login and password as TradingView sent them to `/authorize`.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub login: String,
    pub password: Secret,
}

/// What a successful login yields.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginOutcome {
    /// Stable user id (the session's `user`).
    pub user_id: String,
    /// Name shown in `/userInfo`.
    pub display_name: String,
}

/// An account as a backend describes it; the HTTP layer turns it into `tv::Account`.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerAccount {
    pub id: String,
    pub name: String,
    pub kind: tv::AccountType,
    pub currency: String,
    pub capabilities: Capabilities,
    /// The order durations this account accepts, as `/config` rows. Accounts of one backend may differ (an
    /// OANDA v1 account has no GFD or IOC), so the HTTP layer checks an order's duration against its own
    /// account's list, and `/config` offers what at least one of the user's accounts accepts.
    pub durations: Vec<tv::DurationConfig>,
}

/// A trading backend. Methods that a backend cannot serve keep their default, which answers
/// `BrokerError::Unsupported`; its `Capabilities` must then leave the matching flag off.
///
/// Every `account` argument has already been checked to belong to the session.
#[async_trait]
pub trait Broker: Send + Sync + 'static {
    /// Which logins the backend takes: bridge users (the core checks their password before calling
    /// [`Broker::login`]) or the upstream's own credentials.
    fn login_kind(&self) -> LoginKind {
        LoginKind::Bridge
    }

    /// The backend's federated login, when its bridge users must also grant the bridge access at the
    /// upstream (IBKR's third-party API). The core then sends a user without a stored grant to the
    /// upstream from the login page before it calls [`Broker::login`].
    fn federation(&self) -> Option<std::sync::Arc<dyn federation::Federation>> {
        None
    }

    /// Opens whatever upstream session the backend needs for bridge session `session_id`. A
    /// [`Login::Bridge`] user is already verified; [`Login::PassThrough`] credentials are checked upstream.
    async fn login(&self, session_id: &str, login: &Login) -> BrokerResult<LoginOutcome>;

    /// Whether the upstream can be reached, for `/readyz`: cheap and cached, never an upstream call per
    /// check. Backends without an upstream (paper) are always ready.
    async fn readiness(&self) -> Readiness {
        Readiness::local()
    }

    /// Ends the upstream session. The bridge revokes its own token whatever this answers.
    async fn logout(&self, _session: &SessionCtx) -> BrokerResult<()> {
        Ok(())
    }

    /// The user's accounts (never empty for a logged-in user).
    async fn accounts(&self, session: &SessionCtx) -> BrokerResult<Vec<BrokerAccount>>;

    /// Every order duration the backend knows, as `/config` rows; never empty. What one account accepts is
    /// its [`BrokerAccount::durations`], which the HTTP layer checks orders against.
    fn durations(&self) -> Vec<tv::DurationConfig>;

    /// Every broker symbol with its TradingView symbol (`/mapping`, unauthenticated).
    async fn symbol_mapping(&self) -> BrokerResult<Vec<tv::SymbolMapping>>;

    async fn instruments(&self, session: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Instrument>>;
    async fn state(&self, session: &SessionCtx, account: &str) -> BrokerResult<tv::AccountState>;

    async fn orders(&self, session: &SessionCtx, account: &str) -> BrokerResult<Vec<tv::Order>>;

    /// Orders, positions (as the account's hedging mode calls for) and state in one refresh: what the
    /// account hub asks for. The default joins the separate calls; an upstream backend overrides it with
    /// the fewest upstream requests that answer all of them.
    async fn snapshot(&self, session: &SessionCtx, account: &BrokerAccount) -> BrokerResult<AccountSnapshot> {
        joined_snapshot(self, session, account).await
    }

    /// How often, and on what, the account hub refreshes `account` (see [`RefreshPolicy`]). The default
    /// polls at the hub's interval with no minimum.
    fn refresh_policy(&self, _account: &BrokerAccount) -> RefreshPolicy {
        RefreshPolicy::POLL
    }
    /// The id of the order that `place_order` created for `request_id` on `account`, looked up upstream by
    /// the client order id derived from it: `Ok(None)` only when the upstream's answer is complete and
    /// holds no such order. The core asks before it retries a placement that was interrupted mid-flight (a
    /// crash, a killed replica); a backend that cannot look orders up this way keeps the default, and such
    /// a placement is then refused rather than risk a second order.
    async fn order_by_request_id(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _request_id: &str,
    ) -> BrokerResult<Option<String>> {
        Err(BrokerError::Unsupported("looking orders up by requestId"))
    }

    /// Places an order. `request_id` is TradingView's idempotency key when it sent one; the bridge already
    /// de-duplicates on it, and upstream backends pass it on as their client order id.
    async fn place_order(
        &self,
        session: &SessionCtx,
        account: &str,
        order: tv::PlaceOrder,
        request_id: Option<&str>,
    ) -> BrokerResult<String>;
    async fn modify_order(
        &self,
        session: &SessionCtx,
        account: &str,
        order_id: &str,
        change: tv::ModifyOrder,
    ) -> BrokerResult<()>;
    async fn cancel_order(&self, session: &SessionCtx, account: &str, order_id: &str) -> BrokerResult<()>;

    /// Order preview with a `confirmId` that `place_order` will honour.
    async fn preview_order(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _order: tv::PlaceOrder,
        _modifying: Option<&str>,
    ) -> BrokerResult<tv::OrderPreview> {
        Err(BrokerError::Unsupported("order preview"))
    }

    /// Checks a `confirmId` from `preview_order` against the order being placed, consuming it.
    async fn redeem_confirm_id(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _confirm_id: &str,
        _order: &tv::PlaceOrder,
    ) -> BrokerResult<()> {
        Err(BrokerError::Unsupported("order preview"))
    }

    async fn order_info(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _order: tv::PlaceOrder,
    ) -> BrokerResult<tv::OrderInfo> {
        Err(BrokerError::Unsupported("order info"))
    }

    async fn positions(&self, _session: &SessionCtx, _account: &str) -> BrokerResult<Vec<tv::Position>> {
        Err(BrokerError::Unsupported("positions"))
    }
    async fn modify_position(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _position_id: &str,
        _change: tv::ModifyPosition,
    ) -> BrokerResult<()> {
        Err(BrokerError::Unsupported("position changes"))
    }
    async fn close_position(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _position_id: &str,
        _amount: Option<Decimal>,
    ) -> BrokerResult<()> {
        Err(BrokerError::Unsupported("closing positions"))
    }

    async fn net_positions(
        &self,
        _session: &SessionCtx,
        _account: &str,
    ) -> BrokerResult<Vec<tv::NetPosition>> {
        Err(BrokerError::Unsupported("net positions"))
    }
    async fn close_net_position(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _position_id: &str,
    ) -> BrokerResult<()> {
        Err(BrokerError::Unsupported("closing net positions"))
    }

    async fn individual_positions(
        &self,
        _session: &SessionCtx,
        _account: &str,
    ) -> BrokerResult<Vec<tv::IndividualPosition>> {
        Err(BrokerError::Unsupported("individual positions"))
    }
    async fn modify_individual_position(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _position_id: &str,
        _brackets: tv::Brackets,
    ) -> BrokerResult<()> {
        Err(BrokerError::Unsupported("individual position changes"))
    }
    async fn close_individual_position(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _position_id: &str,
        _amount: Option<Decimal>,
    ) -> BrokerResult<()> {
        Err(BrokerError::Unsupported("closing individual positions"))
    }

    async fn balances(&self, _session: &SessionCtx, _account: &str) -> BrokerResult<Vec<tv::CryptoBalance>> {
        Err(BrokerError::Unsupported("crypto balances"))
    }
    async fn executions(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _instrument: Option<&str>,
        _max_count: Option<usize>,
    ) -> BrokerResult<Vec<tv::Execution>> {
        Err(BrokerError::Unsupported("executions"))
    }
    async fn orders_history(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _max_count: Option<usize>,
    ) -> BrokerResult<Vec<tv::Order>> {
        Err(BrokerError::Unsupported("orders history"))
    }

    async fn get_leverage(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _query: tv::LeverageQuery,
    ) -> BrokerResult<tv::LeverageInfo> {
        Err(BrokerError::Unsupported("leverage"))
    }
    async fn set_leverage(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _query: tv::LeverageQuery,
        _leverage: Decimal,
    ) -> BrokerResult<tv::LeverageSet> {
        Err(BrokerError::Unsupported("leverage"))
    }
    async fn preview_leverage(
        &self,
        _session: &SessionCtx,
        _account: &str,
        _query: tv::LeverageQuery,
        _leverage: Decimal,
    ) -> BrokerResult<tv::LeveragePreview> {
        Err(BrokerError::Unsupported("leverage"))
    }

    /// Quotes for `symbols`; a symbol without a quote gets an error entry, never a failed call.
    async fn quotes(
        &self,
        session: &SessionCtx,
        account: &str,
        symbols: &[String],
    ) -> BrokerResult<Vec<tv::QuoteEntry>>;

    async fn depth(&self, _session: &SessionCtx, _account: &str, _symbol: &str) -> BrokerResult<tv::Depth> {
        Err(BrokerError::Unsupported("market depth"))
    }

    /// Ids of accounts that changed upstream, for backends that can push; the account hub refreshes at
    /// once on each. `None` (the default): the hub polls.
    fn account_changes(&self) -> Option<broadcast::Receiver<String>> {
        None
    }

    /// Live market data of `symbol`, one tick per update in time order. Dropping the receiver ends the
    /// subscription. The quote hub holds one subscription per symbol, however many clients listen.
    async fn subscribe_market(&self, _symbol: &str) -> BrokerResult<mpsc::Receiver<tv::MarketTick>> {
        Err(BrokerError::Unsupported("streaming market data"))
    }

    /// The symbols of the data feed (`/symbol_info`).
    async fn data_symbols(&self) -> BrokerResult<Vec<tv::SymbolInfo>> {
        Err(BrokerError::Unsupported("the data feed"))
    }

    /// Starts background work that spares the first requests a cold cache (the paper broker computes its
    /// daily bars). `serve` calls it once at start; tests and tools that measure start-up do not.
    fn warm_up(&self) {}

    /// Bars of `query.symbol` whose start lies in `[from, to]` (or the newest `countback` up to `to`), oldest
    /// first. See [`tv::HistoryQuery`] for what a backend must answer for ranges it has no data for.
    async fn history(&self, _query: &tv::HistoryQuery) -> BrokerResult<Vec<tv::Bar>> {
        Err(BrokerError::Unsupported("history"))
    }
}
