//! Wire types against payloads shaped as the OpenAPI definitions describe them.

use super::*;
use rust_decimal_macros::dec;
use serde_json::json;

#[test]
fn decimals_are_read_from_strings_or_numbers_and_written_as_strings() {
    let o: Order = serde_json::from_value(json!({"id": "1", "type": "LIMIT", "units": "-100",
        "price": 1.5, "priceBound": "", "distance": null}))
    .unwrap();
    assert_eq!(
        (o.units, o.price, o.price_bound, o.distance),
        (Some(dec!(-100)), Some(dec!(1.5)), None, None)
    );
    let bad = serde_json::from_value::<Order>(json!({"id": "1", "type": "LIMIT", "price": "abc"}));
    assert!(bad.is_err());
    let d = TakeProfitDetails {
        price: Some(dec!(1.10000)),
        ..Default::default()
    };
    assert_eq!(serde_json::to_value(&d).unwrap(), json!({"price": "1.10000"}));
}

#[test]
fn unknown_enum_values_are_tolerated() {
    let o: Order = serde_json::from_value(json!({"id": "1", "type": "BRAND_NEW", "state": "LIMBO",
        "timeInForce": "FOREVER"}))
    .unwrap();
    assert_eq!(
        (o.kind, o.state, o.time_in_force),
        (
            OrderType::Unknown,
            OrderState::Unknown,
            Some(TimeInForce::Unknown)
        )
    );
    let t: Transaction = serde_json::from_value(json!({"id": "2", "type": "SOMETHING_ELSE"})).unwrap();
    assert_eq!(t.kind, TransactionType::Unknown);
    let g: Order = serde_json::from_value(json!({"id": "3", "type": "GUARANTEED_STOP_LOSS", "tradeID": "9",
        "price": "1.1", "state": "PENDING"}))
    .unwrap();
    assert!(g.kind.is_dependent() && g.trade_id.as_deref() == Some("9"));
}

#[test]
fn the_full_account_reads_with_its_orders_trades_and_positions() {
    let a: AccountResponse =
        serde_json::from_value(crate::backends::oanda::v20::convert::fixtures::account_json())
            .expect("reads");
    assert_eq!(a.last_transaction_id(), Some("6380"));
    let s = &a.account.summary;
    assert_eq!(
        (s.balance, s.nav, s.margin_available, s.hedging_enabled),
        (
            dec!(100000.0000),
            Some(dec!(100002.5000)),
            Some(dec!(99969.1700)),
            false
        )
    );
    assert_eq!(
        s.guaranteed_stop_loss_order_mode,
        Some(GuaranteedStopLossOrderMode::Allowed)
    );
    assert_eq!(
        (
            a.account.trades.len(),
            a.account.positions.len(),
            a.account.orders.len()
        ),
        (2, 3, 7)
    );
    let t = &a.account.trades[0];
    assert_eq!(
        (
            t.current_units,
            t.take_profit_order_id.as_deref(),
            t.trailing_stop_loss_order_id.as_deref()
        ),
        (dec!(100), Some("6369"), Some("6371"))
    );
    let p = &a.account.positions[1];
    assert_eq!(
        (p.long.units(), p.short.units(), p.short.trade_ids.clone()),
        (dec!(0), dec!(-200), vec!["6375".to_string()])
    );
    let limit = &a.account.orders[0];
    assert_eq!(limit.client_id(), Some("tv-1"));
    assert_eq!(
        limit.stop_loss_on_fill.as_ref().and_then(|d| d.distance),
        Some(dec!(0.00500))
    );
    assert_eq!(limit.replaces_order_id.as_deref(), Some("6350"));
}

#[test]
fn closing_market_orders_are_recognised() {
    let o: Order = serde_json::from_value(json!({"id": "1", "type": "MARKET", "state": "FILLED",
        "tradeClose": {"tradeID": "6330", "units": "ALL"}}))
    .unwrap();
    assert!(o.is_closing_market_order());
    let o: Order = serde_json::from_value(json!({"id": "1", "type": "MARKET", "state": "FILLED",
        "longPositionCloseout": {"instrument": "EUR_USD", "units": "ALL"}}))
    .unwrap();
    assert!(o.is_closing_market_order());
    let o: Order = serde_json::from_value(json!({"id": "1", "type": "MARKET", "state": "FILLED"})).unwrap();
    assert!(!o.is_closing_market_order());
}

#[test]
fn dependent_legs_are_left_out_cancelled_with_null_or_set() {
    let body = DependentOrdersBody {
        take_profit: Dependent::Keep,
        stop_loss: Dependent::Cancel,
        trailing_stop_loss: Dependent::Set(TrailingStopLossDetails {
            distance: Some(dec!(0.00250)),
            ..Default::default()
        }),
    };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"stopLoss": null, "trailingStopLoss": {"distance": "0.00250"}})
    );
    assert!(DependentOrdersBody::default().is_empty());
    let close = ClosePositionBody {
        long_units: Some("ALL".into()),
        short_units: None,
    };
    assert_eq!(serde_json::to_value(&close).unwrap(), json!({"longUnits": "ALL"}));
}

#[test]
fn error_bodies_give_their_reject_reason() {
    let b: ErrorBody = serde_json::from_value(json!({
        "longOrderRejectTransaction": {"id": "5", "type": "MARKET_ORDER_REJECT",
            "rejectReason": "CLOSEOUT_POSITION_DOESNT_EXIST"},
        "errorCode": "CLOSEOUT_POSITION_DOESNT_EXIST", "errorMessage": "The Position requested to be closed out does not exist",
        "lastTransactionID": "5"})).unwrap();
    assert_eq!(b.reason(), Some("CLOSEOUT_POSITION_DOESNT_EXIST"));
    let b: ErrorBody = serde_json::from_value(json!({"errorMessage": "Insufficient authorization"})).unwrap();
    assert_eq!(b.reason(), None);
}

#[test]
fn times_with_nanoseconds_parse() {
    let t = parse_time("2016-10-28T14:28:05.231759081Z").expect("parses");
    assert_eq!(t.timestamp_millis(), 1477664885231);
    assert_eq!(parse_time("yesterday"), None);
}
