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
    /// The bridge session opened for the user when the code was issued.
    pub session_id: String,
    pub user: String,
    pub code_challenge: Option<String>,
    pub scope: Option<String>,
    /// Unix seconds after which the code cannot be exchanged.
    pub expires_at: u64,
    #[serde(default)]
    pub used: bool,
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
        Some(code) if code.used => (json::Change::Keep, Redeemed::Replayed(code)),
        Some(mut code) => {
            code.used = true;
            let fresh = Redeemed::Fresh(code.clone());
            (json::Change::Put(code, REMEMBER_USED), fresh)
        }
    })
    .await
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
            user: "demo".into(),
            code_challenge: None,
            scope: None,
            expires_at: 10,
            used: false,
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
