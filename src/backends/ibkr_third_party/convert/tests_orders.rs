//! Orders both ways: requests from TradingView's tickets, IBKR's orders as TradingView's (statuses through
//! the FIX table, unknown ones shown as such), fills, positions, state and market data.

use super::account::{execution, position, state};
use super::market::{depth, exchanges, instrument, quote, temporality};
use super::orders::{durations, from_fill, order, replacement, request};
use crate::backends::ibkr_third_party::catalog::Contract;
use crate::backends::ibkr_third_party::model::orders::Order;
use crate::backends::ibkr_third_party::model::Coid;
use crate::broker::BrokerError;
use crate::tv;
use rust_decimal_macros::dec;

fn wire(status: &str) -> Order {
    serde_json::from_value(
        serde_json::json!({"CustomerOrderId":7,"ContractId":265598,"Ticker":"AAPL",
        "RemainingQuantity":6,"FilledQuantity":4,"OrderType":"4","TimeInForce":"1","OutsideRTH":"Y",
        "Side":"2","Price":170,"StopPrice":171,"AvgPrice":170.5,"Status":status,"Warning":"",
        "TransactionTime":"20261207-15:04:05"}),
    )
    .unwrap()
}

#[test]
fn requests_carry_the_codes_and_refuse_what_ibkr_cannot_take() {
    let mut o = tv::PlaceOrder::new("AAPL", tv::Side::Sell, tv::OrderType::StopLimit, dec!(5));
    o.limit_price = Some(dec!(170));
    o.stop_price = Some(dec!(171));
    o.duration = Some(tv::OrderDuration {
        kind: "GTC".into(),
        datetime: None,
    });
    let r = request(&o, 265598, Some(Coid(9)), true).unwrap();
    assert_eq!(
        (r.side, r.order_type, r.time_in_force, r.outside_rth),
        ("2", "4", "1", "Y")
    );
    assert_eq!(
        (r.price, r.stop_price, r.customer_order_id),
        (Some(dec!(170)), Some(dec!(171)), Some(Coid(9)))
    );
    let market = tv::PlaceOrder::new("AAPL", tv::Side::Buy, tv::OrderType::Market, dec!(1));
    let r = request(&market, 1, None, false).unwrap();
    assert_eq!(
        (r.order_type, r.time_in_force, r.price, r.stop_price),
        ("1", "0", None, None)
    );
    let mut no_price = tv::PlaceOrder::new("AAPL", tv::Side::Buy, tv::OrderType::Limit, dec!(1));
    assert!(
        matches!(request(&no_price, 1, None, false), Err(BrokerError::Rejected(m)) if m.contains("limit price"))
    );
    no_price.limit_price = Some(dec!(-1));
    assert!(request(&no_price, 1, None, false).is_err());
    let mut bracketed = market.clone();
    bracketed.brackets.stop_loss = Some(dec!(1));
    assert!(
        matches!(request(&bracketed, 1, None, false), Err(BrokerError::Rejected(m)) if m.contains("stop loss"))
    );
    let mut gtd = market;
    gtd.duration = Some(tv::OrderDuration {
        kind: "GTD".into(),
        datetime: Some(1),
    });
    assert!(request(&gtd, 1, None, false).is_err());
    let ids: Vec<String> = durations().into_iter().map(|d| d.id).collect();
    assert_eq!(ids, ["DAY", "GTC", "OPG", "IOC", "CLS"]);
}

#[test]
fn a_replacement_keeps_what_the_change_leaves_out() {
    let current = wire("0");
    let change = tv::ModifyOrder {
        qty: None,
        limit_price: Some(dec!(169)),
        stop_price: None,
        duration: None,
        brackets: tv::Brackets::default(),
    };
    let r = replacement(&current, 265598, &change, Coid(8), false).unwrap();
    assert_eq!(r.customer_order_id, Some(Coid(8)));
    assert_eq!(
        (r.order_qty, r.price, r.stop_price),
        (dec!(10), Some(dec!(169)), Some(dec!(171)))
    );
    assert_eq!(
        (r.side, r.order_type, r.time_in_force, r.outside_rth),
        ("2", "4", "1", "Y")
    );
}

