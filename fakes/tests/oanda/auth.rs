//! Bearer tokens (401), accounts a token cannot reach (403), the wrong API for an account (400), the
//! per-token rate limit (429) and the request log.

use crate::client::{options, start, Client, HEDGE, NET, TOKEN, V1};
use fakes::oanda::{FakeOanda, FakeOptions, FakeToken};
use serde_json::json;

#[tokio::test]
async fn missing_unknown_and_revoked_tokens_get_401_in_each_api_shape() {
    let fake = start().await;
    for token in [None, Some("nope")] {
        let c = Client::with_token(&fake, token);
        let (status, body) = c.get("/v3/accounts").await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            json!({ "errorMessage": "Insufficient authorization to perform request." })
        );
        let (status, body) = c.get(&format!("/v1/accounts/{V1}")).await;
        assert_eq!(status, 401);
        assert_eq!(body["code"], 4);
        assert!(body["message"]
            .as_str()
            .is_some_and(|m| m.contains("access token")));
        assert!(body["moreInfo"].is_string());
    }
    let c = Client::new(&fake);
    assert_eq!(c.get("/v3/accounts").await.0, 200);
    fake.revoke_token(TOKEN);
    assert_eq!(c.get("/v3/accounts").await.0, 401);
    assert_eq!(c.get(&format!("/v1/accounts/{V1}")).await.0, 401);
    // A malformed header is no token at all.
    let raw = reqwest::Client::new()
        .get(format!("{}/v3/accounts", fake.rest_url))
        .header("Authorization", TOKEN)
        .send()
        .await
        .expect("request");
    assert_eq!(raw.status().as_u16(), 401);
}

#[tokio::test]
async fn accounts_outside_the_token_or_the_api_are_refused() {
    let mut opts = options();
    opts.tokens.push(FakeToken {
        token: "narrow".into(),
        accounts: vec![NET.into()],
    });
    let fake = FakeOanda::start(opts).await;
    let narrow = Client::with_token(&fake, Some("narrow"));
    let (status, body) = narrow.get("/v3/accounts").await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "accounts": [{ "id": NET, "tags": [] }] }));
    let (status, body) = narrow.get(&format!("/v3/accounts/{HEDGE}/summary")).await;
    assert_eq!(status, 403);
    assert_eq!(body["errorMessage"], "The provided request was forbidden.");
    let (status, body) = narrow.get(&format!("/v1/accounts/{V1}")).await;
    assert_eq!((status, body["code"].as_u64()), (403, Some(4)));

    let c = Client::new(&fake);
    // Unknown v20 account: forbidden, as OANDA answers for an account id it does not give the token.
    assert_eq!(c.get("/v3/accounts/101-004-1234567-999/summary").await.0, 403);
    // A v1 account on /v3 and a v20 account on /v1 are never served.
    let (status, body) = c.get(&format!("/v3/accounts/{V1}/summary")).await;
    assert_eq!(status, 400);
    assert_eq!(body["errorMessage"], "Invalid value specified for 'accountID'");
    let (status, body) = c.get(&format!("/v1/accounts/{NET}")).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(52)));
    let (status, body) = c.get("/v1/accounts/1111111").await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(1)));
    assert_eq!(body["message"], "Invalid or malformed argument: accountId");
    // /v3/accounts lists v20 accounts only; /v1/accounts v1 ones only.
    let (_, body) = c.get("/v3/accounts").await;
    let ids: Vec<&str> = body["accounts"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, [NET, HEDGE]);
    let (_, body) = c.get("/v1/accounts").await;
    assert_eq!(body["accounts"][0]["accountId"], 7654321);
    assert_eq!(body["accounts"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn more_than_the_allowed_requests_per_second_get_429() {
    let fake = FakeOanda::start(FakeOptions {
        requests_per_second: 5,
        ..options()
    })
    .await;
    let c = Client::new(&fake);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(c.get("/v3/accounts").await.0);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);
    let (status, body) = c.get(&format!("/v1/accounts/{V1}")).await;
    assert_eq!((status, body["code"].as_u64()), (429, Some(68)));
    let (status, body) = c.get("/v3/accounts").await;
    assert_eq!(status, 429);
    assert!(body["errorMessage"].is_string());
    // The window slides: a second later the token may call again.
    tokio::time::sleep(std::time::Duration::from_millis(1050)).await;
    assert_eq!(c.get("/v3/accounts").await.0, 200);
}

#[tokio::test]
async fn every_request_is_logged_with_its_body_and_v20_answers_carry_a_request_id() {
    let fake = start().await;
    let c = Client::new(&fake);
    let resp = reqwest::Client::new()
        .get(format!("{}/v3/accounts/{NET}/summary?x=1", fake.rest_url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("request");
    assert!(resp.headers().contains_key("RequestID"));
    c.post(
        &format!("/v3/accounts/{NET}/orders"),
        json!({ "order": { "type": "MARKET", "instrument": "EUR_USD", "units": "1" } }),
    )
    .await;
    Client::with_token(&fake, None).get("/v3/accounts").await;
    let log = fake.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].path, format!("/v3/accounts/{NET}/summary"));
    assert_eq!(log[0].query, "x=1");
    assert_eq!(log[0].authorization.as_deref(), Some("Bearer fake-token"));
    assert_eq!(log[0].status, 200);
    assert!(!log[0].stream);
    assert_eq!(log[1].method, "POST");
    assert!(log[1].body.contains("\"MARKET\""));
    assert_eq!((log[2].authorization.clone(), log[2].status), (None, 401));
    // Debug output never shows the token.
    assert!(!format!("{:?}", log[0]).contains(TOKEN));
    fake.clear_requests();
    assert!(fake.requests().is_empty());
}
