//! Writes: placement outcomes, the lookup after an ambiguous failure (never a second send), order
//! replacement keeping TradingView's id, brackets of trades, closes.

use super::*;
use crate::backends::oanda::v20::V20Venue;
use crate::backends::oanda::venue::{ClientRef, Venue};
use crate::broker::BrokerError;
use crate::tv::{self, Brackets, OrderType, Side};
use rust_decimal_macros::dec;

fn market_buy() -> tv::PlaceOrder {
    tv::PlaceOrder::new("EURUSD", Side::Buy, OrderType::Market, dec!(100))
}

fn created(id: &str, client: &str) -> Value {
    json!({"id": id, "time": "2016-10-28T16:00:00.000000000Z", "type": "MARKET_ORDER", "instrument": "EUR_USD",
        "units": "100", "timeInForce": "FOK", "positionFill": "DEFAULT", "reason": "CLIENT_ORDER",
        "clientExtensions": {"id": client, "tag": "tvbridge"}})
}

async fn place(fake: &Fake, base: &str) -> Result<String, BrokerError> {
    let _ = fake;
    let (conn, catalog) = (conn(base), fixtures::catalog());
    let spec = fixtures::spec("EUR_USD", -4, 5);
    V20Venue::new()
        .place_order(
            ctx(&conn, &catalog),
            &spec,
            &market_buy(),
            ClientRef::of_tests("tv-9"),
        )
        .await
}

#[tokio::test]
async fn a_filled_market_order_answers_with_its_client_id() {
    let fake = Fake::default();
    fake.on(
        Method::POST,
        &path("/orders"),
        201,
        json!({"orderCreateTransaction": created("6380", "tv-9"), "orderFillTransaction": fixtures::market_fill_json(),
               "relatedTransactionIDs": ["6380", "6381"], "lastTransactionID": "6381"}),
    );
    let base = fake.serve().await;
    assert_eq!(place(&fake, &base).await, Ok("@tv-9".to_string()));
    let sent = fake.seen(&Method::POST, &path("/orders"));
    assert_eq!(
        sent[0].body,
        json!({"order": {"type": "MARKET", "instrument": "EUR_USD", "units": "100", "timeInForce": "FOK",
            "positionFill": "DEFAULT",
            "clientExtensions": {"id": "tv-9", "tag": "tvbridge", "comment": "tvbridge user 0a1b2c3d"}}})
    );
}

#[tokio::test]
async fn a_market_order_killed_at_once_is_rejected_with_the_reason() {
    let fake = Fake::default();
    fake.on(
        Method::POST,
        &path("/orders"),
        201,
        json!({"orderCreateTransaction": created("6362", "tv-9"),
               "orderCancelTransaction": fixtures::cancel_json("6363", "6362", "INSUFFICIENT_MARGIN"),
               "lastTransactionID": "6363"}),
    );
    let base = fake.serve().await;
    assert_eq!(
        place(&fake, &base).await,
        Err(BrokerError::Rejected(
            "OANDA did not execute the order: There was not enough margin available to fill the order."
                .into()
        ))
    );
}

#[tokio::test]
async fn a_rejected_order_carries_the_reject_reason() {
    let fake = Fake::default();
    fake.on(
        Method::POST,
        &path("/orders"),
        400,
        json!({"orderRejectTransaction": {"id": "6382", "type": "MARKET_ORDER_REJECT", "instrument": "EUR_USD",
                "units": "100", "rejectReason": "INSTRUMENT_NOT_TRADEABLE"},
               "errorCode": "INSTRUMENT_NOT_TRADEABLE", "errorMessage": "The instrument is not tradeable",
               "lastTransactionID": "6382"}),
    );
    let base = fake.serve().await;
    let e = place(&fake, &base).await.unwrap_err();
    assert_eq!(
        e,
        BrokerError::Rejected(
            "OANDA rejected the order: The instrument cannot be traded at the moment (market closed or halted). \
             (OANDA: The instrument is not tradeable)"
                .into()
        )
    );
}