#[test]
fn orders_show_their_status_through_the_table_and_unknown_codes_as_such() {
    let o = order(&wire("1"), "42".into(), "AAPL".into()).unwrap().unwrap();
    assert_eq!(
        (o.id.as_str(), o.status, o.side, o.kind),
        (
            "42",
            tv::OrderStatus::Working,
            tv::Side::Sell,
            tv::OrderType::StopLimit
        )
    );
    assert_eq!(
        (o.qty, o.filled_qty, o.avg_price),
        (dec!(10), Some(dec!(4)), Some(dec!(170.5)))
    );
    assert_eq!((o.limit_price, o.stop_price), (Some(dec!(170)), Some(dec!(171))));
    assert_eq!(o.duration.unwrap().kind, "GTC");
    assert_eq!(o.last_modified, Some(1_796_655_845));
    assert!(o.message.is_none());
    for (code, status) in [
        ("2", tv::OrderStatus::Filled),
        ("4", tv::OrderStatus::Cancelled),
        ("8", tv::OrderStatus::Rejected),
        ("A", tv::OrderStatus::Placing),
    ] {
        assert_eq!(
            order(&wire(code), "1".into(), "A".into())
                .unwrap()
                .unwrap()
                .status,
            status
        );
    }
    let expired = order(&wire("C"), "1".into(), "A".into()).unwrap().unwrap();
    assert_eq!(expired.message.unwrap().text, "expired");
    assert_eq!(
        order(&wire("5"), "1".into(), "A".into()).unwrap(),
        None,
        "replaced: its replacement shows"
    );
    let odd = order(&wire("Q"), "1".into(), "A".into()).unwrap().unwrap();
    assert!(!odd.status.is_final());
    let m = odd.message.unwrap();
    assert!(m.text.contains("unknown status \"Q\""), "{}", m.text);
    let mut bad_side = wire("0");
    bad_side.side = "9".into();
    assert!(order(&bad_side, "1".into(), "A".into()).is_err());
}

#[test]
fn fills_positions_state_and_market_data_convert() {
    let t: crate::backends::ibkr_third_party::model::trades::Trade = serde_json::from_value(serde_json::json!({
        "CustomerOrderId":7,"ContractId":265598,"Side":"1","OrderType":"2","FilledQuantity":10,"RemainingQuantity":0,
        "Quantity":10,"TradePrice":180.5,"TradeSize":10,"AvgPrice":180.4,"ExecutionTime":"20261207-15:04:05",
        "ExecId":"e1","Commission":1}))
    .unwrap();
    let e = execution(&t, "AAPL".into(), "7".into()).unwrap();
    assert_eq!(
        (e.id.as_str(), e.price, e.qty, e.side, e.time),
        ("e1", dec!(180.5), dec!(10), tv::Side::Buy, 1_796_655_845)
    );
    let o = from_fill(&t, "7".into(), "AAPL".into()).unwrap();
    assert_eq!(
        (o.status, o.avg_price, o.qty),
        (tv::OrderStatus::Filled, Some(dec!(180.4)), dec!(10))
    );
    let p = serde_json::from_str(r#"{"ContractId":1,"Position":-3,"AverageCost":10}"#).unwrap();
    let p = position(&p, "X").unwrap();
    assert_eq!((p.side, p.qty, p.avg_price), (tv::Side::Sell, dec!(3), dec!(10)));
    let flat = serde_json::from_str(r#"{"ContractId":1,"Position":0}"#).unwrap();
    assert!(position(&flat, "X").is_none());
    let s = serde_json::from_str(r#"{"Currency":"USD","NetLiquidation":1000,"TotalCashValue":900,"UnrealizedPnL":-5,"AvailableFunds":700}"#).unwrap();
    let s = state(&s).unwrap();
    assert_eq!(
        (s.balance, s.equity, s.unrealized_pl, s.margin_available),
        (dec!(900), dec!(1000), dec!(-5), Some(dec!(700)))
    );
    assert!(state(&Default::default()).is_err());
    let row = serde_json::from_value(serde_json::json!({"Conid":1,"Temporality":1,"Bid":{"market":5,"price":1.1,"size":2},"Offer":{"price":1.2,"size":3}})).unwrap();
    assert_eq!(temporality(&row), super::fix::Temporality::Delayed);
    let q = quote(&row).unwrap();
    assert_eq!((q.bid, q.ask), (dec!(1.1), dec!(1.2)));
    assert_eq!(depth(&row).asks, vec![[dec!(1.2), dec!(3)]]);
    let empty = serde_json::from_value(serde_json::json!({"Conid":1,"Temporality":1})).unwrap();
    assert!(quote(&empty).unwrap_err().contains("delayed"));
    let mapping: Vec<crate::backends::ibkr_third_party::model::market::ComponentBit> = serde_json::from_str(
        r#"[{"bit":0,"code":"N","exchange":"NYSE"},{"bit":1,"code":"A"},{"bit":2,"exchange":"NASDAQ"}]"#,
    )
    .unwrap();
    assert_eq!(exchanges(5, &mapping), ["NYSE", "NASDAQ"]);
    assert_eq!(exchanges(2, &mapping), ["A"]);
    let c = Contract {
        conid: 1,
        symbol: "EURUSD".into(),
        secdef: serde_json::from_str(
            r#"{"ContractId":1,"Ticker":"EUR","SecurityType":"CASH","Currency":"USD"}"#,
        )
        .ok(),
    };
    let i = instrument(&c, true);
    assert_eq!(
        (i.kind, i.min_tick, i.base_currency.as_deref()),
        (tv::SymbolType::Forex, dec!(0.00001), Some("EUR"))
    );
    assert!(i.description.ends_with("(delayed market data)"));
}
