//! Orders: the `Order` definition and its subtypes (one flat struct), the on-fill details
//! (`TakeProfitDetails`, `StopLossDetails`, `TrailingStopLossDetails`, `GuaranteedStopLossDetails`),
//! `ClientExtensions` and the `OrderRequest` the bridge sends.

use super::{dec_str, opt_dec, opt_dec_str};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `OrderType`. `GUARANTEED_STOP_LOSS` is not in the OpenAPI file the bridge was built from (which marks
/// a guaranteed stop with `StopLossOrder.guaranteed`) but newer v20 servers report it; both are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderType {
    Market,
    Limit,
    Stop,
    MarketIfTouched,
    TakeProfit,
    StopLoss,
    GuaranteedStopLoss,
    TrailingStopLoss,
    FixedPrice,
    #[serde(other)]
    Unknown,
}

impl OrderType {
    /// Whether orders of this type belong to a trade (take profit, stop loss, trailing stop).
    pub fn is_dependent(self) -> bool {
        matches!(
            self,
            OrderType::TakeProfit
                | OrderType::StopLoss
                | OrderType::GuaranteedStopLoss
                | OrderType::TrailingStopLoss
        )
    }
}

/// `OrderState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderState {
    Pending,
    Filled,
    Triggered,
    Cancelled,
    #[serde(other)]
    Unknown,
}

/// `TimeInForce`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TimeInForce {
    Gtc,
    Gtd,
    Gfd,
    Fok,
    Ioc,
    #[serde(other)]
    Unknown,
}

/// `ClientExtensions`: the client's id, tag and comment of an order or trade.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientExtensions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `TakeProfitDetails`: the take profit an entry order creates on fill, or a trade's take profit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TakeProfitDetails {
    #[serde(
        default,
        deserialize_with = "opt_dec",
        serialize_with = "opt_dec_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_in_force: Option<TimeInForce>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtd_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_extensions: Option<ClientExtensions>,
}

/// `StopLossDetails`: a price or a distance from the fill price; `guaranteed` asks for a guaranteed stop.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopLossDetails {
    #[serde(
        default,
        deserialize_with = "opt_dec",
        serialize_with = "opt_dec_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "opt_dec",
        serialize_with = "opt_dec_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub distance: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_in_force: Option<TimeInForce>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtd_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_extensions: Option<ClientExtensions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guaranteed: Option<bool>,
}

/// `TrailingStopLossDetails`: the distance (price units) the stop trails the market by.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailingStopLossDetails {
    #[serde(
        default,
        deserialize_with = "opt_dec",
        serialize_with = "opt_dec_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub distance: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_in_force: Option<TimeInForce>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtd_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_extensions: Option<ClientExtensions>,
}

/// `GuaranteedStopLossDetails` of newer v20 servers (read only: the bridge asks for a guaranteed stop with
/// `StopLossDetails.guaranteed`, as its OpenAPI file says).
pub type GuaranteedStopLossDetails = StopLossDetails;

