//! `/authorize`, `/logout`, access tokens and the 401s TradingView relies on to ask the user to log in
//! again; `/mapping` without a token; `/userInfo`.

use crate::support;

use axum::http::{header, Method, StatusCode};
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::Value;
use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};
use support::*;
use tvbridge::auth::Claims;

/// A fixed signing key, so tests can mint their own tokens.
const SECRET: &str = "test-secret-0123456789-abcdefghijklmnop";

fn wall_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn mint(secret: &str, claims: &Claims) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn app_with_secret() -> TestApp {
    TestApp::with_config(config(&format!("[auth]\ntoken_secret = \"{SECRET}\"\n"))).await
}

/// `POST /authorize` with `form`, returning the reply (no token involved).
async fn authorize(app: &TestApp, form: &str) -> Reply {
    app.send(Method::POST, "/authorize", None, Some(form)).await
}

/// Asserts HTTP 200 with the error envelope and returns the errmsg.
#[track_caller]
fn refused_200(r: &Reply) -> String {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    support::schema::assert_schema("ErrorResponse", &r.body);
    r.body["errmsg"].as_str().unwrap().to_owned()
}

/// Endpoints that need a token: (method, path, form). A good mix of GET/POST/PUT/DELETE and areas.
const PROTECTED: &[(Method, &str, Option<&str>)] = &[
    (Method::GET, "/accounts", None),
    (Method::GET, "/config?locale=en", None),
    (Method::GET, "/userInfo", None),
    (Method::GET, "/accounts/demo-net/state", None),
    (Method::GET, "/accounts/demo-net/instruments", None),
    (Method::GET, "/accounts/demo-net/orders", None),
    (
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000"),
    ),
    (Method::PUT, "/accounts/demo-net/orders/1", Some("qty=2000")),
    (Method::DELETE, "/accounts/demo-net/orders/1", None),
    (Method::GET, "/accounts/demo-net/positions", None),
    (Method::GET, "/accounts/demo-hedge/individualPositions", None),
    (Method::GET, "/quotes?accountId=demo-net&symbols=EURUSD", None),
    (Method::GET, "/depth?accountId=demo-net&symbol=EURUSD", None),
    (
        Method::POST,
        "/accounts/demo-net/setLeverage",
        Some("instrument=EURUSD&side=buy&orderType=market&leverage=5"),
    ),
    (Method::POST, "/logout", None),
];

/// Sends every protected request with `authorization` (none when `None`) and asserts a 401 with the
/// envelope, `WWW-Authenticate: Bearer` and `errmsg`.
async fn assert_all_401(app: &TestApp, what: &str, authorization: Option<&str>, errmsg: &str) {
    for (method, path, form) in PROTECTED {
        let headers: Vec<(&str, &str)> = authorization
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        let r = app.send_with(method.clone(), path, None, *form, &headers).await;
        let at = format!("{what}: {method} {path}");
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{at}: {}", r.body);
        support::schema::assert_schema("ErrorResponse", &r.body);
        assert_eq!(r.body["errmsg"], errmsg, "{at}");
        let challenge = r
            .headers
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        assert!(
            challenge.as_deref().is_some_and(|c| c.starts_with("Bearer")),
            "{at}: WWW-Authenticate is {challenge:?}"
        );
    }
}

/// Nothing a refused request asked for happened: no order, leverage untouched, session still usable.
async fn assert_untouched(app: &TestApp) {
    let token = app.login().await;
    assert_eq!(
        app.orders(&token, NET).await,
        Vec::<Value>::new(),
        "an unauthorized request placed an order"
    );
    let lev = app
        .post(
            &token,
            "/accounts/demo-net/getLeverage",
            "instrument=EURUSD&side=buy&orderType=market",
            "GetLeverageResponse",
        )
        .await;
    assert_eq!(
        lev["leverage"], 30.0,
        "an unauthorized request changed the leverage"
    );
}

#[tokio::test]
async fn every_login_gets_a_new_token_expiring_after_the_ttl() {
    let app = TestApp::new().await;
    let mut tokens = HashSet::new();
    for i in 0..10 {
        let before = wall_now();
        let r = authorize(&app, "login=demo&password=demo&locale=en").await;
        let d = ok(&r, "AuthorizeResponse");
        let token = d["access_token"].as_str().unwrap().to_owned();
        assert!(!token.is_empty());
        let exp = d["expiration"]
            .as_u64()
            .unwrap_or_else(|| panic!("expiration is not an integer: {d}"));
        assert!(
            (before + 1200..=wall_now() + 1200).contains(&exp),
            "login {i}: expiration {exp} is not now + 1200 (now {before})"
        );
        assert!(tokens.insert(token), "login {i} returned a token given before");
    }
    // Each of them works on its own.
    for token in &tokens {
        app.get(token, "/accounts", "AccountsResponse").await;
    }
}

