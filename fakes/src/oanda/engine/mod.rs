//! The trading engine both APIs share: it changes accounts (orders, trades, balance) and records what
//! happened as typed events, which are rendered into the account's API shape (v20 or v1) and stored in
//! its transaction log.

mod exec;
mod figures;
mod fill;
mod market;

pub(super) use exec::{add_dependent, cancel, close_position, close_trade, place, Placed};
pub(super) use figures::{figures, trade_figures};
pub(super) use fill::{has_margin, round4};
pub(super) use market::{
    expire_all, fill_now, gfd_expiry, set_price, set_price_at, trailing_start, triggered,
};

use super::model::{Account, Kind, Order, Trade};
use super::state::State;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

/// Something that happened to an account; rendered into one v20 transaction or zero or more v1 ones.
// `Create` and `Funds` are rendered as documented, but accounts start funded, so no handler logs them yet.
#[allow(dead_code)]
#[derive(Clone, Debug)]
pub(super) enum Ev {
    /// The account was created (v20 `CREATE`).
    Create,
    /// Money moved in (`TRANSFER_FUNDS`).
    Funds { amount: Decimal, balance: Decimal },
    /// An order was created (`MARKET_ORDER`, `LIMIT_ORDER`, `TAKE_PROFIT_ORDER`...).
    OrderCreate(Box<Order>),
    /// An order request was refused (`..._ORDER_REJECT`); `request` echoes what the client asked.
    OrderReject {
        kind: Kind,
        request: Value,
        reason: String,
        replaces: Option<u64>,
    },
    /// An order filled.
    OrderFill { order: Box<Order>, fill: Box<Fill> },
    /// An order was cancelled.
    OrderCancel { order: Box<Order>, reason: &'static str },
    /// A cancel request was refused (`ORDER_CANCEL_REJECT`).
    CancelReject {
        order_spec: String,
        reason: &'static str,
    },
    /// An order's client extensions were set (`ORDER_CLIENT_EXTENSIONS_MODIFY`); `client_order_id` is the
    /// order's client id before the change, the extensions are what the request set.
    ExtensionsModify {
        order_id: u64,
        client_order_id: Option<String>,
        ext: Option<Value>,
        trade_ext: Option<Value>,
    },
    /// A client-extensions request was refused (`ORDER_CLIENT_EXTENSIONS_MODIFY_REJECT`).
    ExtensionsReject {
        order_spec: String,
        ext: Option<Value>,
        trade_ext: Option<Value>,
        reason: String,
    },
    /// v1 only: an order was changed in place (`ORDER_UPDATE`).
    OrderUpdate(Box<Order>),
    /// v1 only: a trade's stops were changed (`TRADE_UPDATE`).
    TradeUpdate(Box<Trade>),
}

/// A trade opened by a fill (`TradeOpen`).
#[derive(Clone, Debug)]
pub(super) struct Opened {
    pub trade_id: u64,
    pub units: Decimal,
    pub price: Decimal,
    pub margin: Decimal,
    pub ext: Option<Value>,
    pub half_spread_cost: Decimal,
}

/// A trade reduced or closed by a fill (`TradeReduce`).
#[derive(Clone, Debug)]
pub(super) struct Reduce {
    pub trade_id: u64,
    /// Signed in the fill's direction (closing a long trade gives negative units).
    pub units: Decimal,
    pub price: Decimal,
    pub pl: Decimal,
    /// The side of the trade (v1 reports it).
    pub trade_long: bool,
    pub half_spread_cost: Decimal,
}

/// What one fill did.
#[derive(Clone, Debug)]
pub(super) struct Fill {
    pub instrument: String,
    /// Signed units filled.
    pub units: Decimal,
    /// The fill price (all units fill at one price).
    pub price: Decimal,
    /// The quote the fill used.
    pub bid: Decimal,
    pub ask: Decimal,
    pub quote_time: DateTime<Utc>,
    pub opened: Option<Opened>,
    pub reduced: Option<Reduce>,
    pub closed: Vec<Reduce>,
    pub pl: Decimal,
    pub balance: Decimal,
    /// Quote-to-home conversion used for the P/L.
    pub conversion: Decimal,
    /// `OrderFillReason`.
    pub reason: &'static str,
}

impl Fill {
    pub fn half_spread_cost(&self) -> Decimal {
        self.opened.iter().map(|o| o.half_spread_cost).sum::<Decimal>()
            + self.reduced.iter().map(|r| r.half_spread_cost).sum::<Decimal>()
            + self.closed.iter().map(|r| r.half_spread_cost).sum::<Decimal>()
    }
}

/// Renders `ev` as transaction `id` of account `a`, stores it and queues it for the streams. v1 events
/// that v1 does not report are dropped (their id stays unused); one v1 event may become several
/// transactions, the extra ones taking new ids.
pub(super) fn record(st: &mut State, a: usize, id: u64, ev: Ev) {
    let now = st.now();
    if st.accounts[a].legacy() {
        let rendered = super::v1::tx::render(st, a, id, now, &ev);
        for (i, mut json) in rendered.into_iter().enumerate() {
            let tx_id = if i == 0 { id } else { st.accounts[a].alloc() };
            json["id"] = Value::from(tx_id);
            st.accounts[a].push_tx(tx_id, now, json);
        }
    } else if let Some(json) = super::v20::tx::render(st, a, id, now, &ev) {
        st.accounts[a].push_tx(id, now, json);
    }
}

/// Records a new account's first transactions: `CREATE` (v20 only) and the deposit.
pub(super) fn open_account(account: &mut Account, now: DateTime<Utc>) {
    account.begin(None);
    let deposit = account.spec.balance;
    if !account.legacy() {
        let id = account.alloc();
        let json = super::v20::tx::create_account(account, id, now);
        account.push_tx(id, now, json);
    }
    let id = account.alloc();
    account.balance = deposit;
    let json = if account.legacy() {
        super::v1::tx::funds(account, id, now, deposit)
    } else {
        super::v20::tx::funds(account, id, now, deposit)
    };
    account.push_tx(id, now, json);
}

/// A pending order's expiry time for its time in force (None: it does not lapse).
pub(super) fn expiry(tif: &str, gtd: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match tif {
        "GTD" => gtd,
        "GFD" => Some(gfd_expiry(now)),
        _ => None,
    }
}
