//! Which TradingView order id stands for which OANDA order, and the ids of bracket legs.
//!
//! OANDA changes an order's id whenever the order is modified (`PUT /orders/{id}` cancels it and creates a
//! replacement), but TradingView tracks an order by the id `placeOrder` returned. So the TradingView id of
//! an entry order is built from its client id, which OANDA carries over to the replacement:
//! - an order with a client id `X` (every order the bridge places: `X` is the bridge's client order id) is
//!   `@X`, which is also how OANDA's own paths name it (`/orders/@X`);
//! - an order placed elsewhere without a client id is its OANDA id `1234`; when the bridge modifies such an
//!   order it gives the replacement the client id `tvbridge:1234`, which maps back to `1234`;
//! - bracket legs are `<parent>.tp`, `<parent>.sl` and `<parent>.ts`, the parent being the entry order's
//!   TradingView id or, for the dependent orders of an open trade, the trade id (which also survives a
//!   change of the leg).
//!
//! OANDA ids are decimal numbers, so `@X` can never be mistaken for one.

use super::model::{ClientExtensions, Order, Transaction};

/// The client tag of every order the bridge places or re-ids.
pub const BRIDGE_TAG: &str = "tvbridge";
/// Prefix of the client id the bridge gives a replacement of an order that had none.
pub const ALIAS_PREFIX: &str = "tvbridge:";

/// A bracket leg of an entry order or of a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leg {
    TakeProfit,
    StopLoss,
    TrailingStop,
}

impl Leg {
    /// The id suffix of the leg.
    pub fn suffix(self) -> &'static str {
        match self {
            Leg::TakeProfit => ".tp",
            Leg::StopLoss => ".sl",
            Leg::TrailingStop => ".ts",
        }
    }

    /// The leg's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Leg::TakeProfit => "take profit",
            Leg::StopLoss => "stop loss",
            Leg::TrailingStop => "trailing stop",
        }
    }
}

/// The comment of an order bridge user `owner_mark` placed (OANDA carries it over when the order is
/// replaced by a change).
pub fn owner_comment(owner_mark: &str) -> String {
    format!("{BRIDGE_TAG} user {owner_mark}")
}

/// Whether `order` is the one bridge user `owner_mark` placed: its comment says so. An order without the
/// mark (placed elsewhere, or before the bridge wrote marks) is not taken for anyone's.
pub fn placed_by(order: &Order, owner_mark: &str) -> bool {
    order
        .client_extensions
        .as_ref()
        .and_then(|c| c.comment.as_deref())
        == Some(owner_comment(owner_mark).as_str())
}

/// The TradingView id of an order that has client id `client_id` (or none), OANDA id `order_id`.
pub fn tv_id(order_id: &str, client_id: Option<&str>) -> String {
    match client_id.filter(|c| !c.is_empty()) {
        Some(c) => match c.strip_prefix(ALIAS_PREFIX) {
            Some(original) if !original.is_empty() => original.to_string(),
            _ => format!("@{c}"),
        },
        None => order_id.to_string(),
    }
}

/// The TradingView id of an OANDA order.
pub fn tv_order_id(order: &Order) -> String {
    tv_id(&order.id, order.client_id())
}

/// The TradingView id of the order a transaction is about (`orderID` + `clientOrderID`), if it names one.
pub fn tv_order_id_of(tx: &Transaction) -> Option<String> {
    tx.order_id.as_deref().map(|id| tv_id(id, tx.client_id()))
}

/// The id of a bracket leg of `parent`.
pub fn leg_id(parent: &str, leg: Leg) -> String {
    format!("{parent}{}", leg.suffix())
}

/// Splits a leg id into its parent and leg; `None` for anything else.
pub fn split_leg(id: &str) -> Option<(&str, Leg)> {
    [Leg::TakeProfit, Leg::StopLoss, Leg::TrailingStop]
        .into_iter()
        .find_map(|leg| {
            id.strip_suffix(leg.suffix())
                .filter(|p| !p.is_empty())
                .map(|p| (p, leg))
        })
}

/// The client extensions a replacement must carry so that it keeps TradingView id `tv_id`, when OANDA's
/// own carrying over of the replaced order's extensions is not enough (the order had no client id).
pub fn extensions_keeping(tv_id: &str) -> ClientExtensions {
    let id = match tv_id.strip_prefix('@') {
        Some(client) => client.to_string(),
        None => format!("{ALIAS_PREFIX}{tv_id}"),
    };
    ClientExtensions {
        id: Some(id),
        tag: Some(BRIDGE_TAG.to_string()),
        comment: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_name_orders_and_survive_replacement() {
        assert_eq!(tv_id("2304", Some("tv-abc")), "@tv-abc");
        assert_eq!(tv_id("2304", None), "2304");
        assert_eq!(tv_id("2304", Some("")), "2304");
        assert_eq!(tv_id("2307", Some("tvbridge:2304")), "2304");
        assert_eq!(tv_id("2307", Some("tvbridge:")), "@tvbridge:");
        // What a replacement is given maps back to the id TradingView knows.
        for tv in ["2304", "@tv-abc"] {
            let ext = extensions_keeping(tv);
            assert_eq!(tv_id("9999", ext.id.as_deref()), tv);
            assert_eq!(ext.tag.as_deref(), Some(BRIDGE_TAG));
        }
    }

    #[test]
    fn leg_ids_split_back() {
        assert_eq!(leg_id("@a.b", Leg::StopLoss), "@a.b.sl");
        assert_eq!(split_leg("@a.b.sl"), Some(("@a.b", Leg::StopLoss)));
        assert_eq!(split_leg("160.tp"), Some(("160", Leg::TakeProfit)));
        assert_eq!(split_leg("160.ts"), Some(("160", Leg::TrailingStop)));
        assert_eq!(split_leg("160"), None);
        assert_eq!(split_leg(".tp"), None);
    }
}