/// An `Order` of any type, as listed by `GET /orders`, `GET /orders/{specifier}` and inside `Account`.
/// Fields that only some types carry are optional.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    #[serde(default)]
    pub create_time: Option<String>,
    #[serde(default = "unknown_state")]
    pub state: OrderState,
    #[serde(default)]
    pub client_extensions: Option<ClientExtensions>,
    #[serde(rename = "type")]
    pub kind: OrderType,
    // Entry orders (MARKET, LIMIT, STOP, MARKET_IF_TOUCHED).
    #[serde(default)]
    pub instrument: Option<String>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub units: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub price: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub price_bound: Option<Decimal>,
    #[serde(default)]
    pub time_in_force: Option<TimeInForce>,
    #[serde(default)]
    pub gtd_time: Option<String>,
    #[serde(default)]
    pub position_fill: Option<String>,
    #[serde(default)]
    pub trigger_condition: Option<String>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub initial_market_price: Option<Decimal>,
    #[serde(default)]
    pub take_profit_on_fill: Option<TakeProfitDetails>,
    #[serde(default)]
    pub stop_loss_on_fill: Option<StopLossDetails>,
    #[serde(default)]
    pub guaranteed_stop_loss_on_fill: Option<GuaranteedStopLossDetails>,
    #[serde(default)]
    pub trailing_stop_loss_on_fill: Option<TrailingStopLossDetails>,
    #[serde(default)]
    pub trade_client_extensions: Option<ClientExtensions>,
    // Market orders that close something instead of opening: present only on those.
    #[serde(default)]
    pub trade_close: Option<serde_json::Value>,
    #[serde(default)]
    pub long_position_closeout: Option<serde_json::Value>,
    #[serde(default)]
    pub short_position_closeout: Option<serde_json::Value>,
    #[serde(default)]
    pub margin_closeout: Option<serde_json::Value>,
    #[serde(default)]
    pub delayed_trade_close: Option<serde_json::Value>,
    // Dependent orders (TAKE_PROFIT, STOP_LOSS, GUARANTEED_STOP_LOSS, TRAILING_STOP_LOSS).
    #[serde(default, rename = "tradeID")]
    pub trade_id: Option<String>,
    #[serde(default, rename = "clientTradeID")]
    pub client_trade_id: Option<String>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub distance: Option<Decimal>,
    #[serde(default)]
    pub guaranteed: Option<bool>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub trailing_stop_value: Option<Decimal>,
    // Outcome.
    #[serde(default, rename = "fillingTransactionID")]
    pub filling_transaction_id: Option<String>,
    #[serde(default)]
    pub filled_time: Option<String>,
    #[serde(default, rename = "tradeOpenedID")]
    pub trade_opened_id: Option<String>,
    #[serde(default, rename = "tradeReducedID")]
    pub trade_reduced_id: Option<String>,
    #[serde(default, rename = "tradeClosedIDs")]
    pub trade_closed_ids: Vec<String>,
    #[serde(default, rename = "cancellingTransactionID")]
    pub cancelling_transaction_id: Option<String>,
    #[serde(default)]
    pub cancelled_time: Option<String>,
    #[serde(default, rename = "replacesOrderID")]
    pub replaces_order_id: Option<String>,
    #[serde(default, rename = "replacedByOrderID")]
    pub replaced_by_order_id: Option<String>,
}

fn unknown_state() -> OrderState {
    OrderState::Unknown
}

impl Order {
    /// The client order id (`clientExtensions.id`), when the order has a non-empty one.
    pub fn client_id(&self) -> Option<&str> {
        self.client_extensions
            .as_ref()
            .and_then(|c| c.id.as_deref())
            .filter(|id| !id.is_empty())
    }

    /// The client tag (`clientExtensions.tag`).
    pub fn client_tag(&self) -> Option<&str> {
        self.client_extensions.as_ref().and_then(|c| c.tag.as_deref())
    }

    /// Whether this is a market order OANDA made to close a trade or a position (not an order of the
    /// client's own: TradingView asked for a close, not for an order).
    pub fn is_closing_market_order(&self) -> bool {
        self.trade_close.is_some()
            || self.long_position_closeout.is_some()
            || self.short_position_closeout.is_some()
            || self.margin_closeout.is_some()
            || self.delayed_trade_close.is_some()
    }
}

/// `OrderRequest` (`MarketOrderRequest`, `LimitOrderRequest`, `StopOrderRequest`,
/// `MarketIfTouchedOrderRequest`): what `POST /orders` and `PUT /orders/{specifier}` take.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRequest {
    #[serde(rename = "type")]
    pub kind: OrderType,
    pub instrument: String,
    /// Signed: positive buys, negative sells.
    #[serde(serialize_with = "dec_str")]
    pub units: Decimal,
    #[serde(serialize_with = "opt_dec_str", skip_serializing_if = "Option::is_none")]
    pub price: Option<Decimal>,
    #[serde(serialize_with = "opt_dec_str", skip_serializing_if = "Option::is_none")]
    pub price_bound: Option<Decimal>,
    pub time_in_force: TimeInForce,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gtd_time: Option<String>,
    pub position_fill: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_extensions: Option<ClientExtensions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub take_profit_on_fill: Option<TakeProfitDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_loss_on_fill: Option<StopLossDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trailing_stop_loss_on_fill: Option<TrailingStopLossDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trade_client_extensions: Option<ClientExtensions>,
}

/// The body of `POST /orders` and `PUT /orders/{specifier}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderBody {
    pub order: OrderRequest,
}

/// The body of `PUT /orders/{specifier}/clientExtensions`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientExtensionsBody {
    pub client_extensions: ClientExtensions,
}
