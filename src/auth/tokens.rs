//! Signed access tokens (HS256 JWT) issued by `/authorize`.

use jsonwebtoken::{
    decode, encode, errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Bridge session id.
    pub sid: String,
    /// Unique token id: makes every token distinct even within one second.
    pub jti: String,
    pub iat: u64,
    pub exp: u64,
}

/// Why a token was refused. Each becomes a 401 with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token has expired; please log in again")]
    Expired,
    #[error("the access token is not valid; please log in again")]
    Invalid,
}

/// Issues and verifies access tokens with one HMAC key.
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: u64,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// An issuer with the configured key, or a random 256-bit key when `secret` is empty.
    pub fn new(secret: &[u8], ttl_secs: u64) -> Self {
        let key: Vec<u8> = if secret.is_empty() {
            let mut random = vec![0u8; 32];
            rand::thread_rng().fill_bytes(&mut random);
            random
        } else {
            secret.to_vec()
        };
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is exact: TradingView treats the `expiration` we announce as the truth.
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        TokenIssuer {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
            ttl_secs,
        }
    }

    /// Token lifetime in seconds.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// A new token for `user` in session `sid`, with its expiry (unix seconds).
    pub fn issue(&self, user: &str, sid: &str) -> (String, u64) {
        let now = now_secs();
        let claims = Claims {
            sub: user.to_owned(),
            sid: sid.to_owned(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            iat: now,
            exp: now + self.ttl_secs,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail");
        (token, claims.exp)
    }

    /// Checks signature and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

/// The token signing key kept in the state store: generated once by whichever process needs it first, then
/// read by every restart and replica. 256 random bits, hex.
pub async fn key_from_store(store: &dyn crate::store::Store) -> crate::store::StoreResult<Vec<u8>> {
    use crate::store::Expect;
    const KEY: &str = "auth:token-key";
    // Ten years, renewed by nothing: rotating it logs everybody out, which is the operator's decision.
    const TTL: std::time::Duration = std::time::Duration::from_secs(10 * 365 * 86_400);
    loop {
        if let Some(entry) = store.get(KEY).await? {
            return Ok(entry.value.to_vec());
        }
        let mut random = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut random);
        let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
        if store
            .swap(KEY, Expect::Absent, Some(hex.as_bytes()), TTL)
            .await?
            .is_some()
        {
            return Ok(hex.into_bytes());
        }
    }
}

/// Seconds since the unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_differ() {
        let issuer = TokenIssuer::new(b"", 60);
        let (a, exp) = issuer.issue("demo", "s1");
        let (b, _) = issuer.issue("demo", "s1");
        assert_ne!(a, b);
        assert!(exp > now_secs());
        let claims = issuer.verify(&a).unwrap();
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("demo", "s1"));
    }

    #[test]
    fn garbage_foreign_and_expired_tokens_are_refused() {
        let issuer = TokenIssuer::new(b"0123456789abcdef0123456789abcdef", 60);
        assert_eq!(issuer.verify("garbage"), Err(TokenError::Invalid));
        let other = TokenIssuer::new(b"fedcba9876543210fedcba9876543210", 60);
        let (foreign, _) = other.issue("demo", "s1");
        assert_eq!(issuer.verify(&foreign), Err(TokenError::Invalid));
        let claims = Claims {
            sub: "demo".into(),
            sid: "s".into(),
            jti: "j".into(),
            iat: 1,
            exp: 2,
        };
        let old = encode(&Header::new(Algorithm::HS256), &claims, &issuer.encoding).unwrap();
        assert_eq!(issuer.verify(&old), Err(TokenError::Expired));
    }
}
