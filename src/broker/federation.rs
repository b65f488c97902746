//! Federated login: a backend whose users grant the bridge access at the upstream (IBKR's third-party
//! OAuth 1.0a) links each bridge user to the upstream once. The core drives the browser (login page,
//! redirect to the upstream, callback); the backend talks to the upstream and keeps the tokens.

use super::BrokerResult;
use async_trait::async_trait;

/// Where the browser goes to grant access, and what the upstream must send back.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct FederationStart {
    /// The upstream's authorization page, with the request's own parameters (IBKR: `?oauth_token=`).
    pub redirect_to: String,
    /// The token the upstream returns to the callback (IBKR: the request token). Not a secret on its own
    /// (it travels in the browser's address bar), but never logged.
    pub request_token: String,
}

impl std::fmt::Debug for FederationStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederationStart").finish_non_exhaustive()
    }
}

/// A backend's side of federated login. Identity stays with the bridge (`[[auth.users]]` passwords): the
/// upstream only grants access to what the user holds there, once, and the backend keeps that grant
/// (encrypted, in the store) against the bridge user, so a second login does not visit the upstream.
#[async_trait]
pub trait Federation: Send + Sync + 'static {
    /// The upstream's name as the login page shows it ("Interactive Brokers").
    fn upstream_name(&self) -> &'static str;

    /// The upstream's authorization page (an absolute URL): the login form's answer redirects there, so
    /// the page's Content-Security-Policy `form-action` must allow its origin.
    fn authorization_page(&self) -> Option<&str> {
        None
    }

    /// Whether bridge user `user` has a stored grant. `Err` only when the store cannot answer.
    async fn is_linked(&self, user: &str) -> BrokerResult<bool>;

    /// Starts a grant for `user`: asks the upstream for a request token whose callback is `callback`
    /// (the bridge's callback URL, carrying the core's own flow id) and answers where to send the browser.
    async fn begin(&self, user: &str, callback: &str) -> BrokerResult<FederationStart>;

    /// The upstream sent the browser back with `query` (IBKR: `oauth_token`, `oauth_verifier`); `start`
    /// is what [`Federation::begin`] answered for this flow. Checks the query belongs to it, exchanges it
    /// for the user's tokens and stores them against `user`.
    async fn complete(
        &self,
        user: &str,
        start: &FederationStart,
        query: &[(String, String)],
    ) -> BrokerResult<()>;

    /// Forgets `user`'s grant (the user unlinked, or the upstream revoked it).
    async fn unlink(&self, user: &str) -> BrokerResult<()>;
}
