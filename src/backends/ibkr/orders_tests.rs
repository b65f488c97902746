//! The reply loop and the look-up after an ambiguous failure, against the scripted API.

use super::*;
use crate::backends::ibkr::model::orders::Question;
use crate::backends::ibkr::testing::{fixture, ScriptedApi};
use rust_decimal_macros::dec;
use std::sync::Arc;

fn ticket(coid: &str) -> OrderTicket {
    OrderTicket {
        acct_id: "DU1234567".into(),
        conid: 265598,
        c_oid: Some(coid.into()),
        parent_id: None,
        order_type: "LMT",
        side: "BUY",
        tif: "DAY",
        quantity: dec!(5),
        price: Some(dec!(150)),
        aux_price: None,
        is_single_group: None,
        outside_rth: false,
    }
}

fn setup() -> (Arc<ScriptedApi>, Gateway) {
    let api = Arc::new(ScriptedApi::default());
    api.open_session();
    let g = Gateway::new(api.clone());
    (api, g)
}

fn allow(ids: &[&str]) -> HashSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

const WRITE: Write<'static> = Write {
    account: "DU1234567",
    coid: Some("tvb-req-1"),
    what: "placing the order",
};

#[test]
fn a_question_is_confirmed_only_when_all_its_message_ids_are_allowed() {
    let q = |ids: &[&str]| {
        vec![SubmitItem::Question(Question {
            id: "r1".into(),
            message: vec!["Price exceeds \nthe constraint.".into(), "Sure?".into()],
            message_ids: ids.iter().map(|s| s.to_string()).collect(),
        })]
    };
    assert_eq!(
        next(&q(&["o163"]), &allow(&["o163", "o354"])),
        Next::Confirm("r1".into())
    );
    assert_eq!(
        next(&q(&["o163", "o999"]), &allow(&["o163"])),
        Next::Refuse("Price exceeds the constraint. Sure?".into())
    );
    assert!(
        matches!(next(&q(&[]), &allow(&["o163"])), Next::Refuse(_)),
        "a question without ids is asked"
    );
    assert_eq!(
        next(
            &[SubmitItem::Placed {
                order_id: "1".into(),
                status: None
            }],
            &allow(&[])
        ),
        Next::Placed(vec!["1".into()])
    );
}

#[tokio::test]
async fn allow_listed_questions_are_confirmed_until_the_order_is_placed() {
    let (api, g) = setup();
    api.ok("place", &fixture("place_question.json"))
        .ok(
            "reply",
            &fixture("place_question.json").replace("07a13a5a", "second"),
        )
        .ok("reply", &fixture("place_success.json"));
    let ids = place(&g, WRITE, &allow(&["o163"]), vec![ticket("tvb-req-1")])
        .await
        .unwrap();
    assert_eq!(ids, ["1234567890"]);
    let calls = api.calls();
    assert_eq!(calls.iter().filter(|c| c.starts_with("reply:")).count(), 2);
    assert!(calls
        .iter()
        .any(|c| c.starts_with("reply:second") && c.ends_with("=true")));
    // The body carries the cOID.
    let body = api.bodies.lock().unwrap()[0].clone();
    assert_eq!(body["orders"][0]["cOID"], "tvb-req-1");
    assert_eq!(body["orders"][0]["orderType"], "LMT");
}

