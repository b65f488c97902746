//! The contract between the OANDA broker and the two REST API versions that serve accounts: [`Venue`] and
//! the version-neutral types it speaks in. `v20` and `v1` each implement it; the broker picks one per account
//! and adds sessions, caching, the data feed and the streams on top.

use super::catalog::AccountCatalog;
use super::client::Http;
use crate::broker::{BrokerError, BrokerResult};
use crate::secret::Secret;
use crate::tv;
use crate::upstream::days::DayCut;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::sync::Arc;

/// What any call needs: the shared HTTP client and the caller's personal access token.
#[derive(Clone, Debug)]
pub struct Conn {
    pub http: Arc<Http>,
    pub token: Secret,
}

/// One account call: the connection, the account and its instruments.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub conn: &'a Conn,
    pub account: &'a str,
    pub catalog: &'a AccountCatalog,
    /// When the bridge session began: orders that reached a final status since then stay in `/orders`
    /// (TradingView shows them until the session ends).
    pub since: DateTime<Utc>,
}

/// An account the token reaches.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountHead {
    pub id: String,
    /// The alias, or the id when the account has none.
    pub name: String,
    pub currency: String,
    /// v20 `hedgingEnabled`; v1 accounts never hedge.
    pub hedging: bool,
    /// Whether guaranteed stop losses may be attached (v20 `guaranteedStopLossOrderMode` not `DISABLED`).
    pub guaranteed_stops: bool,
}

/// OANDA's instrument classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstrumentKind {
    Currency,
    Cfd,
    Metal,
}

/// What trading an instrument needs to know (v20 `Instrument`, v1 instrument fields).
#[derive(Debug, Clone, PartialEq)]
pub struct InstrumentSpec {
    /// `EUR_USD`.
    pub name: String,
    /// `EUR/USD`.
    pub display_name: String,
    pub kind: InstrumentKind,
    /// 10^pip_location is one pip (-4 for EUR_USD, -2 for USD_JPY).
    pub pip_location: i32,
    /// Decimal places of prices.
    pub display_precision: u32,
    /// Decimal places of units (0: whole units).
    pub units_precision: u32,
    pub min_units: Decimal,
    pub max_units: Decimal,
    pub margin_rate: Decimal,
    /// Smallest and largest trailing stop distance in price units, when known.
    pub min_trailing_distance: Option<Decimal>,
    pub max_trailing_distance: Option<Decimal>,
}

impl InstrumentSpec {
    /// The size of one pip in price units.
    pub fn pip(&self) -> Decimal {
        if self.pip_location < 0 {
            Decimal::new(1, self.pip_location.unsigned_abs().min(28))
        } else {
            Decimal::from(10i64.pow(self.pip_location.unsigned_abs().min(18)))
        }
    }

    /// The smallest price step.
    pub fn tick(&self) -> Decimal {
        Decimal::new(1, self.display_precision.min(28))
    }
}

/// A price snapshot of one instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    pub instrument: String,
    pub time: DateTime<Utc>,
    pub bid: Decimal,
    pub ask: Decimal,
    /// Liquidity of the best bid and ask, when the upstream says.
    pub bid_size: Option<Decimal>,
    pub ask_size: Option<Decimal>,
    pub tradeable: bool,
    /// Account-currency value of one unit of the quote currency, for a gain and for a loss (v20
    /// `homeConversions`/`quoteHomeConversionFactors`), when the upstream says.
    pub quote_to_home: Option<(Decimal, Decimal)>,
}

/// Which price a candle is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandleSide {
    Mid,
    Bid,
    Ask,
}

/// OANDA's candle granularities (both versions use the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    S5,
    S10,
    S15,
    S30,
    M1,
    M2,
    M4,
    M5,
    M10,
    M15,
    M30,
    H1,
    H2,
    H3,
    H4,
    H6,
    H8,
    H12,
    D,
    W,
    M,
}

impl Granularity {
    /// The wire name (`M5`, `H1`, `D`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::S5 => "S5",
            Granularity::S10 => "S10",
            Granularity::S15 => "S15",
            Granularity::S30 => "S30",
            Granularity::M1 => "M1",
            Granularity::M2 => "M2",
            Granularity::M4 => "M4",
            Granularity::M5 => "M5",
            Granularity::M10 => "M10",
            Granularity::M15 => "M15",
            Granularity::M30 => "M30",
            Granularity::H1 => "H1",
            Granularity::H2 => "H2",
            Granularity::H3 => "H3",
            Granularity::H4 => "H4",
            Granularity::H6 => "H6",
            Granularity::H8 => "H8",
            Granularity::H12 => "H12",
            Granularity::D => "D",
            Granularity::W => "W",
            Granularity::M => "M",
        }
    }

    /// Length in seconds; months count as 31 days (only used to bound request windows).
    pub fn seconds(self) -> i64 {
        match self {
            Granularity::S5 => 5,
            Granularity::S10 => 10,
            Granularity::S15 => 15,
            Granularity::S30 => 30,
            Granularity::M1 => 60,
            Granularity::M2 => 120,
            Granularity::M4 => 240,
            Granularity::M5 => 300,
            Granularity::M10 => 600,
            Granularity::M15 => 900,
            Granularity::M30 => 1_800,
            Granularity::H1 => 3_600,
            Granularity::H2 => 7_200,
            Granularity::H3 => 10_800,
            Granularity::H4 => 14_400,
            Granularity::H6 => 21_600,
            Granularity::H8 => 28_800,
            Granularity::H12 => 43_200,
            Granularity::D => 86_400,
            Granularity::W => 604_800,
            Granularity::M => 2_678_400,
        }
    }
}

