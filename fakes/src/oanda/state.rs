//! The fake's whole state behind one mutex: the clock, tokens and their rate windows, the market
//! (current quotes), the accounts, the request log, pending faults and the open streams.

use super::model::Account;
use super::options::{FakeInstrument, FakeOptions, FakeToken, Fault, LoggedRequest};
use super::price_path::PricePath;
use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;

/// The fake clock: real time from an origin, plus what tests added.
pub(super) struct Clock {
    origin_utc: DateTime<Utc>,
    origin: Instant,
    offset: TimeDelta,
}

impl Clock {
    fn new(start: Option<DateTime<Utc>>) -> Clock {
        Clock {
            origin_utc: start.unwrap_or_else(Utc::now),
            origin: Instant::now(),
            offset: TimeDelta::zero(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let run = TimeDelta::from_std(self.origin.elapsed()).unwrap_or_else(|_| TimeDelta::zero());
        self.origin_utc + run + self.offset
    }

    pub fn advance(&mut self, by: Duration) {
        self.offset += TimeDelta::from_std(by).unwrap_or_else(|_| TimeDelta::zero());
    }
}

/// An instrument and its live quote.
pub(super) struct Quote {
    pub spec: FakeInstrument,
    /// When the quote last changed.
    pub time: DateTime<Utc>,
    /// The price process of the bid, in ticks of `display_precision`, meeting the starting bid when the
    /// fake starts: candles aggregate it, and with `moving` the live quote follows it.
    pub path: PricePath,
    /// The spread when the fake started, in ticks (candles and moving quotes keep it).
    pub spread_ticks: i64,
    /// The last second whose tick was sent (moving prices only).
    pub emitted: i64,
}

impl Quote {
    pub fn mid(&self) -> Decimal {
        (self.spec.bid + self.spec.ask) / Decimal::TWO
    }

    /// The price a fill in this direction gets: the ask for a buy, the bid for a sell.
    pub fn fill_price(&self, buy: bool) -> Decimal {
        if buy {
            self.spec.ask
        } else {
            self.spec.bid
        }
    }

    pub fn tradeable(&self) -> bool {
        !self.spec.halted
    }
}

/// What an open stream delivers.
#[derive(Clone, Debug)]
pub(super) enum Sub {
    /// v20 pricing stream of an account.
    Pricing {
        account: String,
        instruments: Vec<String>,
    },
    /// v20 transaction stream of an account.
    Transactions { account: String },
    /// v1 rates stream.
    V1Prices { instruments: Vec<String> },
    /// v1 events stream of some accounts.
    V1Events { accounts: Vec<String> },
}

/// What a stream task is told.
#[derive(Debug)]
pub(super) enum StreamMsg {
    /// One NDJSON line (without its newline).
    Line(String),
    /// End the body now.
    End,
}

/// One open stream.
pub(super) struct StreamConn {
    pub token: String,
    pub sub: Sub,
    pub tx: UnboundedSender<StreamMsg>,
}

/// Everything mutable.
pub(super) struct State {
    pub clock: Clock,
    pub tokens: Vec<FakeToken>,
    pub revoked: HashSet<String>,
    /// Real times of the requests accepted in the last second, per token.
    pub windows: HashMap<String, VecDeque<Instant>>,
    pub quotes: Vec<Quote>,
    pub accounts: Vec<Account>,
    pub log: Vec<(u64, LoggedRequest)>,
    pub next_log: u64,
    pub faults: Vec<Fault>,
    pub streams: BTreeMap<u64, StreamConn>,
    pub next_stream: u64,
    pub stream_connections: usize,
    /// See [`FakeOptions::replacements_drop_client_extensions`].
    pub replacements_drop_client_extensions: bool,
    /// Whether prices move by themselves (see [`super::market`]).
    pub moving: bool,
    /// The oldest time the fake has prices for.
    pub data_start: DateTime<Utc>,
}

impl State {
    pub fn new(options: &FakeOptions) -> State {
        let clock = Clock::new(options.now);
        let now = clock.now();
        let mut state = State {
            tokens: options.tokens.clone(),
            revoked: HashSet::new(),
            windows: HashMap::new(),
            quotes: options
                .instruments
                .iter()
                .map(|i| super::market::quote(i, options, now))
                .collect(),
            accounts: Vec::new(),
            log: Vec::new(),
            next_log: 0,
            faults: Vec::new(),
            streams: BTreeMap::new(),
            next_stream: 0,
            stream_connections: 0,
            replacements_drop_client_extensions: options.replacements_drop_client_extensions,
            moving: options.moving,
            data_start: options.data_start,
            clock,
        };
        for spec in &options.accounts {
            let mut account = Account::new(spec.clone(), now);
            super::engine::open_account(&mut account, now);
            account.outbox.clear();
            state.accounts.push(account);
        }
        state
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn quote(&self, instrument: &str) -> Option<&Quote> {
        self.quotes.iter().find(|q| q.spec.name == instrument)
    }

    pub fn account_index(&self, id: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.id() == id)
    }

    /// The token's record, if it is known and not revoked.
    pub fn token(&self, token: &str) -> Option<&FakeToken> {
        if self.revoked.contains(token) {
            return None;
        }
        self.tokens.iter().find(|t| t.token == token)
    }

    /// Whether `token` may use account `id`.
    pub fn reaches(&self, token: &str, id: &str) -> bool {
        self.token(token)
            .is_some_and(|t| t.accounts.iter().any(|a| a == id))
    }

    /// Factor converting an amount in `from` into `to`, through the mid of a `FROM_TO` or `TO_FROM`
    /// instrument (1 when neither exists: the default instruments are all quoted in USD).
    pub fn conversion(&self, from: &str, to: &str) -> Decimal {
        if from == to {
            return Decimal::ONE;
        }
        if let Some(q) = self.quote(&format!("{from}_{to}")) {
            return q.mid();
        }
        match self.quote(&format!("{to}_{from}")) {
            Some(q) if !q.mid().is_zero() => Decimal::ONE / q.mid(),
            _ => Decimal::ONE,
        }
    }

    /// Factor converting the quote currency of `instrument` into the home currency of account `a`.
    pub fn quote_home(&self, a: usize, instrument: &str) -> Decimal {
        let Some(q) = self.quote(instrument) else {
            return Decimal::ONE;
        };
        let home = self.accounts[a].spec.currency.clone();
        self.conversion(q.spec.quote_currency(), &home)
    }

    /// Sends every queued transaction of every account to the streams that watch it.
    pub fn flush(&mut self) {
        for a in 0..self.accounts.len() {
            if self.accounts[a].outbox.is_empty() {
                continue;
            }
            let out = std::mem::take(&mut self.accounts[a].outbox);
            let id = self.accounts[a].id().to_string();
            for conn in self.streams.values() {
                let wanted = match &conn.sub {
                    Sub::Transactions { account } => *account == id,
                    Sub::V1Events { accounts } => accounts.contains(&id),
                    _ => false,
                };
                if !wanted {
                    continue;
                }
                for json in &out {
                    let line = match conn.sub {
                        Sub::V1Events { .. } => serde_json::json!({ "transaction": json }).to_string(),
                        _ => json.to_string(),
                    };
                    let _ = conn.tx.send(StreamMsg::Line(line));
                }
            }
        }
    }

    /// Sends the current quote of `instrument` to every pricing stream subscribed to it.
    pub fn push_price(&mut self, instrument: &str) {
        let mut lines = Vec::new();
        for (id, conn) in &self.streams {
            let line = match &conn.sub {
                Sub::Pricing { account, instruments } if instruments.iter().any(|i| i == instrument) => self
                    .account_index(account)
                    .and_then(|a| super::v20::pricing::client_price(self, a, instrument))
                    .map(|p| p.to_string()),
                Sub::V1Prices { instruments } if instruments.iter().any(|i| i == instrument) => {
                    super::v1::rates::tick_line(self, instrument)
                }
                _ => None,
            };
            if let Some(line) = line {
                lines.push((*id, line));
            }
        }
        for (id, line) in lines {
            if let Some(conn) = self.streams.get(&id) {
                let _ = conn.tx.send(StreamMsg::Line(line));
            }
        }
    }

    /// Ends the streams opened with `token` (all streams when None).
    pub fn end_streams(&mut self, token: Option<&str>) {
        let ids: Vec<u64> = self
            .streams
            .iter()
            .filter(|(_, c)| token.is_none_or(|t| c.token == t))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(conn) = self.streams.remove(&id) {
                let _ = conn.tx.send(StreamMsg::End);
            }
        }
    }

    /// Streams currently open with `token`.
    pub fn streams_of(&self, token: &str) -> usize {
        self.streams.values().filter(|c| c.token == token).count()
    }
}

/// The state plus the fixed settings, shared by the server tasks and the test's handle.
pub(super) struct Shared {
    state: Mutex<State>,
    pub requests_per_second: u32,
    pub heartbeat: Duration,
    /// `http://127.0.0.1:PORT` of the REST listener (transaction page URLs point there).
    pub rest_url: String,
    /// Turns true when the fake is dropped: hung handlers and streams give up.
    pub shutdown: watch::Sender<bool>,
    next_request: AtomicU64,
}

impl Shared {
    pub fn new(options: &FakeOptions, rest_url: String) -> Shared {
        let (shutdown, _) = watch::channel(false);
        Shared {
            state: Mutex::new(State::new(options)),
            requests_per_second: options.requests_per_second,
            heartbeat: options.heartbeat,
            rest_url,
            shutdown,
            next_request: AtomicU64::new(0),
        }
    }

    /// Locks the state. A panic in another holder does not make the fake unusable.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new `RequestID` (large numbers, like OANDA's).
    pub fn request_id(&self) -> u64 {
        42_000_000_000_000_000 + self.next_request.fetch_add(1, Ordering::Relaxed)
    }
}
