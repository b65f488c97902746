//! The [`Signer`]s of IBKR's OAuth 1.0a: RSA-SHA256 with the signature key for the token requests
//! ([`RsaSigner`]) and HMAC-SHA256 with the live session token for every later call ([`LstSigner`]).
//! Each attempt gets a fresh nonce and timestamp, so a retried call is never a replay.

use super::encode::{authorization_header, base_string, request_pairs, url_without_query};
use super::keys::Oauth1Keys;
use super::lst::{rsa_sign, to_hex, LiveSessionToken};
use crate::upstream::transport::{SignError, Signer};
use rand::distributions::{Alphanumeric, DistString};
use reqwest::header::{HeaderValue, AUTHORIZATION};

/// A fresh `oauth_nonce`: 32 random letters and digits, like IBKR's examples.
pub fn nonce() -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, 32)
}

/// The `oauth_timestamp`: unix seconds now.
pub fn timestamp() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
        .to_string()
}

/// Signs the token requests with the private signature key (RSA-SHA256).
pub struct RsaSigner<'a> {
    keys: &'a Oauth1Keys,
    /// `oauth_token`, when the request carries one.
    token: Option<String>,
    /// The request's own protocol pairs (`oauth_callback`, `oauth_verifier`, `diffie_hellman_challenge`).
    extra: Vec<(String, String)>,
    /// Put before the base string: the hex of the decrypted access token secret (LST request only).
    prepend: String,
}

impl std::fmt::Debug for RsaSigner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaSigner").finish_non_exhaustive()
    }
}

impl<'a> RsaSigner<'a> {
    /// `POST /oauth/request_token`: `oauth_callback="oob"`, no token (first party: no browser comes back).
    pub fn request_token(keys: &'a Oauth1Keys) -> Self {
        Self::request_token_with_callback(keys, "oob")
    }

    /// `POST /oauth/request_token` of a three-legged grant: IBKR sends the user's browser back to
    /// `callback` (third party).
    pub fn request_token_with_callback(keys: &'a Oauth1Keys, callback: &str) -> Self {
        let extra = vec![("oauth_callback".into(), callback.into())];
        RsaSigner {
            keys,
            token: None,
            extra,
            prepend: String::new(),
        }
    }

    /// `POST /oauth/access_token`: the request token and the verifier the user came back with.
    pub fn access_token(keys: &'a Oauth1Keys, request_token: &str, verifier: &str) -> Self {
        let extra = vec![("oauth_verifier".into(), verifier.into())];
        RsaSigner {
            keys,
            token: Some(request_token.into()),
            extra,
            prepend: String::new(),
        }
    }

    /// `POST /oauth/live_session_token`: the access token, the DH challenge, and the decrypted access
    /// token secret put (as hex) in front of the base string.
    pub fn live_session_token(keys: &'a Oauth1Keys, secret: &[u8], challenge_hex: &str) -> Self {
        Self::live_session_token_for(keys, keys.access_token.expose(), secret, challenge_hex)
    }

    /// [`RsaSigner::live_session_token`] for an access token other than `keys`' own (third party: each
    /// user's grant).
    pub fn live_session_token_for(
        keys: &'a Oauth1Keys,
        access_token: &str,
        secret: &[u8],
        challenge_hex: &str,
    ) -> Self {
        let extra = vec![("diffie_hellman_challenge".into(), challenge_hex.into())];
        let token = Some(access_token.to_string());
        RsaSigner {
            keys,
            token,
            extra,
            prepend: to_hex(secret),
        }
    }

    /// Signs `req` with the given nonce and timestamp (tests fix them; [`Signer::sign`] draws fresh ones).
    pub fn sign_at(&self, req: &mut reqwest::Request, nonce: &str, timestamp: &str) -> Result<(), SignError> {
        let mut oauth = protocol_pairs(self.keys, self.token.as_deref(), "RSA-SHA256", nonce, timestamp);
        oauth.extend(self.extra.iter().cloned());
        sign_request(req, &self.keys.realm, oauth, |base| {
            rsa_sign(&self.keys.signature_key, &format!("{}{base}", self.prepend))
        })
    }
}

impl Signer for RsaSigner<'_> {
    fn sign(&self, req: &mut reqwest::Request) -> Result<(), SignError> {
        self.sign_at(req, &nonce(), &timestamp())
    }
}

/// Signs a call with the live session token (HMAC-SHA256), as every call after the handshake is.
pub struct LstSigner<'a> {
    keys: &'a Oauth1Keys,
    /// `oauth_token`: the access token the live session token was obtained with.
    token: &'a str,
    lst: &'a LiveSessionToken,
}

impl std::fmt::Debug for LstSigner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LstSigner").finish_non_exhaustive()
    }
}

impl<'a> LstSigner<'a> {
    /// A signer of `keys`' access token with `lst`.
    pub fn new(keys: &'a Oauth1Keys, lst: &'a LiveSessionToken) -> Self {
        Self::for_token(keys, keys.access_token.expose(), lst)
    }

    /// A signer of another access token than `keys`' own (third party: a user's grant) with `lst`, the
    /// live session token obtained with that access token.
    pub fn for_token(keys: &'a Oauth1Keys, token: &'a str, lst: &'a LiveSessionToken) -> Self {
        LstSigner { keys, token, lst }
    }

    /// Signs `req` with the given nonce and timestamp.
    pub fn sign_at(&self, req: &mut reqwest::Request, nonce: &str, timestamp: &str) -> Result<(), SignError> {
        let oauth = protocol_pairs(self.keys, Some(self.token), "HMAC-SHA256", nonce, timestamp);
        sign_request(req, &self.keys.realm, oauth, |base| Ok(self.lst.sign(base)))
    }
}

impl Signer for LstSigner<'_> {
    fn sign(&self, req: &mut reqwest::Request) -> Result<(), SignError> {
        self.sign_at(req, &nonce(), &timestamp())
    }
}

/// The `oauth_*` pairs every request carries.
fn protocol_pairs(
    keys: &Oauth1Keys,
    token: Option<&str>,
    method: &str,
    nonce: &str,
    timestamp: &str,
) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("oauth_consumer_key".to_string(), keys.consumer_key.clone()),
        ("oauth_nonce".to_string(), nonce.to_string()),
        ("oauth_signature_method".to_string(), method.to_string()),
        ("oauth_timestamp".to_string(), timestamp.to_string()),
    ];
    if let Some(token) = token {
        pairs.push(("oauth_token".to_string(), token.to_string()));
    }
    pairs
}

/// Builds the base string from the protocol pairs and the request's query and form pairs, signs it, and
/// sets `Authorization` (marked sensitive, so reqwest never prints it).
fn sign_request(
    req: &mut reqwest::Request,
    realm: &str,
    mut oauth: Vec<(String, String)>,
    sign: impl FnOnce(&str) -> Result<String, String>,
) -> Result<(), SignError> {
    let mut pairs = oauth.clone();
    pairs.extend(request_pairs(req).map_err(SignError)?);
    let base = base_string(req.method().as_str(), &url_without_query(req.url()), &pairs);
    oauth.push(("oauth_signature".to_string(), sign(&base).map_err(SignError)?));
    let mut value = HeaderValue::from_str(&authorization_header(realm, &oauth))
        .map_err(|_| SignError("the OAuth header is not a valid header value".into()))?;
    value.set_sensitive(true);
    req.headers_mut().insert(AUTHORIZATION, value);
    Ok(())
}
