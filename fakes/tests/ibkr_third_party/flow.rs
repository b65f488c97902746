//! The three-legged grant over HTTP: request token, the authorization page (wrong password, Allow,
//! Deny), the access token exchange, the live session token, signed calls; and what is refused on the
//! way (bad callback, bad signature, replayed nonce, a used verifier, an expired request token, a revoked
//! user).

use crate::client::*;
use fakes::ibkr_third_party::{FakeIbkrThirdParty, FakeIbkrThirdPartyOptions};
use std::time::Duration;

#[tokio::test]
async fn the_whole_grant_through_the_page_then_204_until_the_nightly_refresh() {
    let fake = FakeIbkrThirdParty::start(FakeIbkrThirdPartyOptions::default()).await;
    let c = Consumer::new(&fake);
    let rt = c.request_token(Some(CALLBACK), false).await;
    assert_eq!(rt.status, 200, "{}", rt.body);
    let token = rt.body["oauth_token"].as_str().unwrap().to_string();
    assert!(rt.body.get("oauth_token_secret").is_none());

    // The page a browser sees.
    let page = c
        .browser
        .get(format!("{}?oauth_token={token}", fake.authorize_url))
        .header("User-Agent", "Mozilla/5.0 (test)")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("<label for=\"username\">") && html.contains("<label for=\"password\">"));
    assert!(html.contains(&format!("type=\"hidden\" name=\"oauth_token\" value=\"{token}\"")));
    assert!(html.contains(">Allow</button>") && html.contains(">Deny</button>"));
    assert!(!html.contains("<script"));

    // A wrong password shows the page again with an error; nothing is granted.
    let (status, location, html) = c
        .submit_form(&[
            ("oauth_token", &token),
            ("username", "alice"),
            ("password", "nope"),
            ("action", "allow"),
        ])
        .await;
    assert_eq!((status, location), (200, None));
    assert!(html.contains("Invalid username or password"));
    assert!(!fake.awaiting_refresh("alice"));

    let (status, location, _) = c
        .submit_form(&[
            ("oauth_token", &token),
            ("username", ALICE.0),
            ("password", ALICE.1),
            ("action", "allow"),
        ])
        .await;
    assert_eq!(status, 302);
    let location = location.unwrap();
    assert!(
        location.starts_with("https://bridge.example/ibkr/callback?state=s1&oauth_token="),
        "{location}"
    );
    assert_eq!(param(&location, "oauth_token").as_deref(), Some(token.as_str()));
    let verifier = param(&location, "oauth_verifier").expect("a verifier");
    assert!(fake.awaiting_refresh("alice"));

    // The page cannot be used twice for one request token.
    let (status, _, _) = c
        .submit_form(&[
            ("oauth_token", &token),
            ("username", ALICE.0),
            ("password", ALICE.1),
            ("action", "allow"),
        ])
        .await;
    assert_eq!(status, 400);

    let wrong = c.access_token(&token, "not-the-verifier").await;
    assert_eq!(wrong.status, 401);
    let at = c.access_token(&token, &verifier).await;
    assert_eq!(at.status, 200, "{}", at.body);
    let again = c.access_token(&token, &verifier).await;
    assert_eq!(again.status, 401, "a verifier is single use");

    let access_token = at.body["oauth_token"].as_str().unwrap().to_string();
    let secret = c.decrypt(at.body["oauth_token_secret"].as_str().unwrap());
    let (lst, key) = c.live_session_token(&access_token, &secret).await;
    assert_eq!(lst.status, 200, "{}", lst.body);
    assert!(
        lst.body["live_session_token_expiration"].as_i64().unwrap() > chrono::Utc::now().timestamp_millis()
    );
    let s = Session {
        access_token,
        secret,
        lst: key.unwrap(),
    };

    // First authorisation: every /accounts* answers 204 (no body) until the nightly refresh.
    let accounts = c.get(&s, "/accounts").await;
    assert_eq!(
        (accounts.status, accounts.body.clone()),
        (204, serde_json::Value::Null)
    );
    assert_eq!(
        c.get(&s, &format!("/accounts/{ALICE_ACCT}/positions"))
            .await
            .status,
        204
    );
    // Resources outside /accounts answer.
    assert_eq!(c.get(&s, "/secdef?conid=265598").await.status, 200);
    fake.nightly_refresh();
    let accounts = c.get(&s, "/accounts").await;
    assert_eq!(accounts.status, 200);
    assert_eq!(accounts.body, serde_json::json!({ "accounts": [ALICE_ACCT] }));
    assert_eq!(fake.lsts_issued(), 1);
}

