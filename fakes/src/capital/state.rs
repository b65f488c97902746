//! The fake's whole state behind one mutex: the fake clock, users and their accounts (positions, working
//! orders, history), markets, sessions, deal confirmations, the request log, pending faults and the
//! open WebSocket connections.

use super::options::{FakeMarket, FakeOptions, FakeUser, Fault, LoggedRequest};
use super::price_path::PricePath;
use super::wire::round_price;
use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// Deal direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dir {
    Buy,
    Sell,
}

impl Dir {
    pub fn parse(s: &str) -> Option<Dir> {
        match s {
            "BUY" => Some(Dir::Buy),
            "SELL" => Some(Dir::Sell),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dir::Buy => "BUY",
            Dir::Sell => "SELL",
        }
    }

    pub fn opposite(self) -> Dir {
        match self {
            Dir::Buy => Dir::Sell,
            Dir::Sell => Dir::Buy,
        }
    }
}

/// Working order type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OrderKind {
    Limit,
    Stop,
}

impl OrderKind {
    pub fn parse(s: &str) -> Option<OrderKind> {
        match s {
            "LIMIT" => Some(OrderKind::Limit),
            "STOP" => Some(OrderKind::Stop),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Limit => "LIMIT",
            OrderKind::Stop => "STOP",
        }
    }
}

/// Stop loss / take profit of a position or working order, as levels.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Stops {
    pub stop_level: Option<Decimal>,
    pub profit_level: Option<Decimal>,
    pub guaranteed: bool,
    pub trailing: bool,
    /// The trailing distance (set with `trailing`).
    pub stop_distance: Option<Decimal>,
}

/// A market and its live quote.
pub(super) struct MarketState {
    pub spec: FakeMarket,
    /// The bid when the fake started: the reference of `netChange`.
    pub open_bid: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub updated: DateTime<Utc>,
    /// The price process of the bid, in steps of `decimal_places`, meeting the starting bid when the
    /// fake starts: price bars aggregate it, and with `moving` the live quote follows it.
    pub path: PricePath,
    /// The starting spread in price steps (bars and moving quotes keep it).
    pub spread_ticks: i64,
    /// The last second whose tick was sent (moving prices only).
    pub emitted: i64,
}

impl MarketState {
    pub fn mid(&self) -> Decimal {
        (self.spec.bid + self.spec.offer) / Decimal::TWO
    }

    /// The price a deal in `dir` fills at: the offer for a buy, the bid for a sell.
    pub fn fill_price(&self, dir: Dir) -> Decimal {
        match dir {
            Dir::Buy => self.spec.offer,
            Dir::Sell => self.spec.bid,
        }
    }

    /// The price a position in `dir` closes at (the opposite side).
    pub fn close_price(&self, dir: Dir) -> Decimal {
        self.fill_price(dir.opposite())
    }

    pub fn round(&self, d: Decimal) -> Decimal {
        round_price(d, self.spec.decimal_places)
    }
}

/// An open position (one deal).
#[derive(Debug, Clone)]
pub(super) struct Position {
    pub deal_id: String,
    pub deal_reference: String,
    pub working_order_id: String,
    pub epic: String,
    pub dir: Dir,
    pub size: Decimal,
    pub level: Decimal,
    pub created: DateTime<Utc>,
    pub stops: Stops,
}

/// A working order.
#[derive(Debug, Clone)]
pub(super) struct WorkingOrder {
    pub deal_id: String,
    /// The `o_<uuid>` reference the order was created with.
    pub deal_reference: String,
    pub epic: String,
    pub dir: Dir,
    pub size: Decimal,
    pub level: Decimal,
    pub kind: OrderKind,
    pub good_till: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
    pub stops: Stops,
}

/// One entry of the activity history.
#[derive(Debug, Clone)]
pub(super) struct ActivityRec {
    pub at: DateTime<Utc>,
    pub epic: String,
    pub deal_id: String,
    /// `USER`, `SYSTEM`, `SL`, `TP`...
    pub source: &'static str,
    /// `POSITION`, `WORKING_ORDER`, `EDIT_STOP_AND_LIMIT`, `SYSTEM`.
    pub kind: &'static str,
    /// `ACCEPTED`, `REJECTED`, `EXECUTED`, `EXPIRED`, `MODIFIED`, `CANCELLED`...
    pub status: &'static str,
    pub deal_reference: String,
    pub size: Decimal,
    pub dir: Dir,
    pub level: Decimal,
    pub stops: Stops,
}

/// One entry of the transaction history.
#[derive(Debug, Clone)]
pub(super) struct TxRec {
    pub at: DateTime<Utc>,
    pub instrument_name: Option<String>,
    /// `TRADE`, `DEPOSIT`...
    pub kind: &'static str,
    pub note: &'static str,
    pub reference: String,
    pub amount: Decimal,
    pub currency: String,
}

