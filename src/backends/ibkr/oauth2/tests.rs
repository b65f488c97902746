//! OAuth 2.0 against the fake IBKR's server side: the assertions verify with the public key, the whole
//! login gives a bearer the fake accepts, and what the fake must refuse is refused.

use super::*;
use crate::upstream::transport::{Call, Transport};
use fakes::ibkr_auth::oauth2::{Client, Oauth2Server};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use std::sync::Arc;

fn testdata(name: &str) -> String {
    format!("{}/testdata/ibkr/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn settings() -> OAuth2Config {
    OAuth2Config {
        client_id_env: "IBKR_CLIENT_ID".into(),
        key_id: "main".into(),
        private_key_file: testdata("oauth2_client.pem"),
        username: "ibuser1".into(),
        ip: "203.0.113.7".into(),
        ..OAuth2Config::default()
    }
}

/// The environment holding the client id.
pub(crate) fn env(name: &str) -> Option<String> {
    (name == "IBKR_CLIENT_ID").then(|| "TESTCLIENT".to_string())
}

fn read(path: &str) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
}

fn keys() -> Oauth2Keys {
    settings().load(&env, &read).unwrap()
}

pub(crate) fn fake_client() -> Client {
    Client {
        client_id: "TESTCLIENT".into(),
        key_id: "main".into(),
        public_pem: std::fs::read_to_string(testdata("oauth2_client.pub.pem")).unwrap(),
        username: "ibuser1".into(),
    }
}

#[test]
fn the_client_assertion_is_rs256_with_kid_and_the_documented_claims() {
    let now = chrono::Utc::now().timestamp();
    let jwt = client_assertion(&keys(), now).unwrap();
    let header = decode_header(&jwt).unwrap();
    assert_eq!(
        (header.alg, header.kid.as_deref()),
        (Algorithm::RS256, Some("main"))
    );
    let public = std::fs::read_to_string(testdata("oauth2_client.pub.pem")).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["/token"]);
    let claims = decode::<serde_json::Value>(
        &jwt,
        &DecodingKey::from_rsa_pem(public.as_bytes()).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(
        (claims["iss"].as_str(), claims["sub"].as_str()),
        (Some("TESTCLIENT"), Some("TESTCLIENT"))
    );
    assert_eq!(claims["iat"], now);
    assert_eq!(claims["exp"], now + ASSERTION_LIFETIME_S);
    let other = decode::<serde_json::Value>(
        &client_assertion(&keys(), now).unwrap(),
        &DecodingKey::from_rsa_pem(public.as_bytes()).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    assert_ne!(claims["jti"], other["jti"], "every assertion has its own jti");
    // Another key's signature does not verify.
    let wrong = std::fs::read_to_string(testdata("signature.pub.pem")).unwrap();
    assert!(decode::<serde_json::Value>(
        &jwt,
        &DecodingKey::from_rsa_pem(wrong.as_bytes()).unwrap(),
        &validation
    )
    .is_err());
}

#[test]
fn the_sso_session_request_names_the_username_and_ip() {
    let jwt = sso_session_request(&keys(), 1_700_000_000).unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["credential"], "ibuser1");
    assert_eq!(claims["ip"], "203.0.113.7");
    assert_eq!(claims["iss"], "TESTCLIENT");
}

#[test]
fn settings_errors_name_the_setting_and_debug_hides_the_key() {
    let shown = format!("{:?}", keys());
    assert!(shown.contains("TESTCLIENT") && !shown.contains("BEGIN"));
    let mut out = Vec::new();
    settings().problems(&mut out);
    assert_eq!(out, Vec::<String>::new());
    let mut bad = settings();
    bad.ip = "localhost".into();
    bad.key_id = String::new();
    bad.token_url = "ftp://x".into();
    bad.problems(&mut out);
    let out = out.join("\n");
    for key in [
        "backend.oauth2.ip must be",
        "backend.oauth2.key_id must be set",
        "backend.oauth2.token_url must start",
    ] {
        assert!(out.contains(key), "{key} missing from:\n{out}");
    }
    let e = settings().load(&|_| None, &read).unwrap_err();
    assert!(e.contains("IBKR_CLIENT_ID"), "{e}");
    let mut public = settings();
    public.private_key_file = testdata("oauth2_client.pub.pem");
    let e = public.load(&env, &read).unwrap_err();
    assert!(
        e.starts_with("backend.oauth2.private_key_file") && !e.contains("BEGIN"),
        "{e}"
    );
}

