//! `GET {logout_path}?client_id&redirect_uri`: ends the browser's login and every session granted through
//! it (their tokens, refresh tokens and streams, on every replica), then sends the browser to the
//! allow-listed `redirect_uri`.

use super::authorize::{error_page, see_other};
use super::cookies;
use super::grant::revoke_quietly;
use super::locale::Locale;
use super::page::ErrorKind;
use crate::auth::oauth::browser;
use crate::http::audit::{self, RequestId};
use crate::http::extract::Fields;
use crate::http::AppState;
use axum::extract::{RawQuery, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

pub async fn logout(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let fields = match Fields::parse(query.unwrap_or_default().as_bytes(), "query parameter") {
        Ok(fields) => fields,
        Err(e) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                Locale::En,
                ErrorKind::BadRequest,
                &e.to_string(),
            )
        }
    };
    let locale = Locale::from_lang(fields.exact_opt("lang"));
    let Some(client) = fields.exact_opt("client_id").and_then(|id| state.oauth().get(id)) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            locale,
            ErrorKind::UnknownClient,
            "The link names no client this bridge knows.",
        );
    };
    let redirect = fields.exact_opt("redirect_uri");
    if let Some(uri) = redirect {
        if !client.logs_out_to(uri) {
            return error_page(
                StatusCode::BAD_REQUEST,
                locale,
                ErrorKind::BadRedirectUri,
                "The redirect_uri is not registered for this client, so the bridge will not send you there.",
            );
        }
    }
    let path = cookies::path(&state.config().server.base_path).to_owned();
    if let Some(cookie) = cookies::read(&headers, cookies::LOGIN) {
        match browser::end(state.store().as_ref(), cookie).await {
            Ok(Some(login)) => {
                for sid in &login.sessions {
                    revoke_quietly(&state, sid).await;
                }
                tracing::info!(target: audit::TARGET, action = "oauth_logout", request_id = %request_id,
                    client = %audit::clean(&client.id), user = %audit::clean(&login.user),
                    sessions = login.sessions.len(), "browser login ended");
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "logout: the state store is unavailable");
                return error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    locale,
                    ErrorKind::Unavailable,
                    "The bridge cannot complete the sign-out right now.",
                );
            }
        }
    }
    let clear = cookies::clear(cookies::LOGIN, &path);
    match redirect {
        Some(uri) => see_other(uri, Some(clear)),
        None => {
            let mut page = error_page(StatusCode::OK, locale, ErrorKind::SignedOut,
                "Your bridge login and the TradingView sessions it opened have ended. You can close this page.");
            page.headers_mut().append(SET_COOKIE, clear);
            page
        }
    }
}