/// One candles request: the newest `count` candles starting before `before` (or the newest of all). The
/// bridge pages backward with these, so it never sends a `from` (nor `includeFirst`, which only matters
/// with one). Intraday candles are aligned on UTC (`dailyAlignment=0`, `alignmentTimezone=UTC`), daily
/// ones as `day_cut` says; weeks start on Monday.
#[derive(Debug, Clone, PartialEq)]
pub struct CandleQuery {
    pub instrument: String,
    pub granularity: Granularity,
    pub side: CandleSide,
    /// Candles starting before this (exclusive); `None`: up to the current candle.
    pub before: Option<DateTime<Utc>>,
    /// Candles wanted (at most 5000, OANDA's limit); fewer come back only when no older ones exist.
    pub count: u32,
    /// How daily candles are cut: UTC days, or OANDA's own FX day (17:00 New York).
    pub day_cut: DayCut,
}

impl CandleQuery {
    /// `dailyAlignment` and `alignmentTimezone` of this request.
    pub fn alignment(&self) -> (u32, &'static str) {
        match self.day_cut {
            DayCut::NewYork17 if self.granularity == Granularity::D => (17, "America/New_York"),
            DayCut::NewYork17 | DayCut::Utc => (0, "UTC"),
        }
    }

    /// The `to` (v1: `end`) sent for `before`: one second earlier, so that whether OANDA reads `to` as
    /// exclusive, inclusive or as the candle containing it, the candle starting at `before` stays out.
    pub fn to(&self) -> Option<DateTime<Utc>> {
        self.before.map(|b| b - chrono::Duration::seconds(1))
    }
}

/// One candle, in the requested price.
#[derive(Debug, Clone, PartialEq)]
pub struct Candle {
    pub time: DateTime<Utc>,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: u64,
    pub complete: bool,
}

/// Path and query of a stream on the stream host.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRequest {
    pub path: String,
    pub query: Vec<(&'static str, String)>,
}

/// One line of a stream, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamLine<T> {
    Item(T),
    Heartbeat,
    /// A line the bridge has no use for (or cannot read; logged by the venue).
    Other,
}

/// Who a new order is and whose it is: the client order id, and the mark of the bridge user placing it
/// ([`crate::upstream::order_ids::owner_mark`]), kept beside the id so that an order found by that id
/// after a lost answer or a "client id already exists" refusal is only taken for this user's when it is.
#[derive(Debug, Clone, Copy)]
pub struct ClientRef<'a> {
    pub id: &'a str,
    pub owner: &'a str,
}

#[cfg(test)]
impl<'a> ClientRef<'a> {
    /// Client id `id` of the tests' bridge user, whose mark is `0a1b2c3d`.
    pub fn of_tests(id: &'a str) -> ClientRef<'a> {
        ClientRef {
            id,
            owner: "0a1b2c3d",
        }
    }
}

/// One OANDA REST API version. Every account-scoped method gets a [`Ctx`]; errors are already mapped to
/// [`crate::broker::BrokerError`] with a readable message (the upstream's reject reason included).
#[async_trait]
pub trait Venue: Send + Sync + 'static {
    /// Accounts the token reaches, with their currency and hedging mode.
    async fn accounts(&self, conn: &Conn) -> BrokerResult<Vec<AccountHead>>;

    /// Every instrument the account may trade.
    async fn instruments(&self, conn: &Conn, account: &str) -> BrokerResult<Vec<InstrumentSpec>>;

