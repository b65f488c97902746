//! `POST {token_path}`: the token endpoint (RFC 6749 §3.2). Exchanges a code (Code flow, PKCE checked),
//! rotates a refresh token (reuse revokes the family), and trades a ServerOAuth2Bearer assertion for a
//! data-feed token. Errors follow RFC 6749 §5.2: JSON `error` and `error_description`, 400 (401 for a
//! client that fails to authenticate), never cached.

use super::grant::revoke_quietly;
use crate::auth::oauth::browser;
use crate::auth::oauth::codes::{self, Code, Deferred, Redeemed};
use crate::auth::oauth::config::Flow;
use crate::auth::oauth::refresh::{self, RefreshToken};
use crate::auth::oauth::{pkce, Client};
use crate::auth::{Grant, Rotation};
use crate::http::audit::{self, RequestId};
use crate::http::extract::Fields;
use crate::http::session::{open_bridge_user, open_session};
use crate::http::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;

/// The user id prefix of data-feed sessions: they are counted apart from the user's trading sessions.
pub const DATAFEED_USER_PREFIX: &str = "datafeed:";

/// An RFC 6749 §5.2 error.
pub(super) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// The client authenticated with HTTP Basic: a 401 names the scheme.
    basic: bool,
}

pub(super) fn fail(error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        status: StatusCode::BAD_REQUEST,
        error,
        description: description.into(),
        basic: false,
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, no_store(), Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED && self.basic {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tvbridge\""),
            );
        }
        response
    }
}

fn no_store() -> [(axum::http::HeaderName, HeaderValue); 2] {
    [
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

pub async fn token(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match answer(&state, &request_id, &headers, &body).await {
        Ok(body) => (StatusCode::OK, no_store(), Json(body)).into_response(),
        Err(e) => {
            tracing::info!(target: audit::TARGET, action = "oauth_token", request_id = %request_id,
                error = e.error, reason = %audit::clean(&e.description), "token request refused");
            e.into_response()
        }
    }
}

/// The client's credentials: HTTP Basic (RFC 6749 §2.3.1, each part form-encoded) or form fields, never
/// both.
pub(super) struct ClientAuth {
    pub(super) id: Option<String>,
    secret: Option<String>,
    basic: bool,
}

fn client_auth(headers: &HeaderMap, fields: &Fields) -> Result<ClientAuth, OAuthError> {
    let form_id = fields.exact_opt("client_id").map(str::to_owned);
    let form_secret = fields.exact_opt("client_secret").map(str::to_owned);
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Ok(ClientAuth {
            id: form_id,
            secret: form_secret,
            basic: false,
        });
    };
    let bad = || OAuthError {
        status: StatusCode::UNAUTHORIZED,
        error: "invalid_client",
        description: "the Authorization header is not valid HTTP Basic client authentication".into(),
        basic: true,
    };
    let encoded = header
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, v)| v.trim())
        .ok_or_else(bad)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| form_urlencoded_one(s).ok_or_else(bad);
    let (id, secret) = (unescape(id)?, unescape(secret)?);
    if form_secret.is_some() {
        return Err(fail(
            "invalid_request",
            "the client authenticated twice (HTTP Basic and client_secret); use one",
        ));
    }
    if form_id.as_ref().is_some_and(|f| *f != id) {
        return Err(fail(
            "invalid_request",
            "client_id differs from the HTTP Basic client",
        ));
    }
    Ok(ClientAuth {
        id: Some(id),
        secret: Some(secret),
        basic: true,
    })
}

fn form_urlencoded_one(text: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={text}")).ok()?;
    pairs.into_iter().next().map(|(_, v)| v)
}

/// The client the request names (`client_id`, in the form or HTTP Basic), authenticated.
pub(super) fn named_client<'a>(state: &'a AppState, auth: &ClientAuth) -> Result<&'a Client, OAuthError> {
    let id = auth
        .id
        .as_deref()
        .ok_or_else(|| fail("invalid_request", "client_id is required"))?;
    authenticate(state, auth, id)
}

/// `client_id`'s client, when `secret` is its secret.
pub(super) fn authenticate<'a>(
    state: &'a AppState,
    auth: &ClientAuth,
    id: &str,
) -> Result<&'a Client, OAuthError> {
    let refused = |description: &str| OAuthError {
        status: StatusCode::UNAUTHORIZED,
        error: "invalid_client",
        description: description.into(),
        basic: auth.basic,
    };
    let client = state.oauth().get(id);
    let secret = auth.secret.as_deref().unwrap_or("");
    match client {
        Some(client) if !secret.is_empty() && client.authenticates(secret) => Ok(client),
        _ if secret.is_empty() => Err(refused("client authentication is required (client_secret)")),
        _ => Err(refused("client authentication failed")),
    }
}

