//! The account model both APIs share: orders (entry and dependent), trades, the transaction log and
//! the figures derived from them (positions, unrealized P/L, margin).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::options::FakeAccount;

/// An order type, named as v20 names it; the discriminant is the kind's place in [`Kind::ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Fills at once at the current price.
    Market = 0,
    /// Waits for the price to reach its level or better.
    Limit = 1,
    /// Waits for the price to pass its level.
    Stop = 2,
    /// A market order once the price touches its level.
    MarketIfTouched = 3,
    /// Closes its trade at a profit (dependent).
    TakeProfit = 4,
    /// Closes its trade at a loss (dependent).
    StopLoss = 5,
    /// A stop loss that follows the price (dependent).
    TrailingStopLoss = 6,
}

impl Kind {
    /// Every kind with its wire name, in discriminant order.
    const ALL: [(Kind, &'static str); 7] = [
        (Kind::Market, "MARKET"),
        (Kind::Limit, "LIMIT"),
        (Kind::Stop, "STOP"),
        (Kind::MarketIfTouched, "MARKET_IF_TOUCHED"),
        (Kind::TakeProfit, "TAKE_PROFIT"),
        (Kind::StopLoss, "STOP_LOSS"),
        (Kind::TrailingStopLoss, "TRAILING_STOP_LOSS"),
    ];

    /// The kind of a wire name (`"MARKET_IF_TOUCHED"`), if it is one the fake knows.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(kind, _)| *kind)
    }

    /// The wire name (`"MARKET_IF_TOUCHED"`).
    pub fn wire(self) -> &'static str {
        Kind::ALL[self as usize].1
    }

    /// The transaction type that creates an order of this kind (`LIMIT_ORDER`).
    pub fn tx_type(self) -> String {
        format!("{}_ORDER", self.wire())
    }

    /// The `OrderFillReason` of a fill of this kind (market orders depend on why they were made).
    pub fn fill_reason(self) -> &'static str {
        match self {
            Kind::Market => "MARKET_ORDER",
            Kind::Limit => "LIMIT_ORDER",
            Kind::Stop => "STOP_ORDER",
            Kind::MarketIfTouched => "MARKET_IF_TOUCHED_ORDER",
            Kind::TakeProfit => "TAKE_PROFIT_ORDER",
            Kind::StopLoss => "STOP_LOSS_ORDER",
            Kind::TrailingStopLoss => "TRAILING_STOP_LOSS_ORDER",
        }
    }

    /// Orders that open or reduce positions by themselves (not attached to a trade).
    pub fn is_entry(self) -> bool {
        matches!(self, Kind::Limit | Kind::Stop | Kind::MarketIfTouched)
    }

    /// Orders attached to a trade (they close it).
    pub fn is_dependent(self) -> bool {
        matches!(self, Kind::TakeProfit | Kind::StopLoss | Kind::TrailingStopLoss)
    }
}

/// `OrderState`.
// `Triggered` is a documented state the fake never reaches (its orders fill or are cancelled at once).
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OrderState {
    Pending,
    Filled,
    Triggered,
    Cancelled,
}

impl OrderState {
    pub fn wire(self) -> &'static str {
        match self {
            OrderState::Pending => "PENDING",
            OrderState::Filled => "FILLED",
            OrderState::Triggered => "TRIGGERED",
            OrderState::Cancelled => "CANCELLED",
        }
    }
}

/// The take profit / stop loss / trailing stop to create when an order fills (`...OnFill`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct OnFill {
    pub price: Option<Decimal>,
    pub distance: Option<Decimal>,
    pub guaranteed: Option<bool>,
    pub tif: String,
    pub gtd: Option<DateTime<Utc>>,
    pub ext: Option<Value>,
}

/// What a fill of an order did, kept on the order (`fillingTransactionID`, `tradeOpenedID`...).
#[derive(Clone, Debug, Default)]
pub(super) struct FillRef {
    pub tx: u64,
    pub time: Option<DateTime<Utc>>,
    pub opened: Option<u64>,
    pub reduced: Option<u64>,
    pub closed: Vec<u64>,
}

