//! The wire contract's examples parse into the model (numbers as numbers or strings, ids as either).

use super::account::{Accounts, Position, Summary};
use super::market::{ExchangeComponent, Secdef, SnapshotRow};
use super::orders::{CancelAnswer, Impact, ModifyAnswer, Order, OrderRequest};
use super::trades::Trade;
use super::*;
use rust_decimal_macros::dec;

#[test]
fn accounts_positions_and_summary_parse() {
    let a: Accounts = serde_json::from_str(r#"{"accounts":["U1234567","U7654321"]}"#).unwrap();
    assert_eq!(a.accounts, ["U1234567", "U7654321"]);
    let p: Vec<Position> =
        serde_json::from_str(r#"[{"ContractId":265598,"Position":100,"AverageCost":187.5},{"ContractId":"8314","Position":"-5","AverageCost":"12.25"}]"#)
            .unwrap();
    assert_eq!((p[0].contract_id.0, p[0].position.0), (265598, dec!(100)));
    assert_eq!(
        (p[1].contract_id.0, p[1].position.0, p[1].average_cost.unwrap().0),
        (8314, dec!(-5), dec!(12.25))
    );
    let s: Summary = serde_json::from_str(
        r#"{"Currency":"USD","NetLiquidation":100000.5,"TotalCashValue":"50000","EquityWithLoanValue":99000,
            "BuyingPower":400000,"AvailableFunds":80000,"ExcessLiquidity":85000,"InitMarginReq":20000,
            "MaintMarginReq":15000,"GrossPositionValue":50000,"UnrealizedPnL":-120.5,"RealizedPnL":33}"#,
    )
    .unwrap();
    assert_eq!(s.currency.as_deref(), Some("USD"));
    assert_eq!(s.net_liquidation.unwrap().0, dec!(100000.5));
    assert_eq!(s.total_cash_value.unwrap().0, dec!(50000));
    assert_eq!(s.unrealized_pnl.unwrap().0, dec!(-120.5));
    assert_eq!(s.realized_pnl.unwrap().0, dec!(33));
}

#[test]
fn orders_and_their_answers_parse() {
    let o: Vec<Order> = serde_json::from_str(
        r#"[{"CustomerOrderId":1234,"ContractId":265598,"Ticker":"AAPL","ListingExchange":"NASDAQ",
             "RemainingQuantity":10,"FilledQuantity":0,"OrderType":"2","TimeInForce":"0","OutsideRTH":"N",
             "Side":"1","Price":180.5,"Status":"0","Warning":"","TransactionTime":"20261207-15:04:05"},
            {"CustomerOrderId":"99","ContractId":"265598","OrderType":"4","Side":"2","Price":"170",
             "StopPrice":"171","AvgPrice":"0","Status":"A"}]"#,
    )
    .unwrap();
    assert_eq!(o[0].customer_order_id, Coid(1234));
    assert_eq!(o[0].price.unwrap().0, dec!(180.5));
    assert_eq!(o[0].outside_rth.as_deref(), Some("N"));
    assert_eq!(o[0].transaction_time.as_deref(), Some("20261207-15:04:05"));
    assert_eq!(
        (o[1].customer_order_id, o[1].stop_price.unwrap().0),
        (Coid(99), dec!(171))
    );
    let c: Vec<CancelAnswer> = serde_json::from_str(
        r#"[{"CustomerOrderId":"1234","Symbol":"AAPL","OrderQty":10,"Price":180.5,"Side":"1","Status":"6","Warning":"","OrderType":"2"}]"#,
    )
    .unwrap();
    assert_eq!(
        (c[0].customer_order_id, c[0].status.as_deref()),
        (Coid(1234), Some("6"))
    );
    let m: Vec<ModifyAnswer> = serde_json::from_str(
        r#"[{"OrigCustomerOrderId":"1234","CustomerOrderId":"5678","OrderQty":5,"Price":181,"Side":"1","Status":"E","Warning":"","OrderType":"2"}]"#,
    )
    .unwrap();
    assert_eq!(
        (m[0].orig_customer_order_id, m[0].customer_order_id),
        (Some(Coid(1234)), Coid(5678))
    );
    let i: Impact = serde_json::from_str(
        r#"{"EquityWithLoan":99000,"InitMargin":21000,"InitMarginBefore":20000,"MaintMargin":16000,
            "MaintMarginBefore":15000,"MarginCurrency":"USD","Commission":1.0,"MinCommissions":"1",
            "MaxCommissions":1.5,"CommissionsCurrency":"USD"}"#,
    )
    .unwrap();
    assert_eq!(i.max_commissions.unwrap().0, dec!(1.5));
    assert_eq!(i.min_commissions.unwrap().0, dec!(1));
}

