//! ServerOAuth2Bearer at the token endpoint: TradingView's servers trade a JWT signed with the key of the
//! registered certificate for a token that opens the data feed only, for the bridge user the JWT names.

use super::grant::revoke_quietly;
use super::token::{fail, named_client, unavailable, ClientAuth, OAuthError, DATAFEED_USER_PREFIX};
use crate::auth::{Grant, Session};
use crate::broker::SessionCtx;
use crate::http::audit;
use crate::http::extract::Fields;
use crate::http::AppState;
use serde_json::json;

/// ServerOAuth2Bearer: a data-feed token for the user the assertion names.
pub(super) async fn assertion(
    state: &AppState,
    request_id: &str,
    auth: &ClientAuth,
    fields: &Fields,
    grant_type: &str,
) -> Result<serde_json::Value, OAuthError> {
    let client = named_client(state, auth)?;
    let Some((urn, verifier)) = client.assertion.as_ref().filter(|(urn, _)| urn == grant_type) else {
        return Err(fail(
            "unauthorized_client",
            "this client may not use this grant type",
        ));
    };
    debug_assert_eq!(urn, grant_type);
    let jwt = fields
        .exact_opt("assertion")
        .ok_or_else(|| fail("invalid_request", "assertion is required"))?;
    let now = state.now();
    let verified = verifier
        .verify(jwt, now)
        .map_err(|e| fail("invalid_grant", e.to_string()))?;
    let user = &verified.subject;
    let known = state.config().auth.users.iter().any(|u| u.login == *user);
    let allowed = client.assertion_users.is_empty() || client.assertion_users.iter().any(|u| u == user);
    if !known || !allowed {
        return Err(fail(
            "invalid_grant",
            "the assertion's sub is not a user this client may act for",
        ));
    }
    let expires_at = (now + client.access_token_ttl_secs).min(verified.expires_at.max(now + 60));
    let sid = crate::http::session::new_session_id();
    let session_user = format!("{DATAFEED_USER_PREFIX}{user}");
    let session = Session {
        ctx: SessionCtx {
            session_id: sid.clone(),
            user: session_user.clone(),
        },
        display_name: user.clone(),
        accounts: Vec::new(),
        expires_at,
        grant: Grant {
            client_id: Some(client.id.clone()),
            datafeed_only: true,
            ..Grant::default()
        },
    };
    let over_cap = state
        .sessions()
        .insert(session, None, now)
        .await
        .map_err(unavailable)?;
    for old in over_cap {
        revoke_quietly(state, &old).await;
    }
    let access_token = state.tokens().issue_until(&session_user, &sid, 0, expires_at);
    tracing::info!(target: audit::TARGET, action = "oauth_token", request_id = %request_id,
        client = %audit::clean(&client.id), user = %audit::clean(user), grant_type = "server_bearer",
        app_url = %audit::clean(verified.app_url.as_deref().unwrap_or("-")), "data-feed token issued");
    Ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_at.saturating_sub(now),
    }))
}
