//! The wire types on the payloads of `testdata/ibkr/` (shaped as IBKR's API reference documents them).

use super::market::{ContractInfo, History, SearchResult, SnapshotRow, ASK, ASK_SIZE, BID, LAST};
use super::num::{Conid, Mark};
use super::orders::{parse_submit, CancelAnswer, LiveOrders, OrderStatus, SubmitItem, Trade, WhatIf};
use super::portfolio::{Ledger, Position, Summary};
use super::session::{Accounts, AuthStatus, PortfolioAccount, Tickle};
use rust_decimal_macros::dec;

/// The text of `testdata/ibkr/<name>`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/testdata/ibkr/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn session_answers_read() {
    let s: AuthStatus = read("auth_status.json");
    assert!(s.authenticated && s.connected && !s.competing);
    let s: AuthStatus = read("auth_status_connected_only.json");
    assert!(!s.authenticated && s.connected);
    let t: Tickle = read("tickle.json");
    let status = t.iserver.and_then(|i| i.auth_status).unwrap();
    assert!(status.authenticated);
    // The session id is a secret: never in Debug output.
    let shown = format!("{:?}", t.session);
    assert!(!shown.contains("bb665d0f"), "{shown}");
    let a: Accounts = read("iserver_accounts.json");
    assert_eq!(a.accounts, ["DU1234567", "DU7654321"]);
    assert_eq!(a.selected_account.as_deref(), Some("DU1234567"));
    let p: Vec<PortfolioAccount> = read("portfolio_accounts.json");
    assert_eq!(
        (
            p[0].id.as_str(),
            p[0].currency.as_deref(),
            p[1].currency.as_deref()
        ),
        ("DU1234567", Some("USD"), Some("EUR"))
    );
}

#[test]
fn submission_answers_are_orders_questions_or_refusals() {
    assert_eq!(
        parse_submit(&fixture("place_success.json")).unwrap(),
        vec![SubmitItem::Placed {
            order_id: "1234567890".into(),
            status: Some("Submitted".into())
        }]
    );
    assert_eq!(
        parse_submit(&fixture("place_bracket_success.json"))
            .unwrap()
            .len(),
        3
    );
    match &parse_submit(&fixture("place_question.json")).unwrap()[..] {
        [SubmitItem::Question(q)] => {
            assert_eq!(q.id, "07a13a5a-4a48-44a5-bb25-5ab37b79186c");
            assert_eq!(q.message_ids, ["o163"]);
            assert!(q.message[0].contains("Percentage constraint"));
        }
        other => panic!("{other:?}"),
    }
    match &parse_submit(&fixture("place_error.json")).unwrap()[..] {
        [SubmitItem::Refused(text)] => assert!(text.starts_with("We cannot accept")),
        other => panic!("{other:?}"),
    }
    // An `AdvancedOrderReject` carries an order id, but its text says it was refused.
    match &parse_submit(&fixture("place_reject.json")).unwrap()[..] {
        [SubmitItem::Refused(text)] => assert!(text.contains("not available")),
        other => panic!("{other:?}"),
    }
    for bad in ["[]", "{}", "[{\"foo\":1}]", "not json"] {
        assert!(parse_submit(bad).is_err(), "{bad}");
    }
}

#[test]
fn live_orders_read_every_status_and_string_numbers() {
    let o: LiveOrders = read("live_orders.json");
    let statuses: Vec<OrderStatus> = o.orders.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        [
            OrderStatus::Submitted,
            OrderStatus::Filled,
            OrderStatus::PreSubmitted,
            OrderStatus::PendingSubmit,
            OrderStatus::Cancelled,
            OrderStatus::PendingCancel,
            OrderStatus::Inactive,
            OrderStatus::Unknown,
        ]
    );
    let filled = &o.orders[1];
    assert_eq!(filled.conid, Conid(265598));
    assert_eq!(filled.filled_quantity.unwrap().0, dec!(1000));
    assert_eq!(filled.avg_price.unwrap().0, dec!(151.25));
    assert_eq!(o.orders[0].order_ref.as_deref(), Some("tvb-req-1"));
    assert_eq!(o.orders[3].aux_price.unwrap().0, dec!(1.0790));
}

#[test]
fn executions_positions_summary_and_ledger_read() {
    let t: Vec<Trade> = read("trades.json");
    assert_eq!((t[0].size.0, t[0].price.0), (dec!(1000), dec!(151.25)));
    assert_eq!(t[0].order_ref.as_deref(), Some("tvb-req-2"));
    let p: Vec<Position> = read("positions_page0.json");
    assert_eq!(p[1].position.0, dec!(-20000));
    assert_eq!(p[1].unrealized_pnl.unwrap().0, dec!(90));
    let s: Summary = read("summary.json");
    assert_eq!(s.amount("netliquidation"), Some(dec!(1015035)));
    assert_eq!(s.amount("leverage-s"), None, "isNull values are absent");
    let l: Ledger = read("ledger.json");
    assert_eq!(l["BASE"].unrealizedpnl.unwrap().0, dec!(126.6));
    let c: CancelAnswer = read("cancel.json");
    assert_eq!(c.order_id.unwrap().0, dec!(1234567890));
    let w: WhatIf = read("whatif.json");
    assert_eq!(w.amount.unwrap().commission.as_deref(), Some("1 USD"));
}

#[test]
fn market_data_reads_with_prefixes_and_separators() {
    let rows: Vec<SnapshotRow> = read("snapshot.json");
    assert_eq!(rows[0].value(LAST).unwrap(), Some((dec!(193.18), Mark::Close)));
    assert_eq!(rows[0].value(ASK_SIZE).unwrap(), Some((dec!(1200), Mark::Live)));
    assert_eq!(
        rows[1].value(ASK_SIZE).unwrap(),
        Some((dec!(2000000), Mark::Live))
    );
    assert_eq!(rows[2].value(LAST).unwrap(), Some((dec!(156.28), Mark::Halted)));
    assert_eq!(rows[2].value(BID).unwrap(), None, "an empty value is no value");
    let first: Vec<SnapshotRow> = read("snapshot_first.json");
    assert_eq!(first[0].value(ASK).unwrap(), None);
    let h: History = read("history.json");
    assert_eq!(h.data.len(), 3);
    assert_eq!(h.data[2].v.unwrap().0, dec!(1100));
    let c: ContractInfo = read("contract_info_rules.json");
    let rules = c.rules.unwrap();
    assert_eq!(
        (rules.increment.unwrap().0, rules.size_increment.unwrap().0),
        (dec!(0.01), dec!(1))
    );
    let s: Vec<SearchResult> = read("search.json");
    assert_eq!(s[0].conid, Some(Conid(265598)));
}
