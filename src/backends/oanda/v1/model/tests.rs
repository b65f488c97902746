//! The wire types read every documented payload exactly (numbers keep their digits, `{}` is "none").

use super::super::convert::fixtures::*;
use super::*;
use rust_decimal_macros::dec;

#[test]
fn accounts_and_account() {
    let list: Accounts = serde_json::from_str(ACCOUNTS).unwrap();
    assert_eq!(list.accounts.len(), 1);
    let a = &list.accounts[0];
    assert_eq!(a.account_id, 8954947);
    assert_eq!(a.account_name.as_deref(), Some("Primary"));
    assert_eq!(a.account_currency.as_deref(), Some("USD"));
    assert_eq!(a.margin_rate, Some(dec!(0.05)));
    let one: Account = serde_json::from_str(ACCOUNT).unwrap();
    assert_eq!(one.balance, dec!(100000));
    assert_eq!(one.margin_avail, Some(dec!(100000)));
    assert_eq!(one.unrealized_pl, Some(dec!(0)));
}

#[test]
fn instruments_of_the_seed() {
    let list: Instruments = serde_json::from_str(INSTRUMENTS).unwrap();
    let i = &list.instruments[0];
    assert_eq!(i.instrument, "AUD_CAD");
    assert_eq!(i.display_name.as_deref(), Some("AUD/CAD"));
    assert_eq!(i.pip, Some(dec!(0.0001)));
    assert_eq!(i.max_trade_units, Some(dec!(10000000)));
    assert_eq!((i.precision, i.halted), (None, None));
    let full: Instruments = serde_json::from_str(INSTRUMENTS_FULL).unwrap();
    assert_eq!(full.instruments[0].precision, Some(dec!(0.00001)));
    assert_eq!(full.instruments[0].min_trailing_stop, Some(dec!(5)));
    assert_eq!(full.instruments[2].halted, Some(true));
}

#[test]
fn prices_of_the_seed() {
    let p: Prices = serde_json::from_str(PRICES).unwrap();
    assert_eq!(p.prices.len(), 3);
    assert_eq!(p.prices[0].bid.to_string(), "1.31513");
    assert_eq!(p.prices[1].ask.to_string(), "97.633");
    assert!(!p.prices[0].halted() && p.prices[2].halted());
    assert_eq!(
        p.prices[0].time.map(|t| t.timestamp_micros()),
        Some(1_371_836_464_648_747)
    );
}

#[test]
fn candles_of_the_seed() {
    let mid: Candles = serde_json::from_str(CANDLES_MID).unwrap();
    assert_eq!(mid.candles.len(), 2);
    assert_eq!(mid.candles[0].high_mid, Some(dec!(1.368125)));
    assert_eq!(mid.candles[1].complete, Some(false));
    assert_eq!(mid.candles[0].open_bid, None);
    let ba: Candles = serde_json::from_str(CANDLES_BIDASK).unwrap();
    assert_eq!(ba.candles[1].low_ask, Some(dec!(1.25643)));
    assert_eq!(ba.candles[1].volume, Some(dec!(4)));
}

#[test]
fn order_answers() {
    let m: OrderAnswer = serde_json::from_str(MARKET_ANSWER).unwrap();
    assert_eq!(TradeChange::real_id(&m.trade_opened), Some(175517237));
    assert_eq!(
        TradeChange::real_id(&m.trade_reduced),
        None,
        "{{}} is no reduction"
    );
    assert!(m.trades_closed.is_empty() && m.order_opened.is_none());
    assert_eq!(m.price, Some(dec!(1.37041)));
    let c: OrderAnswer = serde_json::from_str(MARKET_CLOSING_ANSWER).unwrap();
    assert_eq!(TradeChange::real_id(&c.trade_opened), None);
    assert_eq!(c.trades_closed[0].id, Some(175517237));
    assert_eq!(TradeChange::real_id(&c.trade_reduced), Some(175517240));
    let p: OrderAnswer = serde_json::from_str(PENDING_ANSWER).unwrap();
    assert_eq!(TradeChange::real_id(&p.order_opened), Some(175427639));
}

#[test]
fn orders_trades_positions() {
    let o: Orders = serde_json::from_str(ORDERS).unwrap();
    assert_eq!(o.orders[0].kind, WireOrderType::MarketIfTouched);
    assert_eq!(o.orders[1].kind, WireOrderType::Limit);
    assert_eq!(o.orders[1].side, WireSide::Sell);
    assert_eq!(o.orders[1].trailing_stop, Some(dec!(15.5)));
    assert_eq!(o.orders[0].take_profit, Some(dec!(0)));
    let t: Trades = serde_json::from_str(TRADES).unwrap();
    assert_eq!(t.trades[0].price.to_string(), "1.36687");
    assert_eq!(t.trades[1].trailing_amount, Some(dec!(101.95)));
    let p: Positions = serde_json::from_str(POSITIONS).unwrap();
    assert_eq!(p.positions[0].avg_price, Some(dec!(1.3626)));
    assert_eq!(p.positions[0].units, dec!(4741));
}

#[test]
fn unknown_enum_values_are_tolerated() {
    let o: Order = serde_json::from_str(
        r#"{"id":1,"instrument":"EUR_USD","units":1,"side":"both","type":"iceberg","price":1}"#,
    )
    .unwrap();
    assert_eq!((o.side, o.kind), (WireSide::Unknown, WireOrderType::Unknown));
    let t: Transaction = serde_json::from_str(r#"{"id":9,"type":"MARGIN_CALL_ENTER"}"#).unwrap();
    assert_eq!(t.kind, TxType::Unknown);
}

#[test]
fn transactions() {
    let t: Transaction = serde_json::from_str(TRANSACTION).unwrap();
    assert_eq!(t.kind, TxType::MarketOrderCreate);
    assert!(t.creates_order());
    assert_eq!(t.account_id, Some(6765103));
    assert_eq!(t.price.map(|p| p.to_string()).as_deref(), Some("1.25325"));
    assert_eq!(TradeChange::real_id(&t.trade_opened), Some(176403879));
    let list: Transactions = serde_json::from_str(&format!(r#"{{"transactions":[{TRANSACTION}]}}"#)).unwrap();
    assert_eq!(list.transactions.len(), 1);
    let cancel: Transaction = serde_json::from_str(
        r#"{"id":5,"accountId":1,"time":"2014-04-07T18:31:05Z","type":"ORDER_CANCEL","orderId":4,"reason":"INSUFFICIENT_MARGIN"}"#,
    )
    .unwrap();
    assert_eq!(
        (cancel.order_id, cancel.reason.as_deref()),
        (Some(4), Some("INSUFFICIENT_MARGIN"))
    );
}

#[test]
fn stream_lines_and_errors() {
    let tick: PriceLine = serde_json::from_str(PRICE_TICK).unwrap();
    assert_eq!(tick.tick.map(|t| t.ask), Some(dec!(1.38712)));
    let hb: PriceLine = serde_json::from_str(HEARTBEAT).unwrap();
    assert!(hb.tick.is_none() && hb.heartbeat.is_some());
    let ev: EventLine = serde_json::from_str(&format!(r#"{{"transaction":{TRANSACTION}}}"#)).unwrap();
    assert_eq!(ev.transaction.and_then(|t| t.account_id), Some(6765103));
    let e: ErrorBody = serde_json::from_str(ERROR_NOT_FOUND).unwrap();
    assert_eq!(
        (e.code, e.message.as_deref()),
        (Some(43), Some("Order not found"))
    );
}