/// A fake IBKR serving the token URL, the SSO-session URL and one `/v1/api` call.
async fn serve(server: Arc<Oauth2Server>) -> String {
    use axum::http::{HeaderMap, StatusCode, Uri};
    let handler = move |uri: Uri, headers: HeaderMap, body: String| {
        let server = server.clone();
        async move {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            let answer = match uri.path() {
                "/oauth2/api/v1/token" => {
                    server.token(&serde_urlencoded::from_str::<Vec<(String, String)>>(&body).unwrap())
                }
                "/gw/api/v1/sso-sessions" => {
                    server.sso_session(header("authorization"), header("content-type"), &body)
                }
                _ => server
                    .verify(header("authorization"))
                    .map(|id| serde_json::json!({ "user": id.user })),
            };
            match answer {
                Ok(body) => (StatusCode::OK, axum::Json(body)),
                Err(r) => (StatusCode::from_u16(r.status).unwrap(), axum::Json(r.body)),
            }
        }
    };
    let addr = crate::backends::ibkr::oauth1::tests::serve_app(axum::Router::new().fallback(handler)).await;
    format!("http://{addr}")
}

struct Urls {
    token: Transport,
    sso: Transport,
    api: Transport,
}

async fn fake(server: Oauth2Server) -> (Arc<Oauth2Server>, Urls) {
    let server = Arc::new(server);
    let base = serve(server.clone()).await;
    let transport = |path: &str| Transport::builder(&format!("{base}{path}")).build().unwrap();
    let urls = Urls {
        token: transport("/oauth2/api/v1/token"),
        sso: transport("/gw/api/v1/sso-sessions"),
        api: transport("/v1/api"),
    };
    (server, urls)
}

#[tokio::test]
async fn login_gives_a_bearer_the_fake_accepts_until_it_expires() {
    let (server, urls) = fake(Oauth2Server::new(fake_client(), "/token").unwrap()).await;
    let bearer = login(&urls.token, &urls.sso, &keys()).await.unwrap();
    let left = bearer
        .expires_at
        .saturating_duration_since(tokio::time::Instant::now());
    assert!(
        left > std::time::Duration::from_secs(3500),
        "expires_in of the token answer"
    );
    let signer = bearer.signer();
    let answer: serde_json::Value = urls
        .api
        .json(&Call::get("/tickle").signed(&signer))
        .await
        .unwrap();
    assert_eq!(answer["user"], "ibuser1");
    assert!(!format!("{bearer:?}").contains(bearer.token.expose()));
    server.expire_all();
    let refused = urls
        .api
        .json::<serde_json::Value>(&Call::get("/tickle").signed(&signer))
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(401));
    let again = login(&urls.token, &urls.sso, &keys()).await.unwrap();
    urls.api
        .json::<serde_json::Value>(&Call::get("/tickle").signed(&again.signer()))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_wrong_key_id_audience_or_username_is_refused() {
    let mut other_kid = fake_client();
    other_kid.key_id = "other".into();
    let (_, urls) = fake(Oauth2Server::new(other_kid, "/token").unwrap()).await;
    match login(&urls.token, &urls.sso, &keys()).await.unwrap_err() {
        Oauth2Error::Call(e) => assert_eq!(e.status(), Some(401)),
        other => panic!("{other}"),
    }
    let (_, urls) =
        fake(Oauth2Server::new(fake_client(), "https://api.ibkr.com/oauth2/api/v1/token").unwrap()).await;
    assert!(
        login(&urls.token, &urls.sso, &keys()).await.is_err(),
        "another audience"
    );
    let mut other_user = fake_client();
    other_user.username = "someone".into();
    let (_, urls) = fake(Oauth2Server::new(other_user, "/token").unwrap()).await;
    match login(&urls.token, &urls.sso, &keys()).await.unwrap_err() {
        Oauth2Error::Call(e) => assert_eq!(e.status(), Some(401)),
        other => panic!("{other}"),
    }
}
