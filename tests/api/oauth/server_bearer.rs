//! ServerOAuth2Bearer: TradingView's servers trade an RS256 JWT, signed with the key of the registered
//! certificate, for a token that opens the data feed only.

use super::browserless::*;
use axum::http::{Method, StatusCode};
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

const KEY: &str = include_str!("../../fixtures/oauth/tradingview.key.pem");
const OTHER_KEY: &str = include_str!("../../fixtures/oauth/other.key.pem");
const CERT: &str = include_str!("../../fixtures/oauth/tradingview.cert.pem");

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The certificate's `x5t` (base64url SHA-1 of its DER).
fn thumbprint() -> String {
    tvbridge::auth::oauth::assertion::AssertionVerifier::from_certificate_pem(CERT, FEED_CLIENT, TOKEN_URL, 0)
        .unwrap()
        .thumbprint()
        .to_owned()
}

fn claims(now: u64) -> Value {
    json!({
        "iss": FEED_CLIENT,
        "sub": "demo",
        "aud": TOKEN_URL,
        "exp": now + 300,
        "spurl": "https://bridge.example.com",
    })
}

fn sign(claims: &Value, key: &str, x5t: Option<String>) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.x5t = x5t;
    encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(key.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn ask(app: &crate::support::TestApp, assertion: &str, secret: &str) -> Raw {
    token(
        app,
        &[
            ("grant_type", FEED_URN),
            ("assertion", assertion),
            ("client_id", FEED_CLIENT),
            ("client_secret", secret),
        ],
        &[],
    )
    .await
}

#[tokio::test]
async fn a_signed_assertion_gets_a_token_that_opens_the_data_feed_only() {
    let (app, clock) = app().await;
    let jwt = sign(&claims(clock.now()), KEY, Some(thumbprint()));
    let answer = ask(&app, &jwt, FEED_SECRET).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() >= 60);
    let access = body["access_token"].as_str().unwrap();
    let groups = app.get(access, "/groups", "GroupsResponse").await;
    assert!(!groups["groups"].as_array().unwrap().is_empty());
    app.get(access, "/permissions", "PermissionsResponse").await;
    let info = app.send(Method::GET, "/symbol_info", Some(access), None).await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.body["s"], "ok");
    // Trading endpoints are closed to it.
    for path in ["/accounts", "/accounts/demo-net/orders", "/userInfo"] {
        let refused = app.send(Method::GET, path, Some(access), None).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(refused.body["errmsg"]
            .as_str()
            .unwrap()
            .contains("data feed only"));
    }
    // It expires like any token.
    clock.advance(body["expires_in"].as_u64().unwrap() + 1);
    assert_eq!(
        app.send(Method::GET, "/groups", Some(access), None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn forged_expired_and_misaddressed_assertions_are_refused() {
    let (app, clock) = app().await;
    let now = clock.now();
    let x5t = Some(thumbprint());
    let with = |key: &str, value: Value| {
        let mut c = claims(now);
        c[key] = value;
        c
    };
    let tampered = {
        let good = sign(&claims(now), KEY, x5t.clone());
        let parts: Vec<&str> = good.split('.').collect();
        let payload = b64(serde_json::to_string(&with("sub", json!("other")))
            .unwrap()
            .as_bytes());
        format!("{}.{}.{}", parts[0], payload, parts[2])
    };
    let alg_none = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "x5t": thumbprint()}).to_string().as_bytes()),
        b64(claims(now).to_string().as_bytes())
    );
    // Key confusion: HS256 keyed with the certificate (public) as if it were a shared secret.
    let confused = {
        let mut header = Header::new(Algorithm::HS256);
        header.x5t = x5t.clone();
        encode(&header, &claims(now), &EncodingKey::from_secret(CERT.as_bytes())).unwrap()
    };
    let cases: Vec<(&str, String)> = vec![
        ("wrong x5t", sign(&claims(now), KEY, Some(b64(&[7u8; 20])))),
        ("no x5t", sign(&claims(now), KEY, None)),
        ("another key", sign(&claims(now), OTHER_KEY, x5t.clone())),
        (
            "wrong aud",
            sign(
                &with("aud", json!("https://evil.example/token")),
                KEY,
                x5t.clone(),
            ),
        ),
        (
            "wrong iss",
            sign(&with("iss", json!(OTHER_CLIENT)), KEY, x5t.clone()),
        ),
        ("expired", sign(&with("exp", json!(now - 3600)), KEY, x5t.clone())),
        (
            "unknown user",
            sign(&with("sub", json!("mallory")), KEY, x5t.clone()),
        ),
        (
            "user the client may not act for",
            sign(&with("sub", json!("other")), KEY, x5t.clone()),
        ),
        ("tampered claims", tampered),
        ("alg none", alg_none),
        ("HS256 key confusion", confused),
        ("garbage", "not.a.jwt".into()),
    ];
    for (what, jwt) in cases {
        let refused = ask(&app, &jwt, FEED_SECRET).await;
        assert_eq!(
            oauth_error(&refused, StatusCode::BAD_REQUEST),
            "invalid_grant",
            "{what}: {}",
            refused.text
        );
    }
    // The right assertion with the wrong client secret: the client fails to authenticate.
    let good = sign(&claims(now), KEY, x5t);
    assert_eq!(
        oauth_error(
            &ask(&app, &good, "wrong-secret-wrong").await,
            StatusCode::UNAUTHORIZED
        ),
        "invalid_client"
    );
    // A code-flow client cannot use the grant type.
    let other = token(
        &app,
        &[
            ("grant_type", FEED_URN),
            ("assertion", &good),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ],
        &[],
    )
    .await;
    assert_eq!(
        oauth_error(&other, StatusCode::BAD_REQUEST),
        "unauthorized_client"
    );
}

