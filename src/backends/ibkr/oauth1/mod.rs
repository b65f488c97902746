//! IBKR's OAuth 1.0a (first- and third-party Web API on `https://api.ibkr.com/v1/api`): the key material,
//! RSA-SHA256 signing of the token requests, the live session token handshake (Diffie-Hellman, RSA
//! decryption of the token secret, HMAC-SHA1 derivation and validation), HMAC-SHA256 signing of every later
//! call, and the holder that renews the token before it expires.

mod dh;
mod encode;
mod handshake;
mod keys;
mod lst;
mod renew;
mod signer;
#[cfg(test)]
pub(crate) mod tests;

pub use dh::{k_bytes, DhChallenge, DhGroup};
pub use encode::{authorization_header, base_string, pct, request_pairs, url_without_query};
pub use handshake::{
    expiry, live_session_token, live_session_token_for, HandshakeError, LstAnswer, DEFAULT_LIFETIME,
    LIVE_SESSION_TOKEN_PATH,
};
pub use keys::{
    private_key, read_pem, ConsumerKeyFiles, KeyFiles, OAuth1Config, Oauth1Keys, ReadFile, DEFAULT_REALM,
};
pub use lst::{decrypt_secret, derive, is_valid, rsa_sign, to_hex, LiveSessionToken};
pub use renew::{Expiring, Renewing};
pub use signer::{nonce, timestamp, LstSigner, RsaSigner};

/// How long before expiry the live session token is renewed.
pub const RENEW_MARGIN: std::time::Duration = std::time::Duration::from_secs(10 * 60);
