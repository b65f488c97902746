//! The fake behind OAuth 2.0, driven by a client written here (not the bridge's code): client assertion
//! -> access token -> SSO session -> bearer calls on one host, and the 401s of an expired bearer, a
//! revoked client, a wrongly signed assertion and a call without the session bearer.

use fakes::ibkr::{FakeIbkr, FakeIbkrOptions, Oauth2ClientMaterial, RefusalReason};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json, Value};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn material(fake: &FakeIbkr) -> Oauth2ClientMaterial {
    fake.oauth()
        .expect("an OAuth mode")
        .oauth2_client()
        .expect("OAuth 2.0")
        .clone()
}

fn jwt(material: &Oauth2ClientMaterial, claims: Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_string());
    let pem = std::fs::read(&material.private_key_file).unwrap();
    encode(&header, &claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
}

/// `POST` the token endpoint with an assertion signed under `kid`: `(status, body)`.
async fn token(fake: &FakeIbkr, kid: &str) -> (u16, Value) {
    let m = material(fake);
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "iss": m.client_id, "sub": m.client_id, "aud": m.audience,
        "iat": now, "exp": now + 60, "jti": uuid::Uuid::new_v4().to_string(),
    });
    let form = [
        ("grant_type", "client_credentials".to_string()),
        ("client_assertion_type", JWT_BEARER.to_string()),
        ("client_assertion", jwt(&m, claims, kid)),
        ("scope", "sso-sessions.write".to_string()),
    ];
    let resp = reqwest::Client::new()
        .post(fake.token_url())
        .form(&form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// Opens an SSO session with the access token: the session bearer.
async fn session(fake: &FakeIbkr, access_token: &str) -> (u16, Value) {
    let m = material(fake);
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "iss": m.client_id, "iat": now, "exp": now + 60, "credential": m.username, "ip": "127.0.0.1" });
    let resp = reqwest::Client::new()
        .post(fake.sso_session_url())
        .bearer_auth(access_token)
        .header("Content-Type", "application/jwt")
        .body(jwt(&m, claims, &m.key_id))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// A full login: the session bearer.
async fn login(fake: &FakeIbkr) -> String {
    let (status, body) = token(fake, &material(fake).key_id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    let (status, body) = session(fake, body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn call(
    fake: &FakeIbkr,
    bearer: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", fake.base_url))
        .bearer_auth(bearer);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

#[test]
fn the_mode_starts_closed_at_ibkrs_oauth_pace() {
    let options = FakeIbkrOptions::oauth2("my-client");
    assert_eq!(options.requests_per_second, 50);
    assert!(!options.start_authenticated);
    let m = options.oauth.as_ref().unwrap().oauth2_client().unwrap().clone();
    assert_eq!(
        (m.client_id.as_str(), m.audience.as_str()),
        ("my-client", "/token")
    );
    assert!(m.private_key_file.exists());
}

#[tokio::test]
async fn assertion_token_session_then_bearer_calls_on_one_host() {
    let fake = FakeIbkr::start(FakeIbkrOptions::oauth2("my-client")).await;
    let bearer = login(&fake).await;
    let auth = fake.oauth().unwrap();
    assert_eq!(
        (auth.access_tokens_issued(), auth.session_bearers_issued()),
        (1, 1)
    );
    let (status, body) = call(
        &fake,
        &bearer,
        Method::POST,
        "/iserver/auth/status",
        Some(json!({})),
    )
    .await;
    assert_eq!((status, body["authenticated"].as_bool()), (200, Some(false)));
    let init = json!({ "publish": true, "compete": true });
    assert_eq!(
        call(
            &fake,
            &bearer,
            Method::POST,
            "/iserver/auth/ssodh/init",
            Some(init)
        )
        .await
        .0,
        200
    );
    let (status, body) = call(&fake, &bearer, Method::GET, "/iserver/accounts", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        call(&fake, "not-a-token", Method::GET, "/portfolio/accounts", None)
            .await
            .0,
        401
    );
    assert_eq!(auth.refusals(RefusalReason::Other), 1);
}

#[tokio::test]
async fn an_expired_bearer_and_a_revoked_client_are_refused() {
    let fake = FakeIbkr::start(FakeIbkrOptions::oauth2("my-client")).await;
    let auth = fake.oauth().unwrap();
    let bearer = login(&fake).await;
    assert_eq!(call(&fake, &bearer, Method::POST, "/tickle", None).await.0, 200);
    auth.expire_now();
    let (status, body) = call(&fake, &bearer, Method::POST, "/tickle", None).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("token expired")));
    assert_eq!(auth.refusals(RefusalReason::Expired), 1);
    let bearer = login(&fake).await;
    assert_eq!(call(&fake, &bearer, Method::POST, "/tickle", None).await.0, 200);

    auth.revoke();
    assert_eq!(call(&fake, &bearer, Method::POST, "/tickle", None).await.0, 401);
    assert_eq!(token(&fake, &material(&fake).key_id).await.0, 401);
    assert_eq!(auth.refusals(RefusalReason::Revoked), 2);
    auth.reinstate();
    assert_eq!(call(&fake, &bearer, Method::POST, "/tickle", None).await.0, 200);
}

#[tokio::test]
async fn an_assertion_under_another_key_id_gets_no_token() {
    let fake = FakeIbkr::start(FakeIbkrOptions::oauth2("my-client")).await;
    let (status, body) = token(&fake, "someone-elses-key").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    let auth = fake.oauth().unwrap();
    assert_eq!(auth.access_tokens_issued(), 0);
    assert_eq!(auth.refusals(RefusalReason::BadSignature), 1);
}

#[tokio::test]
async fn the_websocket_upgrade_needs_a_live_session_bearer() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let fake = FakeIbkr::start(FakeIbkrOptions::oauth2("my-client")).await;
    assert!(
        tokio_tungstenite::connect_async(&fake.ws_url).await.is_err(),
        "no bearer"
    );
    let bearer = login(&fake).await;
    let mut request = fake.ws_url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {bearer}").parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());
}
