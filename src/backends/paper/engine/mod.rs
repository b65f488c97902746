//! The paper matching engine: accounts, orders, positions and fills, as a plain state machine driven by
//! the clock. It knows nothing of tasks or channels; the actor in `paper/mod.rs` owns it.

mod fills;
mod orders;
mod positions;
mod views;

pub use orders::{DAY, GTC, GTT};

use super::market::{Market, PaperInstrument};
use crate::broker::BrokerError;
use crate::tv::{self, Side};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Final orders stay in `/orders` at least this long (and until the end of their UTC day).
const FINAL_ORDER_MIN_MS: i64 = 60_000;
/// How much history each account keeps.
const MAX_HISTORY: usize = 2000;
const MAX_EXECUTIONS: usize = 5000;
/// Catching up after downtime walks at most this far back, second by second.
const MAX_CATCH_UP_SECS: i64 = 7 * 24 * 3600;
/// Active orders (brackets included) an account may hold: the books are one record in the state store,
/// and each of these is in it.
pub const MAX_ACTIVE_ORDERS: usize = 500;
/// Open positions a hedging account may hold before it refuses new orders (netting holds one per
/// instrument).
pub const MAX_POSITIONS: usize = 500;
/// Preview confirmations kept per account; a newer preview drops the oldest.
const MAX_CONFIRMS: usize = 100;
/// `requestId`s remembered per account, and for how long: long enough for the bridge to retry a placement
/// a crashed replica left unanswered, short enough to keep the record small.
const MAX_REQUEST_IDS: usize = 1000;
const REQUEST_ID_TTL_MS: i64 = 24 * 3600 * 1000;

/// Currencies of each user's two accounts: netting in USD, hedging in EUR.
pub const ACCOUNT_CURRENCIES: [&str; 2] = ["USD", "EUR"];

/// Role of a bracket order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BracketRole {
    StopLoss,
    TakeProfit,
}

/// An order with the engine's bookkeeping around the wire shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperOrder {
    /// What TradingView sees; kept current on every change.
    pub order: tv::Order,
    pub bracket: Option<BracketRole>,
    /// The position this order closes (brackets on positions, closing orders).
    pub close_target: Option<String>,
    /// A stop-limit whose stop was reached and now works as a limit.
    pub triggered: bool,
    /// Unix seconds at which a GTT/DAY order expires.
    pub expires_at: Option<i64>,
    /// When the order reached a final status (unix ms).
    pub final_at: Option<i64>,
    /// Trailing distance in price units (trailing stops).
    pub trailing_distance: Option<Decimal>,
}

impl PaperOrder {
    /// Engine bookkeeping around `order`: no bracket role, no target, no expiry yet.
    fn new(order: tv::Order) -> Self {
        PaperOrder {
            order,
            bracket: None,
            close_target: None,
            triggered: false,
            expires_at: None,
            final_at: None,
            trailing_distance: None,
        }
    }

    fn id(&self) -> &str {
        &self.order.id
    }

    fn is_active(&self) -> bool {
        !self.order.status.is_final()
    }
}

/// An open position: per instrument on netting accounts, per opening fill on hedging accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperPosition {
    pub id: String,
    pub instrument: String,
    pub side: Side,
    pub qty: Decimal,
    pub avg_price: Decimal,
    /// Opening time, unix ms.
    pub opened_ms: i64,
}

/// A `confirmId` handed out by an order preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingConfirm {
    pub order: tv::PlaceOrder,
    pub expires_ms: i64,
}

/// One paper account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountBook {
    pub id: String,
    pub owner: String,
    pub name: String,
    pub currency: String,
    pub hedging: bool,
    pub balance: Decimal,
    pub realized_pl: Decimal,
    /// Active orders and recently final ones, in creation order.
    pub orders: Vec<PaperOrder>,
    /// Final orders no longer listed in `/orders`, oldest first.
    pub history: Vec<tv::Order>,
    pub positions: Vec<PaperPosition>,
    /// Oldest first.
    pub executions: Vec<tv::Execution>,
    /// Leverage chosen per instrument (default: the instrument's maximum).
    pub leverage: BTreeMap<String, Decimal>,
    pub confirms: BTreeMap<String, PendingConfirm>,
    /// Placements by `requestId` (its digest), so a retried placement finds its order.
    #[serde(default)]
    pub requests: BTreeMap<String, PlacedRequest>,
}

