//! Authorization codes: bound to the client, the redirect URI, the PKCE challenge and the session they
//! grant; exchanged once. A used code is remembered for a while, so that a second exchange (a stolen code)
//! revokes what the first one granted (RFC 6749 §4.1.2).

use super::secrets;
use crate::store::{json, Expect, Store, StoreResult};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long a used code is remembered, to catch its replay.
const REMEMBER_USED: Duration = Duration::from_secs(600);

/// What a code grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code {
    pub client_id: String,
    pub redirect_uri: String,
    /// The bridge session the code grants: opened when the code was issued (a login through the form),
    /// or under this id at the exchange (`deferred`).
    pub session_id: String,
    /// A code answered from the browser's login (`prompt=none`, or no prompt): its session is opened only
    /// when the code is exchanged, so that a page that sends a logged-in browser to the authorize URL again
    /// and again cannot open sessions (and end the user's real ones through the per-user cap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred: Option<Deferred>,
    pub user: String,
    pub code_challenge: Option<String>,
    pub scope: Option<String>,
    /// Unix seconds after which the code cannot be exchanged.
    pub expires_at: u64,
    #[serde(default)]
    pub used: bool,
    /// Presented again after its exchange.
    #[serde(default)]
    pub replayed: bool,
}

/// The session a deferred code opens at its exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deferred {
    /// The bridge user to open it as.
    pub bridge_user: String,
    /// The store key of the browser login that answered (the session is listed there for logout).
    pub browser_key: String,
}

/// What an exchange found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// First use: the code is now spent.
    Fresh(Code),
    /// Used before: whatever it granted must be revoked.
    Replayed(Code),
    /// Never issued, or long gone.
    Unknown,
}

/// Stores `code` and returns the secret to hand out.
pub async fn issue(store: &dyn Store, code: &Code, ttl_secs: u64) -> StoreResult<String> {
    let secret = secrets::new_secret();
    let ttl = Duration::from_secs(ttl_secs) + REMEMBER_USED;
    json::put(store, &secrets::key("code", &secret), Expect::Absent, code, ttl).await?;
    Ok(secret)
}

/// Spends the code `secret` (compare and swap: of two concurrent exchanges exactly one is `Fresh`).
pub async fn redeem(store: &dyn Store, secret: &str) -> StoreResult<Redeemed> {
    if !secrets::well_formed(secret) {
        return Ok(Redeemed::Unknown);
    }
    json::update::<Code, Redeemed>(store, &secrets::key("code", secret), |current| match current {
        None => (json::Change::Keep, Redeemed::Unknown),
        Some(mut code) if code.used => {
            // Marked, so that an exchange still opening its session revokes it when done.
            code.replayed = true;
            let replayed = Redeemed::Replayed(code.clone());
            (json::Change::Put(code, REMEMBER_USED), replayed)
        }
        Some(mut code) => {
            code.used = true;
            let fresh = Redeemed::Fresh(code.clone());
            (json::Change::Put(code, REMEMBER_USED), fresh)
        }
    })
    .await
}

/// Whether the code `secret` was presented again after its exchange.
pub async fn was_replayed(store: &dyn Store, secret: &str) -> StoreResult<bool> {
    let found = json::get::<Code>(store, &secrets::key("code", secret)).await?;
    Ok(found.is_some_and(|(_, code)| code.replayed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn a_code_is_exchanged_once_and_its_replay_is_recognised() {
        let store = MemoryStore::new();
        let code = Code {
            client_id: "tv".into(),
            redirect_uri: "https://tv.example/cb".into(),
            session_id: "s1".into(),
            deferred: None,
            user: "demo".into(),
            code_challenge: None,
            scope: None,
            expires_at: 10,
            used: false,
            replayed: false,
        };
        let secret = issue(&store, &code, 30).await.unwrap();
        let Redeemed::Fresh(first) = redeem(&store, &secret).await.unwrap() else {
            panic!("fresh")
        };
        assert_eq!(first.session_id, "s1");
        assert!(
            matches!(redeem(&store, &secret).await.unwrap(), Redeemed::Replayed(c) if c.session_id == "s1")
        );
        assert_eq!(
            redeem(&store, &secrets::new_secret()).await.unwrap(),
            Redeemed::Unknown
        );
        assert_eq!(redeem(&store, "garbage").await.unwrap(), Redeemed::Unknown);
    }
}