#[tokio::test]
async fn an_unconfirmed_order_is_looked_up_and_never_sent_again() {
    let fake = Fake::default();
    fake.on(
        Method::POST,
        &path("/orders"),
        503,
        json!({"errorMessage": "Service unavailable"}),
    );
    // Not visible at the first look (OANDA was still at it), there at the second.
    fake.on(
        Method::GET,
        &path("/orders/@tv-9"),
        404,
        json!({"errorCode": "ORDER_DOESNT_EXIST"}),
    );
    let mut filled = fixtures::all_orders_json()["orders"][0].clone();
    filled["clientExtensions"]["id"] = json!("tv-9");
    filled["clientExtensions"]["comment"] = json!("tvbridge user 0a1b2c3d");
    fake.on(
        Method::GET,
        &path("/orders/@tv-9"),
        200,
        json!({"order": filled, "lastTransactionID": "6381"}),
    );
    let base = fake.serve().await;
    assert_eq!(place(&fake, &base).await, Ok("@tv-9".to_string()));
    assert_eq!(fake.writes().len(), 1, "the order was sent once");
}

#[tokio::test]
async fn an_unconfirmed_order_that_oanda_does_not_have_was_not_placed() {
    let fake = Fake::default();
    fake.on(Method::POST, &path("/orders"), 502, json!({}));
    fake.on(
        Method::GET,
        &path("/orders/@tv-9"),
        404,
        json!({"errorCode": "ORDER_DOESNT_EXIST"}),
    );
    let base = fake.serve().await;
    let e = place(&fake, &base).await.unwrap_err();
    assert!(
        matches!(&e, BrokerError::Rejected(m) if m.contains("not placed") && m.contains("nothing was sent twice")),
        "{e:?}"
    );
    assert_eq!(fake.seen(&Method::GET, &path("/orders/@tv-9")).len(), 3);
    assert_eq!(fake.writes().len(), 1);
}

#[tokio::test]
async fn an_unconfirmed_order_that_cannot_be_looked_up_has_an_unknown_outcome() {
    let fake = Fake::default();
    fake.on(Method::POST, &path("/orders"), 504, json!({}));
    fake.on(
        Method::GET,
        &path("/orders/@tv-9"),
        400,
        json!({"errorMessage": "bad"}),
    );
    let base = fake.serve().await;
    let e = place(&fake, &base).await.unwrap_err();
    assert!(
        matches!(&e, BrokerError::OutcomeUnknown(m) if m.contains("outcome is unknown")),
        "{e:?}"
    );
    assert_eq!(fake.writes().len(), 1);
}

#[tokio::test]
async fn the_same_client_id_again_is_the_order_already_placed() {
    let fake = Fake::default();
    fake.on(
        Method::POST,
        &path("/orders"),
        400,
        json!({"orderRejectTransaction": {"id": "6390", "type": "MARKET_ORDER_REJECT",
                "rejectReason": "CLIENT_ORDER_ID_ALREADY_EXISTS"},
               "errorCode": "CLIENT_ORDER_ID_ALREADY_EXISTS", "errorMessage": "Client order ID already exists"}),
    );
    let mut order = fixtures::all_orders_json()["orders"][2].clone();
    order["clientExtensions"]["id"] = json!("tv-9");
    order["clientExtensions"]["comment"] = json!("tvbridge user 0a1b2c3d");
    fake.on(Method::GET, &path("/orders/@tv-9"), 200, json!({"order": order}));
    fake.on(
        Method::GET,
        &path("/transactions/6363"),
        200,
        json!({"transaction": fixtures::cancel_json("6363", "6362", "MARKET_HALTED")}),
    );
    let base = fake.serve().await;
    // That order was a market order killed because the market was halted: the same answer as then.
    assert_eq!(
        place(&fake, &base).await,
        Err(BrokerError::Rejected(
            "OANDA did not execute the order: The market was halted or closed.".into()
        ))
    );
    assert_eq!(fake.writes().len(), 1);
}