#[tokio::test]
async fn the_refresh_also_comes_with_the_clock_at_16_55_new_york() {
    let options = FakeIbkrThirdPartyOptions {
        // 15:00 in New York (EST).
        start: "2026-12-07T20:00:00Z".parse().unwrap(),
        frozen_clock: true,
        ..FakeIbkrThirdPartyOptions::default()
    };
    let fake = FakeIbkrThirdParty::start(options).await;
    let c = Consumer::new(&fake);
    let s = c.granted(&fake, "bob").await;
    assert_eq!(c.get(&s, "/accounts").await.status, 204);
    fake.advance_clock(Duration::from_secs(3600 + 54 * 60));
    assert_eq!(c.get(&s, "/accounts").await.status, 204, "16:54");
    fake.advance_clock(Duration::from_secs(60));
    let accounts = c.get(&s, "/accounts").await;
    assert_eq!(accounts.status, 200, "16:55");
    assert_eq!(
        accounts.body["accounts"],
        serde_json::json!(["U7654321", "U7654322"])
    );
    // Another user's account is not this token's.
    assert_eq!(
        c.get(&s, &format!("/accounts/{ALICE_ACCT}/summary")).await.status,
        403
    );
}

#[tokio::test]
async fn deny_redirects_without_a_verifier_and_spends_the_request_token() {
    let (fake, c) = relaxed().await;
    let rt = c.request_token(Some("http://127.0.0.1:9/cb"), false).await;
    let token = rt.body["oauth_token"].as_str().unwrap().to_string();
    let (status, location, _) = c
        .submit_form(&[("oauth_token", &token), ("action", "deny")])
        .await;
    assert_eq!(status, 302);
    assert_eq!(
        location.as_deref(),
        Some(format!("http://127.0.0.1:9/cb?oauth_token={token}&denied=1").as_str())
    );
    assert!(fake.approve(&token, ALICE.0, ALICE.1).is_err());
    assert_eq!(c.access_token(&token, "x").await.status, 401);
}

