//! OANDA v20 refusals in words: `TransactionRejectReason` (why a write was rejected) and
//! `OrderCancelReason` (why an order was cancelled, e.g. a market order killed for lack of margin), and the
//! mapping of a failed write to a [`BrokerError`] that carries the reason.
//!
//! The common reasons have a hand-written sentence; any other value (including one OANDA adds later) becomes
//! a sentence made from its own name, so a refusal is never left without words.

use crate::backends::oanda::errors::{broker_error, parsed};
use crate::broker::BrokerError;
use crate::upstream::call::CallError;

/// A `TransactionRejectReason` in words.
pub fn reject_reason(reason: &str) -> String {
    let known = match reason {
        "INSUFFICIENT_MARGIN" => "There is not enough margin available for this order.",
        "INSUFFICIENT_FUNDS" => "There are not enough funds in the account.",
        "INSTRUMENT_NOT_TRADEABLE" => {
            "The instrument cannot be traded at the moment (market closed or halted)."
        }
        "INSTRUMENT_PRICE_UNKNOWN" => "OANDA has no current price for the instrument.",
        "INSTRUMENT_UNKNOWN" | "INSTRUMENT_MISSING" => "The instrument is not known to OANDA.",
        "ACCOUNT_NOT_ACTIVE" => "The account is not active.",
        "ACCOUNT_LOCKED" => "The account is locked.",
        "ACCOUNT_ORDER_CREATION_LOCKED" => "The account may not create orders at the moment.",
        "ACCOUNT_ORDER_CANCEL_LOCKED" => "The account may not cancel orders at the moment.",
        "ACCOUNT_CONFIGURATION_LOCKED" => "The account's configuration is locked.",
        "PENDING_ORDERS_ALLOWED_EXCEEDED" => "The account has reached the maximum number of pending orders.",
        "ORDER_DOESNT_EXIST" => "The order does not exist (it may have been filled or cancelled).",
        "ORDER_IDENTIFIER_INCONSISTENCY" => "The order id and the client order id name different orders.",
        "TRADE_DOESNT_EXIST" => "The trade does not exist (it may have been closed).",
        "TRADE_IDENTIFIER_INCONSISTENCY" => "The trade id and the client trade id name different trades.",
        "UNITS_INVALID" | "UNITS_MISSING" => "The quantity is not valid.",
        "UNITS_PRECISION_EXCEEDED" => "The quantity has more decimals than the instrument allows.",
        "UNITS_LIMIT_EXCEEDED" => "The quantity is above the instrument's maximum order size.",
        "UNITS_MIMIMUM_NOT_MET" => "The quantity is below the instrument's minimum order size.",
        "PRICE_INVALID" | "PRICE_MISSING" => "The order price is not valid.",
        "PRICE_PRECISION_EXCEEDED" => "The price has more decimals than the instrument allows.",
        "PRICE_DISTANCE_MAXIMUM_EXCEEDED" => "The price is too far from the current market price.",
        "PRICE_DISTANCE_MINIMUM_NOT_MET" => "The price is too close to the current market price.",
        "PRICE_BOUND_INVALID" => "The limit price (price bound) is not valid.",
        "PRICE_BOUND_PRECISION_EXCEEDED" => "The limit price has more decimals than the instrument allows.",
        "TIME_IN_FORCE_INVALID" | "TIME_IN_FORCE_MISSING" => {
            "The order duration is not valid for this order type."
        }
        "TIME_IN_FORCE_GTD_TIMESTAMP_MISSING" => "A good-till-date order needs an expiry date.",
        "TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST" => "The expiry date is in the past.",
        "CLIENT_ORDER_ID_INVALID" => "The client order id is not valid.",
        "CLIENT_ORDER_ID_ALREADY_EXISTS" => "An order with this client order id already exists.",
        "TAKE_PROFIT_ORDER_ALREADY_EXISTS" => "The trade already has a take profit.",
        "STOP_LOSS_ORDER_ALREADY_EXISTS" => "The trade already has a stop loss.",
        "TRAILING_STOP_LOSS_ORDER_ALREADY_EXISTS" => "The trade already has a trailing stop.",
        "TAKE_PROFIT_ON_FILL_PRICE_INVALID" | "TAKE_PROFIT_ON_FILL_PRICE_MISSING" => {
            "The take profit price is not valid."
        }
        "TAKE_PROFIT_ON_FILL_PRICE_PRECISION_EXCEEDED" => {
            "The take profit price has more decimals than the instrument allows."
        }
        "TAKE_PROFIT_ON_FILL_GTD_TIMESTAMP_IN_PAST" => "The take profit's expiry date is in the past.",
        "STOP_LOSS_ON_FILL_PRICE_INVALID" | "STOP_LOSS_ON_FILL_PRICE_MISSING" => {
            "The stop loss price is not valid."
        }
        "STOP_LOSS_ON_FILL_PRICE_PRECISION_EXCEEDED" => {
            "The stop loss price has more decimals than the instrument allows."
        }
        "STOP_LOSS_ON_FILL_DISTANCE_INVALID" => "The stop loss distance is not valid.",
        "STOP_LOSS_ON_FILL_PRICE_DISTANCE_MAXIMUM_EXCEEDED" => "The stop loss is too far from the price.",
        "STOP_LOSS_ON_FILL_REQUIRED_FOR_PENDING_ORDER" => "This account requires a stop loss on every order.",
        "STOP_LOSS_ON_FILL_GUARANTEED_REQUIRED" | "STOP_LOSS_ORDER_GUARANTEED_REQUIRED" => {
            "This account requires the stop loss to be guaranteed."
        }
        "STOP_LOSS_ON_FILL_GUARANTEED_NOT_ALLOWED" | "STOP_LOSS_ORDER_GUARANTEED_NOT_ALLOWED" => {
            "Guaranteed stop losses are not allowed on this account."
        }
        "STOP_LOSS_ON_FILL_GUARANTEED_MINIMUM_DISTANCE_NOT_MET"
        | "STOP_LOSS_ORDER_GUARANTEED_MINIMUM_DISTANCE_NOT_MET" => {
            "The guaranteed stop loss is closer to the price than the instrument's minimum distance."
        }
        "STOP_LOSS_ON_FILL_GUARANTEED_LEVEL_RESTRICTION_EXCEEDED"
        | "STOP_LOSS_ORDER_GUARANTEED_LEVEL_RESTRICTION_EXCEEDED" => {
            "Too many guaranteed stop losses are near this price level."
        }
        "STOP_LOSS_ORDER_GUARANTEED_HEDGING_NOT_ALLOWED" => {
            "A guaranteed stop loss is not allowed while the account hedges."
        }
        "STOP_LOSS_ORDER_GUARANTEED_PRICE_WITHIN_SPREAD" => {
            "The guaranteed stop loss lies within the spread."
        }
        "STOP_LOSS_ORDER_NOT_CANCELABLE" => "This stop loss cannot be cancelled (the account requires one).",
        "STOP_LOSS_ORDER_NOT_REPLACEABLE" => "This stop loss cannot be changed.",
        "TRAILING_STOP_LOSS_ON_FILL_PRICE_DISTANCE_INVALID"
        | "TRAILING_STOP_LOSS_ON_FILL_PRICE_DISTANCE_MISSING" => "The trailing stop distance is not valid.",
        "TRAILING_STOP_LOSS_ON_FILL_PRICE_DISTANCE_MINIMUM_NOT_MET" => {
            "The trailing stop distance is below the instrument's minimum."
        }
        "TRAILING_STOP_LOSS_ON_FILL_PRICE_DISTANCE_MAXIMUM_EXCEEDED" => {
            "The trailing stop distance is above the instrument's maximum."
        }
        "TRAILING_STOP_LOSS_ON_FILL_PRICE_DISTANCE_PRECISION_EXCEEDED" => {
            "The trailing stop distance has more decimals than the instrument allows."
        }
        "TRAILING_STOP_LOSS_ORDERS_NOT_SUPPORTED" => "Trailing stops are not available for this instrument.",
        "CLOSE_TRADE_UNITS_EXCEED_TRADE_SIZE" => "The quantity to close is larger than the trade.",
        "CLOSEOUT_POSITION_DOESNT_EXIST" => "There is no open position to close.",
        "CLOSEOUT_POSITION_UNITS_EXCEED_POSITION_SIZE" => {
            "The quantity to close is larger than the position."
        }
        "CLOSEOUT_POSITION_REJECT" => "OANDA refused to close the position.",
        "REPLACING_ORDER_INVALID" => {
            "The order cannot be changed this way (the replacing order is not valid)."
        }
        "INTERNAL_SERVER_ERROR" => "OANDA had an internal error.",
        _ => return sentence_of(reason),
    };
    known.to_string()
}