#[tokio::test]
async fn an_order_found_under_the_client_id_that_another_user_placed_is_never_answered_with() {
    // Answer lost, then the look-up finds an order under the id whose comment names another user (or none:
    // an order placed elsewhere or before the bridge marked its orders): ours was refused as a duplicate.
    for comment in [json!("tvbridge user ffffffff"), Value::Null] {
        let fake = Fake::default();
        fake.on(
            Method::POST,
            &path("/orders"),
            503,
            json!({"errorMessage": "Service unavailable"}),
        );
        let mut theirs = fixtures::all_orders_json()["orders"][0].clone();
        theirs["clientExtensions"] = json!({"id": "tv-9", "tag": "tvbridge", "comment": comment});
        fake.on(Method::GET, &path("/orders/@tv-9"), 200, json!({"order": theirs}));
        let base = fake.serve().await;
        let e = place(&fake, &base).await.unwrap_err();
        assert!(
            matches!(&e, BrokerError::Rejected(m) if m.contains("not placed by you") && m.contains("tv-9")),
            "{e:?}"
        );
        assert_eq!(fake.writes().len(), 1, "nothing was sent again");
    }
    // The same for a "client id already exists" refusal.
    let fake = Fake::default();
    fake.on(
        Method::POST,
        &path("/orders"),
        400,
        json!({"errorCode": "CLIENT_ORDER_ID_ALREADY_EXISTS", "errorMessage": "Client order ID already exists",
               "orderRejectTransaction": {"id": "6390", "type": "MARKET_ORDER_REJECT",
                                          "rejectReason": "CLIENT_ORDER_ID_ALREADY_EXISTS"}}),
    );
    let mut theirs = fixtures::all_orders_json()["orders"][0].clone();
    theirs["clientExtensions"] =
        json!({"id": "tv-9", "tag": "tvbridge", "comment": "tvbridge user ffffffff"});
    fake.on(Method::GET, &path("/orders/@tv-9"), 200, json!({"order": theirs}));
    let base = fake.serve().await;
    let e = place(&fake, &base).await.unwrap_err();
    assert!(
        matches!(&e, BrokerError::Rejected(m) if m.contains("not placed by you")),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_modified_order_keeps_its_id() {
    let (fake, base) = with_account().await;
    let mut replacement = created("6400", "tv-1");
    replacement["type"] = json!("LIMIT_ORDER");
    fake.on(
        Method::PUT,
        &path("/orders/6372"),
        201,
        json!({"orderCancelTransaction": fixtures::cancel_json("6399", "6372", "CLIENT_REQUEST_REPLACED"),
               "orderCreateTransaction": replacement, "lastTransactionID": "6400"}),
    );
    let (conn, catalog, venue) = (conn(&base), fixtures::catalog(), V20Venue::new());
    let change = tv::ModifyOrder {
        qty: Some(dec!(2000)),
        limit_price: Some(dec!(1.06)),
        stop_price: None,
        duration: None,
        brackets: Brackets::default(),
    };
    venue
        .modify_order(ctx(&conn, &catalog), "@tv-1", &change)
        .await
        .unwrap();
    let sent = fake.writes();
    assert_eq!(
        sent.len(),
        1,
        "the replacement carried the client id over: nothing to fix"
    );
    assert_eq!(sent[0].path, path("/orders/6372"));
    assert_eq!(
        sent[0].body,
        json!({"order": {"type": "LIMIT", "instrument": "EUR_USD", "units": "2000", "price": "1.06000",
            "timeInForce": "GTC", "positionFill": "DEFAULT", "triggerCondition": "DEFAULT"}})
    );
}

#[tokio::test]
async fn a_replacement_that_lost_its_client_id_gets_it_back() {
    let (fake, base) = with_account().await;
    let mut replacement = created("6400", "x");
    replacement["clientExtensions"] = Value::Null;
    fake.on(
        Method::PUT,
        &path("/orders/6372"),
        201,
        json!({"orderCreateTransaction": replacement, "lastTransactionID": "6400"}),
    );
    fake.on(
        Method::PUT,
        &path("/orders/6400/clientExtensions"),
        200,
        json!({}),
    );
    let (conn, catalog, venue) = (conn(&base), fixtures::catalog(), V20Venue::new());
    let change = tv::ModifyOrder {
        qty: None,
        limit_price: Some(dec!(1.06)),
        stop_price: None,
        duration: None,
        brackets: Brackets::default(),
    };
    venue
        .modify_order(ctx(&conn, &catalog), "@tv-1", &change)
        .await
        .unwrap();
    let fix = fake.seen(&Method::PUT, &path("/orders/6400/clientExtensions"));
    assert_eq!(
        fix[0].body,
        json!({"clientExtensions": {"id": "tv-1", "tag": "tvbridge"}})
    );
}

#[tokio::test]
async fn brackets_of_trades_are_moved_and_cancelled_one_by_one() {
    let (fake, base) = with_account().await;
    fake.on(
        Method::PUT,
        &path("/trades/6375/orders"),
        200,
        json!({"lastTransactionID": "6401"}),
    );
    fake.on(
        Method::PUT,
        &path("/trades/6368/orders"),
        200,
        json!({"lastTransactionID": "6402"}),
    );
    let (conn, catalog, venue) = (conn(&base), fixtures::catalog(), V20Venue::new());
    let cx = ctx(&conn, &catalog);
    let change = tv::ModifyOrder {
        qty: None,
        limit_price: None,
        stop_price: Some(dec!(152)),
        duration: None,
        brackets: Brackets::default(),
    };
    venue.modify_order(cx, "6375.sl", &change).await.unwrap();
    venue.cancel_order(cx, "6368.tp").await.unwrap();
    let sent = fake.writes();
    assert_eq!(
        sent[0].body,
        json!({"stopLoss": {"price": "152.000", "guaranteed": true}})
    );
    assert_eq!(sent[1].body, json!({"takeProfit": null}));

    // The whole set at once: only what differs is sent.
    let wanted = Brackets {
        take_profit: Some(dec!(1.13)),
        stop_loss: Some(dec!(1.09)),
        trailing_stop_pips: Some(dec!(25)),
        guaranteed_stop: None,
    };
    venue.set_trade_brackets(cx, "6368", &wanted).await.unwrap();
    assert_eq!(fake.writes()[2].body, json!({"takeProfit": {"price": "1.13000"}}));

    assert!(matches!(
        venue.cancel_order(cx, "9999.tp").await,
        Err(BrokerError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_leg_of_a_pending_order_is_removed_by_replacing_the_order() {
    let (fake, base) = with_account().await;
    fake.on(
        Method::PUT,
        &path("/orders/6372"),
        201,
        json!({"orderCreateTransaction": created("6400", "tv-1"), "lastTransactionID": "6400"}),
    );
    let (conn, catalog, venue) = (conn(&base), fixtures::catalog(), V20Venue::new());
    venue
        .cancel_order(ctx(&conn, &catalog), "@tv-1.sl")
        .await
        .unwrap();
    let body = &fake.writes()[0].body["order"];
    assert!(body.get("stopLossOnFill").is_none());
    assert_eq!(
        body["takeProfitOnFill"],
        json!({"price": "1.10000", "timeInForce": "GTC"})
    );
    assert_eq!(
        body["trailingStopLossOnFill"],
        json!({"distance": "0.00100", "timeInForce": "GTC"})
    );
}

#[tokio::test]
async fn closes_send_only_what_is_open() {
    let (fake, base) = with_account().await;
    fake.on(
        Method::PUT,
        &path("/positions/USD_JPY/close"),
        200,
        json!({"shortOrderCreateTransaction": {"id": "6401", "type": "MARKET_ORDER"},
               "shortOrderFillTransaction": {"id": "6402", "type": "ORDER_FILL"}, "lastTransactionID": "6402"}),
    );
    fake.on(
        Method::PUT,
        &path("/trades/6368/close"),
        200,
        json!({"orderCreateTransaction": {"id": "6403", "type": "MARKET_ORDER"},
               "orderCancelTransaction": fixtures::cancel_json("6404", "6403", "MARKET_HALTED")}),
    );
    let (conn, catalog, venue) = (conn(&base), fixtures::catalog(), V20Venue::new());
    let cx = ctx(&conn, &catalog);
    venue.close_position(cx, "USD_JPY").await.unwrap();
    assert_eq!(fake.writes()[0].body, json!({"shortUnits": "ALL"}));
    assert!(matches!(
        venue.close_position(cx, "GBP_USD").await,
        Err(BrokerError::NotFound(_))
    ));

    let e = venue.close_trade(cx, "6368", Some(dec!(40))).await.unwrap_err();
    assert_eq!(fake.writes()[1].body, json!({"units": "40"}));
    assert_eq!(
        e,
        BrokerError::Rejected("OANDA could not close trade 6368: The market was halted or closed.".into())
    );
    assert!(matches!(
        venue.close_trade(cx, "1", None).await,
        Err(BrokerError::NotFound(_))
    ));
    assert_eq!(fake.writes().len(), 2);
}