/// The order a `requestId` placed, and when (unix ms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedRequest {
    pub order_id: String,
    pub at_ms: i64,
}

/// Everything the paper broker persists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PaperState {
    pub accounts: BTreeMap<String, AccountBook>,
    pub next_id: u64,
    /// Last second evaluated against the market.
    pub last_eval: i64,
}

/// The engine: market plus state.
pub struct Engine {
    market: Market,
    state: PaperState,
    initial_balance: Decimal,
    /// Set when state changed since the last save.
    pub dirty: bool,
    /// Accounts whose orders, positions or balance changed since the last drain (for streams).
    changed: Vec<String>,
}

type EngineResult<T> = Result<T, BrokerError>;

fn rejected(msg: impl Into<String>) -> BrokerError {
    BrokerError::Rejected(msg.into())
}

impl Engine {
    /// An engine over `market`, resuming `state` (or starting fresh at `now_ms`).
    pub fn new(market: Market, state: Option<PaperState>, initial_balance: Decimal, now_ms: i64) -> Self {
        Engine {
            market,
            state: state.unwrap_or_else(|| Self::fresh(now_ms)),
            initial_balance,
            dirty: false,
            changed: Vec::new(),
        }
    }

    fn fresh(now_ms: i64) -> PaperState {
        PaperState {
            accounts: BTreeMap::new(),
            // Ids from a fresh start never repeat those a TradingView tab may still show from an earlier run.
            next_id: (now_ms / 1000).max(1) as u64 * 10,
            last_eval: now_ms.div_euclid(1000),
        }
    }

    /// Takes `state` (what the store holds; `None`: nothing yet) in place of the current one, discarding
    /// unsaved changes, and marks every account that differs as changed so streams hear of it.
    pub fn resume(&mut self, state: Option<PaperState>, now_ms: i64) {
        let state = state.unwrap_or_else(|| Self::fresh(now_ms));
        for (id, book) in &state.accounts {
            if self.state.accounts.get(id) != Some(book) {
                self.changed.push(id.clone());
            }
        }
        for id in self.state.accounts.keys() {
            if !state.accounts.contains_key(id) {
                self.changed.push(id.clone());
            }
        }
        self.state = state;
        self.dirty = false;
    }

    /// Drops the older half of every account's order history and executions (to fit the books in the
    /// store); whether there was anything to drop.
    pub fn shed_history(&mut self) -> bool {
        let mut shed = false;
        for book in self.state.accounts.values_mut() {
            let (h, e) = (book.history.len(), book.executions.len());
            if h + e == 0 {
                continue;
            }
            book.history.drain(..h.div_ceil(2));
            book.executions.drain(..e.div_ceil(2));
            shed = true;
        }
        shed
    }

    /// The persisted state.
    pub fn state(&self) -> &PaperState {
        &self.state
    }

    /// The market.
    pub fn market(&self) -> &Market {
        &self.market
    }

    /// Account ids changed since the last call.
    pub fn drain_changed(&mut self) -> Vec<String> {
        let mut out = std::mem::take(&mut self.changed);
        out.sort();
        out.dedup();
        out
    }

    fn next_id(&mut self, prefix: &str) -> String {
        self.state.next_id += 1;
        format!("{prefix}{}", self.state.next_id)
    }

    fn touch(&mut self, account: &str) {
        self.dirty = true;
        self.changed.push(account.to_owned());
    }

    /// Runs the change `f` on `account` as one transaction: if it fails, the account is restored exactly as
    /// it was, so a refused request never leaves half an order (a parent without its brackets, a modify
    /// applied to the price but not the brackets, one of several closes). Ids handed out meanwhile are not
    /// reused: a TradingView tab may have seen them.
    pub fn atomically<T>(
        &mut self,
        account: &str,
        f: impl FnOnce(&mut Engine) -> EngineResult<T>,
    ) -> EngineResult<T> {
        let saved = self.state.accounts.get(account).cloned();
        let result = f(self);
        if result.is_err() {
            if let Some(book) = saved {
                self.state.accounts.insert(account.to_owned(), book);
            }
        }
        result
    }

