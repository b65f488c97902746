//! The fake's whole state behind one mutex: the fake clock, the gateway's brokerage session, accounts with
//! their positions and cash, the contracts with their live quotes, orders, executions, pending order
//! questions, the request log with its pacing windows, injected faults and the open WebSockets.

use super::contracts::FakeContract;
use super::options::{
    EndpointPacing, FakeIbkrAccount, FakeIbkrOptions, FakeQuestion, Fault, LoggedRequest, Verifier,
};
use super::price_path::{PathSpec, PricePath};
use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// The fake clock: real time shifted (and possibly frozen) by the tests.
pub(super) struct Clock {
    base: DateTime<Utc>,
    real: Instant,
    frozen: bool,
}

impl Clock {
    pub fn new(start: DateTime<Utc>) -> Clock {
        Clock {
            base: start,
            real: Instant::now(),
            frozen: false,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        if self.frozen {
            return self.base;
        }
        self.base + TimeDelta::from_std(self.real.elapsed()).unwrap_or_default()
    }

    pub fn advance(&mut self, by: Duration) {
        self.base += TimeDelta::from_std(by).unwrap_or_default();
    }

    pub fn set(&mut self, at: DateTime<Utc>) {
        self.base = at;
        self.real = Instant::now();
    }

    pub fn freeze(&mut self) {
        self.base = self.now();
        self.frozen = true;
    }
}

/// The brokerage session the gateway holds for its one user.
pub(super) struct Session {
    /// The user is logged in at the gateway (`POST /logout` ends it, [`super::FakeIbkr::login`] restores it).
    pub logged_in: bool,
    /// The brokerage (`/iserver`) session is usable.
    pub authenticated: bool,
    /// Another session of the same user took over.
    pub competing: bool,
    /// `GET /iserver/accounts` was called since the session was (re)established.
    pub accounts_queried: bool,
    /// Last request (fake clock): an idle session expires.
    pub last_used: DateTime<Utc>,
    /// The `session` value `/tickle` returns and the WebSocket expects.
    pub token: String,
    /// Index of the selected account.
    pub selected: usize,
    /// Conids whose snapshot "pre-flight" was made (their next snapshot has data).
    pub md_subscribed: HashSet<i64>,
    /// Question ids suppressed with `/iserver/questions/suppress`.
    pub suppressed: HashSet<String>,
}

/// A net position in one contract.
#[derive(Clone, Debug, Default)]
pub(super) struct Position {
    /// Signed quantity (negative: short).
    pub qty: Decimal,
    /// Average price of the open quantity.
    pub avg: Decimal,
    /// Realised P/L of this contract.
    pub realized: Decimal,
}

/// An account and everything in it.
pub(super) struct AccountState {
    pub spec: FakeIbkrAccount,
    /// Cash: the deposit, minus what bought stocks and currencies cost, plus realised futures and CFD
    /// P/L, minus commissions.
    pub cash: Decimal,
    pub positions: BTreeMap<i64, Position>,
}

/// The live quote of a contract.
#[derive(Clone, Debug)]
pub(super) struct Quote {
    pub bid: Decimal,
    pub ask: Decimal,
    pub last: Decimal,
    pub last_size: Decimal,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub volume: Decimal,
    pub halted: bool,
    /// When it was last set (fake clock): a moving market's tick second, which pushes carry as
    /// `_updated`.
    pub updated: DateTime<Utc>,
}

/// A contract with its price process and live quote.
pub(super) struct Market {
    pub contract: FakeContract,
    /// The bid's price process, in steps of `10^-price_dp`.
    pub path: PricePath,
    pub spread_steps: i64,
    pub quote: Quote,
}

impl Market {
    fn new(contract: FakeContract, seed: u64, now: DateTime<Utc>) -> Market {
        let dp = contract.price_dp();
        let steps = |p: Decimal| (p * Decimal::from(10u64.pow(dp))).round().to_i64().unwrap_or(1);
        let (range, volume) = match contract.sec_type.as_str() {
            "STK" => (0.015, 2_000),
            "CASH" => (0.006, 50),
            _ => (0.01, 300),
        };
        let path = PricePath::new(PathSpec {
            seed,
            name: contract.local_symbol.clone(),
            start: steps(contract.bid),
            anchor: now.timestamp(),
            daily_range: range,
            volume_per_minute: volume,
            hours: contract.hours.clone(),
            data_start: 1_104_537_600,
        });
        let mid = (contract.bid + contract.ask) / Decimal::TWO;
        let quote = Quote {
            bid: contract.bid,
            ask: contract.ask,
            last: contract.tick_round(mid),
            last_size: contract.lot,
            open: contract.bid,
            high: contract.ask,
            low: contract.bid,
            volume: Decimal::ZERO,
            halted: false,
            updated: now,
        };
        Market {
            spread_steps: steps(contract.ask) - steps(contract.bid),
            contract,
            path,
            quote,
        }
    }

