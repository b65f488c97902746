//! The Code flow: login form to code to tokens, refresh rotation with its grace window and reuse
//! detection, hours of trading on refreshed tokens, `prompt=none`, and logout.

use super::browserless::*;
use axum::http::{Method, StatusCode};

#[tokio::test]
async fn the_code_flow_logs_in_through_the_form_and_its_token_trades() {
    let (app, _clock) = app().await;
    let mut jar = Jar::default();
    let query = authorize_query(CLIENT, REDIRECT, "code", &[]);
    let page = authorize(&app, &mut jar, &query).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(
        page.text.contains("TradingView (staging)"),
        "the client's name is shown"
    );
    let redirect = submit(&app, &mut jar, &page, "demo", "demo").await.location();
    assert!(redirect.starts_with(&format!("{REDIRECT}?")), "{redirect}");
    let got = params(&redirect, '?');
    assert_eq!(got["state"], "st-123 &=?", "state comes back unchanged");
    let answer = exchange(&app, &got["code"], None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.headers["cache-control"], "no-store");
    let body = answer.json();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], ACCESS_TTL);
    assert_eq!(body["refresh_token_expires_in"], REFRESH_TTL);
    let access = body["access_token"].as_str().unwrap();
    assert!(
        body["refresh_token"].as_str().unwrap().len() >= 43,
        "refresh tokens carry 256 random bits"
    );
    let accounts = app.get(access, "/accounts", "AccountsResponse").await;
    assert!(accounts.as_array().unwrap().iter().any(|a| a["id"] == "demo-net"));
    let placed = app
        .post(
            access,
            "/accounts/demo-net/orders",
            "instrument=EURUSD&side=buy&type=market&qty=1000",
            "PostOrderResponse",
        )
        .await;
    assert!(placed["orderId"].is_string(), "{placed}");
}

