//! The bearer secrets the authorization server hands out (codes, refresh tokens, browser cookies, form
//! ids): 256 random bits each, kept in the store only as a digest, so a read of the store gives nobody a
//! usable secret.

use base64::Engine;
use rand::RngCore;

/// A new secret: 32 random bytes, base64url without padding (43 characters).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The store key of a secret of `kind`: the secret itself is never stored.
pub fn key(kind: &str, secret: &str) -> String {
    format!("oauth-{kind}:{}", crate::store::digest(&[kind, secret]))
}

/// Whether `text` could be a secret this server issued (cheap shape check before any store read).
pub fn well_formed(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_distinct_well_formed_and_never_their_own_key() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(well_formed(&a) && well_formed(&b));
        assert!(!key("code", &a).contains(&a));
        assert_ne!(key("code", &a), key("refresh", &a), "kinds never share keys");
        assert!(!well_formed("short") && !well_formed(&format!("{a}=")));
    }
}
