//! `POST {login_path}`: the login form's submission. Checks that the form is live and was shown to this
//! browser (CSRF), then the password (throttled like `/authorize`), and ends in a grant.

use super::authorize::{error_page, see_other, show_form};
use super::cookies;
use super::federated;
use super::grant::{self, GrantFailed, Grantee};
use super::locale::Locale;
use super::page::{ErrorKind, LoginError};
use crate::auth::oauth::browser::{self, BrowserLogin};
use crate::auth::oauth::forms::FormRefused;
use crate::auth::oauth::request::AuthRequest;
use crate::http::audit::RequestId;
use crate::http::client_addr::ClientAddr;
use crate::http::extract::Fields;
use crate::http::session::{new_session_id, password_login, LoginRefused, Opened};
use crate::http::AppState;
use crate::secret::Secret;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// Longest login name and password accepted from the form.
const MAX_FIELD: usize = 1024;

pub async fn submit(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let invalid = |detail: &str| {
        error_page(
            StatusCode::BAD_REQUEST,
            Locale::En,
            ErrorKind::FormRefused,
            detail,
        )
    };
    let Ok(fields) = Fields::parse(&body, "form field") else {
        return invalid("The form was not sent as a form.");
    };
    let (Some(form_id), Some(csrf)) = (fields.exact_opt("request"), fields.exact_opt("csrf")) else {
        return invalid("The form is incomplete. Go back to TradingView and start the login again.");
    };
    let now = state.now();
    let browser = cookies::read(&headers, cookies::BINDING);
    let form = match state.forms().open(form_id, csrf, browser, now) {
        Ok(form) => form,
        Err(FormRefused::Expired) => {
            return invalid("This login form has expired. Go back to TradingView and start the login again.")
        }
        Err(refused) => {
            tracing::warn!(target: crate::http::audit::TARGET, request_id = %request_id, ?refused,
                "login form refused: not sealed here, altered, or not shown to this browser");
            return error_page(StatusCode::FORBIDDEN, Locale::En, ErrorKind::FormRefused,
                "The form could not be verified as the one shown to this browser. Go back to TradingView and start the login again.");
        }
    };
    let locale = Locale::from_lang(form.request.lang.as_deref());
    let login = fields.str_opt("login").unwrap_or("").trim().to_owned();
    let password = fields.exact_opt("password").unwrap_or("").to_owned();
    let request = form.request.clone();
    if login.is_empty() || password.is_empty() || login.len() > MAX_FIELD || password.len() > MAX_FIELD {
        return show_form(
            &state,
            &headers,
            request,
            locale,
            Some(LoginError::WrongPassword),
            &login,
        )
        .await;
    }
    let sid = new_session_id();
    let opened = match password_login(
        &state,
        &request_id,
        address,
        login.clone(),
        Secret::new(password),
        &sid,
    )
    .await
    {
        Ok(opened) => opened,
        Err(refused) => {
            // A fresh form (a new expiry) for the next attempt.
            let error = match refused {
                LoginRefused::NeedsGrant(user) => {
                    return federated::send_to_upstream(
                        &state,
                        &headers,
                        &request_id,
                        request,
                        &user.login,
                        locale,
                    )
                    .await
                }
                LoginRefused::Credentials(_) => LoginError::WrongPassword,
                LoginRefused::Throttled(message) => LoginError::Throttled(message),
                LoginRefused::Unavailable(_) => LoginError::Unavailable,
            };
            return show_form(&state, &headers, request, locale, Some(error), &login).await;
        }
    };
    finish(&state, &headers, &request_id, request, opened, locale, &login).await
}

/// Ends a login whose user is known and whose upstream side is open: the grant to the client, the
/// browser's login cookie, and the redirect back to the client. Shared by the form and the return from a
/// federated upstream.
pub async fn finish(
    state: &AppState,
    headers: &HeaderMap,
    request_id: &str,
    request: AuthRequest,
    opened: Opened,
    locale: Locale,
    login: &str,
) -> Response {
    let invalid = |detail: &str| {
        error_page(
            StatusCode::BAD_REQUEST,
            Locale::En,
            ErrorKind::FormRefused,
            detail,
        )
    };
    let now = state.now();
    let Some(client) = state.oauth().get(&request.client_id) else {
        return invalid("The client of this login is no longer registered.");
    };
    let bridge_user = opened.resume_as.clone();
    let user = opened.outcome.user_id.clone();
    let (url, sid) = match grant::complete(state, request_id, client, &request, Grantee::Opened(opened)).await
    {
        Ok(done) => done,
        Err(GrantFailed::Refused(message)) => {
            return error_page(StatusCode::FORBIDDEN, locale, ErrorKind::LoginRefused, &message)
        }
        Err(GrantFailed::Unavailable(why)) => {
            tracing::warn!(reason = %why, "login form: the grant could not be completed");
            return show_form(
                state,
                headers,
                request,
                locale,
                Some(LoginError::Unavailable),
                login,
            )
            .await;
        }
    };
    let config = state.config();
    let ttl = config.oauth.browser_session_ttl_secs;
    let remembered = BrowserLogin {
        bridge_user,
        user,
        expires_at: now + ttl,
        sessions: vec![sid],
    };
    let cookie = match browser::create(state.store().as_ref(), &remembered, now).await {
        Ok(secret) => Some(cookies::set(
            cookies::LOGIN,
            &secret,
            ttl,
            cookies::path(&config.server.base_path),
        )),
        Err(e) => {
            // The grant stands; only prompt=none will ask for the form again.
            tracing::warn!(error = %e, "login form: the browser login could not be stored");
            None
        }
    };
    see_other(&url, cookie)
}