/// One order of any kind and state.
#[derive(Clone, Debug)]
pub(super) struct Order {
    /// Also the id of the transaction that created it.
    pub id: u64,
    pub kind: Kind,
    pub instrument: String,
    /// Signed units of an entry or market order; 0 for dependent orders.
    pub units: Decimal,
    pub price: Option<Decimal>,
    pub price_bound: Option<Decimal>,
    /// Stop loss distance (as requested) or trailing stop distance.
    pub distance: Option<Decimal>,
    /// The current trigger level of a trailing stop.
    pub trailing_value: Option<Decimal>,
    pub guaranteed: bool,
    pub tif: String,
    pub gtd: Option<DateTime<Utc>>,
    /// When GTD/GFD orders lapse (GFD: the next 17:00 New York).
    pub expires: Option<DateTime<Utc>>,
    pub position_fill: String,
    pub trigger: String,
    pub ext: Option<Value>,
    pub trade_ext: Option<Value>,
    pub tp: Option<OnFill>,
    pub sl: Option<OnFill>,
    pub tsl: Option<OnFill>,
    /// The trade of a dependent order.
    pub trade_id: Option<u64>,
    pub client_trade_id: Option<String>,
    /// `tradeClose` of a market order closing a trade: (trade id, units as requested).
    pub trade_close: Option<(u64, String)>,
    /// Position closeout of a market order: (long side?, units as requested).
    pub closeout: Option<(bool, String)>,
    /// Why it was created (`CLIENT_ORDER`, `ON_FILL`, `REPLACEMENT`, `TRADE_CLOSE`, `POSITION_CLOSEOUT`).
    pub reason: &'static str,
    pub initial_market_price: Option<Decimal>,
    pub state: OrderState,
    pub created: DateTime<Utc>,
    pub fill: Option<FillRef>,
    pub cancel: Option<(u64, DateTime<Utc>)>,
    pub replaces: Option<u64>,
    pub replaced_by: Option<u64>,
    /// The cancel transaction of the replaced order (`cancellingTransactionID` of a replacement).
    pub replace_cancel_tx: Option<u64>,
    /// The fill that created an ON_FILL dependent order.
    pub fill_tx: Option<u64>,
    /// v1 bounds (`upperBound`/`lowerBound`).
    pub upper_bound: Option<Decimal>,
    pub lower_bound: Option<Decimal>,
}

impl Order {
    /// A pending order with defaults for everything but what identifies it.
    pub fn new(id: u64, kind: Kind, instrument: &str, now: DateTime<Utc>) -> Order {
        Order {
            id,
            kind,
            instrument: instrument.to_string(),
            units: Decimal::ZERO,
            price: None,
            price_bound: None,
            distance: None,
            trailing_value: None,
            guaranteed: false,
            tif: if kind == Kind::Market { "FOK" } else { "GTC" }.to_string(),
            gtd: None,
            expires: None,
            position_fill: "DEFAULT".to_string(),
            trigger: "DEFAULT".to_string(),
            ext: None,
            trade_ext: None,
            tp: None,
            sl: None,
            tsl: None,
            trade_id: None,
            client_trade_id: None,
            trade_close: None,
            closeout: None,
            reason: "CLIENT_ORDER",
            initial_market_price: None,
            state: OrderState::Pending,
            created: now,
            fill: None,
            cancel: None,
            replaces: None,
            replaced_by: None,
            replace_cancel_tx: None,
            fill_tx: None,
            upper_bound: None,
            lower_bound: None,
        }
    }

    /// `clientExtensions.id`, if set.
    pub fn client_id(&self) -> Option<&str> {
        self.ext.as_ref()?.get("id")?.as_str()
    }

    pub fn is_pending(&self) -> bool {
        self.state == OrderState::Pending
    }

    /// Whether the order buys (entry orders by the sign of their units).
    pub fn is_buy(&self) -> bool {
        self.units > Decimal::ZERO
    }
}

/// One trade (open or closed).
#[derive(Clone, Debug)]
pub(super) struct Trade {
    /// Also the id of the fill transaction that opened it.
    pub id: u64,
    pub instrument: String,
    pub price: Decimal,
    pub open_time: DateTime<Utc>,
    pub initial_units: Decimal,
    /// Signed; 0 once closed.
    pub units: Decimal,
    pub realized_pl: Decimal,
    /// Sum of |units| closed × close price, for `averageClosePrice`.
    pub close_value: Decimal,
    pub closed_units: Decimal,
    pub closing_tx: Vec<u64>,
    pub close_time: Option<DateTime<Utc>>,
    pub ext: Option<Value>,
    pub tp: Option<u64>,
    pub sl: Option<u64>,
    pub tsl: Option<u64>,
    pub initial_margin: Decimal,
}

impl Trade {
    pub fn is_open(&self) -> bool {
        !self.units.is_zero()
    }

    pub fn is_long(&self) -> bool {
        self.initial_units > Decimal::ZERO
    }

    pub fn client_id(&self) -> Option<&str> {
        self.ext.as_ref()?.get("id")?.as_str()
    }

    pub fn average_close(&self) -> Option<Decimal> {
        if self.closed_units.is_zero() {
            None
        } else {
            Some(self.close_value / self.closed_units)
        }
    }
}

/// A recorded transaction: its id and its wire JSON (in the account's API shape).
#[derive(Clone, Debug)]
pub(super) struct TxRec {
    pub id: u64,
    pub time: DateTime<Utc>,
    pub json: Value,
}

/// Realized P/L per instrument and side (kept for every instrument ever traded).
#[derive(Clone, Debug, Default)]
pub(super) struct PositionPl {
    pub long: Decimal,
    pub short: Decimal,
}