async fn answer(
    state: &AppState,
    request_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<serde_json::Value, OAuthError> {
    let fields = Fields::parse(body, "form field").map_err(|e| fail("invalid_request", e.to_string()))?;
    let auth = client_auth(headers, &fields)?;
    let grant_type = fields
        .exact_opt("grant_type")
        .ok_or_else(|| fail("invalid_request", "grant_type is required"))?;
    match grant_type {
        "authorization_code" => exchange_code(state, request_id, &auth, &fields).await,
        "refresh_token" => refresh(state, request_id, &auth, &fields).await,
        urn if state.oauth().by_assertion_grant(urn) => {
            super::assertion_grant::assertion(state, request_id, &auth, &fields, urn).await
        }
        other => Err(fail(
            "unsupported_grant_type",
            format!(
                "grant_type {:?} is not supported",
                other.chars().take(80).collect::<String>()
            ),
        )),
    }
}

async fn exchange_code(
    state: &AppState,
    request_id: &str,
    auth: &ClientAuth,
    fields: &Fields,
) -> Result<serde_json::Value, OAuthError> {
    let client = named_client(state, auth)?;
    if !client.flows.contains(&Flow::Code) {
        return Err(fail(
            "unauthorized_client",
            "this client may not use the authorization code flow",
        ));
    }
    let secret = fields
        .exact_opt("code")
        .ok_or_else(|| fail("invalid_request", "code is required"))?;
    let redirect_uri = fields
        .exact_opt("redirect_uri")
        .ok_or_else(|| fail("invalid_request", "redirect_uri is required"))?;
    let code = match codes::redeem(state.store().as_ref(), secret)
        .await
        .map_err(unavailable)?
    {
        Redeemed::Unknown => return Err(fail("invalid_grant", "the code is not valid")),
        Redeemed::Replayed(code) => {
            // A code used twice was stolen or replayed: what it granted ends now (RFC 6749 §4.1.2).
            tracing::warn!(target: audit::TARGET, action = "oauth_code_replayed", request_id = %request_id,
                client = %audit::clean(&client.id), "an authorization code was used twice: its session is revoked");
            revoke_quietly(state, &code.session_id).await;
            return Err(fail(
                "invalid_grant",
                "the code was already used; the tokens it granted are revoked",
            ));
        }
        Redeemed::Fresh(code) => code,
    };
    let now = state.now();
    let problem = if code.client_id != client.id {
        Some("the code was issued to another client")
    } else if code.redirect_uri != redirect_uri {
        Some("redirect_uri differs from the one of the authorization request")
    } else if code.expires_at <= now {
        Some("the code has expired")
    } else {
        match (&code.code_challenge, fields.exact_opt("code_verifier")) {
            (Some(challenge), Some(verifier)) if pkce::verify(challenge, verifier) => None,
            (Some(_), Some(_)) => Some("code_verifier does not match the code_challenge"),
            (Some(_), None) => {
                Some("code_verifier is required: the authorization request had a code_challenge")
            }
            (None, Some(_)) => {
                Some("code_verifier was sent but the authorization request had no code_challenge")
            }
            (None, None) => None,
        }
    };
    if let Some(problem) = problem {
        // The code is spent either way; the session opened for it is of no use to anyone now.
        revoke_quietly(state, &code.session_id).await;
        return Err(fail("invalid_grant", problem));
    }
    let refresh_expires = now + client.refresh_token_ttl_secs;
    if let Some(deferred) = &code.deferred {
        open_deferred(state, request_id, client, &code, deferred, refresh_expires).await?;
        // A replay that came while the session was being opened found nothing to revoke yet.
        if codes::was_replayed(state.store().as_ref(), secret)
            .await
            .map_err(unavailable)?
        {
            revoke_quietly(state, &code.session_id).await;
            return Err(fail(
                "invalid_grant",
                "the code was already used; the tokens it granted are revoked",
            ));
        }
    } else if !state
        .sessions()
        .extend(&code.session_id, refresh_expires, now)
        .await
        .map_err(unavailable)?
    {
        return Err(fail("invalid_grant", "the login this code belonged to has ended"));
    }
    let record = RefreshToken {
        client_id: client.id.clone(),
        session_id: code.session_id.clone(),
        user: code.user.clone(),
        generation: 0,
        scope: code.scope.clone(),
        expires_at: refresh_expires,
    };
    tokens(state, request_id, client, &record, now, "authorization_code").await
}

/// Opens the session of a code answered from the browser's login, now that the client has exchanged it.
async fn open_deferred(
    state: &AppState,
    request_id: &str,
    client: &Client,
    code: &Code,
    deferred: &Deferred,
    expires_at: u64,
) -> Result<(), OAuthError> {
    let ended = || fail("invalid_grant", "the user of this code can no longer log in");
    let opened = match open_bridge_user(state, &deferred.bridge_user, &code.session_id).await {
        Ok(Some(opened)) if opened.outcome.user_id == code.user => opened,
        Ok(Some(opened)) => {
            // The backend maps the login to another user now: nothing of the old grant carries over.
            let ctx = crate::broker::SessionCtx {
                session_id: code.session_id.clone(),
                user: opened.outcome.user_id,
            };
            let _ = state.broker().logout(&ctx).await;
            return Err(ended());
        }
        Ok(None) => return Err(ended()),
        Err(e) => return Err(upstream_unavailable(e)),
    };
    let grant = Grant {
        client_id: Some(client.id.clone()),
        ..Grant::default()
    };
    open_session(state, request_id, opened, expires_at, grant)
        .await
        .map_err(|e| match e {
            crate::error::ApiError::BadRequest(m) => fail("invalid_grant", m),
            other => upstream_unavailable(other),
        })?;
    let now = state.now();
    if let Err(e) = browser::add_session_at(
        state.store().as_ref(),
        &deferred.browser_key,
        &code.session_id,
        now,
    )
    .await
    {
        tracing::warn!(error = %e, "the browser login could not list the new session; its logout will not end it");
    }
    Ok(())
}

fn upstream_unavailable(e: impl std::fmt::Display) -> OAuthError {
    tracing::warn!(error = %e, "token endpoint: the session could not be opened");
    OAuthError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        error: "temporarily_unavailable",
        description: "the bridge cannot open the session right now; try again in a moment".into(),
        basic: false,
    }
}

