//! The server side of IBKR's OAuth 1.0a: one registered consumer (its public keys, DH group, access token
//! and token secret), verification of every signed request, and the live session token exchange.

use super::wire::{base_string, parse_oauth_header};
use super::{system_clock, Identity, NowMs, Refusal};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use num_bigint::BigUint;
use rand::RngCore;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Encrypt, Pkcs1v15Sign, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// What a consumer registered with IBKR, and the access token IBKR issued to it.
#[derive(Clone)]
pub struct Consumer {
    pub consumer_key: String,
    pub realm: String,
    /// SPKI PEM of the signature key.
    pub signature_public_pem: String,
    /// SPKI PEM of the encryption key.
    pub encryption_public_pem: String,
    pub dh_prime: BigUint,
    pub dh_generator: BigUint,
    pub access_token: String,
    /// The access token secret in clear; the consumer receives it encrypted ([`Oauth1Server::encrypted_secret`]).
    pub access_token_secret: Vec<u8>,
    /// How long a live session token lasts (IBKR: about 24 hours).
    pub lst_lifetime_ms: i64,
}

/// A live session token the fake issued.
struct Issued {
    key: Vec<u8>,
    expires_ms: i64,
}

/// The fake's OAuth 1.0a verifier.
pub struct Oauth1Server {
    consumer: Consumer,
    signature_key: RsaPublicKey,
    encryption_key: RsaPublicKey,
    /// Nonces seen within the timestamp window, with their timestamps (seconds).
    nonces: Mutex<HashMap<String, i64>>,
    lst: Mutex<Option<Issued>>,
    /// How far a timestamp may be from the fake's clock, in seconds.
    pub window_s: i64,
    now: NowMs,
}

impl Oauth1Server {
    /// A server for `consumer`, on the system clock, with a 300 s timestamp window.
    pub fn new(consumer: Consumer) -> Result<Self, String> {
        Self::with_clock(consumer, system_clock())
    }

    /// A server on the given clock.
    pub fn with_clock(consumer: Consumer, now: NowMs) -> Result<Self, String> {
        let key = |pem: &str| RsaPublicKey::from_public_key_pem(pem).map_err(|e| format!("public key: {e}"));
        Ok(Oauth1Server {
            signature_key: key(&consumer.signature_public_pem)?,
            encryption_key: key(&consumer.encryption_public_pem)?,
            consumer,
            nonces: Mutex::new(HashMap::new()),
            lst: Mutex::new(None),
            window_s: 300,
            now,
        })
    }

    /// The access token secret as IBKR hands it to the consumer: RSA PKCS#1 v1.5 encrypted to the
    /// consumer's encryption key, base64.
    pub fn encrypted_secret(&self) -> String {
        let cipher = self
            .encryption_key
            .encrypt(
                &mut rand::rngs::OsRng,
                Pkcs1v15Encrypt,
                &self.consumer.access_token_secret,
            )
            .expect("the secret fits the key");
        B64.encode(cipher)
    }

    /// Makes the issued live session token expire now (a fault to inject).
    pub fn expire_lst(&self) {
        if let Some(issued) = self.lst.lock().unwrap().as_mut() {
            issued.expires_ms = (self.now)();
        }
    }

    /// The access token the consumer signs with.
    pub fn access_token(&self) -> &str {
        &self.consumer.access_token
    }

    /// Whether a live session token was issued and has not expired: what a call that carries only the
    /// access token (the WebSocket upgrade's `oauth_token`) needs.
    pub fn lst_live(&self) -> Result<(), Refusal> {
        match self.lst.lock().unwrap().as_ref() {
            None => Err(Refusal::unauthorized("no live session token")),
            Some(issued) if issued.expires_ms <= (self.now)() => {
                Err(Refusal::unauthorized("live session token expired"))
            }
            Some(_) => Ok(()),
        }
    }