/// An `OrderCancelReason` in words.
pub fn cancel_reason(reason: &str) -> String {
    let known = match reason {
        "INSUFFICIENT_MARGIN" => "There was not enough margin available to fill the order.",
        "MARKET_HALTED" => "The market was halted or closed.",
        "INSUFFICIENT_LIQUIDITY" => "There was not enough liquidity to fill the order.",
        "BOUNDS_VIOLATION" => "The price moved beyond the order's price bound.",
        "FIFO_VIOLATION" => "Filling the order would break the first-in-first-out rule.",
        "CLIENT_REQUEST" => "Cancelled on request.",
        "CLIENT_REQUEST_REPLACED" => "Replaced by a modified order.",
        "TIME_IN_FORCE_EXPIRED" => "The order expired.",
        "LINKED_TRADE_CLOSED" => "The trade it belonged to was closed.",
        "ACCOUNT_LOCKED" => "The account is locked.",
        "ACCOUNT_NEW_POSITIONS_LOCKED" => "The account may not open new positions.",
        "ACCOUNT_ORDER_CREATION_LOCKED" => "The account may not create orders.",
        "ACCOUNT_ORDER_FILL_LOCKED" => "The account may not fill orders.",
        "POSITION_SIZE_EXCEEDED" => "Filling the order would exceed the maximum position size.",
        "OPEN_TRADES_ALLOWED_EXCEEDED" => "The account has reached the maximum number of open trades.",
        "PENDING_ORDERS_ALLOWED_EXCEEDED" => "The account has reached the maximum number of pending orders.",
        "ACCOUNT_POSITION_VALUE_LIMIT_EXCEEDED" => {
            "Filling the order would exceed the account's position value limit."
        }
        "INSTRUMENT_BID_HALTED" | "INSTRUMENT_ASK_HALTED" => "Trading in the instrument was halted.",
        "INSTRUMENT_BID_REDUCE_ONLY" | "INSTRUMENT_ASK_REDUCE_ONLY" => {
            "The instrument only allows reducing positions at the moment."
        }
        "STOP_LOSS_ON_FILL_LOSS" => "The stop loss would have been on the wrong side of the fill price.",
        "TAKE_PROFIT_ON_FILL_LOSS" | "LOSING_TAKE_PROFIT" => {
            "The take profit would have been on the losing side of the fill price."
        }
        "STOP_LOSS_ON_FILL_REQUIRED" => "This account requires a stop loss on every order.",
        "STOP_LOSS_ON_FILL_GUARANTEED_REQUIRED" => "This account requires the stop loss to be guaranteed.",
        "STOP_LOSS_ON_FILL_GUARANTEED_NOT_ALLOWED" => {
            "Guaranteed stop losses are not allowed on this account."
        }
        "STOP_LOSS_ON_FILL_GUARANTEED_MINIMUM_DISTANCE_NOT_MET" => {
            "The guaranteed stop loss was closer to the price than the instrument's minimum distance."
        }
        "HEDGING_GSLO_VIOLATION" => "A guaranteed stop loss is not allowed while the account hedges.",
        "INTERNAL_SERVER_ERROR" => "OANDA had an internal error.",
        _ => return sentence_of(reason),
    };
    known.to_string()
}