#[tokio::test]
async fn the_token_ttl_comes_from_the_config() {
    let app = TestApp::with_config(config("[auth]\ntoken_ttl_secs = 120\n")).await;
    let before = wall_now();
    let d = ok(
        &authorize(&app, "login=demo&password=demo").await,
        "AuthorizeResponse",
    );
    let exp = d["expiration"].as_u64().unwrap();
    assert!(
        (before + 120..=wall_now() + 120).contains(&exp),
        "expiration {exp}, now {before}"
    );
}

#[tokio::test]
async fn bad_credentials_are_refused_without_telling_which_part_is_wrong() {
    let app = TestApp::new().await;
    for form in [
        "login=demo&password=wrong",
        "login=demo&password=DEMO",
        "login=nobody&password=demo",
        "login=Demo&password=demo",
        "login=other&password=demo",
    ] {
        let msg = refused_200(&authorize(&app, form).await);
        assert_eq!(msg, "Invalid login or password", "{form}");
    }
    for (form, msg) in [
        ("password=demo", "form field 'login' is required"),
        ("login=demo", "form field 'password' is required"),
        ("login=&password=demo", "form field 'login' is required"),
        ("login=demo&password=", "form field 'password' is required"),
        (
            "login=demo&login=other&password=demo",
            "form field 'login' is given more than once",
        ),
    ] {
        assert_eq!(refused_200(&authorize(&app, form).await), msg, "{form}");
    }
    // The second user has their own password.
    let d = ok(
        &authorize(&app, "login=other&password=other-pass").await,
        "AuthorizeResponse",
    );
    assert!(d["access_token"].is_string());
}

#[tokio::test]

async fn passwords_are_compared_exactly() {
    let app = TestApp::with_config(config(
        "[[auth.users]]\nlogin = \"spacey\"\npassword = \" pass word \"\n",
    ))
    .await;
    for form in [
        "login=demo&password=demo%20",
        "login=demo&password=%20demo",
        "login=spacey&password=pass%20word",
    ] {
        assert_eq!(
            refused_200(&authorize(&app, form).await),
            "Invalid login or password",
            "{form}"
        );
    }
    let r = authorize(&app, "login=spacey&password=%20pass%20word%20").await;
    ok(&r, "AuthorizeResponse");
}

#[tokio::test]
async fn requests_without_a_usable_bearer_token_are_401() {
    let app = TestApp::new().await;
    assert_all_401(
        &app,
        "no header",
        None,
        "an access token is required (Authorization: Bearer <token>)",
    )
    .await;
    let scheme = "the Authorization header must be 'Bearer <token>'";
    assert_all_401(&app, "basic", Some("Basic ZGVtbzpkZW1v"), scheme).await;
    assert_all_401(&app, "empty bearer", Some("Bearer "), scheme).await;
    assert_all_401(&app, "bare token", Some("xyz"), scheme).await;
    let invalid = "the access token is not valid; please log in again";
    assert_all_401(&app, "garbage", Some("Bearer garbage"), invalid).await;
    assert_all_401(&app, "three dots", Some("Bearer a.b.c"), invalid).await;
    // alg=none, claims {"sub":"demo","sid":"x","exp":9999999999}
    let unsigned =
        "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJkZW1vIiwic2lkIjoieCIsImV4cCI6OTk5OTk5OTk5OX0.";
    assert_all_401(&app, "alg none", Some(unsigned), invalid).await;
    assert_untouched(&app).await;
}

#[tokio::test]
async fn forged_expired_and_orphan_tokens_are_401() {
    let app = app_with_secret().await;
    let token = app.login().await;
    let now = wall_now();
    let live = |sub: &str, sid: &str, exp: u64| Claims {
        sub: sub.into(),
        sid: sid.into(),
        jti: format!("test-{sub}-{sid}-{exp}"),
        iat: now - 10,
        exp,
        gen: 0,
    };
    // Find the session id of the real token by decoding its claims (the payload is plain base64).
    let real_sid = {
        let mut validation = jsonwebtoken::Validation::default();
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
            &validation,
        )
        .expect("the server signs with the configured token_secret");
        assert_eq!(data.claims.sub, "demo");
        data.claims.sid
    };

    // Our own minting is right: a well-formed token for the live session works.
    let twin = mint(SECRET, &live("demo", &real_sid, now + 600));
    app.get(&twin, "/accounts", "AccountsResponse").await;

    let invalid = "the access token is not valid; please log in again";
    let foreign = mint(
        "another-secret-0123456789-abcdefghijklmn",
        &live("demo", &real_sid, now + 600),
    );
    assert_all_401(&app, "other key", Some(&format!("Bearer {foreign}")), invalid).await;

    let expired = mint(SECRET, &live("demo", &real_sid, now - 5));
    assert_all_401(
        &app,
        "expired",
        Some(&format!("Bearer {expired}")),
        "the access token has expired; please log in again",
    )
    .await;

    let orphan = mint(SECRET, &live("demo", "no-such-session", now + 600));
    assert_all_401(
        &app,
        "unknown session",
        Some(&format!("Bearer {orphan}")),
        "the session has ended; please log in again",
    )
    .await;

    // A session of demo cannot be used as another user.
    let stolen = mint(SECRET, &live("other", &real_sid, now + 600));
    assert_all_401(&app, "other sub", Some(&format!("Bearer {stolen}")), invalid).await;

    // The real token still works after all that.
    app.get(&token, "/accounts", "AccountsResponse").await;
    assert_untouched(&app).await;
}