    /// Creates `user`'s two accounts when they do not exist yet: a netting USD and a hedging EUR account.
    pub fn ensure_accounts(&mut self, user: &str) {
        for (suffix, name, currency, hedging) in [
            ("net", "Paper USD (netting)", ACCOUNT_CURRENCIES[0], false),
            ("hedge", "Paper EUR (hedging)", ACCOUNT_CURRENCIES[1], true),
        ] {
            let id = format!("{user}-{suffix}");
            if self.state.accounts.contains_key(&id) {
                continue;
            }
            let book = AccountBook {
                id: id.clone(),
                owner: user.to_owned(),
                name: name.into(),
                currency: currency.into(),
                hedging,
                balance: self.initial_balance,
                realized_pl: Decimal::ZERO,
                orders: Vec::new(),
                history: Vec::new(),
                positions: Vec::new(),
                executions: Vec::new(),
                leverage: BTreeMap::new(),
                confirms: BTreeMap::new(),
                requests: BTreeMap::new(),
            };
            self.state.accounts.insert(id.clone(), book);
            self.touch(&id);
        }
    }

    /// `user`'s accounts.
    pub fn accounts_of(&self, user: &str) -> Vec<&AccountBook> {
        self.state.accounts.values().filter(|a| a.owner == user).collect()
    }

    fn book(&self, account: &str) -> EngineResult<&AccountBook> {
        self.state
            .accounts
            .get(account)
            .ok_or_else(|| BrokerError::NotFound(format!("Unknown account '{account}'")))
    }

    fn book_mut(&mut self, account: &str) -> EngineResult<&mut AccountBook> {
        self.state
            .accounts
            .get_mut(account)
            .ok_or_else(|| BrokerError::NotFound(format!("Unknown account '{account}'")))
    }

    fn instrument(&self, symbol: &str) -> EngineResult<&PaperInstrument> {
        self.market
            .get(symbol)
            .ok_or_else(|| rejected(format!("Unknown instrument '{symbol}'")))
    }

    /// Rate from `ccy` into the account currency at second `t`.
    fn to_account(&self, ccy: &str, account_ccy: &str, t: i64) -> EngineResult<Decimal> {
        self.market
            .rate(ccy, account_ccy, t)
            .ok_or_else(|| BrokerError::Internal(format!("no conversion rate from {ccy} to {account_ccy}")))
    }

    /// Walks the market from the last evaluated second up to `now_ms`: triggers, fills, trailing stops,
    /// expiries, and moves long-final orders to history.
    pub fn advance(&mut self, now_ms: i64) {
        let now = now_ms.div_euclid(1000);
        if now <= self.state.last_eval {
            return;
        }
        let start = (self.state.last_eval + 1).max(now - MAX_CATCH_UP_SECS);
        if self.has_working_orders() {
            for t in start..=now {
                self.evaluate_second(t);
            }
        }
        self.state.last_eval = now;
        self.retire_final_orders(now_ms);
    }

    fn has_working_orders(&self) -> bool {
        self.state.accounts.values().any(|a| {
            a.orders
                .iter()
                .any(|o| o.order.status == tv::OrderStatus::Working)
        })
    }

    /// Moves final orders out of `/orders` once their day is over (and they have been listed a minute),
    /// and drops expired preview confirmations.
    fn retire_final_orders(&mut self, now_ms: i64) {
        let day_start_ms = now_ms.div_euclid(86_400_000) * 86_400_000;
        let mut touched = Vec::new();
        for book in self.state.accounts.values_mut() {
            let before = book.orders.len();
            let (keep, retire): (Vec<PaperOrder>, Vec<PaperOrder>) =
                std::mem::take(&mut book.orders).into_iter().partition(|o| {
                    o.final_at
                        .is_none_or(|f| f >= day_start_ms || now_ms - f < FINAL_ORDER_MIN_MS)
                });
            book.orders = keep;
            book.history.extend(retire.into_iter().map(|o| o.order));
            if book.history.len() > MAX_HISTORY {
                let excess = book.history.len() - MAX_HISTORY;
                book.history.drain(..excess);
            }
            book.confirms.retain(|_, c| c.expires_ms > now_ms);
            book.requests.retain(|_, r| now_ms - r.at_ms < REQUEST_ID_TTL_MS);
            if book.orders.len() != before {
                touched.push(book.id.clone());
            }
        }
        for id in touched {
            self.touch(&id);
        }
    }
}

/// Rounds `price` to the instrument's tick grid (nearest).
fn to_grid(price: Decimal, tick: Decimal) -> Decimal {
    if tick.is_zero() {
        return price;
    }
    ((price / tick).round() * tick).normalize()
}

/// Whether `price` lies on the tick grid.
fn on_grid(price: Decimal, tick: Decimal) -> bool {
    tick.is_zero() || (price % tick).is_zero()
}