    /// Verifies a call signed with the live session token (HMAC-SHA256). `url` is the full URL the client
    /// called, query included; `form` the decoded `x-www-form-urlencoded` body pairs (empty otherwise).
    pub fn verify(
        &self,
        method: &str,
        url: &str,
        authorization: Option<&str>,
        form: &[(String, String)],
    ) -> Result<Identity, Refusal> {
        let oauth = self.checked_header(authorization, "HMAC-SHA256")?;
        let base = rebuilt_base(method, url, &oauth, form)?;
        let guard = self.lst.lock().unwrap();
        let issued = guard
            .as_ref()
            .ok_or_else(|| Refusal::unauthorized("no live session token"))?;
        if issued.expires_ms <= (self.now)() {
            return Err(Refusal::unauthorized("live session token expired"));
        }
        let given = B64
            .decode(&oauth["oauth_signature"])
            .map_err(|_| Refusal::unauthorized("invalid signature"))?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&issued.key).unwrap();
        mac.update(base.as_bytes());
        mac.verify_slice(&given)
            .map_err(|_| Refusal::unauthorized("invalid signature"))?;
        drop(guard);
        self.fresh_nonce(&oauth)?;
        Ok(self.identity())
    }

    /// `POST /oauth/live_session_token`: checks the RSA-SHA256 signature over prepend + base string, picks
    /// `b`, answers `B = g^b mod p`, and keeps the LST both sides now derive. Returns the answer body.
    pub fn live_session_token(
        &self,
        method: &str,
        url: &str,
        authorization: Option<&str>,
        form: &[(String, String)],
    ) -> Result<serde_json::Value, Refusal> {
        let oauth = self.checked_header(authorization, "RSA-SHA256")?;
        let challenge = oauth
            .get("diffie_hellman_challenge")
            .ok_or_else(|| Refusal::with_status(400, "diffie_hellman_challenge missing"))?;
        let prepend: String = self
            .consumer
            .access_token_secret
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let base = format!("{prepend}{}", rebuilt_base(method, url, &oauth, form)?);
        let given = B64
            .decode(&oauth["oauth_signature"])
            .map_err(|_| Refusal::unauthorized("invalid signature"))?;
        self.signature_key
            .verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(base.as_bytes()),
                &given,
            )
            .map_err(|_| Refusal::unauthorized("invalid signature"))?;
        self.fresh_nonce(&oauth)?;
        let a = BigUint::parse_bytes(challenge.as_bytes(), 16)
            .ok_or_else(|| Refusal::with_status(400, "bad challenge"))?;
        let mut b = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut b);
        let (response, k) = server_exchange(
            &self.consumer.dh_prime,
            &self.consumer.dh_generator,
            &a,
            &BigUint::from_bytes_be(&b),
        );
        let lst = hmac_sha1(&k, &self.consumer.access_token_secret);
        let signature: String = hmac_sha1(&lst, self.consumer.consumer_key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let expires_ms = (self.now)() + self.consumer.lst_lifetime_ms;
        *self.lst.lock().unwrap() = Some(Issued { key: lst, expires_ms });
        Ok(serde_json::json!({
            "diffie_hellman_response": response,
            "live_session_token_signature": signature,
            "live_session_token_expiration": expires_ms,
        }))
    }

    fn identity(&self) -> Identity {
        Identity {
            client: self.consumer.consumer_key.clone(),
            user: self.consumer.access_token.clone(),
        }
    }

    /// The header's pairs once the realm, consumer, token, method and timestamp are right.
    fn checked_header(
        &self,
        authorization: Option<&str>,
        method: &str,
    ) -> Result<HashMap<String, String>, Refusal> {
        let expected = HeaderRules {
            realm: &self.consumer.realm,
            consumer_key: &self.consumer.consumer_key,
            token: Some(&self.consumer.access_token),
            method,
            needed: &[],
            now_s: (self.now)() / 1000,
            window_s: self.window_s,
        };
        checked_header(authorization, &expected)
    }

    /// Refuses a nonce seen within the window; forgets nonces older than the window.
    fn fresh_nonce(&self, oauth: &HashMap<String, String>) -> Result<(), Refusal> {
        let now_s = (self.now)() / 1000;
        let mut seen = self.nonces.lock().unwrap();
        seen.retain(|_, ts| (now_s - *ts).abs() <= self.window_s);
        let ts = oauth["oauth_timestamp"].parse().unwrap_or(now_s);
        if seen.insert(oauth["oauth_nonce"].clone(), ts).is_some() {
            return Err(Refusal::unauthorized("nonce already used"));
        }
        Ok(())
    }
}

