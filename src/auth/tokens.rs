//! Signed access tokens (HS256 JWT) issued by `/authorize` and the OAuth token endpoint. Each carries the
//! `kid` of its key, so a key can be rotated: tokens of the previous keys keep working until they expire.

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
    /// The session's generation the token was issued in (OAuth refreshes move it on).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub gen: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
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
    kid: String,
    /// The current key and the previous ones, by key id.
    decoding: Vec<(String, DecodingKey)>,
    validation: Validation,
    ttl_secs: u64,
    clock: super::clock::Clock,
    /// Tokens verified lately (signature and claims); expiry is judged again on each use.
    verified: super::verified::VerifiedTokens,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("kid", &self.kid)
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
        // Expiry is exact (TradingView treats the `expiration` we announce as the truth), and judged by the
        // issuer's clock below rather than the library's.
        validation.leeway = 0;
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let kid = key_id(&key);
        TokenIssuer {
            encoding: EncodingKey::from_secret(&key),
            decoding: vec![(kid.clone(), DecodingKey::from_secret(&key))],
            kid,
            validation,
            ttl_secs,
            clock: super::clock::Clock::system(),
            verified: super::verified::VerifiedTokens::default(),
        }
    }

    /// Judges and stamps tokens by `clock` (tests move a manual clock).
    pub fn with_clock(mut self, clock: super::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Now, by this issuer's clock (unix seconds): the time sessions and grants are judged by too.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// Also accepts tokens signed with `previous` keys (a key rotation: tokens issued before it keep
    /// working until they expire).
    pub fn with_previous_keys<'a>(mut self, previous: impl IntoIterator<Item = &'a [u8]>) -> Self {
        for key in previous {
            let kid = key_id(key);
            if !self.decoding.iter().any(|(k, _)| *k == kid) {
                self.decoding.push((kid, DecodingKey::from_secret(key)));
            }
        }
        self
    }

    /// The id of the signing key (a digest, never the key).
    pub fn key_id(&self) -> &str {
        &self.kid
    }

    /// Token lifetime in seconds.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// A new token for `user` in session `sid`, with its expiry (unix seconds).
    pub fn issue(&self, user: &str, sid: &str) -> (String, u64) {
        let exp = self.now() + self.ttl_secs;
        (self.issue_until(user, sid, 0, exp), exp)
    }

    /// A token for `user` in session `sid`, generation `generation`, expiring at `exp` (unix seconds).
    pub fn issue_until(&self, user: &str, sid: &str, generation: u32, exp: u64) -> String {
        let claims = Claims {
            sub: user.to_owned(),
            sid: sid.to_owned(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            iat: self.now(),
            exp,
            gen: generation,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        encode(&header, &claims, &self.encoding).expect("HS256 signing of plain claims cannot fail")
    }

    /// Checks signature and expiry. A token without a `kid` (issued before key ids) is checked with the
    /// current key. A token verified before is not decoded again (see [`super::verified`]); its expiry is.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        match self.verified.get(token, self.now()) {
            Some(Ok(claims)) => return Ok(claims),
            Some(Err(super::verified::Expired)) => return Err(TokenError::Expired),
            None => {}
        }
        let claims = self.verify_uncached(token)?;
        self.verified.insert(token, &claims);
        Ok(claims)
    }

    fn verify_uncached(&self, token: &str) -> Result<Claims, TokenError> {
        let kid = jsonwebtoken::decode_header(token)
            .map_err(|_| TokenError::Invalid)?
            .kid
            .unwrap_or_else(|| self.kid.clone());
        let (_, key) = self
            .decoding
            .iter()
            .find(|(k, _)| *k == kid)
            .ok_or(TokenError::Invalid)?;
        let claims = decode::<Claims>(token, key, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        if claims.exp <= self.now() {
            return Err(TokenError::Expired);
        }
        Ok(claims)
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

/// A key's id: the first 64 bits of its SHA-256, hex (tells keys apart, reveals nothing of them).
fn key_id(key: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(key)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
            gen: 0,
        };
        let old = encode(&Header::new(Algorithm::HS256), &claims, &issuer.encoding).unwrap();
        assert_eq!(issuer.verify(&old), Err(TokenError::Expired));
    }

    #[test]
    fn a_rotated_key_still_verifies_the_tokens_it_signed_and_an_unknown_kid_is_refused() {
        let old_key = b"0123456789abcdef0123456789abcdef";
        let new_key = b"fedcba9876543210fedcba9876543210";
        let old = TokenIssuer::new(old_key, 60);
        let (before_rotation, _) = old.issue("demo", "s1");
        let rotated = TokenIssuer::new(new_key, 60).with_previous_keys([&old_key[..]]);
        assert_ne!(old.key_id(), rotated.key_id());
        assert_eq!(rotated.verify(&before_rotation).unwrap().sid, "s1");
        let (after, _) = rotated.issue("demo", "s2");
        assert_eq!(rotated.verify(&after).unwrap().sid, "s2");
        assert_eq!(
            old.verify(&after),
            Err(TokenError::Invalid),
            "the old issuer knows no new key"
        );
        // A token that names a key nobody has is refused without trying the others.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("0000000000000000".into());
        let claims = rotated.verify(&after).unwrap();
        let forged = encode(&header, &claims, &EncodingKey::from_secret(new_key)).unwrap();
        assert_eq!(rotated.verify(&forged), Err(TokenError::Invalid));
        // Generations round-trip.
        let refreshed = rotated.issue_until("demo", "s2", 3, now_secs() + 60);
        assert_eq!(rotated.verify(&refreshed).unwrap().gen, 3);
    }
}
