//! The fake's state: users and their grant/refresh state, accounts with cash and positions, the contract
//! catalogue with live quotes, orders by (account, CustomerOrderId), trades, the ledger of place requests,
//! the request log, pacing windows and scheduled faults. One mutex for all of it; the clock has its own
//! (the OAuth server reads it too) and is only ever locked last.

use super::clock::{next_refresh, Clock};
use super::faults::Fault;
use super::options::{FakeIbkrThirdPartyOptions, FakeTpContract, FakeTpUser};
use crate::ibkr_auth::three_legged::ThreeLeggedServer;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A user and where their grant stands.
pub(super) struct UserState {
    pub user: FakeTpUser,
    /// When the user first approved the consumer (fake clock).
    pub first_authorized: Option<DateTime<Utc>>,
    /// `/accounts*` answers 204 until then (`None`: available, or never authorised).
    pub available_from: Option<DateTime<Utc>>,
}

/// A net position.
#[derive(Clone, Debug, Default)]
pub(super) struct Position {
    pub qty: Decimal,
    pub avg_cost: Decimal,
}

/// An account's money and holdings.
pub(super) struct Account {
    pub user: String,
    pub currency: String,
    pub cash: Decimal,
    pub realized: Decimal,
    pub positions: BTreeMap<i64, Position>,
}

/// One order (a replacement is a new order with its own CustomerOrderId).
#[derive(Clone, Debug)]
pub(super) struct Order {
    pub account: String,
    pub coid: i64,
    /// IBKR's own order id (trades' `OrderId`).
    pub order_id: String,
    pub conid: i64,
    /// FIX: `1` buy, `2` sell.
    pub side: String,
    /// FIX: `1` market .. `4` stop limit.
    pub order_type: String,
    pub tif: String,
    pub outside_rth: String,
    pub qty: Decimal,
    pub filled: Decimal,
    pub price: Option<Decimal>,
    pub stop: Option<Decimal>,
    pub avg_price: Decimal,
    /// FIX order status.
    pub status: String,
    /// A stop (limit) order whose stop price was reached.
    pub triggered: bool,
    pub updated: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
    /// The CustomerOrderId of the order this one replaced (a modification), if any.
    pub replaces: Option<i64>,
}

impl Order {
    pub fn working(&self) -> bool {
        self.ended.is_none()
    }
}

/// One execution.
#[derive(Clone, Debug)]
pub(super) struct Trade {
    pub account: String,
    pub coid: i64,
    pub order_id: String,
    pub conid: i64,
    pub side: String,
    pub order_type: String,
    pub quantity: Decimal,
    pub filled_after: Decimal,
    pub price: Decimal,
    pub size: Decimal,
    pub avg_price: Decimal,
    pub time: DateTime<Utc>,
    pub exec_id: String,
    pub commission: Decimal,
}

/// A contract with its live quote.
pub(super) struct Market {
    pub contract: FakeTpContract,
    /// When the last price was set (fake clock).
    pub updated: DateTime<Utc>,
}

/// One HTTP request as the fake saw it (refused ones included).
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    /// When it arrived (real time).
    pub at: Instant,
    pub method: String,
    /// Below `/v1/api` (or `/authorize`).
    pub path: String,
    pub query: String,
    /// The answer's status (0 while it runs).
    pub status: u16,
    /// The user of the access token, once verified.
    pub user: Option<String>,
}

/// Everything but the clock.
pub(super) struct State {
    pub users: Vec<UserState>,
    pub accounts: BTreeMap<String, Account>,
    pub markets: BTreeMap<i64, Market>,
    pub orders: Vec<Order>,
    pub trades: Vec<Trade>,
    /// Place requests that named each (account, CustomerOrderId), refused duplicates included.
    pub place_requests: HashMap<(String, i64), usize>,
    pub log: Vec<LoggedRequest>,
    pub faults: Vec<Fault>,
    /// Accepted requests of the last second (pacing).
    pub window: VecDeque<Instant>,
    /// Last served call per (access token, method, path) of `/accounts/*` (the 423 lock).
    pub last_served: HashMap<(String, String, String), Instant>,
    /// GETs seen per path (slow reads).
    pub reads: HashMap<String, usize>,
    pub requests_per_second: u32,
    pub lock_interval: Duration,
    pub slow_reads: usize,
    pub commission_per_share: Decimal,
    pub min_commission: Decimal,
    pub next_id: u64,
}

