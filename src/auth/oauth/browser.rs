//! Browser logins: what the login cookie stands for. It lets `prompt=none` answer without a form, and
//! lists the sessions granted through it so that `/oauth/logout` ends them all.

use super::secrets;
use crate::store::{json, Expect, Store, StoreResult};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Sessions remembered per browser login (the oldest are forgotten, not ended).
const MAX_GRANTS: usize = 100;

/// A browser's login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowserLogin {
    /// The bridge user, when a new session can be opened for them without a password (bridge users);
    /// `None` after a login with the upstream's own credentials, which are never kept.
    pub bridge_user: Option<String>,
    pub user: String,
    /// Unix seconds.
    pub expires_at: u64,
    /// Bridge sessions granted through this login.
    pub sessions: Vec<String>,
}

/// Stores `login` and returns the cookie value.
pub async fn create(store: &dyn Store, login: &BrowserLogin, now: u64) -> StoreResult<String> {
    let secret = secrets::new_secret();
    json::put(
        store,
        &secrets::key("browser", &secret),
        Expect::Absent,
        login,
        ttl(login, now),
    )
    .await?;
    Ok(secret)
}

/// The live login of cookie `secret`.
pub async fn find(store: &dyn Store, secret: &str, now: u64) -> StoreResult<Option<BrowserLogin>> {
    if !secrets::well_formed(secret) {
        return Ok(None);
    }
    let found = json::get::<BrowserLogin>(store, &secrets::key("browser", secret)).await?;
    Ok(found.map(|(_, l)| l).filter(|l| l.expires_at > now))
}

/// The store key of the browser login of cookie `secret` (a digest: it names the login without being the
/// cookie).
pub fn key_of(secret: &str) -> String {
    secrets::key("browser", secret)
}

/// Remembers that session `sid` was granted through cookie `secret`.
pub async fn add_session(store: &dyn Store, secret: &str, sid: &str, now: u64) -> StoreResult<()> {
    add_session_at(store, &key_of(secret), sid, now).await
}

/// [`add_session`] by the login's store key.
pub async fn add_session_at(store: &dyn Store, key: &str, sid: &str, now: u64) -> StoreResult<()> {
    json::update::<BrowserLogin, ()>(store, key, |current| match current {
        Some(mut login) if login.expires_at > now => {
            login.sessions.push(sid.to_owned());
            let excess = login.sessions.len().saturating_sub(MAX_GRANTS);
            login.sessions.drain(..excess);
            let ttl = ttl(&login, now);
            (json::Change::Put(login, ttl), ())
        }
        _ => (json::Change::Keep, ()),
    })
    .await
}

/// Ends the login of cookie `secret`, returning it (to end its sessions).
pub async fn end(store: &dyn Store, secret: &str) -> StoreResult<Option<BrowserLogin>> {
    if !secrets::well_formed(secret) {
        return Ok(None);
    }
    json::update::<BrowserLogin, Option<BrowserLogin>>(store, &secrets::key("browser", secret), |current| {
        match current {
            Some(login) => (json::Change::Delete, Some(login)),
            None => (json::Change::Keep, None),
        }
    })
    .await
}

fn ttl(login: &BrowserLogin, now: u64) -> Duration {
    Duration::from_secs(login.expires_at.saturating_sub(now).max(1))
}