#[test]
fn the_order_body_has_the_contracts_names_and_integer_ids() {
    let body = OrderRequest {
        customer_order_id: Some(Coid(42)),
        contract_id: 265598,
        side: "1",
        order_type: "4",
        order_qty: dec!(10),
        price: Some(dec!(180.5)),
        stop_price: Some(dec!(181)),
        time_in_force: "1",
        outside_rth: "N",
    };
    let v = serde_json::to_value(&body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"CustomerOrderId":42,"ContractId":265598,"Side":"1","OrderType":"4",
            "OrderQty":10.0,"Price":180.5,"StopPrice":181.0,"TimeInForce":"1","OutsideRTH":"N"})
    );
}

#[test]
fn trades_secdef_and_market_data_parse() {
    let t: Vec<Trade> = serde_json::from_str(
        r#"[{"CustomerOrderId":1234,"ContractId":265598,"OrderId":"987","Ticker":"AAPL","ListingExchange":"NASDAQ",
             "Currency":"USD","Side":"1","OrderType":"2","FilledQuantity":10,"RemainingQuantity":0,"Quantity":10,
             "TradePrice":180.5,"TradeSize":10,"AvgPrice":180.5,"ExecutionTime":"20261207-15:04:05",
             "ExecId":"0001f4e8.1","Commission":1,"CommissionCurrency":"USD","LastMarket":"NASDAQ"}]"#,
    )
    .unwrap();
    assert_eq!(
        (t[0].trade_price.0, t[0].exec_id.as_str()),
        (dec!(180.5), "0001f4e8.1")
    );
    let s: Secdef = serde_json::from_str(
        r#"{"ContractId":265598,"Ticker":"AAPL","SecurityType":"STK","Exchange":"NASDAQ","CompanyName":"APPLE INC","Currency":"USD"}"#,
    )
    .unwrap();
    assert_eq!(
        (s.contract_id.0, s.company_name.as_deref()),
        (265598, Some("APPLE INC"))
    );
    let q: Vec<SnapshotRow> = serde_json::from_str(
        r#"[{"Conid":265598,"Temporality":1,"Complete":true,"Trade":{"market":5,"price":180.5,"size":100,"time":1796655845000},
             "Closing":{"price":179},"Bid":{"market":1,"price":180.4,"size":300},"Offer":{"market":4,"price":"180.6","size":"200"}}]"#,
    )
    .unwrap();
    assert_eq!(q[0].temporality.unwrap().0, dec!(1));
    assert_eq!(q[0].offer.as_ref().unwrap().price.unwrap().0, dec!(180.6));
    assert_eq!(q[0].trade.as_ref().unwrap().market, Some(5));
    let x: Vec<ExchangeComponent> = serde_json::from_str(
        r#"[{"Conid":265598,"Complete":true,"mapping":[{"bit":0,"code":"N","exchange":"NYSE"},{"bit":2,"code":"Q","exchange":"NASDAQ"}]}]"#,
    )
    .unwrap();
    assert_eq!(x[0].mapping[1].exchange.as_deref(), Some("NASDAQ"));
}

#[test]
fn customer_order_ids_are_below_2_pow_53_whatever_their_form() {
    assert_eq!(serde_json::from_str::<Coid>("\"77\"").unwrap(), Coid(77));
    assert_eq!(serde_json::from_str::<Coid>("77").unwrap(), Coid(77));
    assert!(serde_json::from_str::<Coid>("9007199254740992").is_err());
    assert!(serde_json::from_str::<Coid>("\"abc\"").is_err());
    assert_eq!(Coid::parse(" 12 "), Some(Coid(12)));
    assert_eq!(Coid::parse("-1"), None);
}