    /// A price from path steps, on the contract's tick grid.
    pub fn price(&self, steps: i64) -> Decimal {
        self.contract
            .tick_round(Decimal::new(steps, self.contract.price_dp()))
    }
}

impl FakeContract {
    /// `p` rounded to the nearest tick.
    pub(super) fn tick_round(&self, p: Decimal) -> Decimal {
        if self.tick.is_zero() {
            return p;
        }
        ((p / self.tick).round() * self.tick).round_dp(self.price_dp())
    }
}

/// Order side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn sign(self) -> Decimal {
        match self {
            Side::Buy => Decimal::ONE,
            Side::Sell => Decimal::NEGATIVE_ONE,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }
}

/// Order type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Market,
    Limit,
    Stop,
    StopLimit,
}

impl Kind {
    /// The request's `orderType`.
    pub fn wire(self) -> &'static str {
        match self {
            Kind::Market => "MKT",
            Kind::Limit => "LMT",
            Kind::Stop => "STP",
            Kind::StopLimit => "STOP_LIMIT",
        }
    }

    /// `orderType` as live orders show it.
    pub fn display(self) -> &'static str {
        match self {
            Kind::Market => "Market",
            Kind::Limit => "Limit",
            Kind::Stop => "Stop",
            Kind::StopLimit => "Stop Limit",
        }
    }

    /// `origOrderType` as live orders show it.
    pub fn orig(self) -> &'static str {
        match self {
            Kind::Market => "MARKET",
            Kind::Limit => "LIMIT",
            Kind::Stop => "STOP",
            Kind::StopLimit => "STOP_LIMIT",
        }
    }
}

/// Order status, IBKR's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    PreSubmitted,
    Submitted,
    Filled,
    PendingCancel,
    Cancelled,
    Inactive,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::PreSubmitted => "PreSubmitted",
            Status::Submitted => "Submitted",
            Status::Filled => "Filled",
            Status::PendingCancel => "PendingCancel",
            Status::Cancelled => "Cancelled",
            Status::Inactive => "Inactive",
        }
    }

    /// Still able to fill or be cancelled.
    pub fn is_working(self) -> bool {
        matches!(self, Status::PreSubmitted | Status::Submitted)
    }
}

/// An order.
#[derive(Clone, Debug)]
pub(super) struct Order {
    pub id: i64,
    pub account: String,
    pub conid: i64,
    pub side: Side,
    pub kind: Kind,
    pub qty: Decimal,
    pub limit: Option<Decimal>,
    pub stop: Option<Decimal>,
    /// `DAY`, `GTC`, `IOC`, `OPG`.
    pub tif: String,
    pub coid: Option<String>,
    /// The parent order of a bracket child (it waits for the parent's fill).
    pub parent: Option<i64>,
    /// One-cancels-other group.
    pub oca: Option<u64>,
    pub outside_rth: bool,
    pub status: Status,
    pub filled: Decimal,
    pub avg_price: Option<Decimal>,
    /// A stop (limit) order whose stop price was reached.
    pub triggered: bool,
    pub created: DateTime<Utc>,
    pub last_exec: Option<DateTime<Utc>>,
    /// When a `PendingCancel` becomes `Cancelled` (real time).
    pub cancel_at: Option<Instant>,
    /// A `DAY` (or `OPG`) order is cancelled when its trading day ends (fake clock).
    pub expires: Option<DateTime<Utc>>,
}

/// One execution.
#[derive(Clone, Debug)]
pub(super) struct Execution {
    pub id: String,
    pub account: String,
    pub conid: i64,
    pub side: Side,
    pub size: Decimal,
    pub price: Decimal,
    pub commission: Decimal,
    pub at: DateTime<Utc>,
    pub coid: Option<String>,
}

/// An order ticket as submitted (validated).
#[derive(Clone, Debug)]
pub(super) struct Ticket {
    pub conid: i64,
    pub side: Side,
    pub kind: Kind,
    pub qty: Decimal,
    pub limit: Option<Decimal>,
    pub stop: Option<Decimal>,
    pub tif: String,
    pub coid: Option<String>,
    /// The parent's cOID (bracket child).
    pub parent_coid: Option<String>,
    pub single_group: bool,
    pub outside_rth: bool,
}

/// What a pending question is about.
#[derive(Clone, Debug)]
pub(super) enum Pending {
    /// New tickets for an account.
    Place { account: String, tickets: Vec<Ticket> },
    /// A modification of a working order.
    Modify { order_id: i64, ticket: Ticket },
}

/// An order question waiting for `POST /iserver/reply/{id}`.
#[derive(Clone, Debug)]
pub(super) struct PendingReply {
    pub what: Pending,
    /// Questions still to ask after this one.
    pub rest: VecDeque<FakeQuestion>,
}

/// What a WebSocket task sends.
#[derive(Debug)]
pub(super) enum WsOut {
    Text(String),
    /// Close with a close frame.
    Close,
    /// Drop the connection without a close frame.
    Abort,
}

/// An open WebSocket.
pub(super) struct WsConn {
    pub tx: UnboundedSender<WsOut>,
    /// It sent a valid `{"session": ...}`.
    pub authed: bool,
    /// `smd` subscriptions: conid → fields.
    pub smd: BTreeMap<i64, Vec<String>>,
    pub sor: bool,
    pub spl: bool,
}

