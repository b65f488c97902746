//! Order requests as v1 forms, and what v1 cannot do refused with a reason.

use super::super::super::venue::{InstrumentKind, InstrumentSpec};
use super::super::model::{self, TxType, WireSide};
use super::fixtures::*;
use super::*;
use crate::broker::BrokerError;
use crate::tv::{self, Brackets, OrderDuration, OrderType, Side};
use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap()
}

fn spec() -> InstrumentSpec {
    InstrumentSpec {
        name: "EUR_USD".into(),
        display_name: "EUR/USD".into(),
        kind: InstrumentKind::Currency,
        pip_location: -4,
        display_precision: 5,
        units_precision: 0,
        min_units: dec!(1),
        max_units: dec!(10000000),
        margin_rate: dec!(0.05),
        min_trailing_distance: None,
        max_trailing_distance: None,
    }
}

fn order(kind: OrderType) -> tv::PlaceOrder {
    tv::PlaceOrder::new("EURUSD", Side::Buy, kind, dec!(1000))
}

fn duration(kind: &str, datetime: Option<i64>) -> Option<OrderDuration> {
    Some(OrderDuration {
        kind: kind.into(),
        datetime,
    })
}

fn rejected<T: std::fmt::Debug>(r: Result<T, BrokerError>) -> String {
    match r {
        Err(BrokerError::Rejected(m)) => m,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn field<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
}

#[test]
fn market_order_with_brackets() {
    let mut o = order(OrderType::Market);
    o.side = Side::Sell;
    o.duration = duration("FOK", None);
    o.brackets = Brackets {
        stop_loss: Some(dec!(1.10500)),
        take_profit: Some(dec!(1.09)),
        trailing_stop_pips: Some(dec!(12.5)),
        guaranteed_stop: None,
    };
    let f = place_form(&spec(), &o, now()).unwrap();
    assert_eq!(
        f.form,
        vec![
            ("instrument", "EUR_USD".to_string()),
            ("units", "1000".into()),
            ("side", "sell".into()),
            ("type", "market".into()),
            ("stopLoss", "1.105".into()),
            ("takeProfit", "1.09".into()),
            ("trailingStop", "12.5".into()),
        ]
    );
    assert_eq!(f.probe.kind, TxType::MarketOrderCreate);
    assert_eq!((f.probe.side, f.probe.price), (Side::Sell, None));
}

#[test]
fn pending_orders_expire() {
    let mut o = order(OrderType::Limit);
    o.limit_price = Some(dec!(1.2000));
    let f = place_form(&spec(), &o, now()).unwrap();
    assert_eq!(field(&f.form, "type"), Some("limit"));
    assert_eq!(field(&f.form, "price"), Some("1.2"));
    assert_eq!(
        field(&f.form, "expiry"),
        Some("2024-05-29T12:00:00Z"),
        "GTC: 89 days ahead"
    );
    assert_eq!(
        (f.probe.kind, f.probe.price),
        (TxType::LimitOrderCreate, Some(dec!(1.2)))
    );
    let mut o = order(OrderType::Stop);
    o.stop_price = Some(dec!(1.3));
    o.duration = duration("GTD", Some(1_709_337_600));
    let f = place_form(&spec(), &o, now()).unwrap();
    assert_eq!(field(&f.form, "type"), Some("stop"));
    assert_eq!(field(&f.form, "expiry"), Some("2024-03-02T00:00:00Z"));
    assert_eq!(f.probe.kind, TxType::StopOrderCreate);
    o.duration = duration("GTC", None);
    assert!(place_form(&spec(), &o, now()).is_ok());
}

#[test]
fn what_v1_cannot_do_is_refused_clearly() {
    let mut o = order(OrderType::StopLimit);
    o.limit_price = Some(dec!(1.2));
    o.stop_price = Some(dec!(1.21));
    assert!(rejected(place_form(&spec(), &o, now())).contains("Stop-limit orders are not available"));
    let mut o = order(OrderType::Market);
    o.brackets.guaranteed_stop = Some(dec!(1.1));
    assert_eq!(
        rejected(place_form(&spec(), &o, now())),
        "Guaranteed stop losses are not available on OANDA v1 accounts."
    );
    let mut o = order(OrderType::Limit);
    o.limit_price = Some(dec!(1.2));
    for kind in ["GFD", "IOC", "FOK"] {
        o.duration = duration(kind, None);
        let m = rejected(place_form(&spec(), &o, now()));
        assert!(m.contains(&format!("'{kind}' is not available")), "{m}");
    }
    // A market order is fill or kill on v1: IOC (or a pending duration) would be silently ignored.
    let mut market = order(OrderType::Market);
    for kind in ["IOC", "GTC", "GFD"] {
        market.duration = duration(kind, None);
        let m = rejected(place_form(&spec(), &market, now()));
        assert!(
            m.contains("fill or kill") && m.contains(&format!("'{kind}' is not available")),
            "{m}"
        );
    }
    o.duration = duration("GTD", None);
    assert!(rejected(place_form(&spec(), &o, now())).contains("needs an expiry"));
    o.duration = duration("GTD", Some(now().timestamp() - 1));
    assert!(rejected(place_form(&spec(), &o, now())).contains("in the past"));
    let mut o = order(OrderType::Limit);
    assert!(rejected(place_form(&spec(), &o, now())).contains("limit price"));
    o.limit_price = Some(dec!(1.2));
    o.qty = dec!(10.5);
    assert!(rejected(place_form(&spec(), &o, now())).contains("whole units"));
    o.qty = dec!(0);
    assert!(rejected(place_form(&spec(), &o, now())).contains("positive"));
    let mut o = order(OrderType::Market);
    o.brackets.stop_loss = Some(dec!(-1));
    assert!(rejected(place_form(&spec(), &o, now())).contains("stop loss must be positive"));
}

#[test]
fn probes_match_only_their_creation() {
    let mut o = order(OrderType::Market);
    o.qty = dec!(2);
    let probe = place_form(&spec(), &o, now()).unwrap().probe;
    let tx: model::Transaction = serde_json::from_str(TRANSACTION).unwrap();
    assert!(probe.matches(&tx));
    let mut other = tx.clone();
    other.units = Some(dec!(3));
    assert!(!probe.matches(&other));
    other = tx.clone();
    other.side = Some(WireSide::Sell);
    assert!(!probe.matches(&other));
    other = tx.clone();
    other.kind = TxType::LimitOrderCreate;
    assert!(!probe.matches(&other));
    let mut limit = order(OrderType::Limit);
    limit.qty = dec!(2);
    limit.limit_price = Some(dec!(1.25325));
    let probe = place_form(&spec(), &limit, now()).unwrap().probe;
    let mut created = tx.clone();
    created.kind = TxType::LimitOrderCreate;
    assert!(probe.matches(&created));
    created.price = Some(dec!(1.253254));
    assert!(probe.matches(&created), "within half a price step (0.00001)");
    created.price = Some(dec!(1.25));
    assert!(!probe.matches(&created));
    assert!(probe.resembles(&created), "another order on the same instrument");
    created.instrument = Some("USD_JPY".into());
    assert!(!probe.resembles(&created));
}

fn modify() -> tv::ModifyOrder {
    tv::ModifyOrder::brackets_only(Brackets::default())
}

#[test]
fn modifying_an_order_sends_the_whole_bracket_set() {
    let orders: model::Orders = serde_json::from_str(ORDERS).unwrap();
    let limit = &orders.orders[1];
    let mut change = modify();
    change.qty = Some(dec!(2000));
    change.limit_price = Some(dec!(102.4));
    change.duration = duration("GTD", Some(1_709_337_600));
    change.brackets.take_profit = Some(dec!(101));
    let form = modify_order_form(limit, &change, now()).unwrap();
    assert_eq!(
        form,
        vec![
            ("units", "2000".to_string()),
            ("price", "102.4".into()),
            ("expiry", "2024-03-02T00:00:00Z".into()),
            ("stopLoss", "0".into()),
            ("takeProfit", "101".into()),
            ("trailingStop", "0".into()),
        ]
    );
    let stop = &orders.orders[2];
    let mut change = modify();
    change.stop_price = Some(dec!(1.41));
    let form = modify_order_form(stop, &change, now()).unwrap();
    assert_eq!(
        field(&form, "price"),
        Some("1.41"),
        "a stop order's price is its stop price"
    );
    change.brackets.guaranteed_stop = Some(dec!(1.3));
    assert!(rejected(modify_order_form(stop, &change, now())).contains("Guaranteed"));
}

#[test]
fn moving_one_bracket() {
    let trades: model::Trades = serde_json::from_str(TRADES).unwrap();
    let t = &trades.trades[1];
    let current = BracketSet::of_trade(t, Some(dec!(0.01)));
    let mut change = modify();
    change.stop_price = Some(dec!(101.5));
    let v = leg_value(
        Leg::StopLoss,
        &change,
        &current,
        t.side,
        t.units,
        Some(dec!(0.01)),
    );
    assert_eq!(v.unwrap(), dec!(101.5));
    let mut change = modify();
    change.limit_price = Some(dec!(104));
    assert_eq!(
        leg_value(Leg::TakeProfit, &change, &current, t.side, t.units, None).unwrap(),
        dec!(104)
    );
    // The trailing stop of a buy at 101.95 (20 pips) dragged up to 102.00: 15 pips.
    let mut change = modify();
    change.stop_price = Some(dec!(102.00));
    let v = leg_value(
        Leg::TrailingStop,
        &change,
        &current,
        t.side,
        t.units,
        Some(dec!(0.01)),
    );
    assert_eq!(v.unwrap(), dec!(15.0));
    change.brackets.trailing_stop_pips = Some(dec!(25));
    assert_eq!(
        leg_value(
            Leg::TrailingStop,
            &change,
            &current,
            t.side,
            t.units,
            Some(dec!(0.01))
        )
        .unwrap(),
        dec!(25)
    );
    let mut change = modify();
    change.stop_price = Some(dec!(102.5));
    assert!(rejected(leg_value(
        Leg::TrailingStop,
        &change,
        &current,
        t.side,
        t.units,
        Some(dec!(0.01))
    ))
    .contains("positive"));
    let mut change = modify();
    change.qty = Some(dec!(50));
    change.stop_price = Some(dec!(101));
    assert!(
        rejected(leg_value(Leg::StopLoss, &change, &current, t.side, t.units, None))
            .contains("whole order or trade")
    );
    assert!(rejected(leg_value(
        Leg::TakeProfit,
        &modify(),
        &current,
        t.side,
        t.units,
        None
    ))
    .contains("Give the new"));
    let _ = Decimal::ZERO;
}

#[test]
fn trade_bracket_forms() {
    let b = Brackets {
        stop_loss: Some(dec!(1.1)),
        take_profit: None,
        trailing_stop_pips: None,
        guaranteed_stop: None,
    };
    assert_eq!(
        bracket_fields(&b, true).unwrap(),
        vec![
            ("stopLoss", "1.1".to_string()),
            ("takeProfit", "0".into()),
            ("trailingStop", "0".into())
        ]
    );
    assert_eq!(
        bracket_fields(&b, false).unwrap(),
        vec![("stopLoss", "1.1".to_string())]
    );
}