/// Whether an order cancelled for `reason` could never have executed: TradingView shows it as rejected,
/// not as cancelled by someone. Expiry, a client's own cancel or replace, and the end of the trade a
/// bracket belonged to are ordinary cancellations.
pub fn is_rejection(reason: &str) -> bool {
    !matches!(
        reason,
        "CLIENT_REQUEST"
            | "CLIENT_REQUEST_REPLACED"
            | "TIME_IN_FORCE_EXPIRED"
            | "LINKED_TRADE_CLOSED"
            | "MIGRATION"
    )
}

/// `SOME_REASON_NAME` -> "Some reason name." (only letters, digits and spaces survive, so nothing odd
/// from the upstream reaches a message).
fn sentence_of(code: &str) -> String {
    let words: String = code
        .trim()
        .chars()
        .take(120)
        .map(|c| if c == '_' { ' ' } else { c.to_ascii_lowercase() })
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect();
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_ascii_uppercase(), chars.as_str()),
        None => "OANDA gave no reason.".to_string(),
    }
}

/// The reject reason (`rejectReason`, else `errorCode`) of a failed write's body, if any.
pub fn rejected_reason(e: &CallError) -> Option<String> {
    parsed(e).and_then(|b| b.v20.reason().map(str::to_string))
}

/// Maps a failed write about `what` ("the order", "trade 42") to a [`BrokerError`]. A 400 or 404 whose body
/// names a reject reason becomes `Rejected` (or `NotFound` for a missing order or trade) with the reason
/// in words and OANDA's own message; anything else goes through the common mapping.
pub fn write_error(e: &CallError, what: &str) -> BrokerError {
    let (CallError::Status { status, .. }, Some(body)) = (e, parsed(e)) else {
        return broker_error(e, what);
    };
    if !matches!(status, 400 | 404) {
        return broker_error(e, what);
    }
    let message = body.message.clone();
    let Some(reason) = body.v20.reason() else {
        return broker_error(e, what);
    };
    let words = reject_reason(reason);
    let text = match message {
        Some(m) if !same_words(&m, &words) && m != reason => format!("{words} (OANDA: {m})"),
        _ => words,
    };
    if *status == 404
        || matches!(
            reason,
            "ORDER_DOESNT_EXIST" | "TRADE_DOESNT_EXIST" | "CLOSEOUT_POSITION_DOESNT_EXIST"
        )
    {
        BrokerError::NotFound(format!("OANDA could not find {what}: {text}"))
    } else {
        BrokerError::Rejected(format!("OANDA rejected {what}: {text}"))
    }
}

