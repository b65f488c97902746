//! Every refusal: unknown client and unlisted redirect URI (a page, never a redirect), client
//! authentication, code reuse and expiry, redirect URI and client binding, PKCE, the login form's CSRF and
//! wrong passwords.

use super::browserless::*;
use axum::http::{Method, StatusCode};
use base64::Engine;

#[tokio::test]
async fn an_unknown_client_or_unlisted_redirect_uri_gets_a_page_and_no_redirect() {
    let (app, _clock) = app().await;
    for query in [
        authorize_query(CLIENT, "https://evil.example/cb", "code", &[]),
        authorize_query(CLIENT, &format!("{REDIRECT}/"), "code", &[]),
        authorize_query(CLIENT, &format!("{REDIRECT}?x=1"), "code", &[]),
        authorize_query(CLIENT, OTHER_REDIRECT, "code", &[]),
        authorize_query("nobody", REDIRECT, "code", &[]),
        "response_type=code&client_id=tv-staging".to_string(),
        "client_id=tv-staging&client_id=tv-staging&redirect_uri=x".to_string(),
    ] {
        let page = authorize(&app, &mut Jar::default(), &query).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            page.headers.get("location").is_none(),
            "{query}: never redirected"
        );
        assert!(page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(
            !page.text.contains("evil.example"),
            "the page does not link to the unlisted URI"
        );
    }
}

#[tokio::test]
async fn bad_authorization_requests_come_back_with_the_rfc_error() {
    let (app, _clock) = app().await;
    for (extra, response_type, error) in [
        (vec![], "id_token", "unsupported_response_type"),
        (
            vec![("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")],
            "code",
            "invalid_request",
        ),
        (
            vec![("code_challenge", "short"), ("code_challenge_method", "S256")],
            "code",
            "invalid_request",
        ),
        (vec![("prompt", "none login")], "code", "invalid_request"),
    ] {
        let query = authorize_query(CLIENT, REDIRECT, response_type, &extra);
        let back = params(
            &authorize(&app, &mut Jar::default(), &query).await.location(),
            '?',
        );
        assert_eq!(back["error"], error, "{extra:?}");
        assert_eq!(back["state"], "st-123 &=?");
    }
}