#[tokio::test]
async fn a_code_flow_user_keeps_trading_for_hours_on_refreshed_tokens() {
    let (app, clock) = app().await;
    let mut jar = Jar::default();
    let mut tokens = code_flow(&app, &mut jar).await;
    // Eight hours in steps of 15 minutes (access tokens live 20): refresh each time, trade on the new one.
    for step in 0..32 {
        clock.advance(15 * 60);
        let previous = tokens["access_token"].as_str().unwrap().to_owned();
        let answer = refresh(&app, tokens["refresh_token"].as_str().unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "step {step}: {}", answer.text);
        tokens = answer.json();
        let access = tokens["access_token"].as_str().unwrap();
        assert_ne!(access, previous);
        app.get(access, "/accounts/demo-net/state", "AccountStateResponse")
            .await;
    }
    // Without a refresh the access token dies at its expiry: TradingView is told with a 401.
    clock.advance(ACCESS_TTL + 1);
    assert_eq!(
        accounts_status(&app, tokens["access_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED
    );
    // The refresh token still works (it lives a day) and the user is back without a login.
    let answer = refresh(&app, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        accounts_status(&app, answer.json()["access_token"].as_str().unwrap()).await,
        StatusCode::OK
    );
    // A refresh token past its own lifetime is refused.
    clock.advance(REFRESH_TTL + 1);
    let late = refresh(&app, answer.json()["refresh_token"].as_str().unwrap()).await;
    assert_eq!(oauth_error(&late, StatusCode::BAD_REQUEST), "invalid_grant");
}

#[tokio::test]
async fn the_replaced_access_token_works_through_the_grace_window_and_not_after() {
    let (app, clock) = app().await;
    let mut jar = Jar::default();
    let first = code_flow(&app, &mut jar).await;
    let old_access = first["access_token"].as_str().unwrap();
    let second = refresh(&app, first["refresh_token"].as_str().unwrap())
        .await
        .json();
    let new_access = second["access_token"].as_str().unwrap();
    // TradingView switches asynchronously: both work for the grace period.
    assert_eq!(accounts_status(&app, old_access).await, StatusCode::OK);
    assert_eq!(accounts_status(&app, new_access).await, StatusCode::OK);
    clock.advance(GRACE - 5);
    assert_eq!(accounts_status(&app, old_access).await, StatusCode::OK);
    clock.advance(10);
    let refused = app.send(Method::GET, "/accounts", Some(old_access), None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused.body["errmsg"].as_str().unwrap().contains("refreshed"),
        "{}",
        refused.body
    );
    assert_eq!(accounts_status(&app, new_access).await, StatusCode::OK);
    // Two refreshes on: the token of two generations ago is refused at once.
    let third = refresh(&app, second["refresh_token"].as_str().unwrap())
        .await
        .json();
    let _fourth = refresh(&app, third["refresh_token"].as_str().unwrap())
        .await
        .json();
    assert_eq!(accounts_status(&app, new_access).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_the_whole_family() {
    let (app, _clock) = app().await;
    let mut jar = Jar::default();
    let first = code_flow(&app, &mut jar).await;
    let stolen = first["refresh_token"].as_str().unwrap().to_owned();
    let second = refresh(&app, &stolen).await.json();
    let current_access = second["access_token"].as_str().unwrap();
    assert_eq!(accounts_status(&app, current_access).await, StatusCode::OK);
    // The spent token comes back (a thief, or a replay): refused, and everything of the login ends.
    let replay = refresh(&app, &stolen).await;
    assert_eq!(oauth_error(&replay, StatusCode::BAD_REQUEST), "invalid_grant");
    assert!(replay.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("already used"));
    assert_eq!(
        accounts_status(&app, current_access).await,
        StatusCode::UNAUTHORIZED
    );
    let legit = refresh(&app, second["refresh_token"].as_str().unwrap()).await;
    assert_eq!(oauth_error(&legit, StatusCode::BAD_REQUEST), "invalid_grant");
    // Another login of the same user is untouched.
    let other = code_flow(&app, &mut Jar::default()).await;
    assert_eq!(
        accounts_status(&app, other["access_token"].as_str().unwrap()).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn prompt_none_answers_from_the_browser_login_or_with_login_required() {
    let (app, _clock) = app().await;
    let none = authorize_query(CLIENT, REDIRECT, "code", &[("prompt", "none")]);
    // No browser login: the error comes back to the client, in the query, with the state.
    let mut stranger = Jar::default();
    let refused = authorize(&app, &mut stranger, &none).await.location();
    let got = params(&refused, '?');
    assert_eq!(got["error"], "login_required");
    assert_eq!(got["state"], "st-123 &=?");
    // After a login the browser holds a cookie that answers prompt=none with a code at once.
    let mut jar = Jar::default();
    code_flow(&app, &mut jar).await;
    let answered = authorize(&app, &mut jar, &none).await.location();
    let code = params(&answered, '?')["code"].clone();
    let tokens = exchange(&app, &code, None).await.json();
    assert_eq!(
        accounts_status(&app, tokens["access_token"].as_str().unwrap()).await,
        StatusCode::OK
    );
    // Without a prompt the live browser login skips the form too; prompt=login always shows it.
    let plain = authorize(&app, &mut jar, &authorize_query(CLIENT, REDIRECT, "code", &[])).await;
    assert!(params(&plain.location(), '?').contains_key("code"));
    let forced = authorize(
        &app,
        &mut jar,
        &authorize_query(CLIENT, REDIRECT, "code", &[("prompt", "login")]),
    )
    .await;
    assert_eq!(forced.status, StatusCode::OK);
    assert!(forced.text.contains("name=\"password\""));
}

#[tokio::test]
async fn logout_ends_the_browser_login_its_tokens_and_refresh_family_then_redirects() {
    let (app, _clock) = app().await;
    let mut jar = Jar::default();
    let tokens = code_flow(&app, &mut jar).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(accounts_status(&app, access).await, StatusCode::OK);
    let query =
        serde_urlencoded::to_string([("client_id", CLIENT), ("redirect_uri", LOGOUT_REDIRECT)]).unwrap();
    let out = send(
        &app,
        Method::GET,
        &format!("/oauth/logout?{query}"),
        &jar.0,
        None,
        &[],
    )
    .await;
    assert_eq!(out.location(), LOGOUT_REDIRECT);
    jar.keep(&out);
    assert!(
        jar.0.iter().all(|(k, _)| k != "tvbridge_login"),
        "the login cookie is cleared"
    );
    assert_eq!(accounts_status(&app, access).await, StatusCode::UNAUTHORIZED);
    let refreshed = refresh(&app, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(oauth_error(&refreshed, StatusCode::BAD_REQUEST), "invalid_grant");
    let none = authorize_query(CLIENT, REDIRECT, "code", &[("prompt", "none")]);
    assert_eq!(
        params(&authorize(&app, &mut jar, &none).await.location(), '?')["error"],
        "login_required"
    );
    // An unlisted redirect is never followed, even on logout.
    let evil =
        serde_urlencoded::to_string([("client_id", CLIENT), ("redirect_uri", "https://evil.example/")])
            .unwrap();
    let page = send(
        &app,
        Method::GET,
        &format!("/oauth/logout?{evil}"),
        &[],
        None,
        &[],
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.headers.get("location").is_none());
}

#[tokio::test]
async fn codes_answered_from_the_browser_login_open_sessions_only_when_exchanged() {
    let (app, _clock) = app().await;
    let mut jar = Jar::default();
    let tokens = code_flow(&app, &mut jar).await;
    let access = tokens["access_token"].as_str().unwrap();
    // A page sends the logged-in browser to the authorize URL again and again (more times than the
    // per-user session cap of 20): no session is opened, so the user's real one is not pushed out.
    let none = authorize_query(CLIENT, REDIRECT, "code", &[("prompt", "none")]);
    let mut code = String::new();
    for _ in 0..25 {
        code = params(&authorize(&app, &mut jar, &none).await.location(), '?')["code"].clone();
    }
    assert_eq!(accounts_status(&app, access).await, StatusCode::OK);
    // The exchange opens it; the browser's logout ends it with the first one.
    let second = exchange(&app, &code, None).await.json();
    let second_access = second["access_token"].as_str().unwrap();
    assert_eq!(accounts_status(&app, second_access).await, StatusCode::OK);
    let again = exchange(&app, &code, None).await;
    assert_eq!(oauth_error(&again, StatusCode::BAD_REQUEST), "invalid_grant");
    assert_eq!(
        accounts_status(&app, second_access).await,
        StatusCode::UNAUTHORIZED,
        "a replay revokes it"
    );
    let code = params(&authorize(&app, &mut jar, &none).await.location(), '?')["code"].clone();
    let third = exchange(&app, &code, None).await.json();
    let query =
        serde_urlencoded::to_string([("client_id", CLIENT), ("redirect_uri", LOGOUT_REDIRECT)]).unwrap();
    send(
        &app,
        Method::GET,
        &format!("/oauth/logout?{query}"),
        &jar.0,
        None,
        &[],
    )
    .await;
    assert_eq!(accounts_status(&app, access).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        accounts_status(&app, third["access_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED
    );
}