/// One account and everything in it.
pub(super) struct Account {
    pub spec: FakeAccount,
    pub balance: Decimal,
    /// Realized P/L over the account's life.
    pub pl: Decimal,
    pub created: DateTime<Utc>,
    /// Oldest first.
    pub orders: Vec<Order>,
    /// Oldest first, closed ones included.
    pub trades: Vec<Trade>,
    /// Oldest first.
    pub txs: Vec<TxRec>,
    /// The next transaction id to hand out.
    pub next_id: u64,
    /// The first id of the batch being recorded (`batchID`).
    pub batch: u64,
    /// Request id recorded on the batch's transactions.
    pub request_id: Option<u64>,
    /// Instruments ever traded, in first-trade order, with their realized P/L.
    pub positions: Vec<(String, PositionPl)>,
    pub last_fill: Option<DateTime<Utc>>,
    /// Wire JSON of transactions recorded since the streams were last fed.
    pub outbox: Vec<Value>,
}

impl Account {
    pub fn new(spec: FakeAccount, now: DateTime<Utc>) -> Account {
        // v1 ids were large numbers shared by every account; v20 ids count from 1 per account.
        let first = if spec.legacy { 176_403_870 } else { 1 };
        Account {
            balance: Decimal::ZERO,
            pl: Decimal::ZERO,
            created: now,
            orders: Vec::new(),
            trades: Vec::new(),
            txs: Vec::new(),
            next_id: first,
            batch: first,
            request_id: None,
            positions: Vec::new(),
            last_fill: None,
            outbox: Vec::new(),
            spec,
        }
    }

    pub fn id(&self) -> &str {
        &self.spec.id
    }

    pub fn legacy(&self) -> bool {
        self.spec.legacy
    }

    /// Starts a batch: the transactions recorded until the next call share its `batchID`.
    pub fn begin(&mut self, request_id: Option<u64>) {
        self.batch = self.next_id;
        self.request_id = request_id;
    }

    /// Hands out the next transaction id.
    pub fn alloc(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The last transaction id handed out (0 before any).
    pub fn last_id(&self) -> u64 {
        self.next_id.saturating_sub(1)
    }

    /// Ids handed out since the batch began (`relatedTransactionIDs`).
    pub fn related(&self) -> Vec<String> {
        (self.batch..self.next_id).map(|i| i.to_string()).collect()
    }

    /// Stores a transaction's wire JSON and queues it for the account's streams.
    pub fn push_tx(&mut self, id: u64, time: DateTime<Utc>, json: Value) {
        self.outbox.push(json.clone());
        self.txs.push(TxRec { id, time, json });
    }

    pub fn tx_json(&self, id: u64) -> Option<Value> {
        self.txs.iter().find(|t| t.id == id).map(|t| t.json.clone())
    }

    pub fn order(&self, id: u64) -> Option<&Order> {
        self.orders.iter().find(|o| o.id == id)
    }

    pub fn order_mut(&mut self, id: u64) -> Option<&mut Order> {
        self.orders.iter_mut().find(|o| o.id == id)
    }

    pub fn trade(&self, id: u64) -> Option<&Trade> {
        self.trades.iter().find(|t| t.id == id)
    }

    pub fn trade_mut(&mut self, id: u64) -> Option<&mut Trade> {
        self.trades.iter_mut().find(|t| t.id == id)
    }

    /// An order by specifier: its id or `@clientID` (the newest order with that client id).
    pub fn find_order(&self, spec: &str) -> Option<u64> {
        match spec.strip_prefix('@') {
            Some(client) => self
                .orders
                .iter()
                .rev()
                .find(|o| o.client_id() == Some(client))
                .map(|o| o.id),
            None => {
                let id: u64 = spec.parse().ok()?;
                self.order(id).map(|o| o.id)
            }
        }
    }

    /// A trade by specifier: its id or `@clientID`.
    pub fn find_trade(&self, spec: &str) -> Option<u64> {
        match spec.strip_prefix('@') {
            Some(client) => self
                .trades
                .iter()
                .rev()
                .find(|t| t.client_id() == Some(client))
                .map(|t| t.id),
            None => {
                let id: u64 = spec.parse().ok()?;
                self.trade(id).map(|t| t.id)
            }
        }
    }

    pub fn open_trades(&self) -> impl Iterator<Item = &Trade> {
        self.trades.iter().filter(|t| t.is_open())
    }

    pub fn pending_orders(&self) -> impl Iterator<Item = &Order> {
        self.orders.iter().filter(|o| o.is_pending())
    }

    /// Realized P/L record of an instrument, created on first use.
    pub fn position_pl(&mut self, instrument: &str) -> &mut PositionPl {
        let i = match self.positions.iter().position(|(n, _)| n == instrument) {
            Some(i) => i,
            None => {
                self.positions
                    .push((instrument.to_string(), PositionPl::default()));
                self.positions.len() - 1
            }
        };
        &mut self.positions[i].1
    }
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn each_kind_sits_at_its_discriminant_and_reads_back_from_its_wire_name() {
        for (i, (kind, name)) in Kind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i, "{name}");
            assert_eq!(kind.wire(), *name);
            assert_eq!(Kind::parse(name), Some(*kind));
        }
        assert_eq!(Kind::parse("GUARANTEED_STOP_LOSS"), None);
        assert_eq!(Kind::parse("market"), None);
    }
}
