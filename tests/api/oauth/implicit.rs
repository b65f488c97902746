//! The Implicit flow: the token in the redirect's fragment, renewed with `prompt=none`.

use super::browserless::*;
use axum::http::StatusCode;

#[tokio::test]
async fn the_implicit_flow_returns_the_token_in_the_fragment_and_prompt_none_renews_it() {
    let (app, clock) = app().await;
    let mut jar = Jar::default();
    let query = authorize_query(CLIENT, REDIRECT, "token", &[("prompt", "login")]);
    let redirect = log_in(&app, &mut jar, &query).await;
    assert!(redirect.starts_with(&format!("{REDIRECT}#")), "{redirect}");
    let got = params(&redirect, '#');
    assert_eq!(got["token_type"], "bearer");
    assert_eq!(got["expires_in"], ACCESS_TTL.to_string());
    assert_eq!(got["state"], "st-123 &=?");
    assert!(
        !got.contains_key("refresh_token"),
        "the implicit flow has no refresh token"
    );
    assert_eq!(accounts_status(&app, &got["access_token"]).await, StatusCode::OK);
    // Near expiry TradingView asks again with prompt=none: a new token, no form.
    clock.advance(ACCESS_TTL - 60);
    let none = authorize_query(CLIENT, REDIRECT, "token", &[("prompt", "none")]);
    let renewed = params(&authorize(&app, &mut jar, &none).await.location(), '#');
    assert_ne!(renewed["access_token"], got["access_token"]);
    clock.advance(120);
    assert_eq!(
        accounts_status(&app, &got["access_token"]).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        accounts_status(&app, &renewed["access_token"]).await,
        StatusCode::OK
    );
    // A browser without the login gets login_required in the fragment.
    let refused = params(&authorize(&app, &mut Jar::default(), &none).await.location(), '#');
    assert_eq!(refused["error"], "login_required");
}

#[tokio::test]
async fn a_client_without_the_implicit_flow_is_refused_in_the_redirect() {
    let (app, _clock) = app().await;
    let query = authorize_query(OTHER_CLIENT, OTHER_REDIRECT, "token", &[]);
    let refused = authorize(&app, &mut Jar::default(), &query).await.location();
    assert!(refused.starts_with(&format!("{OTHER_REDIRECT}#")));
    assert_eq!(params(&refused, '#')["error"], "unauthorized_client");
}
