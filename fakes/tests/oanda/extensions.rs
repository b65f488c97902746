//! v20 `PUT /orders/{spec}/clientExtensions` (setOrderClientExtensions): the documented request and
//! answers (200 with `orderClientExtensionsModifyTransaction`, 400 and 404 with the reject transaction and
//! `errorCode`), the transactions it records, and the option under which a replacement loses its client
//! extensions.

use crate::client::{options, Client, HEDGE};
use fakes::oanda::{FakeOanda, FakeOptions};
use serde_json::{json, Value};

/// A pending stop order with client id `client`; returns its order id.
async fn pending(c: &Client, client: &str) -> String {
    let body = c
        .order(
            HEDGE,
            json!({ "type": "STOP", "instrument": "USD_JPY", "units": "100", "price": "151.000",
                    "clientExtensions": { "id": client, "tag": "first" } }),
        )
        .await;
    body["orderCreateTransaction"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn path(spec: &str) -> String {
    format!("/v3/accounts/{HEDGE}/orders/{spec}/clientExtensions")
}

#[tokio::test]
async fn client_extensions_are_set_with_a_modify_transaction() {
    let fake = FakeOanda::start(options()).await;
    let c = Client::new(&fake);
    let id = pending(&c, "ext-1").await;
    let (status, body) = c
        .put(
            &path(&id),
            json!({ "clientExtensions": { "id": "ext-2", "comment": "moved" },
                    "tradeClientExtensions": { "tag": "trade-tag" } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let tx = &body["orderClientExtensionsModifyTransaction"];
    assert_eq!(tx["type"], "ORDER_CLIENT_EXTENSIONS_MODIFY");
    assert_eq!(tx["orderID"], id.as_str());
    assert_eq!(
        tx["clientOrderID"], "ext-1",
        "the order's client id before the change"
    );
    assert_eq!(
        tx["clientExtensionsModify"],
        json!({ "id": "ext-2", "comment": "moved" })
    );
    assert_eq!(tx["tradeClientExtensionsModify"], json!({ "tag": "trade-tag" }));
    assert_eq!(tx["accountID"], HEDGE);
    assert!(tx["time"].is_string() && tx["batchID"].is_string() && tx["userID"].is_number());
    assert_eq!(body["relatedTransactionIDs"], json!([tx["id"]]));
    assert_eq!(body["lastTransactionID"], tx["id"]);
    // The order answers to its new client id; a field left out (the tag) is kept.
    let (status, found) = c.get(&format!("/v3/accounts/{HEDGE}/orders/@ext-2")).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["order"]["id"], id.as_str());
    assert_eq!(
        found["order"]["clientExtensions"],
        json!({ "id": "ext-2", "tag": "first", "comment": "moved" })
    );
    assert_eq!(
        found["order"]["tradeClientExtensions"],
        json!({ "tag": "trade-tag" })
    );
    // The transaction is in the account's history.
    let tx_id = tx["id"].as_str().unwrap_or_default();
    let (status, one) = c.get(&format!("/v3/accounts/{HEDGE}/transactions/{tx_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(one["transaction"]["type"], "ORDER_CLIENT_EXTENSIONS_MODIFY");
    // A client specifier works too.
    let (status, _) = c
        .put(
            &path("@ext-2"),
            json!({ "clientExtensions": { "comment": "again" } }),
        )
        .await;
    assert_eq!(status, 200);
}

/// Asserts a refusal: status, `errorCode`, and the reject transaction with that reason.
fn assert_reject(status: u16, body: &Value, want_status: u16, reason: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["errorCode"], reason, "{body}");
    assert!(
        body["errorMessage"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    let tx = &body["orderClientExtensionsModifyRejectTransaction"];
    assert_eq!(tx["type"], "ORDER_CLIENT_EXTENSIONS_MODIFY_REJECT", "{body}");
    assert_eq!(tx["rejectReason"], reason);
    assert_eq!(body["lastTransactionID"], tx["id"]);
}

#[tokio::test]
async fn invalid_requests_are_rejected_with_the_documented_reasons() {
    let fake = FakeOanda::start(options()).await;
    let c = Client::new(&fake);
    let id = pending(&c, "ext-a").await;
    pending(&c, "ext-b").await;
    let (status, body) = c
        .put(&path("999"), json!({ "clientExtensions": { "id": "x" } }))
        .await;
    assert_reject(status, &body, 404, "ORDER_DOESNT_EXIST");
    assert_eq!(
        body["orderClientExtensionsModifyRejectTransaction"]["orderID"],
        "999"
    );
    let (status, body) = c.put(&path(&id), json!({})).await;
    assert_reject(status, &body, 400, "CLIENT_EXTENSIONS_DATA_MISSING");
    let (status, body) = c
        .put(&path(&id), json!({ "clientExtensions": { "id": "" } }))
        .await;
    assert_reject(status, &body, 400, "CLIENT_ORDER_ID_INVALID");
    let (status, body) = c
        .put(&path(&id), json!({ "tradeClientExtensions": { "comment": 7 } }))
        .await;
    assert_reject(status, &body, 400, "CLIENT_TRADE_COMMENT_INVALID");
    let (status, body) = c
        .put(&path(&id), json!({ "clientExtensions": { "id": "ext-b" } }))
        .await;
    assert_reject(status, &body, 400, "CLIENT_ORDER_ID_ALREADY_EXISTS");
    // Nothing was changed by a refusal.
    let (_, found) = c.get(&format!("/v3/accounts/{HEDGE}/orders/{id}")).await;
    assert_eq!(found["order"]["clientExtensions"]["id"], "ext-a");
    // Not JSON: a plain 400.
    let resp = reqwest::Client::new()
        .put(format!("{}{}", fake.rest_url, path(&id)))
        .bearer_auth(crate::client::TOKEN)
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 400);
}

#[tokio::test]
async fn under_the_other_reading_a_replacement_loses_its_client_extensions_until_set_again() {
    let fake = FakeOanda::start(FakeOptions {
        replacements_drop_client_extensions: true,
        ..options()
    })
    .await;
    let c = Client::new(&fake);
    let old = pending(&c, "keep-me").await;
    let (status, body) = c
        .put(
            &format!("/v3/accounts/{HEDGE}/orders/{old}"),
            json!({ "order": { "type": "STOP", "instrument": "USD_JPY", "units": "200", "price": "151.500" } }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let new = body["orderCreateTransaction"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        body["orderCreateTransaction"].get("clientExtensions").is_none(),
        "{body}"
    );
    let (_, found) = c.get(&format!("/v3/accounts/{HEDGE}/orders/{new}")).await;
    assert!(found["order"].get("clientExtensions").is_none(), "{found}");
    // The replaced order's client id may be given to its replacement.
    let (status, body) = c
        .put(
            &path(&new),
            json!({ "clientExtensions": { "id": "keep-me", "tag": "first" } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, found) = c.get(&format!("/v3/accounts/{HEDGE}/orders/@keep-me")).await;
    assert_eq!(found["order"]["id"], new.as_str());
    assert_eq!(found["order"]["state"], "PENDING");
}