/// One financial account and everything in it.
pub(super) struct AccountState {
    pub user: usize,
    pub id: String,
    pub name: String,
    pub currency: String,
    pub preferred: bool,
    /// Cash: the deposit plus realised profit and loss.
    pub cash: Decimal,
    pub hedging: bool,
    /// Current leverage per instrument type.
    pub leverages: BTreeMap<String, u32>,
    /// Oldest first (netting closes the oldest deals first).
    pub positions: Vec<Position>,
    pub orders: Vec<WorkingOrder>,
    /// Oldest first; answered newest first.
    pub activities: Vec<ActivityRec>,
    pub transactions: Vec<TxRec>,
}

/// A live session (the `CST` is the key of the session map).
pub(super) struct Session {
    pub token: String,
    pub user: usize,
    pub account: usize,
    /// Fake-clock time of the last authenticated call.
    pub last_used: DateTime<Utc>,
    /// Real times of the calls accepted in the last second (rate limit).
    pub window: VecDeque<Instant>,
}

/// A deal confirmation and the user allowed to read it.
pub(super) struct Confirm {
    pub user: usize,
    pub body: Value,
}

/// What a WebSocket task is told to do.
#[derive(Debug)]
pub(super) enum WsOut {
    Text(String),
    /// Close with a close frame (session gone).
    Close,
    /// Drop the connection without a close frame.
    Abort,
}

/// An open WebSocket connection.
pub(super) struct WsConn {
    pub tx: UnboundedSender<WsOut>,
    /// The CST of the session its messages carry (set by the first valid message).
    pub session: Option<String>,
    /// Epics of `marketData.subscribe`, in subscription order, without repeats.
    pub epics: Vec<String>,
}

/// The fake clock: real time from an origin, plus what tests added; optionally frozen.
pub(super) struct Clock {
    origin_utc: DateTime<Utc>,
    origin: Instant,
    offset: TimeDelta,
    frozen: bool,
}

impl Clock {
    fn new(start: Option<DateTime<Utc>>) -> Self {
        Clock {
            origin_utc: start.unwrap_or_else(Utc::now),
            origin: Instant::now(),
            offset: TimeDelta::zero(),
            frozen: false,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let run = if self.frozen {
            TimeDelta::zero()
        } else {
            TimeDelta::from_std(self.origin.elapsed()).unwrap_or_else(|_| TimeDelta::zero())
        };
        self.origin_utc + run + self.offset
    }

    pub fn advance(&mut self, by: Duration) {
        self.offset += TimeDelta::from_std(by).unwrap_or_else(|_| TimeDelta::zero());
    }

    /// Stops real time from moving the clock (only `advance` does then).
    pub fn freeze(&mut self) {
        let now = self.now();
        self.set(now);
        self.frozen = true;
    }

    /// Jumps to `at`; a frozen clock stays frozen.
    pub fn set(&mut self, at: DateTime<Utc>) {
        self.origin_utc = at;
        self.origin = Instant::now();
        self.offset = TimeDelta::zero();
    }
}

/// Everything mutable.
pub(super) struct State {
    pub clock: Clock,
    pub users: Vec<FakeUser>,
    pub accounts: Vec<AccountState>,
    pub markets: Vec<MarketState>,
    /// By CST.
    pub sessions: HashMap<String, Session>,
    /// `POST /session` times per API key (rate limit).
    pub key_windows: HashMap<String, VecDeque<Instant>>,
    pub confirms: HashMap<String, Confirm>,
    pub log: Vec<(u64, LoggedRequest)>,
    pub next_log: u64,
    pub faults: Vec<Fault>,
    pub next_deal: u64,
    pub next_tx: u64,
    pub sessions_created: usize,
    pub ws: BTreeMap<u64, WsConn>,
    pub next_ws: u64,
    /// A session dies after this long without use (fake clock).
    pub idle_expiry: TimeDelta,
    /// See [`FakeOptions::omitted_stops_kept`].
    pub omitted_stops_kept: bool,
    /// While one deal is made: its instant, which every activity it records carries (the official examples
    /// show a deal's working-order and position activities with one time).
    pub instant: Option<DateTime<Utc>>,
    /// Whether prices move by themselves (see [`super::market`]).
    pub moving: bool,
}

/// Leverage choices per instrument type: (type, default, available).
pub(super) const LEVERAGES: [(&str, u32, &[u32]); 5] = [
    ("SHARES", 5, &[1, 2, 3, 4, 5]),
    ("CURRENCIES", 30, &[1, 2, 3, 5, 10, 20, 30]),
    ("INDICES", 20, &[1, 2, 3, 5, 10, 20]),
    ("CRYPTOCURRENCIES", 2, &[1, 2]),
    ("COMMODITIES", 20, &[1, 2, 3, 5, 10, 20]),
];

impl State {
    pub fn new(options: &FakeOptions) -> State {
        let clock = Clock::new(options.now);
        let now = clock.now();
        let mut state = State {
            clock,
            users: options.users.clone(),
            accounts: Vec::new(),
            markets: options
                .markets
                .iter()
                .map(|m| super::market::market(m, options, now))
                .collect(),
            sessions: HashMap::new(),
            key_windows: HashMap::new(),
            confirms: HashMap::new(),
            log: Vec::new(),
            next_log: 0,
            faults: Vec::new(),
            omitted_stops_kept: options.omitted_stops_kept,
            instant: None,
            next_deal: 0x8056_0000,
            next_tx: 0,
            sessions_created: 0,
            ws: BTreeMap::new(),
            next_ws: 0,
            idle_expiry: TimeDelta::from_std(options.idle_expiry).unwrap_or(TimeDelta::MAX),
            moving: options.moving,
        };
        for (u, user) in options.users.iter().enumerate() {
            for a in &user.accounts {
                let reference = state.next_reference();
                state.accounts.push(AccountState {
                    user: u,
                    id: a.id.clone(),
                    name: a.name.clone(),
                    currency: a.currency.clone(),
                    preferred: a.preferred,
                    cash: a.balance,
                    hedging: a.hedging,
                    leverages: LEVERAGES
                        .iter()
                        .map(|(t, current, _)| (t.to_string(), *current))
                        .collect(),
                    positions: Vec::new(),
                    orders: Vec::new(),
                    activities: Vec::new(),
                    transactions: vec![TxRec {
                        at: now,
                        instrument_name: None,
                        kind: "DEPOSIT",
                        note: "Deposit",
                        reference,
                        amount: a.balance,
                        currency: a.currency.clone(),
                    }],
                });
            }
        }
        state
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.instant.unwrap_or_else(|| self.clock.now())
    }