#[tokio::test]
async fn any_other_question_refuses_the_order_with_its_text_and_confirms_nothing() {
    let (api, g) = setup();
    api.ok("place", &fixture("place_question.json"));
    match place(&g, WRITE, &allow(&["o354"]), vec![ticket("tvb-req-1")]).await {
        Err(BrokerError::Rejected(text)) => assert!(text.contains("Percentage constraint of 3%"), "{text}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(api.count("reply"), 0);
}

#[tokio::test]
async fn a_refusal_is_told_as_ibkr_says_it() {
    let (api, g) = setup();
    api.ok("place", &fixture("place_error.json"));
    match place(&g, WRITE, &allow(&[]), vec![ticket("tvb-req-1")]).await {
        Err(BrokerError::Rejected(text)) => assert!(text.starts_with("We cannot accept an order")),
        other => panic!("{other:?}"),
    }
    // A 400 with IBKR's error body: a refusal too, and no look-up.
    let (api, g) = setup();
    api.status("place", 400, r#"{"error":"Invalid contract"}"#);
    assert_eq!(
        place(&g, WRITE, &allow(&[]), vec![ticket("tvb-req-1")]).await,
        Err(BrokerError::Rejected("Invalid contract".into()))
    );
    assert_eq!(api.count("live_orders"), 0);
}

#[tokio::test]
async fn a_timeout_after_sending_is_looked_up_by_coid_never_sent_again() {
    let (api, g) = setup();
    api.fail("place", CallError::NoAnswer("timed out".into()))
        .ok("live_orders", &fixture("live_orders.json"));
    let ids = place(&g, WRITE, &allow(&[]), vec![ticket("tvb-req-1")])
        .await
        .unwrap();
    assert_eq!(ids, ["1234567890"], "the live order carrying the cOID");
    assert_eq!(api.count("place"), 1);
    // Filled meanwhile: found among the executions.
    let (api, g) = setup();
    api.status("place", 503, "")
        .ok("live_orders", r#"{"orders":[],"snapshot":true}"#)
        .ok("trades", &fixture("trades.json"));
    let write = Write {
        coid: Some("tvb-req-2"),
        ..WRITE
    };
    assert_eq!(
        place(&g, write, &allow(&[]), vec![ticket("tvb-req-2")])
            .await
            .unwrap(),
        ["1234567891"]
    );
    assert_eq!(api.count("place"), 1);
}

#[tokio::test]
async fn an_order_found_nowhere_is_most_likely_not_placed_and_an_incomplete_list_proves_nothing() {
    let (api, g) = setup();
    api.fail("place", CallError::NoAnswer("reset".into()))
        .ok("live_orders", r#"{"orders":[],"snapshot":true}"#)
        .ok("trades", "[]");
    match place(&g, WRITE, &allow(&[]), vec![ticket("tvb-req-1")]).await {
        Err(BrokerError::Rejected(m)) => assert!(m.starts_with(NOT_CONFIRMED), "{m}"),
        other => panic!("{other:?}"),
    }
    let (api, g) = setup();
    api.fail("place", CallError::NoAnswer("reset".into()))
        .ok("live_orders", r#"{"orders":[],"snapshot":false}"#)
        .ok("trades", "[]");
    match place(&g, WRITE, &allow(&[]), vec![ticket("tvb-req-1")]).await {
        Err(BrokerError::OutcomeUnknown(m)) => assert!(m.starts_with(UNKNOWN), "{m}"),
        other => panic!("{other:?}"),
    }
    // A lost answer to a confirmation is looked up the same way.
    let (api, g) = setup();
    api.ok("place", &fixture("place_question.json"))
        .fail("reply", CallError::NoAnswer("timed out".into()))
        .ok("live_orders", &fixture("live_orders.json"));
    assert_eq!(
        place(&g, WRITE, &allow(&["o163"]), vec![ticket("tvb-req-1")])
            .await
            .unwrap(),
        ["1234567890"]
    );
    assert_eq!((api.count("place"), api.count("reply")), (1, 1));
}

#[tokio::test]
async fn endless_questions_end_with_a_refusal() {
    let (api, g) = setup();
    api.ok("place", &fixture("place_question.json"));
    for _ in 0..=MAX_QUESTIONS {
        api.ok("reply", &fixture("place_question.json"));
    }
    match place(&g, WRITE, &allow(&["o163"]), vec![ticket("tvb-req-1")]).await {
        Err(BrokerError::Rejected(m)) => assert!(m.contains("questions"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(api.count("reply"), MAX_QUESTIONS);
}