    /// Balance, equity, P/L and margin (`am_data` filled in).
    async fn state(&self, cx: Ctx<'_>) -> BrokerResult<tv::AccountState>;

    /// Current prices of `instruments` (OANDA names); an unknown instrument is simply absent.
    async fn prices(&self, cx: Ctx<'_>, instruments: &[String]) -> BrokerResult<Vec<Price>>;

    /// Pending orders (entry orders and the brackets waiting on them or on trades) plus orders that reached
    /// a final status since `cx.since`.
    async fn orders(&self, cx: Ctx<'_>) -> BrokerResult<Vec<tv::Order>>;

    /// Places `order` on `spec`'s instrument with `client.id` as the client order id where the version has
    /// one. After a failure that may have reached OANDA, looks the order up instead of sending it again,
    /// and answers with a found order only when `client.owner` placed it. Returns the id of the order as it
    /// will appear in [`Venue::orders`].
    async fn place_order(
        &self,
        cx: Ctx<'_>,
        spec: &InstrumentSpec,
        order: &tv::PlaceOrder,
        client: ClientRef<'_>,
    ) -> BrokerResult<String>;

    /// The id of the order placed earlier under `client.id` by `client.owner`: `Ok(None)` when the
    /// upstream has none. Venues without client ids keep the default.
    async fn find_order(&self, _cx: Ctx<'_>, _client: ClientRef<'_>) -> BrokerResult<Option<String>> {
        Err(BrokerError::Unsupported("looking orders up by requestId"))
    }

    /// Changes a pending order (price, quantity, duration, brackets).
    async fn modify_order(&self, cx: Ctx<'_>, order_id: &str, change: &tv::ModifyOrder) -> BrokerResult<()>;

    async fn cancel_order(&self, cx: Ctx<'_>, order_id: &str) -> BrokerResult<()>;

    /// Open trades as individual positions (with their brackets).
    async fn individual_positions(&self, cx: Ctx<'_>) -> BrokerResult<Vec<tv::IndividualPosition>>;

    /// Open positions as net positions, one per instrument (id: the instrument's symbol).
    async fn net_positions(&self, cx: Ctx<'_>) -> BrokerResult<Vec<tv::NetPosition>>;

    /// Orders, net and individual positions and state of one refresh (every OANDA account shows trades as
    /// individual positions). The default joins the calls above; a version overrides it with fewer reads.
    async fn snapshot(&self, cx: Ctx<'_>) -> BrokerResult<crate::broker::AccountSnapshot> {
        let (orders, net_positions, individual_positions, state) = tokio::try_join!(
            self.orders(cx),
            self.net_positions(cx),
            self.individual_positions(cx),
            self.state(cx)
        )?;
        Ok(crate::broker::AccountSnapshot {
            orders,
            positions: Vec::new(),
            net_positions,
            individual_positions,
            state,
        })
    }

    /// Closes a trade, or `units` of it.
    async fn close_trade(&self, cx: Ctx<'_>, trade_id: &str, units: Option<Decimal>) -> BrokerResult<()>;

    /// Sets a trade's stop loss, take profit and trailing stop (an absent one is removed).
    async fn set_trade_brackets(
        &self,
        cx: Ctx<'_>,
        trade_id: &str,
        brackets: &tv::Brackets,
    ) -> BrokerResult<()>;

    /// Closes the whole net position of `instrument` (OANDA name).
    async fn close_position(&self, cx: Ctx<'_>, instrument: &str) -> BrokerResult<()>;

    /// Fills, newest first, at most `max`, of one instrument (OANDA name) or all.
    async fn executions(
        &self,
        cx: Ctx<'_>,
        instrument: Option<&str>,
        max: usize,
    ) -> BrokerResult<Vec<tv::Execution>>;

    /// Orders that reached a final status (filled, cancelled, rejected), newest first, at most `max`.
    async fn orders_history(&self, cx: Ctx<'_>, max: usize) -> BrokerResult<Vec<tv::Order>>;

    /// One page of candles. `account` is needed by versions whose candles are account-scoped.
    async fn candles(&self, conn: &Conn, account: &str, query: &CandleQuery) -> BrokerResult<Vec<Candle>>;

    /// The price stream of `instruments` for `account`.
    fn price_stream(&self, account: &str, instruments: &[String]) -> StreamRequest;
    fn parse_price_line(&self, line: &[u8]) -> StreamLine<Price>;

    /// The account's transaction stream announced a change: anything cached about the account is stale.
    fn account_changed(&self, _account: &str) {}

    /// The stream of the account's transactions.
    fn transaction_stream(&self, account: &str) -> StreamRequest;
    /// A transaction line yields the id of the account it concerns.
    fn parse_transaction_line(&self, line: &[u8]) -> StreamLine<String>;
}

/// Order duration ids offered in `/config` (TradingView sends them back in `durationType`).
pub mod durations {
    /// Good till cancelled (pending orders).
    pub const GTC: &str = "GTC";
    /// Good till a date and time (pending orders; `durationDateTime`).
    pub const GTD: &str = "GTD";
    /// Good for the trading day (pending orders, v20 only).
    pub const GFD: &str = "GFD";
    /// Fill or kill (market orders, the default).
    pub const FOK: &str = "FOK";
    /// Immediate or cancel (market orders, v20 only).
    pub const IOC: &str = "IOC";
}
