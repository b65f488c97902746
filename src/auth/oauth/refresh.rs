//! Refresh tokens: each names its session (the token family) and the generation it belongs to. A refresh
//! moves the session to the next generation and issues the next token; presenting a token of an older
//! generation means it was used twice, and the whole family is revoked (RFC 9700 §4.14.2).

use super::secrets;
use crate::store::{json, Expect, Store, StoreResult};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a refresh token stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshToken {
    pub client_id: String,
    pub session_id: String,
    pub user: String,
    pub generation: u32,
    pub scope: Option<String>,
    /// Unix seconds.
    pub expires_at: u64,
}

/// Stores `token` and returns the secret to hand out. Kept until it expires even once spent: a spent
/// token presented again is how a theft shows.
pub async fn issue(store: &dyn Store, token: &RefreshToken, now: u64) -> StoreResult<String> {
    let secret = secrets::new_secret();
    let ttl = Duration::from_secs(token.expires_at.saturating_sub(now).max(1));
    json::put(
        store,
        &secrets::key("refresh", &secret),
        Expect::Absent,
        token,
        ttl,
    )
    .await?;
    Ok(secret)
}

/// The refresh token `secret` stands for, if it was issued and has not expired.
pub async fn find(store: &dyn Store, secret: &str, now: u64) -> StoreResult<Option<RefreshToken>> {
    if !secrets::well_formed(secret) {
        return Ok(None);
    }
    let found = json::get::<RefreshToken>(store, &secrets::key("refresh", secret)).await?;
    Ok(found.map(|(_, t)| t).filter(|t| t.expires_at > now))
}