pub use super::super::errors::unconfirmed;

/// Whether two messages say the same thing (case and punctuation aside).
fn same_words(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect::<String>()
    };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, body: &str) -> CallError {
        CallError::status_of::<crate::backends::oanda::errors::OandaError>(status, body)
    }

    #[test]
    fn common_reasons_have_sentences_and_others_are_spelled_out() {
        assert_eq!(
            reject_reason("INSUFFICIENT_MARGIN"),
            "There is not enough margin available for this order."
        );
        assert_eq!(
            reject_reason("MARKUP_GROUP_ID_INVALID"),
            "Markup group id invalid."
        );
        assert_eq!(reject_reason("A_NEW_REASON_2"), "A new reason 2.");
        assert_eq!(reject_reason(""), "OANDA gave no reason.");
        assert_eq!(reject_reason("<script>"), "Script.");
        assert_eq!(cancel_reason("MARKET_HALTED"), "The market was halted or closed.");
        assert_eq!(cancel_reason("MIGRATION"), "Migration.");
    }

    #[test]
    fn only_impossible_orders_count_as_rejected() {
        for r in [
            "INSUFFICIENT_MARGIN",
            "MARKET_HALTED",
            "BOUNDS_VIOLATION",
            "STOP_LOSS_ON_FILL_LOSS",
            "NEW_ONE",
        ] {
            assert!(is_rejection(r), "{r}");
        }
        for r in [
            "CLIENT_REQUEST",
            "TIME_IN_FORCE_EXPIRED",
            "LINKED_TRADE_CLOSED",
            "CLIENT_REQUEST_REPLACED",
        ] {
            assert!(!is_rejection(r), "{r}");
        }
    }

    #[test]
    fn a_rejected_order_carries_its_reason_and_oanda_message() {
        // 400 of POST /orders: `orderRejectTransaction` (a MARKET_ORDER_REJECT) + errorCode/errorMessage.
        let body = r#"{"orderRejectTransaction":{"id":"6372","type":"MARKET_ORDER_REJECT","instrument":"EUR_USD",
            "units":"100","timeInForce":"FOK","positionFill":"DEFAULT","reason":"CLIENT_ORDER",
            "rejectReason":"UNITS_PRECISION_EXCEEDED"},"relatedTransactionIDs":["6372"],"lastTransactionID":"6372",
            "errorCode":"UNITS_PRECISION_EXCEEDED","errorMessage":"Precision of units exceeds instrument's allowed precision"}"#;
        let e = write_error(&status(400, body), "the order");
        assert_eq!(
            e,
            BrokerError::Rejected(
                "OANDA rejected the order: The quantity has more decimals than the instrument allows. \
                 (OANDA: Precision of units exceeds instrument's allowed precision)"
                    .into()
            )
        );
        assert_eq!(
            rejected_reason(&status(400, body)).as_deref(),
            Some("UNITS_PRECISION_EXCEEDED")
        );
    }

    #[test]
    fn missing_things_are_not_found_and_the_rest_uses_the_common_mapping() {
        let body = r#"{"orderRejectTransaction":{"id":"7","type":"MARKET_ORDER_REJECT","rejectReason":"TRADE_DOESNT_EXIST"},
            "errorCode":"TRADE_DOESNT_EXIST","errorMessage":"The Trade specified does not exist"}"#;
        let e = write_error(&status(404, body), "trade 42");
        assert!(
            matches!(&e, BrokerError::NotFound(m) if m.starts_with("OANDA could not find trade 42: The trade does not exist"))
        );
        // The reason alone in errorCode (no reject transaction) is enough.
        let e = write_error(
            &status(400, r#"{"errorCode":"STOP_LOSS_ORDER_NOT_CANCELABLE"}"#),
            "the stop loss",
        );
        assert_eq!(
            e,
            BrokerError::Rejected(
                "OANDA rejected the stop loss: This stop loss cannot be cancelled (the account requires one).".into()
            )
        );
        // No reason at all: the common mapping with OANDA's message.
        let e = write_error(
            &status(400, r#"{"errorMessage":"Invalid value specified for 'units'"}"#),
            "the order",
        );
        assert_eq!(
            e,
            BrokerError::Rejected("OANDA refused the order: Invalid value specified for 'units'".into())
        );
        assert!(matches!(
            write_error(
                &status(
                    401,
                    r#"{"errorMessage":"Insufficient authorization to perform request."}"#
                ),
                "x"
            ),
            BrokerError::Unauthorized(_)
        ));
        assert!(matches!(
            write_error(&CallError::NoAnswer("t".into()), "x"),
            BrokerError::Unavailable(_)
        ));
    }
}