#[tokio::test]
async fn the_data_feed_shows_only_the_groups_the_named_user_may_read() {
    let extra = r#"
[[auth.users]]
login = "feed"
password = "feed-password"
datafeed_groups = ["tvbridge_forex"]
"#;
    let (app, clock) = app_with(extra).await;
    // TradingView's servers acting for "demo" (no list) see every group.
    let all = {
        let jwt = sign(&claims(clock.now()), KEY, Some(thumbprint()));
        ask(&app, &jwt, FEED_SECRET).await.json()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let everything = app.get(&all, "/groups", "GroupsResponse").await;
    assert!(everything["groups"].as_array().unwrap().len() > 1, "{everything}");
    // A user with a list sees that list, in /groups, /permissions and /symbol_info.
    let token = app.login_as("feed", "feed-password").await;
    let groups = app.get(&token, "/groups", "GroupsResponse").await;
    assert_eq!(groups["groups"], json!([{ "id": "tvbridge_forex" }]));
    let permissions = app.get(&token, "/permissions", "PermissionsResponse").await;
    assert_eq!(permissions["groups"], json!(["tvbridge_forex"]));
    let info = app.send(Method::GET, "/symbol_info", Some(&token), None).await;
    let symbols = info.body["symbol"].as_array().unwrap();
    assert!(!symbols.is_empty());
    let forex = app
        .send(
            Method::GET,
            "/symbol_info?group=tvbridge_forex",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(forex.body["symbol"].as_array().unwrap().len(), symbols.len());
    let other = everything["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .find(|id| *id != "tvbridge_forex")
        .unwrap();
    let refused = app
        .send(
            Method::GET,
            &format!("/symbol_info?group={other}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(refused.body["s"], "error");
    assert!(refused.body["errmsg"].as_str().unwrap().contains("permissions"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_carries_only_the_symbols_of_the_users_groups() {
    let config = crate::support::config(
        "[[auth.users]]\nlogin = \"feed\"\npassword = \"feed-password\"\ndatafeed_groups = [\"tvbridge_forex\"]\n",
    );
    let app = crate::support::live::LiveApp::start(config, false).await;
    let body = app
        .form(
            "POST",
            "/authorize",
            None,
            "login=feed&password=feed-password&locale=en",
        )
        .await;
    let token = body["d"]["access_token"].as_str().unwrap().to_owned();
    let (_, info) = app.get("/symbol_info", Some(&token)).await;
    // Stream lines name a symbol by its ticker.
    let allowed: Vec<String> = ["symbol", "ticker"]
        .iter()
        .flat_map(|column| info[*column].as_array().unwrap().clone())
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    let mut lines = app.open("/streaming", &token).await;
    let mut seen = std::collections::BTreeSet::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(4);
    while tokio::time::Instant::now() < deadline {
        let Some(line) = lines.next(std::time::Duration::from_secs(2)).await else {
            break;
        };
        if let Some(id) = line.get("id").and_then(|v| v.as_str()) {
            seen.insert(id.to_owned());
        }
    }
    assert!(!seen.is_empty(), "the paper feed ticks every second");
    for id in &seen {
        assert!(
            allowed.contains(id),
            "{id} is not in the user's groups ({allowed:?})"
        );
    }
}
