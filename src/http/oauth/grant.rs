//! The end of a successful authorization: a bridge session for the user, and the redirect that carries
//! its code (Code flow) or its access token (Implicit flow) back to the client.

use crate::auth::oauth::codes::{self, Code, Deferred};
use crate::auth::oauth::request::{redirect_with, AuthRequest, ResponseType};
use crate::auth::oauth::Client;
use crate::auth::{Grant, Session};
use crate::broker::BrokerError;
use crate::http::session::{open_session, Opened};
use crate::http::AppState;
use crate::store::StoreError;

/// How long a session opened for a code lives beyond the code itself, unless it is exchanged: the
/// exchange lengthens it to the refresh token's lifetime.
const UNEXCHANGED_SLACK_SECS: u64 = 60;

/// Why an authorization could not end in a grant.
#[derive(Debug)]
pub enum GrantFailed {
    /// The user has no account, or the upstream refused: the message says which.
    Refused(String),
    /// The state store or the upstream is down.
    Unavailable(String),
}

impl From<StoreError> for GrantFailed {
    fn from(e: StoreError) -> Self {
        GrantFailed::Unavailable(e.to_string())
    }
}

/// Who a grant is for.
pub enum Grantee {
    /// A login just opened upstream (the form's credentials, or the browser's bridge user for a token).
    Opened(Opened),
    /// The browser's logged-in bridge user, for a code: the session is opened at the exchange.
    Deferred(Deferred, String),
}

/// Ends an authorization in a grant to `client`: the code (Code flow) or access token (Implicit flow)
/// in the redirect URL; returns it with the id of the session granted (or to be opened at the exchange).
pub async fn complete(
    state: &AppState,
    request_id: &str,
    client: &Client,
    request: &AuthRequest,
    grantee: Grantee,
) -> Result<(String, String), GrantFailed> {
    let now = state.now();
    let code_ttl = state.config().oauth.code_ttl_secs;
    let (sid, user, deferred) = match grantee {
        Grantee::Opened(opened) => {
            let expires_at = match request.response_type {
                ResponseType::Code => now + code_ttl + UNEXCHANGED_SLACK_SECS,
                ResponseType::Token => now + client.access_token_ttl_secs,
            };
            let grant = Grant {
                client_id: Some(client.id.clone()),
                ..Grant::default()
            };
            let session: Session = open_session(state, request_id, opened, expires_at, grant)
                .await
                .map_err(|e| match e {
                    crate::error::ApiError::BadRequest(m) => GrantFailed::Refused(m),
                    // What the backend tells the user (IBKR's nightly refresh, a grant revoked at the
                    // upstream) reaches the page.
                    crate::error::ApiError::Broker(
                        BrokerError::Rejected(m) | BrokerError::NotFound(m) | BrokerError::LogInAgain(m),
                    ) => GrantFailed::Refused(m),
                    other => GrantFailed::Unavailable(other.to_string()),
                })?;
            (session.ctx.session_id, session.ctx.user, None)
        }
        Grantee::Deferred(deferred, user) => (crate::http::session::new_session_id(), user, Some(deferred)),
    };
    let mut params: Vec<(&str, String)> = Vec::new();
    match request.response_type {
        ResponseType::Code => {
            let code = Code {
                client_id: client.id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                session_id: sid.clone(),
                deferred,
                user: user.clone(),
                code_challenge: request.code_challenge.clone(),
                scope: request.scope.clone(),
                expires_at: now + code_ttl,
                used: false,
                replayed: false,
            };
            let secret = match codes::issue(state.store().as_ref(), &code, code_ttl).await {
                Ok(secret) => secret,
                Err(e) => {
                    revoke_quietly(state, &sid).await;
                    return Err(e.into());
                }
            };
            params.push(("code", secret));
        }
        ResponseType::Token => {
            let expires_at = now + client.access_token_ttl_secs;
            let token = state.tokens().issue_until(&user, &sid, 0, expires_at);
            params.push(("access_token", token));
            params.push(("token_type", "bearer".into()));
            params.push(("expires_in", client.access_token_ttl_secs.to_string()));
            if let Some(scope) = &request.scope {
                params.push(("scope", scope.clone()));
            }
        }
    }
    if let Some(s) = &request.state {
        params.push(("state", s.clone()));
    }
    tracing::info!(target: crate::http::audit::TARGET, action = "oauth_grant", request_id = %request_id,
        client = %crate::http::audit::clean(&client.id), user = %crate::http::audit::clean(&user),
        response_type = ?request.response_type, "authorization granted");
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Ok((
        redirect_with(&request.redirect_uri, request.response_type, &pairs),
        sid,
    ))
}

/// Ends session `sid` here and everywhere (a grant that went wrong, a replayed code, a reused refresh
/// token, a logout).
pub async fn revoke_quietly(state: &AppState, sid: &str) {
    if let Some(session) = state.sessions().revoke(sid).await {
        crate::http::session::end_session(state, &session).await;
    }
}
