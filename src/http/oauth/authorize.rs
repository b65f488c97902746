//! `GET {authorize_path}`: checks the authorization request, then answers at once from the browser's
//! login (`prompt=none`, or no prompt with a live login) or shows the login form.

use super::cookies;
use super::grant::{self, GrantFailed, Grantee};
use super::locale::Locale;
use super::page::{self, ErrorKind, ErrorPage, LoginError, LoginPage};
use crate::auth::oauth::browser::{self, BrowserLogin};
use crate::auth::oauth::codes::Deferred;
use crate::auth::oauth::request::{self, redirect_with, AuthRequest, Prompt, Refusal, ResponseType};
use crate::auth::oauth::secrets;
use crate::http::audit::RequestId;
use crate::http::extract::Fields;
use crate::http::session::{new_session_id, open_bridge_user};
use crate::http::AppState;
use axum::extract::{RawQuery, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub async fn authorize(
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
    let request = match request::parse(|name| fields.exact_opt(name), state.oauth()) {
        Ok(request) => request,
        Err(Refusal::Page(kind, why)) => return error_page(StatusCode::BAD_REQUEST, locale, kind, &why),
        Err(Refusal::Redirect {
            redirect_uri,
            response_type,
            state: echo,
            error,
            description,
        }) => return error_redirect(&redirect_uri, response_type, echo.as_deref(), error, &description),
    };
    let now = state.now();
    let login_cookie = cookies::read(&headers, cookies::LOGIN).map(str::to_owned);
    let login = match &login_cookie {
        Some(cookie) => match browser::find(state.store().as_ref(), cookie, now).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "authorize: the state store is unavailable");
                return unavailable(&request);
            }
        },
        None => None,
    };
    let answer_now = match request.prompt {
        Prompt::None => true,
        Prompt::Default => login.as_ref().is_some_and(|l| l.bridge_user.is_some()),
        Prompt::Login => false,
    };
    if answer_now {
        return match (login, login_cookie) {
            (Some(login), Some(cookie)) => {
                from_browser_login(&state, &request_id, &request, &cookie, login).await
            }
            _ => login_required(&request),
        };
    }
    show_form(&state, &headers, request, locale, None, "").await
}

/// Grants `request` from the browser's live login, without a form.
async fn from_browser_login(
    state: &AppState,
    request_id: &str,
    request: &AuthRequest,
    cookie: &str,
    login: BrowserLogin,
) -> Response {
    // A login with the upstream's own credentials cannot open a new session: they were never kept.
    let Some(bridge_user) = &login.bridge_user else {
        return login_required(request);
    };
    let Some(client) = state.oauth().get(&request.client_id) else {
        return login_required(request);
    };
    // The user may have been removed from the configuration since the browser logged in.
    if !state.config().auth.users.iter().any(|u| u.login == *bridge_user) {
        return login_required(request);
    }
    let grantee = match request.response_type {
        // A code's session is opened when the code is exchanged (with the client's secret).
        ResponseType::Code => {
            let deferred = Deferred {
                bridge_user: bridge_user.clone(),
                browser_key: browser::key_of(cookie),
            };
            Grantee::Deferred(deferred, login.user.clone())
        }
        ResponseType::Token => {
            let sid = new_session_id();
            match open_bridge_user(state, bridge_user, &sid).await {
                Ok(Some(opened)) => Grantee::Opened(opened),
                Ok(None) => return login_required(request),
                Err(e) => {
                    tracing::warn!(error = %e, "authorize: the upstream login failed");
                    return unavailable(request);
                }
            }
        }
    };
    let opens_now = matches!(grantee, Grantee::Opened(_));
    match grant::complete(state, request_id, client, request, grantee).await {
        Ok((url, sid)) => {
            let listed = if opens_now {
                browser::add_session(state.store().as_ref(), cookie, &sid, state.now()).await
            } else {
                Ok(())
            };
            if let Err(e) = listed {
                tracing::warn!(error = %e, "authorize: the browser login could not list the new session");
            }
            see_other(&url, None)
        }
        Err(GrantFailed::Refused(m)) => error_redirect(
            &request.redirect_uri,
            request.response_type,
            request.state.as_deref(),
            "access_denied",
            &m,
        ),
        Err(GrantFailed::Unavailable(why)) => {
            tracing::warn!(reason = %why, "authorize: the grant could not be completed");
            unavailable(request)
        }
    }
}

