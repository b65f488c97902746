//! The two calls that give a bearer for `https://api.ibkr.com/v1/api`: the `client_credentials` token
//! exchange, then the SSO-session request; and the bearer they give, renewed through
//! [`Renewing`](super::super::oauth1::Renewing) before it expires.
//!
//! The token exchange goes through the toolkit's transport rather than the `oauth2` crate: that crate always
//! adds `client_id` to the form when no client secret is set, a field IBKR's token endpoint does not list,
//! and its own HTTP client would bypass the transport's timeouts, pacing and failure classification.

use super::jwt::{client_assertion, sso_session_request};
use super::settings::{Oauth2Keys, SCOPE};
use crate::backends::ibkr::oauth1::Expiring;
use crate::secret::Secret;
use crate::upstream::call::CallError;
use crate::upstream::transport::{Bearer, Call, CallKind, Transport};
use reqwest::Method;
use serde::Deserialize;
use std::time::Duration;
use tokio::time::Instant;

/// The access token's lifetime when the answer gives none.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// A bearer token and when it expires.
#[derive(Clone)]
pub struct BearerToken {
    pub token: Secret,
    pub expires_at: Instant,
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerToken")
            .field("token", &self.token)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Expiring for BearerToken {
    fn expires_at(&self) -> Instant {
        self.expires_at
    }
}

impl BearerToken {
    /// The signer of calls made with this bearer.
    pub fn signer(&self) -> Bearer<'_> {
        Bearer(&self.token)
    }
}

/// Why no bearer was obtained.
#[derive(Debug)]
pub enum Oauth2Error {
    /// A call failed (401: IBKR refused the client, the assertion or the session request).
    Call(CallError),
    /// The key could not sign, or the answer is unusable.
    Invalid(String),
}

impl std::fmt::Display for Oauth2Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Oauth2Error::Call(e) => write!(f, "IBKR OAuth 2.0: {e}"),
            Oauth2Error::Invalid(e) => write!(f, "IBKR OAuth 2.0: {e}"),
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct SessionAnswer {
    access_token: String,
}

/// `POST` the token URL (`token` is a transport whose base is that URL) with the client assertion.
pub async fn access_token(
    token: &Transport,
    keys: &Oauth2Keys,
    now: i64,
) -> Result<BearerToken, Oauth2Error> {
    let assertion = client_assertion(keys, now).map_err(Oauth2Error::Invalid)?;
    // A token request changes nothing upstream but may be refused for a reused assertion: sent once.
    let call = Call::new(CallKind::Read, Method::POST, "")
        .form([
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
            ("scope", SCOPE),
        ])
        .once();
    let answer: TokenAnswer = token.json(&call).await.map_err(Oauth2Error::Call)?;
    let token = answer
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Oauth2Error::Invalid("the token answer has no access_token".into()))?;
    let life = answer
        .expires_in
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_LIFETIME);
    Ok(BearerToken {
        token: Secret::new(token),
        expires_at: Instant::now() + life,
    })
}

/// `POST` the SSO-session URL (`sso` is a transport whose base is that URL) with the access token, giving
/// the session bearer. IBKR's answer gives no lifetime: the bearer is taken to last as long as the access
/// token that opened it, and a refusal before then renews both.
pub async fn sso_session(
    sso: &Transport,
    keys: &Oauth2Keys,
    access: &BearerToken,
    now: i64,
) -> Result<BearerToken, Oauth2Error> {
    let body = sso_session_request(keys, now).map_err(Oauth2Error::Invalid)?;
    let signer = access.signer();
    let call = Call::new(CallKind::Read, Method::POST, "")
        .raw("application/jwt", body)
        .signed(&signer)
        .once();
    let answer: SessionAnswer = sso.json(&call).await.map_err(Oauth2Error::Call)?;
    if answer.access_token.is_empty() {
        return Err(Oauth2Error::Invalid(
            "the SSO-session answer has no access_token".into(),
        ));
    }
    tracing::info!(client = %keys.client_id, user = %keys.username, "IBKR OAuth 2.0 session opened");
    Ok(BearerToken {
        token: Secret::new(answer.access_token),
        expires_at: access.expires_at,
    })
}

/// Both calls: the session bearer for `/v1/api`.
pub async fn login(
    token: &Transport,
    sso: &Transport,
    keys: &Oauth2Keys,
) -> Result<BearerToken, Oauth2Error> {
    let now = chrono::Utc::now().timestamp();
    let access = access_token(token, keys, now).await?;
    sso_session(sso, keys, &access, now).await
}
