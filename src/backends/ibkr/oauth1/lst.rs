//! The live session token (LST): derived from the Diffie-Hellman secret K and the decrypted access token
//! secret, checked against the server's `live_session_token_signature`, then the HMAC-SHA256 key of every
//! later call. Also the RSA operations of the handshake.

use base64::Engine;
use hmac::{Hmac, Mac};
use rsa::{Pkcs1v15Encrypt, Pkcs1v15Sign, RsaPrivateKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::time::Instant;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A live session token and when it stops being valid.
#[derive(Clone)]
pub struct LiveSessionToken {
    key: Vec<u8>,
    /// When IBKR stops accepting it (`live_session_token_expiration`, on tokio's clock).
    pub expires_at: Instant,
}

impl std::fmt::Debug for LiveSessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSessionToken")
            .field("key", &crate::secret::MASK)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl LiveSessionToken {
    /// A token of raw `key` bytes.
    pub fn new(key: Vec<u8>, expires_at: Instant) -> Self {
        LiveSessionToken { key, expires_at }
    }

    /// The token as IBKR's guide writes it (base64).
    pub fn to_base64(&self) -> String {
        B64.encode(&self.key)
    }

    /// `base64(HMAC-SHA256(LST, base string))`: the `oauth_signature` of a call after the handshake.
    pub fn sign(&self, base_string: &str) -> String {
        B64.encode(hmac_sha256(&self.key, base_string.as_bytes()))
    }
}

/// `HMAC-SHA1(key = K bytes, msg = the decrypted access token secret)`: the LST.
pub fn derive(k_bytes: &[u8], secret: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha1>::new_from_slice(k_bytes).expect("HMAC takes a key of any length");
    mac.update(secret);
    mac.finalize().into_bytes().to_vec()
}

/// Whether `hex(HMAC-SHA1(key = LST, msg = consumer key)) == signature_hex`, compared in constant time.
pub fn is_valid(lst: &[u8], consumer_key: &str, signature_hex: &str) -> bool {
    let Some(expected) = from_hex(signature_hex.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha1>::new_from_slice(lst).expect("HMAC takes a key of any length");
    mac.update(consumer_key.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// The prepend: the access token secret (base64, encrypted to the consumer's encryption key) decrypted
/// with RSA PKCS#1 v1.5. Returned as raw bytes; the base string takes their hex.
pub fn decrypt_secret(key: &RsaPrivateKey, secret_b64: &str) -> Result<Vec<u8>, String> {
    let cipher = B64
        .decode(secret_b64.trim())
        .map_err(|_| "the access token secret is not base64".to_string())?;
    key.decrypt(Pkcs1v15Encrypt, &cipher)
        .map_err(|_| "the access token secret does not decrypt with the encryption key".to_string())
}

/// `base64(RSASSA-PKCS1-v1_5(SHA-256(text)))` with the signature key: the `oauth_signature` of the
/// request token, access token and live session token requests.
pub fn rsa_sign(key: &RsaPrivateKey, text: &str) -> Result<String, String> {
    let digest = Sha256::digest(text.as_bytes());
    key.sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
        .map(|sig| B64.encode(sig))
        .map_err(|e| format!("RSA signing failed: {e}"))
}

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}