async fn refresh(
    state: &AppState,
    request_id: &str,
    auth: &ClientAuth,
    fields: &Fields,
) -> Result<serde_json::Value, OAuthError> {
    let secret = fields
        .exact_opt("refresh_token")
        .ok_or_else(|| fail("invalid_request", "refresh_token is required"))?;
    let now = state.now();
    let found = refresh::find(state.store().as_ref(), secret, now)
        .await
        .map_err(unavailable)?;
    // TradingView sends only the secret: the token names its client, which must then authenticate.
    let client_id = match (&auth.id, &found) {
        (Some(id), _) => id.clone(),
        (None, Some(token)) => token.client_id.clone(),
        (None, None) => {
            return Err(fail(
                "invalid_grant",
                "the refresh token is not valid or has expired",
            ))
        }
    };
    let client = authenticate(state, auth, &client_id)?;
    let token = match found {
        Some(token) if token.client_id == client.id => token,
        _ => {
            return Err(fail(
                "invalid_grant",
                "the refresh token is not valid or has expired",
            ))
        }
    };
    if !client.flows.contains(&Flow::Code) {
        return Err(fail(
            "unauthorized_client",
            "this client may not use refresh tokens",
        ));
    }
    let expires_at = now + client.refresh_token_ttl_secs;
    let grace_until = now + state.config().oauth.refresh_grace_secs;
    let rotation = state
        .sessions()
        .rotate(&token.session_id, token.generation, expires_at, grace_until, now)
        .await
        .map_err(unavailable)?;
    match rotation {
        Rotation::Rotated(grant) => {
            let next = RefreshToken {
                generation: grant.generation,
                expires_at,
                ..token
            };
            tokens(state, request_id, client, &next, now, "refresh_token").await
        }
        Rotation::Reused => {
            tracing::warn!(target: audit::TARGET, action = "oauth_refresh_reused", request_id = %request_id,
                client = %audit::clean(&client.id), user = %audit::clean(&token.user),
                "a spent refresh token was presented again: the whole login is revoked");
            revoke_quietly(state, &token.session_id).await;
            Err(fail(
                "invalid_grant",
                "the refresh token was already used; every token of this login is revoked, please log in again",
            ))
        }
        Rotation::Gone => Err(fail(
            "invalid_grant",
            "the login this refresh token belonged to has ended",
        )),
    }
}

/// Issues the access token and the refresh token `record` stands for.
async fn tokens(
    state: &AppState,
    request_id: &str,
    client: &Client,
    record: &RefreshToken,
    now: u64,
    grant_type: &str,
) -> Result<serde_json::Value, OAuthError> {
    let refresh_token = refresh::issue(state.store().as_ref(), record, now)
        .await
        .map_err(unavailable)?;
    let access_expires = (now + client.access_token_ttl_secs).min(record.expires_at);
    let access_token = state.tokens().issue_until(
        &record.user,
        &record.session_id,
        record.generation,
        access_expires,
    );
    tracing::info!(target: audit::TARGET, action = "oauth_token", request_id = %request_id,
        client = %audit::clean(&client.id), user = %audit::clean(&record.user), grant_type,
        generation = record.generation, "tokens issued");
    let mut body = json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": access_expires.saturating_sub(now),
        "refresh_token": refresh_token,
        "refresh_token_expires_in": record.expires_at.saturating_sub(now),
    });
    if let Some(scope) = &record.scope {
        body["scope"] = json!(scope);
    }
    Ok(body)
}

pub(super) fn unavailable(e: crate::store::StoreError) -> OAuthError {
    tracing::warn!(error = %e, "token endpoint: the state store is unavailable");
    OAuthError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        error: "temporarily_unavailable",
        description: "the bridge cannot reach its state store right now; try again in a moment".into(),
        basic: false,
    }
}
