//! Orders: the `/orders` and `/ordersHistory` entities and the place/modify/preview requests.

use super::{CustomFieldValue, InfoMessage, OrderType, Side};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Order status. `placing`, `inactive` and `working` are transitional; the others are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Placing,
    Inactive,
    Working,
    Rejected,
    Filled,
    Cancelled,
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OrderStatus::Placing => "placing",
            OrderStatus::Inactive => "inactive",
            OrderStatus::Working => "working",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Filled => "filled",
            OrderStatus::Cancelled => "cancelled",
        })
    }
}

impl OrderStatus {
    /// Whether the order can no longer change.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Rejected | OrderStatus::Filled | OrderStatus::Cancelled
        )
    }
}

/// What a bracket order is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParentType {
    Order,
    Position,
}

/// Order expiration: a duration id from `/config` plus an optional date/time (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDuration {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datetime: Option<i64>,
}

/// An order as `/orders` and the order streams report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub instrument: String,
    pub qty: Decimal,
    pub side: Side,
    #[serde(rename = "type")]
    pub kind: OrderType,
    pub status: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled_qty: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trailing_stop_pips: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_trailing_stop: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_guaranteed_stop: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_type: Option<ParentType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<OrderDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<InfoMessage>,
}

impl Order {
    /// A new order with no fills, prices, brackets or duration yet; `last_modified` is `t` (unix seconds).
    pub fn new(
        id: String,
        instrument: String,
        qty: Decimal,
        side: Side,
        kind: OrderType,
        status: OrderStatus,
        t: i64,
    ) -> Self {
        Order {
            id,
            instrument,
            qty,
            side,
            kind,
            status,
            filled_qty: None,
            avg_price: None,
            limit_price: None,
            stop_price: None,
            trailing_stop_pips: None,
            is_trailing_stop: None,
            is_guaranteed_stop: None,
            parent_id: None,
            parent_type: None,
            duration: None,
            last_modified: Some(t),
            custom_fields: None,
            message: None,
        }
    }
}

/// Brackets requested with an order or on a position. `None` means "no such bracket".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Brackets {
    pub stop_loss: Option<Decimal>,
    pub take_profit: Option<Decimal>,
    /// Trailing stop distance in pips (the stop loss then trails the market).
    pub trailing_stop_pips: Option<Decimal>,
    pub guaranteed_stop: Option<Decimal>,
}

impl Brackets {
    /// Whether no bracket is requested.
    pub fn is_empty(&self) -> bool {
        self.stop_loss.is_none()
            && self.take_profit.is_none()
            && self.trailing_stop_pips.is_none()
            && self.guaranteed_stop.is_none()
    }
}

/// A validated place-order request (`POST /accounts/{id}/orders`, `/previewOrder`, `/orderInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaceOrder {
    pub instrument: String,
    pub qty: Decimal,
    pub side: Side,
    #[serde(rename = "type")]
    pub kind: OrderType,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub duration: Option<OrderDuration>,
    pub brackets: Brackets,
    pub current_ask: Option<Decimal>,
    pub current_bid: Option<Decimal>,
}

/// A validated modify-order request (`PUT /accounts/{id}/orders/{orderId}`).
///
/// `None` quantity, prices and duration keep the order's current values. `brackets` is the complete set
/// the order must carry afterwards, as TradingView's order ticket sends it: a bracket left out is removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModifyOrder {
    pub qty: Option<Decimal>,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub duration: Option<OrderDuration>,
    pub brackets: Brackets,
}

impl Order {
    /// A working order of `kind` whose one price is `price` (the stop price of a stop order, the limit
    /// price of any other), last changed at `t` (unix seconds; unknown: 0 as its update time).
    pub fn working(
        id: String,
        instrument: String,
        qty: Decimal,
        side: Side,
        kind: OrderType,
        price: Option<Decimal>,
        t: Option<i64>,
    ) -> Order {
        let mut o = Order::new(
            id,
            instrument,
            qty,
            side,
            kind,
            OrderStatus::Working,
            t.unwrap_or_default(),
        );
        o.last_modified = t;
        match kind {
            OrderType::Stop => o.stop_price = price,
            _ => o.limit_price = price,
        }
        o
    }
}

/// The order or position that bracket orders (stop loss, take profit) protect, as its legs show it.
#[derive(Debug, Clone, Copy)]
pub struct BracketParent<'a> {
    id: &'a str,
    kind: ParentType,
    instrument: &'a str,
    side: Side,
    qty: Decimal,
    status: OrderStatus,
    time: Option<i64>,
}

impl<'a> BracketParent<'a> {
    /// The parent `id` of `kind` on `side`; its legs are of `qty` `instrument`, in `status`, last changed
    /// at `time` (unix seconds; unknown: 0 as the leg's update time).
    pub fn new(
        id: &'a str,
        kind: ParentType,
        instrument: &'a str,
        side: Side,
        qty: Decimal,
        status: OrderStatus,
        time: Option<i64>,
    ) -> Self {
        BracketParent {
            id,
            kind,
            instrument,
            side,
            qty,
            status,
            time,
        }
    }