    /// Runs `f` at one instant: everything it records carries the same time.
    pub fn at_one_instant<R>(&mut self, f: impl FnOnce(&mut State) -> R) -> R {
        let outer = self.instant;
        self.instant = Some(self.now());
        let out = f(self);
        self.instant = outer;
        out
    }

    pub fn market(&self, epic: &str) -> Option<&MarketState> {
        self.markets.iter().find(|m| m.spec.epic == epic)
    }

    pub fn account_index(&self, id: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.id == id)
    }

    /// A new deal id in the upstream's shape (`00601f2a-0001-54c4-0000-000080560014`).
    pub fn next_deal_id(&mut self, account: usize) -> String {
        self.next_deal += 1;
        format!(
            "{:08x}-0001-54c4-0000-{:012x}",
            0x0060_1f00 + account,
            self.next_deal
        )
    }

    /// A new transaction reference (8 digits).
    pub fn next_reference(&mut self) -> String {
        self.next_tx += 1;
        format!("{}", 10_000_000 + self.next_tx)
    }

    /// Current leverage of an account for an instrument type (1 if the type is unknown).
    pub fn leverage(&self, account: usize, instrument_type: &str) -> u32 {
        self.accounts[account]
            .leverages
            .get(instrument_type)
            .copied()
            .unwrap_or(1)
    }

    /// Converts an amount between currencies with the mid of an `ABCXYZ` market if there is one
    /// (1:1 otherwise: the default markets are all quoted in USD).
    pub fn convert(&self, amount: Decimal, from: &str, to: &str) -> Decimal {
        if from == to {
            return amount;
        }
        if let Some(m) = self.market(&format!("{from}{to}")) {
            return amount * m.mid();
        }
        match self.market(&format!("{to}{from}")) {
            Some(m) if !m.mid().is_zero() => amount / m.mid(),
            _ => amount,
        }
    }
}

/// The state plus the fixed settings, shared by the server tasks and the test's handle.
pub(super) struct Shared {
    state: Mutex<State>,
    pub api_key: String,
    pub requests_per_second: u32,
    pub session_creations_per_second: u32,
    /// `streamingHost` of the session (`ws://127.0.0.1:PORT/`; clients append `connect`).
    pub stream_host: String,
}

impl Shared {
    pub fn new(options: &FakeOptions, stream_host: String) -> Shared {
        Shared {
            state: Mutex::new(State::new(options)),
            api_key: options.api_key.clone(),
            requests_per_second: options.requests_per_second,
            session_creations_per_second: options.session_creations_per_second,
            stream_host,
        }
    }

    /// Locks the state. A panic in another holder does not make the fake unusable.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
