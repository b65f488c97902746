//! `/authorize` and `/logout`: password login that opens a bridge session and issues an access token,
//! throttled per login and client address, audited, and capped per user.

use crate::auth::{now_secs, Session};
use crate::broker::{BrokerError, Credentials, SessionCtx};
use crate::error::{ApiError, ApiResult, TvDone, TvOk};
use crate::http::audit::{self, RequestId};
use crate::http::client_addr::ClientAddr;
use crate::http::extract::{Authed, TvForm};
use crate::http::AppState;
use crate::secret::Secret;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use serde::Serialize;
use std::time::Instant;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/authorize", post(authorize))
        .route("/logout", post(logout))
}

#[derive(Serialize)]
struct AccessToken {
    access_token: String,
    expiration: u64,
}

/// Longest accepted login name: longer is no login (an e-mail address is at most 254 characters).
const MAX_LOGIN_LEN: usize = 256;

async fn authorize(
    State(state): State<AppState>,
    RequestId(request_id): RequestId,
    ClientAddr(address): ClientAddr,
    TvForm(f): TvForm,
) -> ApiResult<TvOk<AccessToken>> {
    let login = f.str_req("login")?.to_owned();
    if login.chars().count() > MAX_LOGIN_LEN {
        return Err(ApiError::bad(format!(
            "form field 'login' is too long: at most {MAX_LOGIN_LEN} characters"
        )));
    }
    let password = Secret::new(f.str_exact_req("password")?);
    // Checked before the backend is asked: a throttled guess costs the upstream nothing.
    let attempt = state
        .login_throttle()
        .begin(&login, address, Instant::now())
        .map_err(|throttled| {
            let message = throttled.message();
            audit::login_failed(&request_id, &login, address, &format!("throttled: {message}"));
            ApiError::bad(message)
        })?;
    let session_id = uuid::Uuid::new_v4().simple().to_string();
    let credentials = Credentials {
        login: login.clone(),
        password,
    };
    // Bridge passwords are checked here, once, for every backend that takes bridge users.
    let outcome = match crate::auth::users::resolve(
        state.broker().login_kind(),
        &state.config().auth.users,
        credentials,
    ) {
        Ok(resolved) => state.broker().login(&session_id, &resolved).await,
        Err(refused) => Err(refused),
    };
    let outcome = match outcome {
        Ok(outcome) => {
            attempt.succeeded(Instant::now());
            outcome
        }
        Err(e) => {
            // Only a refusal of the credentials counts against the login; an upstream that is down or
            // busy says nothing about the password.
            let counts = matches!(
                e,
                BrokerError::Rejected(_) | BrokerError::Unauthorized(_) | BrokerError::LogInAgain(_)
            );
            if counts {
                attempt.failed(Instant::now());
            }
            audit::login_failed(&request_id, &login, address, &e.to_string());
            return Err(e.into());
        }
    };
    let ctx = SessionCtx {
        session_id: session_id.clone(),
        user: outcome.user_id.clone(),
    };
    let accounts = state.broker().accounts(&ctx).await?;
    if accounts.is_empty() {
        audit::login_failed(&request_id, &login, address, "no trading account");
        return Err(ApiError::bad("this login has no trading account"));
    }
    let (access_token, expiration) = state.tokens().issue(&outcome.user_id, &session_id);
    let session = Session {
        ctx,
        display_name: outcome.display_name,
        accounts,
        expires_at: expiration,
    };
    let over_cap = state.sessions().insert(session, now_secs());
    audit::login_ok(&request_id, &outcome.user_id, address);
    for old in over_cap {
        tracing::info!(target: audit::TARGET, user = %audit::clean(&old.ctx.user), request_id = %request_id,
            "session limit reached (auth.max_sessions_per_user): ending the user's oldest session");
        // Ended in the background: the new login need not wait for the old session's upstream logout.
        let state = state.clone();
        tokio::spawn(async move { end_session(&state, &old).await });
    }
    Ok(TvOk(AccessToken {
        access_token,
        expiration,
    }))
}

async fn logout(State(state): State<AppState>, authed: Authed) -> ApiResult<TvDone> {
    let session = authed.0;
    // The token dies whatever the upstream says: a logout the user asked for must take effect.
    state.sessions().revoke(&session.ctx.session_id);
    end_session(&state, &session).await;
    Ok(TvDone)
}

/// Ends a session already removed from the store: its account hubs stop (ending their streams with an
/// error line) and its upstream session is logged out.
async fn end_session(state: &AppState, session: &Session) {
    // Streams first: each ends with the logout line (the hubs' own error line would say less).
    state.streams().end_session(&session.ctx.session_id);
    state.hubs().remove_session(&session.ctx.session_id);
    if let Err(e) = state.broker().logout(&session.ctx).await {
        tracing::warn!(error = %e, "upstream logout failed; the bridge session is revoked anyway");
    }
}