    /// The leg `id` of `kind`: on the side opposite to the parent, linked to it.
    pub fn leg(&self, id: String, kind: OrderType) -> Order {
        let time = self.time.unwrap_or_default();
        let side = self.side.opposite();
        let mut o = Order::new(
            id,
            self.instrument.to_owned(),
            self.qty,
            side,
            kind,
            self.status,
            time,
        );
        o.last_modified = self.time;
        o.parent_id = Some(self.id.to_owned());
        o.parent_type = Some(self.kind);
        o
    }
}

impl PlaceOrder {
    /// An order of `qty` `instrument` with no prices, duration, brackets or quotes (callers and tests set
    /// the fields that matter to them).
    pub fn new(instrument: &str, side: Side, kind: OrderType, qty: Decimal) -> PlaceOrder {
        PlaceOrder {
            instrument: instrument.to_string(),
            qty,
            side,
            kind,
            limit_price: None,
            stop_price: None,
            duration: None,
            brackets: Brackets::default(),
            current_ask: None,
            current_bid: None,
        }
    }
}

impl ModifyOrder {
    /// A modification that keeps quantity, prices and duration and sets the order's brackets to `brackets`.
    pub fn brackets_only(brackets: Brackets) -> ModifyOrder {
        ModifyOrder {
            qty: None,
            limit_price: None,
            stop_price: None,
            duration: None,
            brackets,
        }
    }
}

/// The `d` of a successful place order.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacedOrder {
    pub order_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
}

/// A titled row of an order preview or order info section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewRow {
    pub title: String,
    pub value: String,
}

/// A section of an order preview or order info.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewSection {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    pub rows: Vec<PreviewRow>,
}

/// The `d` of `/previewOrder`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPreview {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm_id: Option<String>,
    pub sections: Vec<PreviewSection>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// The `d` of `/orderInfo` (1.4.27): rows shown in the order ticket's Order Info section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderInfo {
    pub sections: Vec<PreviewSection>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_order_carries_only_what_was_given() {
        let o = PlaceOrder::new("EURUSD", Side::Sell, OrderType::Limit, Decimal::from(5));
        assert_eq!(
            (o.instrument.as_str(), o.side, o.kind, o.qty),
            ("EURUSD", Side::Sell, OrderType::Limit, Decimal::from(5))
        );
        assert!(o.limit_price.is_none() && o.stop_price.is_none() && o.duration.is_none());
        assert!(o.current_ask.is_none() && o.current_bid.is_none() && o.brackets.is_empty());
    }

    #[test]
    fn a_leg_is_opposite_and_linked_to_its_parent() {
        let qty = Decimal::from(3);
        let parent = BracketParent::new(
            "P1",
            ParentType::Position,
            "EURUSD",
            Side::Sell,
            qty,
            OrderStatus::Working,
            Some(7),
        );
        let leg = parent.leg("P1-SL".into(), OrderType::Stop);
        assert_eq!(
            (leg.id.as_str(), leg.instrument.as_str(), leg.qty),
            ("P1-SL", "EURUSD", qty)
        );
        assert_eq!(
            (leg.side, leg.kind, leg.status),
            (Side::Buy, OrderType::Stop, OrderStatus::Working)
        );
        assert_eq!(leg.parent_id.as_deref(), Some("P1"));
        assert_eq!(leg.parent_type, Some(ParentType::Position));
        assert_eq!(leg.last_modified, Some(7));
        let unknown = BracketParent::new(
            "O",
            ParentType::Order,
            "X",
            Side::Buy,
            qty,
            OrderStatus::Inactive,
            None,
        );
        let leg = unknown.leg("O-TP".into(), OrderType::Limit);
        assert_eq!(
            (leg.side, leg.status, leg.last_modified),
            (Side::Sell, OrderStatus::Inactive, None)
        );
        assert_eq!(leg.parent_type, Some(ParentType::Order));
    }

    #[test]
    fn a_working_order_puts_its_price_where_its_kind_reads_it() {
        let one = Some(Decimal::ONE);
        let stop = Order::working(
            "1".into(),
            "X".into(),
            Decimal::TEN,
            Side::Buy,
            OrderType::Stop,
            one,
            Some(5),
        );
        assert_eq!((stop.stop_price, stop.limit_price), (one, None));
        assert_eq!((stop.status, stop.last_modified), (OrderStatus::Working, Some(5)));
        let limit = Order::working(
            "2".into(),
            "X".into(),
            Decimal::TEN,
            Side::Sell,
            OrderType::Limit,
            one,
            None,
        );
        assert_eq!(
            (limit.stop_price, limit.limit_price, limit.last_modified),
            (None, one, None)
        );
        assert_eq!(
            (limit.id.as_str(), limit.side, limit.qty),
            ("2", Side::Sell, Decimal::TEN)
        );
    }

    #[test]
    fn a_brackets_only_change_keeps_everything_else() {
        let brackets = Brackets {
            take_profit: Some(Decimal::from(2)),
            ..Brackets::default()
        };
        let m = ModifyOrder::brackets_only(brackets.clone());
        assert_eq!(m.brackets, brackets);
        assert!(m.qty.is_none() && m.limit_price.is_none() && m.stop_price.is_none() && m.duration.is_none());
    }
}
