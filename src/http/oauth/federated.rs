//! Federated login's two legs in the browser: after a right password, a user without a grant at the
//! upstream is parked ([`crate::auth::oauth::federated`]) and sent to the upstream's authorization page;
//! the upstream sends the browser back to `GET {federated_callback_path}`, which completes the grant and
//! then the TradingView authorization the login started with.

use super::authorize::{error_page, see_other};
use super::cookies;
use super::locale::Locale;
use super::login::finish;
use super::page::ErrorKind;
use crate::auth::oauth::federated::{self, PendingGrant};
use crate::auth::oauth::request::AuthRequest;
use crate::broker::BrokerError;
use crate::http::audit::{self, RequestId};
use crate::http::session::{new_session_id, open_bridge_user};
use crate::http::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// The query parameter of the callback URL naming the parked login.
const FLOW: &str = "flow";
/// Longest callback query accepted (the upstream adds a token and a verifier).
const MAX_QUERY: usize = 4096;

/// Parks the login of `bridge_user` (password already checked) and sends the browser to the upstream.
pub async fn send_to_upstream(
    state: &AppState,
    headers: &HeaderMap,
    request_id: &str,
    request: AuthRequest,
    bridge_user: &str,
    locale: Locale,
) -> Response {
    let unavailable = |detail: &str| {
        error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            locale,
            ErrorKind::Unavailable,
            detail,
        )
    };
    let Some(federation) = state.broker().federation() else {
        return unavailable("This bridge has no upstream login.");
    };
    // The form was opened with this cookie (checked by the sealer), so it is there.
    let Some(binding) = cookies::read(headers, cookies::BINDING) else {
        return error_page(StatusCode::FORBIDDEN, locale, ErrorKind::FormRefused,
            "Your browser did not keep this page's cookie. Allow cookies for this site and start the login again.");
    };
    let config = state.config();
    let public_url = config.oauth.public_url.trim_end_matches('/');
    if public_url.is_empty() {
        tracing::error!("federated login needs oauth.public_url (the upstream sends the browser back to it)");
        return unavailable(
            "This bridge is not set up for logins at the broker yet (its public address is missing).",
        );
    }
    let ttl = config.oauth.login_form_ttl_secs;
    // The flow id is part of the callback URL the upstream is told, so it must exist before `begin`; the
    // record is written after, under that id.
    let flow = crate::auth::oauth::secrets::new_secret();
    let callback = format!(
        "{public_url}{}?{FLOW}={flow}",
        config.oauth.federated_callback_path
    );
    let start = match federation.begin(bridge_user, &callback).await {
        Ok(start) => start,
        Err(e) => {
            tracing::warn!(target: audit::TARGET, request_id = %request_id, user = %audit::clean(bridge_user),
                error = %e, "federated login: the upstream did not start a grant");
            return unavailable(&format!(
                "{} cannot be reached right now. Please try again in a few minutes.",
                federation.upstream_name()
            ));
        }
    };
    let pending = PendingGrant {
        bridge_user: bridge_user.to_owned(),
        request,
        browser: federated::browser_digest(binding),
        start: start.clone(),
        expires_at: state.now() + ttl,
    };
    if let Err(e) = federated::park_as(state.store().as_ref(), &flow, &pending, ttl).await {
        tracing::warn!(error = %e, "federated login: the pending login could not be stored");
        return unavailable("Login is unavailable right now. Please try again in a few minutes.");
    }
    tracing::info!(target: audit::TARGET, request_id = %request_id, user = %audit::clean(bridge_user),
        upstream = federation.upstream_name(), "federated login: sent to the upstream to grant access");
    see_other(&start.redirect_to, None)
}

/// `GET {federated_callback_path}?flow=..&<the upstream's parameters>`.
pub async fn callback(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let refused = |kind: ErrorKind, detail: &str| error_page(kind.status(), Locale::En, kind, detail);
    let query = query.unwrap_or_default();
    if query.len() > MAX_QUERY {
        return refused(ErrorKind::BadRequest, "The address is too long.");
    }
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(&query) else {
        return refused(ErrorKind::BadRequest, "The address is not valid.");
    };
    let Some(flow) = pairs.iter().find(|(k, _)| k == FLOW).map(|(_, v)| v.clone()) else {
        return refused(ErrorKind::BadRequest, "This address does not belong to a login.");
    };
    let Some(federation) = state.broker().federation() else {
        return refused(ErrorKind::BadRequest, "This bridge has no upstream login.");
    };
    let pending = match federated::take(state.store().as_ref(), &flow).await {
        Ok(Some(pending)) => pending,
        Ok(None) => {
            return refused(ErrorKind::FormRefused,
                "This login was already completed or has expired. Go back to TradingView and start the login again.")
        }
        Err(e) => {
            tracing::warn!(error = %e, "federated login: the pending login could not be read");
            return refused(ErrorKind::Unavailable, "Login is unavailable right now. Please try again in a few minutes.");
        }
    };
    let locale = Locale::from_lang(pending.request.lang.as_deref());
    let page = |kind: ErrorKind, detail: &str| error_page(kind.status(), locale, kind, detail);
    if pending.expires_at < state.now() {
        return page(
            ErrorKind::FormRefused,
            "This login has expired. Go back to TradingView and start the login again.",
        );
    }
    // Only the browser that typed the password may finish: a link someone else opens (login CSRF: a
    // victim's browser logged in as the attacker) is refused.
    let same_browser = cookies::read(&headers, cookies::BINDING)
        .is_some_and(|b| federated::browser_digest(b) == pending.browser);
    if !same_browser {
        tracing::warn!(target: audit::TARGET, request_id = %request_id, user = %audit::clean(&pending.bridge_user),
            "federated login: the return came to another browser than the one that logged in; refused");
        return page(
            ErrorKind::FormRefused,
            "This login was started in another browser. Go back to TradingView and start the login again.",
        );
    }
    let upstream: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != FLOW).collect();
    let user = pending.bridge_user.clone();
    match federation.complete(&user, &pending.start, &upstream).await {
        Ok(()) => {
            tracing::info!(target: audit::TARGET, request_id = %request_id, user = %audit::clean(&user),
                upstream = federation.upstream_name(), "federated login: access granted at the upstream");
        }
        Err(BrokerError::Rejected(message)) => {
            tracing::info!(target: audit::TARGET, request_id = %request_id, user = %audit::clean(&user),
                reason = %message, "federated login: access not granted");
            return page(ErrorKind::NotGranted, &message);
        }
        Err(e) => {
            tracing::warn!(target: audit::TARGET, request_id = %request_id, user = %audit::clean(&user),
                error = %e, "federated login: the grant could not be completed");
            return page(
                ErrorKind::Unavailable,
                &format!(
                    "{} could not confirm the access right now. Go back to TradingView and try again.",
                    federation.upstream_name()
                ),
            );
        }
    }
    let sid = new_session_id();
    let opened = match open_bridge_user(&state, &user, &sid).await {
        Ok(Some(opened)) => opened,
        Ok(None) => {
            return page(
                ErrorKind::FormRefused,
                "This login is no longer configured on the bridge.",
            )
        }
        Err(e) => {
            tracing::warn!(error = ?e, "federated login: the session could not be opened");
            return page(ErrorKind::Unavailable, &e.status_and_message().1);
        }
    };
    finish(
        &state,
        &headers,
        &request_id,
        pending.request,
        opened,
        locale,
        &user,
    )
    .await
}
