//! Login, session tokens, idle expiry, rate limits, account switch, logout and account preferences.

use crate::client::{login, raw_login, start, IDENTIFIER, PASSWORD};
use fakes::capital::{FakeCapital, FakeOptions};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn login_answers_tokens_and_the_documented_body() {
    let fake = start().await;
    let (status, body, cst, token) = raw_login(&fake, Some("fake-api-key"), IDENTIFIER, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let (cst, token) = (cst.expect("CST"), token.expect("X-SECURITY-TOKEN"));
    assert!(cst.len() >= 20 && token.len() >= 20 && cst != token);
    assert_eq!(body["currentAccountId"], "ACC-NET");
    assert_eq!(body["accountType"], "CFD");
    assert_eq!(body["currencyIsoCode"], "USD");
    assert_eq!(body["accountInfo"]["balance"], json!(10000));
    assert_eq!(body["accounts"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["accounts"][0]["preferred"], true);
    let host = body["streamingHost"].as_str().unwrap_or_default();
    assert_eq!(format!("{host}connect"), fake.ws_url);
    assert_eq!(fake.sessions_created(), 1);

    // A second login gets different, unguessable tokens.
    let (_, _, cst2, _) = raw_login(&fake, Some("fake-api-key"), IDENTIFIER, PASSWORD).await;
    assert_ne!(cst2.as_deref(), Some(cst.as_str()));
    assert_eq!(fake.sessions_created(), 2);
}

#[tokio::test]
async fn login_errors() {
    let fake = start().await;
    let (status, body, cst, _) = raw_login(&fake, None, IDENTIFIER, PASSWORD).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.null.api.key"))
    );
    assert!(cst.is_none());
    let (status, body, _, _) = raw_login(&fake, Some("wrong"), IDENTIFIER, PASSWORD).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (401, Some("error.invalid.api.key"))
    );
    let (status, body, _, _) = raw_login(&fake, Some("fake-api-key"), IDENTIFIER, "nope").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (401, Some("error.invalid.details"))
    );
    let (status, body, _, _) = raw_login(&fake, Some("fake-api-key"), "who@example.com", PASSWORD).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (401, Some("error.invalid.details"))
    );
    assert_eq!(fake.sessions_created(), 0);

    // The encryption key needs the API key too; the fake cannot decrypt, so encrypted logins fail.
    let http = reqwest::Client::new();
    let url = format!("{}/session/encryptionKey", fake.base_url);
    let r = http.get(&url).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 400);
    let r = http
        .get(&url)
        .header("X-CAP-API-KEY", "fake-api-key")
        .send()
        .await
        .expect("request");
    let key: serde_json::Value = r.json().await.expect("json");
    assert!(key["encryptionKey"]
        .as_str()
        .is_some_and(|k| k.starts_with("MII")));
    assert!(key["timeStamp"].is_i64());
    let r = http
        .post(format!("{}/session", fake.base_url))
        .header("X-CAP-API-KEY", "fake-api-key")
        .json(&json!({ "identifier": IDENTIFIER, "password": "c2VjcmV0", "encryptedPassword": true }))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn calls_need_both_session_headers() {
    let fake = start().await;
    let c = login(&fake).await;
    let http = reqwest::Client::new();
    let url = format!("{}/accounts", fake.base_url);

    let r = http.get(&url).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["errorCode"], "error.null.client.token");

    for (cst, token) in [(c.cst.as_str(), "forged"), ("forged", c.token.as_str())] {
        let r = http
            .get(&url)
            .header("CST", cst)
            .header("X-SECURITY-TOKEN", token)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status().as_u16(), 401);
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["errorCode"], "error.invalid.session.token");
    }

    // The server time needs no session; authenticated answers echo the tokens.
    let r = http
        .get(format!("{}/time", fake.base_url))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 200);
    let r = http
        .get(&url)
        .header("CST", &c.cst)
        .header("X-SECURITY-TOKEN", &c.token)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers().get("CST").and_then(|v| v.to_str().ok()),
        Some(c.cst.as_str())
    );
}