/// Everything mutable.
pub(super) struct State {
    pub clock: Clock,
    pub username: String,
    pub session: Session,
    pub idle_expiry: Duration,
    pub accounts: Vec<AccountState>,
    pub contracts: Vec<FakeContract>,
    pub markets: BTreeMap<i64, Market>,
    pub questions: Vec<FakeQuestion>,
    pub commission: Decimal,
    pub positions_page_size: usize,
    pub orders: Vec<Order>,
    pub executions: Vec<Execution>,
    /// Every order submission read, oldest first.
    pub submissions: Vec<super::orders::FakeSubmission>,
    pub replies: HashMap<String, PendingReply>,
    pub next_order_id: i64,
    pub next_oca: u64,
    pub next_exec: u64,
    // Pacing and faults.
    pub requests_per_second: u32,
    pub endpoint_pacing: Vec<EndpointPacing>,
    pub window: VecDeque<Instant>,
    pub last_call: HashMap<String, Instant>,
    pub max_concurrent_history: usize,
    pub history_in_flight: usize,
    pub log: Vec<LoggedRequest>,
    pub faults: Vec<Fault>,
    // Streams.
    pub ws: HashMap<u64, WsConn>,
    pub next_ws: u64,
}

/// The state plus what never changes, shared by every handler.
pub(super) struct Shared {
    state: Mutex<State>,
    pub verifier: Option<Arc<dyn Verifier>>,
    pub cookie: Option<String>,
    pub history_latency: Duration,
    pub ws_heartbeat: Duration,
    pub cancel_latency: Duration,
}

impl Shared {
    pub fn new(options: &FakeIbkrOptions) -> Shared {
        let now = options.now.unwrap_or_else(Utc::now);
        let markets = options
            .contracts
            .iter()
            .map(|c| (c.conid, Market::new(c.clone(), options.seed, now)))
            .collect();
        let state = State {
            clock: Clock::new(now),
            username: options.username.clone(),
            session: Session {
                logged_in: true,
                authenticated: options.start_authenticated,
                competing: false,
                accounts_queried: false,
                last_used: now,
                token: uuid::Uuid::new_v4().simple().to_string(),
                selected: 0,
                md_subscribed: HashSet::new(),
                suppressed: HashSet::new(),
            },
            idle_expiry: options.idle_expiry,
            accounts: options
                .accounts
                .iter()
                .map(|a| AccountState {
                    spec: a.clone(),
                    cash: a.cash,
                    positions: BTreeMap::new(),
                })
                .collect(),
            contracts: options.contracts.clone(),
            markets,
            questions: options.questions.clone(),
            commission: options.commission,
            positions_page_size: options.positions_page_size.max(1),
            orders: Vec::new(),
            executions: Vec::new(),
            submissions: Vec::new(),
            replies: HashMap::new(),
            next_order_id: 1_837_000_001,
            next_oca: 1,
            next_exec: 1,
            requests_per_second: options.requests_per_second,
            endpoint_pacing: options.endpoint_pacing.clone(),
            window: VecDeque::new(),
            last_call: HashMap::new(),
            max_concurrent_history: options.max_concurrent_history,
            history_in_flight: 0,
            log: Vec::new(),
            faults: Vec::new(),
            ws: HashMap::new(),
            next_ws: 0,
        };
        Shared {
            state: Mutex::new(state),
            verifier: options.verifier.clone(),
            cookie: options.cookie.clone(),
            history_latency: options.history_latency,
            ws_heartbeat: options.ws_heartbeat,
            cancel_latency: options.cancel_latency,
        }
    }

    /// The state (a panic in another handler does not make it unusable).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn contract(&self, conid: i64) -> Option<&FakeContract> {
        self.markets.get(&conid).map(|m| &m.contract)
    }

    pub fn account_index(&self, id: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.spec.id == id)
    }

    /// Whether `conid` trades at the fake's now.
    pub fn is_open(&self, conid: i64) -> bool {
        let t = self.now().timestamp();
        self.markets
            .get(&conid)
            .is_some_and(|m| m.contract.hours.is_open(t) && !m.quote.halted)
    }

    /// Ends the brokerage session (idle expiry, competing session, logout): subscriptions are gone and
    /// `/iserver/accounts` must be called again; WebSockets hear `sts` and close.
    pub fn drop_brokerage_session(&mut self, competing: bool) {
        self.session.authenticated = false;
        self.session.competing = competing;
        self.session.accounts_queried = false;
        self.session.md_subscribed.clear();
        self.close_sockets_with_status();
    }

    /// Expires an idle session (checked on every request).
    pub fn expire_if_idle(&mut self) {
        let idle = TimeDelta::from_std(self.idle_expiry).unwrap_or(TimeDelta::MAX);
        if self.session.authenticated && self.now() - self.session.last_used >= idle {
            self.drop_brokerage_session(false);
        }
    }
}
