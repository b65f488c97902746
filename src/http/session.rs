//! `/authorize` and `/logout`: password login that opens a bridge session and issues an access token.

use crate::auth::{now_secs, Session};
use crate::broker::{Credentials, SessionCtx};
use crate::error::{ApiError, ApiResult, TvDone, TvOk};
use crate::http::extract::{Authed, TvForm};
use crate::http::AppState;
use crate::secret::Secret;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use serde::Serialize;

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

async fn authorize(State(state): State<AppState>, TvForm(f): TvForm) -> ApiResult<TvOk<AccessToken>> {
    let login = f.str_req("login")?.to_owned();
    let password = Secret::new(f.str_exact_req("password")?);
    let session_id = uuid::Uuid::new_v4().simple().to_string();
    let outcome = state
        .broker()
        .login(
            &session_id,
            &Credentials {
                login: login.clone(),
                password,
            },
        )
        .await?;
    let ctx = SessionCtx {
        session_id: session_id.clone(),
        user: outcome.user_id.clone(),
    };
    let accounts = state.broker().accounts(&ctx).await?;
    if accounts.is_empty() {
        return Err(ApiError::bad("this login has no trading account"));
    }
    let (access_token, expiration) = state.tokens().issue(&outcome.user_id, &session_id);
    let session = Session {
        ctx,
        display_name: outcome.display_name,
        accounts,
        expires_at: expiration,
    };
    state.sessions().insert(session, now_secs());
    tracing::info!(user = %outcome.user_id, "user logged in");
    Ok(TvOk(AccessToken {
        access_token,
        expiration,
    }))
}

async fn logout(State(state): State<AppState>, authed: Authed) -> ApiResult<TvDone> {
    let session = authed.0;
    // The token dies whatever the upstream says: a logout the user asked for must take effect.
    state.sessions().revoke(&session.ctx.session_id);
    // Streams first: each ends with the logout line (the hubs' own error line would say less).
    state.streams().end_session(&session.ctx.session_id);
    state.hubs().remove_session(&session.ctx.session_id);
    if let Err(e) = state.broker().logout(&session.ctx).await {
        tracing::warn!(error = %e, "upstream logout failed; the bridge session is revoked anyway");
    }
    Ok(TvDone)
}
