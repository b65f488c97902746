//! The live session token request (`POST /oauth/live_session_token`): decrypt the access token secret,
//! send the DH challenge signed with the prepend, derive the LST from the answer and check it against
//! `live_session_token_signature` before using it.

use super::keys::Oauth1Keys;
use super::lst::{decrypt_secret, derive, is_valid, LiveSessionToken};
use super::renew::Expiring;
use super::signer::RsaSigner;
use crate::secret::Secret;
use crate::upstream::call::CallError;
use crate::upstream::transport::{Call, CallKind, Transport};
use reqwest::Method;
use serde::Deserialize;
use std::time::Duration;
use tokio::time::Instant;

/// The path of the request, relative to `https://api.ibkr.com/v1/api`.
pub const LIVE_SESSION_TOKEN_PATH: &str = "/oauth/live_session_token";

/// What IBKR's guide says an LST lasts, used when an answer gives no expiration.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The answer of `/oauth/live_session_token`.
#[derive(Debug, Deserialize)]
pub struct LstAnswer {
    /// `B = g^b mod p`, hex.
    pub diffie_hellman_response: String,
    /// `hex(HMAC-SHA1(LST, consumer key))`.
    pub live_session_token_signature: String,
    /// Unix milliseconds.
    #[serde(default)]
    pub live_session_token_expiration: Option<i64>,
}

/// Why no live session token was obtained.
#[derive(Debug)]
pub enum HandshakeError {
    /// The request failed (a 401 is IBKR refusing the consumer, the token or the signature).
    Call(CallError),
    /// The key material or the answer is wrong; names the problem, never a secret.
    Invalid(String),
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandshakeError::Call(e) => write!(f, "live session token request: {e}"),
            HandshakeError::Invalid(e) => write!(f, "live session token: {e}"),
        }
    }
}

impl Expiring for LiveSessionToken {
    fn expires_at(&self) -> Instant {
        self.expires_at
    }
}

/// Obtains a live session token. The request is a read for the transport (retried after failures that
/// changed nothing): each attempt is signed afresh, and an extra token IBKR may have issued is harmless.
pub async fn live_session_token(
    transport: &Transport,
    keys: &Oauth1Keys,
) -> Result<LiveSessionToken, HandshakeError> {
    live_session_token_for(transport, keys, &keys.access_token, &keys.access_token_secret).await
}

/// [`live_session_token`] for an access token and its secret (base64, encrypted to the consumer's
/// encryption key) other than `keys`' own: third party, where each user granted one.
pub async fn live_session_token_for(
    transport: &Transport,
    keys: &Oauth1Keys,
    access_token: &Secret,
    access_token_secret: &Secret,
) -> Result<LiveSessionToken, HandshakeError> {
    let secret = decrypt_secret(&keys.encryption_key, access_token_secret.expose())
        .map_err(HandshakeError::Invalid)?;
    let challenge = keys.dh.challenge();
    let signer =
        RsaSigner::live_session_token_for(keys, access_token.expose(), &secret, &challenge.challenge_hex());
    let call = Call::new(CallKind::Read, Method::POST, LIVE_SESSION_TOKEN_PATH).signed(&signer);
    let answer: LstAnswer = transport.json(&call).await.map_err(HandshakeError::Call)?;
    let k = challenge
        .shared_secret(&answer.diffie_hellman_response)
        .map_err(HandshakeError::Invalid)?;
    let lst = derive(&k, &secret);
    if !is_valid(&lst, &keys.consumer_key, &answer.live_session_token_signature) {
        return Err(HandshakeError::Invalid(
            "the derived token does not match live_session_token_signature (wrong DH prime, encryption key or token secret?)".into(),
        ));
    }
    let expires_at = expiry(answer.live_session_token_expiration, now_ms());
    tracing::info!(consumer = %keys.consumer_key, valid_s = expires_at.saturating_duration_since(Instant::now()).as_secs(), "IBKR live session token obtained");
    Ok(LiveSessionToken::new(lst, expires_at))
}

/// The tokio instant of an expiration in unix milliseconds (`now_ms` is the wall clock now).
pub fn expiry(expiration_ms: Option<i64>, now_ms: i64) -> Instant {
    match expiration_ms {
        Some(ms) => Instant::now() + Duration::from_millis(ms.saturating_sub(now_ms).max(0) as u64),
        None => {
            tracing::warn!("IBKR gave no live_session_token_expiration; assuming 24 hours");
            Instant::now() + DEFAULT_LIFETIME
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