impl State {
    fn new(options: &FakeIbkrThirdPartyOptions, now: DateTime<Utc>) -> State {
        let mut accounts = BTreeMap::new();
        for u in &options.users {
            for a in &u.accounts {
                accounts.insert(
                    a.id.clone(),
                    Account {
                        user: u.username.clone(),
                        currency: a.currency.clone(),
                        cash: a.cash,
                        realized: Decimal::ZERO,
                        positions: BTreeMap::new(),
                    },
                );
            }
        }
        State {
            users: options
                .users
                .iter()
                .map(|u| UserState {
                    user: u.clone(),
                    first_authorized: None,
                    available_from: None,
                })
                .collect(),
            accounts,
            markets: options
                .contracts
                .iter()
                .map(|c| {
                    let market = Market {
                        contract: c.clone(),
                        updated: now,
                    };
                    (c.conid, market)
                })
                .collect(),
            orders: Vec::new(),
            trades: Vec::new(),
            place_requests: HashMap::new(),
            log: Vec::new(),
            faults: Vec::new(),
            window: VecDeque::new(),
            last_served: HashMap::new(),
            reads: HashMap::new(),
            requests_per_second: options.requests_per_second,
            lock_interval: options.lock_interval,
            slow_reads: options.slow_reads,
            commission_per_share: options.commission_per_share,
            min_commission: options.min_commission,
            next_id: 1,
        }
    }

    pub fn user(&self, name: &str) -> Option<&UserState> {
        self.users.iter().find(|u| u.user.username == name)
    }

    /// Adds a user (or replaces one of the same name) and opens their accounts.
    pub fn add_user(&mut self, user: FakeTpUser) {
        for a in &user.accounts {
            self.accounts.entry(a.id.clone()).or_insert(Account {
                user: user.username.clone(),
                currency: a.currency.clone(),
                cash: a.cash,
                realized: Decimal::ZERO,
                positions: BTreeMap::new(),
            });
        }
        self.users.retain(|u| u.user.username != user.username);
        self.users.push(UserState {
            user,
            first_authorized: None,
            available_from: None,
        });
    }

    /// The user approved the consumer at `now`: the first time, `/accounts*` waits for the next
    /// nightly refresh unless the user is already covered.
    pub fn authorized(&mut self, name: &str, now: DateTime<Utc>) {
        if let Some(u) = self.users.iter_mut().find(|u| u.user.username == name) {
            if u.first_authorized.is_none() {
                u.first_authorized = Some(now);
                if !u.user.refreshed {
                    u.available_from = Some(next_refresh(now));
                }
            }
        }
    }

    /// Whether the user's accounts answer 204 at `now`.
    pub fn awaiting_refresh(&self, name: &str, now: DateTime<Utc>) -> bool {
        self.user(name)
            .and_then(|u| u.available_from)
            .is_some_and(|t| now < t)
    }

    /// IBKR's nightly refresh runs now: every user authorised so far has their accounts available (a
    /// user who first authorises later waits for the next one).
    pub fn nightly_refresh(&mut self) {
        for u in &mut self.users {
            u.available_from = None;
        }
    }

    /// A fresh id for orders and executions.
    pub fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// The state, the clock and the OAuth server behind the handlers.
pub(super) struct Shared {
    state: Mutex<State>,
    clock: Arc<Mutex<Clock>>,
    pub auth: ThreeLeggedServer,
}

impl Shared {
    pub fn new(
        options: &FakeIbkrThirdPartyOptions,
        clock: Arc<Mutex<Clock>>,
        auth: ThreeLeggedServer,
    ) -> Shared {
        let now = clock.lock().unwrap_or_else(|e| e.into_inner()).now();
        Shared {
            state: Mutex::new(State::new(options, now)),
            clock,
            auth,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn clock(&self) -> MutexGuard<'_, Clock> {
        self.clock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The fake clock's time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock().now()
    }

    /// Whether `password` is `username`'s.
    pub fn check_password(&self, username: &str, password: &str) -> bool {
        self.lock()
            .user(username)
            .is_some_and(|u| u.user.password == password)
    }
}