#[tokio::test]

async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::new().await;
    let token = app.login().await;
    for scheme in ["Bearer", "bearer", "BEARER", "BeArEr"] {
        let auth = format!("{scheme} {token}");
        let r = app
            .send_with(Method::GET, "/accounts", None, None, &[("authorization", &auth)])
            .await;
        ok(&r, "AccountsResponse");
    }
}

#[tokio::test]
async fn logout_kills_its_token_only() {
    let app = TestApp::new().await;
    let first = app.login().await;
    let second = app.login().await;
    app.get(&first, "/accounts", "AccountsResponse").await;

    let r = app.send(Method::POST, "/logout", Some(&first), None).await;
    ok(&r, "OkEmpty");

    assert_all_401(
        &app,
        "after logout",
        Some(&format!("Bearer {first}")),
        "the session has ended; please log in again",
    )
    .await;

    // The other session is untouched.
    app.get(&second, "/accounts", "AccountsResponse").await;
    let id = app
        .place(&second, NET, "instrument=EURUSD&side=buy&type=market&qty=1000")
        .await;
    assert_eq!(app.order(&second, NET, &id).await["status"], "filled");

    // And the user can log in again.
    let third = app.login().await;
    assert_ne!(third, first);
    assert_eq!(
        app.orders(&third, NET).await.len(),
        1,
        "the account survives the logout"
    );
}

#[tokio::test]
async fn mapping_needs_no_token() {
    let app = TestApp::new().await;
    for auth in [None, Some("Bearer garbage")] {
        let headers: Vec<(&str, &str)> = auth.map(|a| vec![("authorization", a)]).unwrap_or_default();
        let r = app.send_with(Method::GET, "/mapping", None, None, &headers).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        support::schema::assert_schema("MappingResponse", &r.body);
        assert_eq!(r.body["fields"], serde_json::json!(["brokerSymbol"]));
        let symbols = r.body["symbols"].as_array().expect("symbols");
        for name in instrument_names() {
            let entry = symbols
                .iter()
                .find(|m| m["f"] == serde_json::json!([name]))
                .unwrap_or_else(|| panic!("{name} is missing from /mapping: {}", r.body));
            let s = entry["s"].as_str().unwrap();
            assert!(
                s.contains(':') && !s.starts_with(':') && !s.ends_with(':'),
                "{name} maps to {s:?}"
            );
        }
        assert_eq!(symbols.len(), instrument_names().len());
    }
}

#[tokio::test]
async fn user_info_names_the_logged_in_user() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let d = app.get(&token, "/userInfo", "UserInfoResponse").await;
    assert_eq!(d["id"], "demo");
    assert_eq!(d["name"], "Demo Trader");
    assert_eq!(d["email"], "demo@example.com");

    // A user without name or e-mail: the login is the name and no e-mail is invented.
    let other = app.login_as("other", "other-pass").await;
    let d = app.get(&other, "/userInfo", "UserInfoResponse").await;
    assert_eq!(d["id"], "other");
    assert_eq!(d["name"], "other");
    assert!(d.get("email").is_none_or(|e| e.is_null()), "{d}");
}

#[tokio::test]
async fn a_session_sees_only_its_users_accounts() {
    let app = TestApp::new().await;
    let demo = app.login().await;
    let other = app.login_as("other", "other-pass").await;
    let ids = |v: Value| -> Vec<String> {
        let mut ids: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(app.get(&demo, "/accounts", "AccountsResponse").await),
        ["demo-hedge", "demo-net"]
    );
    assert_eq!(
        ids(app.get(&other, "/accounts", "AccountsResponse").await),
        ["other-hedge", "other-net"]
    );
    let msg = app
        .refused(Method::GET, &other, "/accounts/demo-net/orders", None)
        .await;
    assert_eq!(
        msg,
        "Unknown account 'demo-net': it is not one of this login's accounts"
    );
}
