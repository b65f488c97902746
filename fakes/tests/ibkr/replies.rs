//! The reply loop: questions configured per order type and size, chained questions confirmed one by one
//! with `POST /iserver/reply/{id}`, a refused question drops the order, suppression.

use crate::client::{dec, lmt, mkt, order_id, Api, AAPL};
use fakes::ibkr::{FakeIbkr, FakeIbkrOptions, FakeQuestion};
use serde_json::{json, Value};

async fn with_defaults() -> FakeIbkr {
    FakeIbkr::start(FakeIbkrOptions {
        questions: FakeQuestion::defaults(),
        ..FakeIbkrOptions::relaxed()
    })
    .await
}

/// The reply id and message id of a question answer.
fn question(body: &Value) -> (String, String) {
    let q = &body[0];
    assert!(q["message"][0].is_string(), "not a question: {body}");
    (
        q["id"].as_str().unwrap_or_default().to_string(),
        q["messageIds"][0].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn chained_questions_are_confirmed_one_at_a_time() {
    let fake = with_defaults().await;
    let api = Api::ready(&fake).await;
    let (status, body) = api.place(json!([mkt(AAPL, "BUY", 600)])).await;
    assert_eq!(status, 200);
    let (first, id1) = question(&body);
    assert_eq!(id1, "o383");
    assert_eq!(body[0]["isSuppressed"], false);
    assert_eq!(fake.order_count(), 0);
    let (_, body) = api
        .post(&format!("/iserver/reply/{first}"), json!({ "confirmed": true }))
        .await;
    let (second, id2) = question(&body);
    assert_eq!(id2, "o163");
    assert_ne!(first, second);
    assert_eq!(fake.order_count(), 0);
    let (_, body) = api
        .post(&format!("/iserver/reply/{second}"), json!({ "confirmed": true }))
        .await;
    assert_eq!(body[0]["order_status"], "Filled");
    order_id(&body[0]);
    assert_eq!(fake.order_count(), 1);
    assert_eq!(fake.position(crate::client::ACCT, AAPL), dec("600"));
    // A reply id answers once.
    let (status, _) = api
        .post(&format!("/iserver/reply/{second}"), json!({ "confirmed": true }))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_refused_question_drops_the_order() {
    let fake = with_defaults().await;
    let api = Api::ready(&fake).await;
    let (_, body) = api.place(json!([lmt(AAPL, "BUY", 700, 180.0)])).await;
    let (reply, id) = question(&body);
    assert_eq!(id, "o383");
    let (status, body) = api
        .post(&format!("/iserver/reply/{reply}"), json!({ "confirmed": false }))
        .await;
    assert_eq!(status, 200);
    assert!(body["error"].is_string());
    assert_eq!(fake.order_count(), 0);
}

#[tokio::test]
async fn small_tickets_pass_without_questions() {
    let fake = with_defaults().await;
    let api = Api::ready(&fake).await;
    let (_, body) = api.place(json!([mkt(AAPL, "BUY", 500)])).await;
    assert_eq!(body[0]["order_status"], "Filled");
}

#[tokio::test]
async fn questions_are_configured_per_order_type() {
    let fake = FakeIbkr::start(FakeIbkrOptions {
        questions: vec![FakeQuestion::new(
            "o10331",
            "Limit orders need a second look. Continue?",
            &["LMT"],
        )],
        ..FakeIbkrOptions::relaxed()
    })
    .await;
    let api = Api::ready(&fake).await;
    let (_, body) = api.place(json!([mkt(AAPL, "BUY", 1)])).await;
    assert_eq!(body[0]["order_status"], "Filled");
    let (_, body) = api.place(json!([lmt(AAPL, "BUY", 1, 180.0)])).await;
    let (reply, id) = question(&body);
    assert_eq!(id, "o10331");
    assert_eq!(
        body[0]["message"][0],
        "Limit orders need a second look. Continue?"
    );
    let (_, body) = api
        .post(&format!("/iserver/reply/{reply}"), json!({ "confirmed": true }))
        .await;
    assert_eq!(body[0]["order_status"], "Submitted");
}

#[tokio::test]
async fn a_modification_can_raise_a_question_too() {
    let fake = with_defaults().await;
    let api = Api::ready(&fake).await;
    let id = api.place_one(lmt(AAPL, "BUY", 10, 180.0)).await;
    let path = format!("/iserver/account/{}/order/{id}", crate::client::ACCT);
    let (_, body) = api.post(&path, lmt(AAPL, "BUY", 900, 180.0)).await;
    let (reply, _) = question(&body);
    assert_eq!(api.live_order(id).await["totalSize"], "10.0");
    let (_, body) = api
        .post(&format!("/iserver/reply/{reply}"), json!({ "confirmed": true }))
        .await;
    assert_eq!(body[0]["order_id"], id.to_string());
    assert_eq!(api.live_order(id).await["totalSize"], "900.0");
}

#[tokio::test]
async fn suppressed_questions_are_not_asked() {
    let fake = with_defaults().await;
    let api = Api::ready(&fake).await;
    let (status, _) = api
        .post(
            "/iserver/questions/suppress",
            json!({ "messageIds": ["o383", "o163"] }),
        )
        .await;
    assert_eq!(status, 200);
    let (_, body) = api.place(json!([mkt(AAPL, "BUY", 600)])).await;
    assert_eq!(body[0]["order_status"], "Filled");
    api.post("/iserver/questions/suppress/reset", json!({})).await;
    let (_, body) = api.place(json!([mkt(AAPL, "BUY", 600)])).await;
    question(&body);
}

#[tokio::test]
async fn a_coid_used_while_a_question_was_pending_is_refused_at_confirmation() {
    let fake = with_defaults().await;
    let api = Api::ready(&fake).await;
    let mut big = lmt(AAPL, "BUY", 800, 180.0);
    big["cOID"] = json!("dup-1");
    let (_, body) = api.place(json!([big])).await;
    let (reply, _) = question(&body);
    let mut small = lmt(AAPL, "BUY", 1, 180.0);
    small["cOID"] = json!("dup-1");
    api.place_one(small).await;
    let (_, body) = api
        .post(&format!("/iserver/reply/{reply}"), json!({ "confirmed": true }))
        .await;
    assert_eq!(body["error"], "Local order ID=dup-1 is already registered.");
    assert_eq!(fake.order_count(), 1);
}
