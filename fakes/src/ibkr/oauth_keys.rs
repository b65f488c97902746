//! The throw-away key material of `testdata/ibkr/keys/` the fake's OAuth modes register, and what a client
//! of the fake (a test, the bridge) needs to be configured with: consumer key, access token, the encrypted
//! access token secret, key file paths, the Diffie-Hellman group; or the OAuth 2.0 client id, key id and
//! key file.

use num_bigint::BigUint;
use std::path::PathBuf;

/// The folder of the test keys (absolute, from this crate's manifest directory).
pub fn keys_dir() -> PathBuf {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // The crate sits in the workspace root; fall back to `..` should it ever not have a parent.
    crate_dir
        .parent()
        .map_or_else(|| crate_dir.join(".."), std::path::Path::to_path_buf)
        .join("testdata/ibkr/keys")
}

/// The text of one key file of [`keys_dir`].
///
/// # Panics
/// When the file is missing (the checkout is broken).
pub(super) fn read_key(name: &str) -> String {
    let path = keys_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("test key {}: {e}", path.display()))
}

/// `(p, g)` of a PEM `DH PARAMETERS` block (DER `SEQUENCE { INTEGER p, INTEGER g }`); `None` when it is
/// not one.
pub fn dh_params(pem: &str) -> Option<(BigUint, BigUint)> {
    use base64::Engine;
    let b64: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && !l.is_empty())
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let (tag, body, _) = der_item(&der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag_p, p, rest) = der_item(body)?;
    let (tag_g, g, _) = der_item(rest)?;
    (tag_p == 0x02 && tag_g == 0x02).then(|| (BigUint::from_bytes_be(p), BigUint::from_bytes_be(g)))
}

/// One DER item: (tag, contents, what follows).
fn der_item(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *der.first()?;
    let first = *der.get(1)? as usize;
    let (len, start) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let len = der
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, 2 + n)
    };
    let end = start.checked_add(len)?;
    Some((tag, der.get(start..end)?, der.get(end..)?))
}

/// What an OAuth 1.0a client of the fake is configured with (first-party style: IBKR's self-service
/// portal hands out the same items). The encrypted secret is only readable with the private encryption
/// key, as from IBKR.
#[derive(Clone)]
pub struct Oauth1ClientMaterial {
    pub consumer_key: String,
    /// `test_realm` for `TESTCONS`, `limited_poa` otherwise (as IBKR's guide says).
    pub realm: String,
    pub access_token: String,
    /// The access token secret, RSA-encrypted to the consumer's encryption key, base64.
    pub encrypted_access_token_secret: String,
    /// PKCS#1 PEM of the private signature key.
    pub signature_key_file: PathBuf,
    /// PKCS#8 PEM of the private encryption key.
    pub encryption_key_file: PathBuf,
    /// PEM `DH PARAMETERS` file.
    pub dh_param_file: PathBuf,
    pub dh_prime: BigUint,
    pub dh_generator: BigUint,
}

/// What an OAuth 2.0 client of the fake is configured with.
#[derive(Clone)]
pub struct Oauth2ClientMaterial {
    pub client_id: String,
    /// The `kid` its assertions carry.
    pub key_id: String,
    /// PKCS#8 PEM of the private signing key.
    pub private_key_file: PathBuf,
    /// The IBKR username its SSO-session requests name.
    pub username: String,
    /// The `aud` of its client assertions.
    pub audience: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_holds_rfc_3526s_2048_bit_group() {
        let (p, g) = dh_params(&read_key("dhparam.pem")).expect("DH parameters");
        assert_eq!(p.bits(), 2048);
        assert_eq!(g, BigUint::from(2u32));
        assert!(p.to_str_radix(16).starts_with("ffffffffffffffffc90fdaa22168c234"));
    }

    #[test]
    fn anything_but_dh_parameters_is_refused() {
        assert!(dh_params("not pem").is_none());
        assert!(dh_params(&read_key("signature.pub.pem")).is_none());
        assert!(
            der_item(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none(),
            "a length of 5 bytes"
        );
        assert!(der_item(&[0x02, 0x03, 1]).is_none(), "contents past the end");
    }
}
