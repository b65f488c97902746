//! The three-legged OAuth 1.0a grant (request token with the bridge's callback, the user at IBKR's
//! authorization page, access token with the verifier) as the core's [`Federation`]: the grant is stored
//! with [`Links`] against the bridge user.

use super::config::ResolvedConfig;
use super::credentials::{Grant, Links};
use super::session::{token_call_failed, Sessions};
use crate::backends::ibkr::oauth1::{decrypt_secret, RsaSigner};
use crate::broker::federation::{Federation, FederationStart};
use crate::broker::{BrokerError, BrokerResult};
use crate::secret::Secret;
use crate::upstream::transport::{Call, CallKind, Transport};
use async_trait::async_trait;
use reqwest::Method;
use serde::Deserialize;
use std::sync::Arc;

/// The path of the request token request, relative to the base URL.
pub const REQUEST_TOKEN_PATH: &str = "/oauth/request_token";
/// The path of the access token request, relative to the base URL.
pub const ACCESS_TOKEN_PATH: &str = "/oauth/access_token";

/// The answer of `/oauth/request_token` (RSA signatures: no token secret).
#[derive(Deserialize)]
struct RequestTokenAnswer {
    oauth_token: String,
}

/// The answer of `/oauth/access_token`.
#[derive(Deserialize)]
struct AccessTokenAnswer {
    oauth_token: String,
    /// Base64 of the secret, RSA-encrypted to the consumer's encryption key.
    oauth_token_secret: String,
}

/// IBKR's third-party grant.
pub struct IbkrFederation {
    transport: Arc<Transport>,
    config: ResolvedConfig,
    links: Arc<Links>,
    sessions: Arc<Sessions>,
}

impl IbkrFederation {
    pub fn new(
        transport: Arc<Transport>,
        config: ResolvedConfig,
        links: Arc<Links>,
        sessions: Arc<Sessions>,
    ) -> IbkrFederation {
        IbkrFederation {
            transport,
            config,
            links,
            sessions,
        }
    }

    /// `authorize_url` with `oauth_token=<request token>` added to its query.
    fn authorize_url(&self, request_token: &str) -> BrokerResult<String> {
        let mut url = reqwest::Url::parse(&self.config.authorize_url)
            .map_err(|e| BrokerError::Internal(format!("backend.authorize_url: {e}")))?;
        url.query_pairs_mut().append_pair("oauth_token", request_token);
        Ok(url.into())
    }
}

/// Whether `token` may be an OAuth token IBKR issued: printable ASCII, bounded (it goes into a URL and
/// the store).
fn is_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= 512 && token.bytes().all(|b| b.is_ascii_graphic())
}

#[async_trait]
impl Federation for IbkrFederation {
    fn upstream_name(&self) -> &'static str {
        "Interactive Brokers"
    }

    fn authorization_page(&self) -> Option<&str> {
        Some(&self.config.authorize_url)
    }

    async fn is_linked(&self, user: &str) -> BrokerResult<bool> {
        Ok(self.links.get(user).await?.is_some())
    }

    async fn begin(&self, user: &str, callback: &str) -> BrokerResult<FederationStart> {
        let signer = RsaSigner::request_token_with_callback(&self.config.keys, callback);
        // A read for the transport: a request token nobody uses expires unused, so a retry is harmless.
        let call = Call::new(CallKind::Read, Method::POST, REQUEST_TOKEN_PATH).signed(&signer);
        let answer: RequestTokenAnswer = self
            .transport
            .json(&call)
            .await
            .map_err(|e| token_call_failed("the request token request", &e))?;
        if !is_token(&answer.oauth_token) {
            return Err(BrokerError::Internal(
                "IBKR's request token is empty or not printable".into(),
            ));
        }
        tracing::debug!(
            user,
            "IBKR request token obtained; the user goes to IBKR's authorization page"
        );
        Ok(FederationStart {
            redirect_to: self.authorize_url(&answer.oauth_token)?,
            request_token: answer.oauth_token,
        })
    }

    async fn complete(
        &self,
        user: &str,
        start: &FederationStart,
        query: &[(String, String)],
    ) -> BrokerResult<()> {
        let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let token = get("oauth_token").unwrap_or_default();
        // Constant time: the request token is the one thing tying IBKR's answer to this login.
        if start.request_token.is_empty()
            || !Secret::new(start.request_token.as_str()).constant_time_eq(token)
        {
            return Err(BrokerError::Rejected(
                "The answer from Interactive Brokers does not belong to this login: log in through TradingView again".into(),
            ));
        }
        let verifier = get("oauth_verifier").filter(|v| !v.is_empty());
        let (Some(verifier), None) = (verifier, get("denied")) else {
            tracing::info!(user, "the user did not grant the bridge access at IBKR");
            return Err(BrokerError::Rejected(
                "You did not grant the bridge access to your account at Interactive Brokers: log in through TradingView again to do so".into(),
            ));
        };
        let signer = RsaSigner::access_token(&self.config.keys, &start.request_token, verifier);
        // Sent once, never retried: the verifier is single use, and a second request could only fail.
        let call = Call::write(Method::POST, ACCESS_TOKEN_PATH)
            .once()
            .signed(&signer);
        let answer: AccessTokenAnswer = self.transport.json(&call).await.map_err(|e| match e.status() {
            Some(400 | 401 | 403) => {
                tracing::warn!(user, error = %e, "IBKR refused the access token request");
                BrokerError::Rejected(
                    "Interactive Brokers did not accept this grant (it expired or was already used): log in through TradingView again".into(),
                )
            }
            _ => token_call_failed("the access token request", &e),
        })?;
        if !is_token(&answer.oauth_token) {
            return Err(BrokerError::Internal(
                "IBKR's access token is empty or not printable".into(),
            ));
        }
        // Checked now rather than at the first call: a secret the consumer cannot read is no grant.
        decrypt_secret(&self.config.keys.encryption_key, &answer.oauth_token_secret).map_err(|e| {
            BrokerError::Internal(format!(
                "IBKR's access token: {e} (backend.encryption_key_file is not the key registered with IBKR?)"
            ))
        })?;
        let grant = Grant {
            access_token: Secret::new(answer.oauth_token),
            access_token_secret: Secret::new(answer.oauth_token_secret),
        };
        self.links.put(user, &grant).await?;
        self.sessions.forget(user);
        tracing::info!(
            user,
            event = "ibkr_grant_stored",
            "the user granted the bridge access at IBKR; the grant is stored"
        );
        Ok(())
    }

    async fn unlink(&self, user: &str) -> BrokerResult<()> {
        self.links.delete(user).await?;
        self.sessions.forget(user);
        tracing::info!(
            user,
            event = "ibkr_grant_deleted",
            "the user's IBKR grant is deleted"
        );
        Ok(())
    }
}

#[cfg(test)]
#[path = "federation_tests.rs"]
mod tests;