/// Shows the login form for `request` (again, with `error`, after a failed attempt).
pub async fn show_form(
    state: &AppState,
    headers: &HeaderMap,
    request: AuthRequest,
    locale: Locale,
    error: Option<LoginError>,
    typed_login: &str,
) -> Response {
    let Some(client_name) = state.oauth().get(&request.client_id).map(|c| c.name.clone()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            locale,
            ErrorKind::UnknownClient,
            "Unknown client.",
        );
    };
    let config = state.config();
    let (binding, new_binding) =
        match cookies::read(headers, cookies::BINDING).filter(|b| secrets::well_formed(b)) {
            Some(binding) => (binding.to_owned(), false),
            None => (secrets::new_secret(), true),
        };
    let expires_at = state.now() + config.oauth.login_form_ttl_secs;
    // The targets are computed before the request moves into the sealed form.
    let federation = state.broker().federation();
    let mut targets: Vec<String> = origin(&request.redirect_uri)
        .map(str::to_owned)
        .into_iter()
        .collect();
    // A first federated login's answer redirects to the upstream's page instead.
    if let Some(page) = federation.as_ref().and_then(|f| f.authorization_page()) {
        targets.extend(origin(page).map(str::to_owned));
    }
    let (id, csrf) = state.forms().seal(request, &binding, expires_at);
    let action = format!("{}{}", config.server.base_path, config.oauth.login_path);
    let body = page::login_page(&LoginPage {
        locale,
        client_name: &client_name,
        action: &action,
        request_id: &id,
        csrf: &csrf,
        login: typed_login,
        error,
        federated: None,
        upstream: federation.as_ref().map(|f| f.upstream_name()),
    });
    // The form's answer redirects to the client: CSP form-action must allow its origin.
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    let mut response = page::login_response(StatusCode::OK, body, &targets);
    if new_binding {
        let path = cookies::path(&config.server.base_path);
        response
            .headers_mut()
            .append(SET_COOKIE, cookies::set(cookies::BINDING, &binding, 0, path));
    }
    response
}

/// A `303 See Other` to `url`, with a cookie to set.
pub fn see_other(url: &str, cookie: Option<HeaderValue>) -> Response {
    let Ok(location) = HeaderValue::from_str(url) else {
        return error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            Locale::En,
            ErrorKind::Server,
            "The redirect address is not valid.",
        );
    };
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response();
    response
        .headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    if let Some(cookie) = cookie {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// The error redirect of RFC 6749 §4.1.2.1 / §4.2.2.1.
pub fn error_redirect(
    redirect_uri: &str,
    response_type: ResponseType,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        params.push(("state", s));
    }
    see_other(&redirect_with(redirect_uri, response_type, &params), None)
}

/// `prompt=none` without a usable browser login (OpenID Connect Core §3.1.2.6).
fn login_required(request: &AuthRequest) -> Response {
    error_redirect(
        &request.redirect_uri,
        request.response_type,
        request.state.as_deref(),
        "login_required",
        "the user is not logged in to the bridge",
    )
}

/// The store or the upstream is down: `temporarily_unavailable`, so the client may try again.
pub fn unavailable(request: &AuthRequest) -> Response {
    error_redirect(
        &request.redirect_uri,
        request.response_type,
        request.state.as_deref(),
        "temporarily_unavailable",
        "the bridge cannot complete the login right now; please try again in a moment",
    )
}

/// The page for a request the bridge must not redirect back; `status` overrides the kind's own.
pub fn error_page(status: StatusCode, locale: Locale, kind: ErrorKind, detail: &str) -> Response {
    page::html_response(status, page::error_page(&ErrorPage { locale, kind, detail }))
}

/// `scheme://host[:port]` of an absolute URL (what CSP `form-action` lists).
fn origin(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")? + 3;
    let end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    Some(&url[..end])
}