#[tokio::test]
async fn client_authentication_is_checked_at_the_token_endpoint() {
    let (app, _clock) = app().await;
    let mut jar = Jar::default();
    let redirect = log_in(&app, &mut jar, &authorize_query(CLIENT, REDIRECT, "code", &[])).await;
    let code = params(&redirect, '?')["code"].clone();
    let with = |id: &'static str, secret: &'static str| {
        vec![
            ("grant_type", "authorization_code"),
            ("client_id", id),
            ("client_secret", secret),
            ("redirect_uri", REDIRECT),
        ]
    };
    for (id, secret) in [
        (CLIENT, "wrong-secret-wrong-secret"),
        (CLIENT, OTHER_SECRET),
        ("nobody", SECRET),
    ] {
        let mut form = with(id, secret);
        form.push(("code", &code));
        let refused = token(&app, &form, &[]).await;
        assert_eq!(
            oauth_error(&refused, StatusCode::UNAUTHORIZED),
            "invalid_client",
            "{id}"
        );
    }
    // A wrong secret over HTTP Basic is told which scheme to use.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT}:nope"));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let refused = token(&app, &form, &[("authorization", &format!("Basic {basic}"))]).await;
    assert_eq!(oauth_error(&refused, StatusCode::UNAUTHORIZED), "invalid_client");
    assert!(refused.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    // Both ways at once is ambiguous.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT}:{SECRET}"));
    let both = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_secret", SECRET),
    ];
    let refused = token(&app, &both, &[("authorization", &format!("Basic {basic}"))]).await;
    assert_eq!(oauth_error(&refused, StatusCode::BAD_REQUEST), "invalid_request");
    // The right secret over Basic works: the failed attempts above did not spend the code.
    let ok = token(&app, &form, &[("authorization", &format!("Basic {basic}"))]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    // Unknown grant types and missing fields.
    let unknown = token(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ],
        &[],
    )
    .await;
    assert_eq!(
        oauth_error(&unknown, StatusCode::BAD_REQUEST),
        "unsupported_grant_type"
    );
    let missing = token(&app, &[("client_id", CLIENT)], &[]).await;
    assert_eq!(oauth_error(&missing, StatusCode::BAD_REQUEST), "invalid_request");
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_what_it_granted() {
    let (app, _clock) = app().await;
    let mut jar = Jar::default();
    let redirect = log_in(&app, &mut jar, &authorize_query(CLIENT, REDIRECT, "code", &[])).await;
    let code = params(&redirect, '?')["code"].clone();
    let first = exchange(&app, &code, None).await.json();
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(accounts_status(&app, access).await, StatusCode::OK);
    let again = exchange(&app, &code, None).await;
    assert_eq!(oauth_error(&again, StatusCode::BAD_REQUEST), "invalid_grant");
    assert_eq!(accounts_status(&app, access).await, StatusCode::UNAUTHORIZED);
    let refreshed = refresh(&app, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(oauth_error(&refreshed, StatusCode::BAD_REQUEST), "invalid_grant");
    let garbage = exchange(&app, "not-a-code", None).await;
    assert_eq!(oauth_error(&garbage, StatusCode::BAD_REQUEST), "invalid_grant");
}

#[tokio::test]
async fn an_expired_code_or_one_bound_elsewhere_is_refused() {
    let (app, clock) = app().await;
    let mut jar = Jar::default();
    let query = authorize_query(CLIENT, REDIRECT, "code", &[]);
    let code = params(&log_in(&app, &mut jar, &query).await, '?')["code"].clone();
    clock.advance(31);
    let late = exchange(&app, &code, None).await;
    assert_eq!(oauth_error(&late, StatusCode::BAD_REQUEST), "invalid_grant");
    assert!(late.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
    // Another redirect URI than the request's.
    let code = params(&authorize(&app, &mut jar, &query).await.location(), '?')["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
        ("code", code.as_str()),
        ("redirect_uri", OTHER_REDIRECT),
    ];
    assert_eq!(
        oauth_error(&token(&app, &form, &[]).await, StatusCode::BAD_REQUEST),
        "invalid_grant"
    );
    // Another client than the one it was issued to (with that client's own valid secret).
    let code = params(&authorize(&app, &mut jar, &query).await.location(), '?')["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", OTHER_CLIENT),
        ("client_secret", OTHER_SECRET),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    assert_eq!(
        oauth_error(&token(&app, &form, &[]).await, StatusCode::BAD_REQUEST),
        "invalid_grant"
    );
}

#[tokio::test]
async fn pkce_binds_the_code_to_the_verifier() {
    let (app, _clock) = app().await;
    // RFC 7636 Appendix B.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = [
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ("code_challenge_method", "S256"),
    ];
    let query = authorize_query(CLIENT, REDIRECT, "code", &challenge);
    let mut jar = Jar::default();
    let mut code = params(&log_in(&app, &mut jar, &query).await, '?')["code"].clone();
    for wrong in [
        None,
        Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX"),
        Some("short"),
    ] {
        let refused = exchange(&app, &code, wrong).await;
        assert_eq!(
            oauth_error(&refused, StatusCode::BAD_REQUEST),
            "invalid_grant",
            "{wrong:?}"
        );
        code = params(&authorize(&app, &mut jar, &query).await.location(), '?')["code"].clone();
    }
    let ok = exchange(&app, &code, Some(verifier)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    // A verifier for a code that had no challenge is refused too (RFC 9700 §2.1.1).
    let plain = authorize_query(CLIENT, REDIRECT, "code", &[]);
    let code = params(&authorize(&app, &mut jar, &plain).await.location(), '?')["code"].clone();
    assert_eq!(
        oauth_error(
            &exchange(&app, &code, Some(verifier)).await,
            StatusCode::BAD_REQUEST
        ),
        "invalid_grant"
    );
}

#[tokio::test]
async fn the_login_form_refuses_wrong_passwords_forged_submissions_and_reuse() {
    let (app, _clock) = app().await;
    let query = authorize_query(CLIENT, REDIRECT, "code", &[]);
    let mut jar = Jar::default();
    let page = authorize(&app, &mut jar, &query).await;
    // A wrong password shows the form again, with the error and the login kept.
    let again = submit(&app, &mut jar, &page, "demo", "wrong").await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.text.contains("role=\"alert\""), "{}", again.text);
    assert!(again.text.contains("value=\"demo\""));
    let ok = submit(&app, &mut jar, &again, "demo", "demo").await;
    assert!(params(&ok.location(), '?').contains_key("code"));
    // Submitted from another browser (no binding cookie, or another one): refused.
    let mut victim = Jar::default();
    let page = authorize(
        &app,
        &mut victim,
        &authorize_query(CLIENT, REDIRECT, "code", &[("prompt", "login")]),
    )
    .await;
    let mut attacker = Jar::default();
    let forged = submit(&app, &mut attacker, &page, "demo", "demo").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let mut other_browser = Jar(vec![("tvbridge_browser".into(), "A".repeat(43))]);
    assert_eq!(
        submit(&app, &mut other_browser, &page, "demo", "demo")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // A wrong CSRF token from the right browser: refused.
    let form = serde_urlencoded::to_string([
        ("request", hidden(&page.text, "request").as_str()),
        ("csrf", "B".repeat(43).as_str()),
        ("login", "demo"),
        ("password", "demo"),
    ])
    .unwrap();
    let wrong = send(&app, Method::POST, "/oauth/login", &victim.0, Some(&form), &[]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // An altered form (another redirect URI spliced in): refused.
    let sealed = hidden(&page.text, "request");
    let (payload, mac) = sealed.split_once('.').unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut inner: serde_json::Value = serde_json::from_slice(&b64.decode(payload).unwrap()).unwrap();
    inner["request"]["redirect_uri"] = serde_json::json!("https://evil.example/cb");
    let altered = format!("{}.{mac}", b64.encode(inner.to_string()));
    let form = serde_urlencoded::to_string([
        ("request", altered.as_str()),
        ("csrf", hidden(&page.text, "csrf").as_str()),
        ("login", "demo"),
        ("password", "demo"),
    ])
    .unwrap();
    let altered = send(&app, Method::POST, "/oauth/login", &victim.0, Some(&form), &[]).await;
    assert_eq!(altered.status, StatusCode::FORBIDDEN);
    assert!(altered.headers.get("location").is_none());
}

#[tokio::test]
async fn a_login_form_expires() {
    let (app, clock) = app().await;
    let query = authorize_query(CLIENT, REDIRECT, "code", &[]);
    let mut jar = Jar::default();
    let page = authorize(&app, &mut jar, &query).await;
    clock.advance(15 * 60 + 1);
    let late = submit(&app, &mut jar, &page, "demo", "demo").await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert!(late.text.contains("expired"), "{}", late.text);
}

#[tokio::test]
async fn repeated_wrong_passwords_on_the_form_are_throttled() {
    let (app, _clock) = app().await;
    let query = authorize_query(CLIENT, REDIRECT, "code", &[]);
    let mut jar = Jar::default();
    let mut page = authorize(&app, &mut jar, &query).await;
    let mut throttled = false;
    for _ in 0..12 {
        page = submit(&app, &mut jar, &page, "demo", "wrong").await;
        assert_eq!(page.status, StatusCode::OK);
        if page.text.to_lowercase().contains("too many") || page.text.contains("try again in") {
            throttled = true;
            break;
        }
    }
    assert!(
        throttled,
        "the login throttle of /authorize applies to the form too:\n{}",
        page.text
    );
}