/// What an `Authorization: OAuth ...` header must hold for a server to go on to its signature.
pub(crate) struct HeaderRules<'a> {
    pub realm: &'a str,
    pub consumer_key: &'a str,
    /// The access token the header must name, when the server knows only one.
    pub token: Option<&'a str>,
    /// `oauth_signature_method`.
    pub method: &'a str,
    /// Pairs the request must carry besides the common ones (`oauth_token`, `oauth_verifier`...).
    pub needed: &'a [&'a str],
    /// The server's time and how far a request's `oauth_timestamp` may be from it.
    pub now_s: i64,
    pub window_s: i64,
}

/// The header's pairs (realm removed) once realm, consumer, token, method, timestamp and the needed pairs
/// are there and right; the first thing wrong is the refusal.
pub(crate) fn checked_header(
    authorization: Option<&str>,
    rules: &HeaderRules<'_>,
) -> Result<HashMap<String, String>, Refusal> {
    let header = authorization.ok_or_else(|| Refusal::unauthorized("missing Authorization header"))?;
    let pairs = parse_oauth_header(header).ok_or_else(|| Refusal::unauthorized("malformed OAuth header"))?;
    let mut oauth: HashMap<String, String> = pairs.into_iter().collect();
    let common = [
        "realm",
        "oauth_consumer_key",
        "oauth_nonce",
        "oauth_signature",
        "oauth_signature_method",
        "oauth_timestamp",
    ];
    let token = rules.token.map(|_| "oauth_token");
    for name in common.iter().chain(token.iter()).chain(rules.needed) {
        if !oauth.contains_key(*name) {
            return Err(Refusal::unauthorized(format!("{name} missing")));
        }
    }
    if oauth["realm"] != rules.realm {
        return Err(Refusal::unauthorized("wrong realm"));
    }
    if oauth["oauth_consumer_key"] != rules.consumer_key {
        return Err(Refusal::unauthorized("invalid consumer"));
    }
    if let Some(token) = rules.token {
        if oauth["oauth_token"] != token {
            return Err(Refusal::unauthorized("invalid token"));
        }
    }
    if oauth["oauth_signature_method"] != rules.method {
        return Err(Refusal::unauthorized(format!(
            "signature method must be {}",
            rules.method
        )));
    }
    let ts: i64 = oauth["oauth_timestamp"]
        .parse()
        .map_err(|_| Refusal::unauthorized("bad timestamp"))?;
    if (ts - rules.now_s).abs() > rules.window_s {
        return Err(Refusal::unauthorized("timestamp outside the window"));
    }
    oauth.remove("realm");
    Ok(oauth)
}

/// The base string of a request: the header pairs but the signature, the query pairs, the form pairs.
pub(crate) fn rebuilt_base(
    method: &str,
    url: &str,
    oauth: &HashMap<String, String>,
    form: &[(String, String)],
) -> Result<String, Refusal> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| Refusal::with_status(400, "malformed query"))?;
    let mut pairs: Vec<(String, String)> = oauth
        .iter()
        .filter(|(k, _)| *k != "oauth_signature")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    pairs.extend(query);
    pairs.extend(form.iter().cloned());
    Ok(base_string(method, path, &pairs))
}

/// The server's half of the exchange for the client's challenge `A` and the secret `b`:
/// `(hex B = g^b mod p, K = A^b mod p as Java's BigInteger.toByteArray() gives it)`.
pub fn server_exchange(p: &BigUint, g: &BigUint, a_public: &BigUint, b: &BigUint) -> (String, Vec<u8>) {
    let response = g.modpow(b, p).to_str_radix(16);
    let k = a_public.modpow(b, p);
    // Java's two's-complement bytes: a sign byte when the top bit of the first byte is set.
    let mut bytes = k.to_bytes_be();
    if bytes[0] & 0x80 != 0 {
        bytes.insert(0, 0);
    }
    (response, bytes)
}

pub(crate) fn hmac_sha1(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}
