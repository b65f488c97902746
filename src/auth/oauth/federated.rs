//! Logins waiting at the upstream: a bridge user whose password was right but who has not yet granted the
//! bridge access at the upstream is sent there; this record (in the store, so the callback may reach any
//! replica) keeps what the return needs: who, which TradingView request to resume, which browser, and
//! what the upstream was asked. Keyed by the digest of a random flow id carried in the callback URL, and
//! taken once.

use super::request::AuthRequest;
use super::secrets;
use crate::broker::federation::FederationStart;
use crate::store::{digest, json, Expect, Store, StoreResult};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A login parked while the user is at the upstream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingGrant {
    /// The bridge user whose password was checked.
    pub bridge_user: String,
    /// The TradingView authorization request to complete on return.
    pub request: AuthRequest,
    /// Digest of the browser's binding cookie: only the browser that logged in may come back with it.
    pub browser: String,
    /// What the upstream was asked (its request token).
    pub start: FederationStart,
    /// Unix seconds after which the return is refused.
    pub expires_at: u64,
}

/// The digest a binding cookie is compared by (the cookie itself is not stored).
pub fn browser_digest(binding: &str) -> String {
    digest(&["federated-browser", binding])
}

/// Parks `pending` for `ttl_secs` under `flow` (a fresh [`secrets::new_secret`], already in the callback
/// URL the upstream was given).
pub async fn park_as(
    store: &dyn Store,
    flow: &str,
    pending: &PendingGrant,
    ttl_secs: u64,
) -> StoreResult<()> {
    let key = secrets::key("federated", flow);
    json::put(
        store,
        &key,
        Expect::Absent,
        pending,
        Duration::from_secs(ttl_secs),
    )
    .await?;
    Ok(())
}

/// Takes the login parked under `flow` (at most once, even across replicas); `None` for an unknown,
/// used or malformed id. Expiry is the caller's to judge with its clock.
pub async fn take(store: &dyn Store, flow: &str) -> StoreResult<Option<PendingGrant>> {
    if !secrets::well_formed(flow) {
        return Ok(None);
    }
    let key = secrets::key("federated", flow);
    json::update::<PendingGrant, Option<PendingGrant>>(store, &key, |current| match current {
        None => (json::Change::Keep, None),
        Some(pending) => (json::Change::Delete, Some(pending)),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::oauth::request::{Prompt, ResponseType};
    use crate::store::MemoryStore;

    fn pending() -> PendingGrant {
        PendingGrant {
            bridge_user: "alice".into(),
            request: AuthRequest {
                client_id: "tv".into(),
                redirect_uri: "https://tv.example/cb".into(),
                response_type: ResponseType::Code,
                state: Some("s".into()),
                scope: None,
                code_challenge: None,
                prompt: Prompt::Default,
                lang: None,
            },
            browser: browser_digest("cookie"),
            start: FederationStart {
                redirect_to: "https://ibkr.example/authorize?oauth_token=rt".into(),
                request_token: "rt".into(),
            },
            expires_at: 100,
        }
    }

    #[tokio::test]
    async fn a_parked_login_is_taken_once_and_only_by_its_flow_id() {
        let store = MemoryStore::new();
        let flow = secrets::new_secret();
        park_as(&store, &flow, &pending(), 60).await.unwrap();
        assert!(take(&store, &secrets::new_secret()).await.unwrap().is_none());
        assert!(take(&store, "not-a-flow").await.unwrap().is_none());
        let taken = take(&store, &flow).await.unwrap().expect("parked");
        assert_eq!(taken.bridge_user, "alice");
        assert_eq!(taken.start.request_token, "rt");
        assert!(
            take(&store, &flow).await.unwrap().is_none(),
            "a flow id works once"
        );
    }

    #[test]
    fn the_browser_is_compared_by_digest_and_the_start_never_prints() {
        assert_ne!(browser_digest("a"), browser_digest("b"));
        assert!(!browser_digest("cookie").contains("cookie"));
        assert!(!format!("{:?}", pending()).contains("oauth_token=rt"));
    }
}