#[tokio::test]
async fn sessions_expire_when_idle_and_ping_keeps_them() {
    let fake = start().await;
    let c = login(&fake).await;
    for _ in 0..3 {
        fake.advance_clock(Duration::from_secs(9 * 60));
        let (status, body) = c.get("/ping").await;
        assert_eq!((status, body["status"].as_str()), (200, Some("OK")));
    }
    fake.advance_clock(Duration::from_secs(10 * 60));
    let (status, body) = c.get("/ping").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (401, Some("error.invalid.session.token"))
    );

    let c = login(&fake).await;
    assert_eq!(c.get("/accounts").await.0, 200);
    fake.expire_all_sessions();
    assert_eq!(c.get("/accounts").await.0, 401);
}

#[tokio::test]
async fn the_eleventh_request_in_a_second_is_refused() {
    let fake = FakeCapital::start(FakeOptions::default()).await;
    let c = login(&fake).await;
    fake.clear_requests();
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(c.get("/ping").await);
    }
    assert!(statuses[..10].iter().all(|(s, _)| *s == 200), "{statuses:?}");
    assert_eq!(statuses[10].0, 429);
    assert_eq!(statuses[10].1["errorCode"], "error.too-many.requests");
    let log = fake.requests();
    assert_eq!(log.len(), 11);
    assert!(log
        .iter()
        .all(|r| r.path == "/ping" && r.cst.as_deref() == Some(c.cst.as_str())));
    assert_eq!(log[10].status, 429);

    // One login per second per API key.
    let (status, body, _, _) = raw_login(&fake, Some("fake-api-key"), IDENTIFIER, PASSWORD).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (429, Some("error.too-many.requests"))
    );
    assert_eq!(fake.sessions_created(), 1);
}

#[tokio::test]
async fn switching_accounts() {
    let fake = start().await;
    let c = login(&fake).await;
    let (status, body) = c.get("/session").await;
    assert_eq!((status, body["accountId"].as_str()), (200, Some("ACC-NET")));
    assert_eq!(body["timezoneOffset"], 3);

    let (status, body) = c.put("/session", json!({ "accountId": "ACC-HEDGE" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dealingEnabled"], true);
    assert_eq!(c.get("/session").await.1["accountId"], "ACC-HEDGE");
    assert_eq!(c.get("/accounts/preferences").await.1["hedgingMode"], true);

    let (status, body) = c.put("/session", json!({ "accountId": "ACC-HEDGE" })).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.not-different.accountId"))
    );
    let (status, body) = c.put("/session", json!({ "accountId": "0000000000001" })).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.invalid.accountId"))
    );

    let (status, body) = c.get("/accounts").await;
    assert_eq!(status, 200);
    let accounts = body["accounts"].as_array().cloned().unwrap_or_default();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0]["status"], "ENABLED");
    assert_eq!(accounts[0]["balance"]["available"], json!(10000));

    let (status, body) = c.delete("/session").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("SUCCESS")));
    assert_eq!(c.get("/ping").await.0, 401);
}

#[tokio::test]
async fn preferences_validate_leverages() {
    let fake = start().await;
    let c = login(&fake).await;
    let (status, prefs) = c.get("/accounts/preferences").await;
    assert_eq!(status, 200);
    assert_eq!(prefs["hedgingMode"], false);
    for ty in [
        "SHARES",
        "CURRENCIES",
        "INDICES",
        "CRYPTOCURRENCIES",
        "COMMODITIES",
    ] {
        let l = &prefs["leverages"][ty];
        let available = l["available"].as_array().cloned().unwrap_or_default();
        assert!(available.contains(&l["current"]), "{ty}: {l}");
    }
    let (status, body) = c
        .put(
            "/accounts/preferences",
            json!({ "leverages": { "INDICES": 600 } }),
        )
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.invalid.leverage.value"))
    );
    let (status, body) = c
        .put(
            "/accounts/preferences",
            json!({ "leverages": { "INDICES": 10 }, "hedgingMode": true }),
        )
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("SUCCESS")));
    let prefs = c.get("/accounts/preferences").await.1;
    assert_eq!(prefs["leverages"]["INDICES"]["current"], 10);
    assert_eq!(prefs["hedgingMode"], true);
}
