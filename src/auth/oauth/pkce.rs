//! PKCE (RFC 7636) with `S256` only: `plain` gives no protection against a stolen code (RFC 9700 §2.1.1).

use base64::Engine;
use sha2::{Digest, Sha256};

/// Why a challenge in an authorization request is refused.
pub fn check_challenge(challenge: &str, method: Option<&str>) -> Result<(), String> {
    match method {
        Some("S256") => {}
        None | Some("plain") => {
            return Err("code_challenge_method must be S256 (plain is not accepted)".into())
        }
        Some(other) => {
            return Err(format!(
                "code_challenge_method {other:?} is not supported; use S256"
            ))
        }
    }
    // A SHA-256 in base64url without padding is 43 characters.
    if challenge.len() != 43 || !challenge.bytes().all(unreserved_b64) {
        return Err(
            "code_challenge must be the base64url SHA-256 of the code verifier (43 characters)".into(),
        );
    }
    Ok(())
}

/// Whether `verifier` (from the token request) matches `challenge` (from the authorization request).
pub fn verify(challenge: &str, verifier: &str) -> bool {
    // RFC 7636 §4.1: 43 to 128 unreserved characters.
    let shaped = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !shaped {
        return false;
    }
    let computed =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    crate::secret::Secret::new(computed).constant_time_eq(challenge)
}

fn unreserved_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies_and_anything_else_does_not() {
        assert!(check_challenge(CHALLENGE, Some("S256")).is_ok());
        assert!(verify(CHALLENGE, VERIFIER));
        assert!(!verify(CHALLENGE, &VERIFIER.replace('d', "e")));
        assert!(!verify(CHALLENGE, "short"));
        assert!(!verify(CHALLENGE, &"a".repeat(129)));
    }

    #[test]
    fn plain_unknown_methods_and_malformed_challenges_are_refused() {
        assert!(check_challenge(CHALLENGE, None).unwrap_err().contains("S256"));
        assert!(check_challenge(CHALLENGE, Some("plain")).is_err());
        assert!(check_challenge(CHALLENGE, Some("S512")).is_err());
        assert!(check_challenge("abc", Some("S256")).is_err());
        assert!(check_challenge(&CHALLENGE.replace('E', "+"), Some("S256")).is_err());
    }
}