#[tokio::test]
async fn request_tokens_need_a_good_callback_a_good_signature_and_fresh_nonces_and_last_ten_minutes() {
    let (fake, c) = relaxed().await;
    assert_eq!(c.request_token(None, false).await.status, 400);
    assert_eq!(c.request_token(Some("ftp://x/cb"), false).await.status, 400);
    assert_eq!(c.request_token(Some(CALLBACK), true).await.status, 401);
    let oob = c.request_token(Some("oob"), false).await;
    assert_eq!(oob.status, 200);
    let token = oob.body["oauth_token"].as_str().unwrap();
    let shown = fake.approve(token, ALICE.0, ALICE.1).unwrap();
    assert!(shown.starts_with("oob:") && shown.len() > 4, "{shown}");

    // A request token waits 10 minutes for the user.
    let rt = c.request_token(Some(CALLBACK), false).await;
    let token = rt.body["oauth_token"].as_str().unwrap().to_string();
    fake.advance_clock(Duration::from_secs(601));
    let page = c
        .browser
        .get(format!("{}?oauth_token={token}", fake.authorize_url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    assert!(fake
        .approve(&token, ALICE.0, ALICE.1)
        .unwrap_err()
        .contains("expired"));

    // Without a User-Agent the API answers 400.
    let bare = reqwest::Client::new()
        .post(format!("{}/oauth/request_token", fake.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 400);
}

#[tokio::test]
async fn a_replayed_nonce_and_an_unsigned_call_are_refused() {
    let (fake, c) = relaxed().await;
    let s = c.granted(&fake, "alice").await;
    assert_eq!(c.get(&s, "/accounts").await.status, 200);
    // Same nonce twice: build one signed request and send it twice.
    let url = format!("{}/accounts", fake.base_url);
    let ts = chrono::Utc::now().timestamp().to_string();
    let pairs: Vec<(String, String)> = vec![
        ("oauth_consumer_key".into(), c.material.consumer_key.clone()),
        ("oauth_nonce".into(), "fixed-nonce".into()),
        ("oauth_signature_method".into(), "HMAC-SHA256".into()),
        ("oauth_timestamp".into(), ts),
        ("oauth_token".into(), s.access_token.clone()),
    ];
    let base = fakes::ibkr_auth::base_string("GET", &url, &pairs);
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&s.lst).unwrap();
    mac.update(base.as_bytes());
    let sig = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        mac.finalize().into_bytes(),
    );
    let mut all = pairs.clone();
    all.push(("oauth_signature".into(), sig));
    all.sort();
    let list: Vec<String> = all.iter().map(|(k, v)| format!("{k}=\"{}\"", pct(v))).collect();
    let header = format!("OAuth realm=\"{}\", {}", c.material.realm, list.join(", "));
    let send = || {
        c.http
            .get(&url)
            .header("User-Agent", "t")
            .header("Authorization", header.clone())
            .send()
    };
    assert_eq!(send().await.unwrap().status(), 200);
    assert_eq!(send().await.unwrap().status(), 401);
    let unsigned = c.http.get(&url).header("User-Agent", "t").send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
}

#[tokio::test]
async fn a_revoked_user_gets_401_everywhere_until_granted_again() {
    let (fake, c) = relaxed().await;
    let s = c.granted(&fake, "alice").await;
    assert_eq!(c.get(&s, "/accounts").await.status, 200);
    assert_eq!(fake.revoke("alice"), 1);
    let refused = c.get(&s, "/accounts").await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.body["error"], "access token revoked");
    let (lst, _) = c.live_session_token(&s.access_token, &s.secret).await;
    assert_eq!(lst.status, 401);
    let again = c.granted(&fake, "alice").await;
    assert_eq!(c.get(&again, "/accounts").await.status, 200);
}

#[tokio::test]
async fn expired_live_session_tokens_answer_401_and_a_new_one_works() {
    let (fake, c) = relaxed().await;
    let mut s = c.granted(&fake, "alice").await;
    fake.expire_lsts();
    let refused = c.get(&s, "/accounts").await;
    assert_eq!(
        (refused.status, refused.body["error"].as_str()),
        (401, Some("live session token expired"))
    );
    let (answer, lst) = c.live_session_token(&s.access_token, &s.secret).await;
    assert_eq!(answer.status, 200);
    let old = std::mem::replace(&mut s.lst, lst.unwrap());
    assert_eq!(c.get(&s, "/accounts").await.status, 200);
    // Only the newest live session token of an access token is valid (lsts_per_token = 1).
    let stale = Session {
        lst: old,
        ..s.clone()
    };
    assert_eq!(c.get(&stale, "/accounts").await.status, 401);
}

#[tokio::test]
async fn a_user_who_first_grants_after_a_refresh_waits_for_the_next_one() {
    let fake = FakeIbkrThirdParty::start(FakeIbkrThirdPartyOptions::default()).await;
    let c = Consumer::new(&fake);
    fake.nightly_refresh();
    let s = c.granted(&fake, "alice").await;
    assert!(fake.first_authorized("alice").is_some());
    assert_eq!(c.get(&s, "/accounts").await.status, 204);
    fake.nightly_refresh();
    assert_eq!(c.get(&s, "/accounts").await.status, 200);
    // A second grant of the same user is served at once.
    let again = c.granted(&fake, "alice").await;
    assert_eq!(c.get(&again, "/accounts").await.status, 200);
    // Users configured as refreshed never see 204.
    let fake = FakeIbkrThirdParty::start(FakeIbkrThirdPartyOptions::default().all_refreshed()).await;
    let c = Consumer::new(&fake);
    let s = c.granted(&fake, "bob").await;
    assert_eq!(c.get(&s, "/accounts").await.status, 200);
}
