//! The server side of the Third-Party Web API's three-legged OAuth 1.0a: one registered consumer, request
//! tokens bound to a callback, the user's approval (a verifier), access tokens (many per consumer, one
//! user each) whose secrets go out encrypted to the consumer's encryption key, live session tokens per
//! access token, and the verification of every signed request (RSA-SHA256 for the token endpoints,
//! HMAC-SHA256 with a live session token for the resources).
//!
//! Two clocks: `wall` judges the `oauth_timestamp` window (clients sign with real time), `now` ages
//! request tokens and live session tokens (tests move it).

use super::oauth1::{checked_header, hmac_sha1, rebuilt_base, server_exchange, HeaderRules};
use super::{NowMs, Refusal};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use num_bigint::BigUint;
use rand::RngCore;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Encrypt, Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// What a third-party consumer registered with IBKR.
#[derive(Clone, Debug)]
pub struct Registration {
    pub consumer_key: String,
    pub realm: String,
    /// SPKI PEM of the signature key.
    pub signature_public_pem: String,
    /// SPKI PEM of the encryption key.
    pub encryption_public_pem: String,
    pub dh_prime: BigUint,
    pub dh_generator: BigUint,
    /// How long a live session token lasts (IBKR: about 24 hours).
    pub lst_lifetime_ms: i64,
    /// How long a request token waits for the user and the exchange (10 minutes, ASSUMED).
    pub request_token_lifetime_ms: i64,
    /// Live session tokens of one access token that stay valid at once (the newest ones).
    pub lsts_per_token: usize,
}

/// Where a request token is in the grant.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Stage {
    /// Waiting for the user on the authorization page.
    Pending,
    /// The user approved; the verifier is waiting for the exchange.
    Approved { user: String, verifier: String },
    /// Exchanged, denied or expired: never usable again.
    Spent,
}

struct RequestToken {
    callback: String,
    issued_ms: i64,
    stage: Stage,
}

struct Lst {
    key: Vec<u8>,
    expires_ms: i64,
}

struct AccessToken {
    user: String,
    secret: Vec<u8>,
    revoked: bool,
    lsts: Vec<Lst>,
}

#[derive(Default)]
struct Grants {
    nonces: HashMap<String, i64>,
    request_tokens: HashMap<String, RequestToken>,
    access_tokens: HashMap<String, AccessToken>,
    lsts_issued: usize,
}

/// Who a verified resource call comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub access_token: String,
    pub user: String,
}

/// An access token as the consumer receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedAccess {
    pub access_token: String,
    /// The secret, RSA PKCS#1 v1.5 encrypted to the consumer's encryption key, base64.
    pub encrypted_secret: String,
    pub user: String,
}

/// Where the user's browser goes once they decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A redirect to the consumer's callback, parameters appended.
    Redirect(String),
    /// The callback was `oob`: the verifier is shown to the user (`None` when they denied).
    OutOfBand(Option<String>),
}

/// The fake's three-legged OAuth 1.0a server.
pub struct ThreeLeggedServer {
    registration: Registration,
    signature_key: RsaPublicKey,
    encryption_key: RsaPublicKey,
    grants: Mutex<Grants>,
    /// How far an `oauth_timestamp` may be from `wall`, in seconds.
    pub window_s: i64,
    wall: NowMs,
    now: NowMs,
}

impl ThreeLeggedServer {
    /// A server for `registration`; `wall` judges timestamps, `now` ages tokens.
    pub fn new(registration: Registration, wall: NowMs, now: NowMs) -> Result<Self, String> {
        let key = |pem: &str| RsaPublicKey::from_public_key_pem(pem).map_err(|e| format!("public key: {e}"));
        Ok(ThreeLeggedServer {
            signature_key: key(&registration.signature_public_pem)?,
            encryption_key: key(&registration.encryption_public_pem)?,
            registration,
            grants: Mutex::new(Grants::default()),
            window_s: 300,
            wall,
            now,
        })
    }

    /// The registration.
    pub fn registration(&self) -> &Registration {
        &self.registration
    }

    fn grants(&self) -> MutexGuard<'_, Grants> {
        self.grants.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `POST /oauth/request_token`: RSA-SHA256 over the base string, a callback that is an http(s) URL
    /// or `oob`, no `oauth_token`. Answers `{"oauth_token": <request token>}`.
    pub fn request_token(
        &self,
        method: &str,
        url: &str,
        authorization: Option<&str>,
        form: &[(String, String)],
    ) -> Result<serde_json::Value, Refusal> {
        let oauth = self.checked_header(authorization, "RSA-SHA256", &[])?;
        let callback = oauth
            .get("oauth_callback")
            .cloned()
            .ok_or_else(|| Refusal::with_status(400, "oauth_callback missing"))?;
        if !valid_callback(&callback) {
            return Err(Refusal::with_status(
                400,
                "oauth_callback must be an http(s) URL or oob",
            ));
        }
        if oauth.contains_key("oauth_token") {
            return Err(Refusal::with_status(400, "oauth_token not allowed here"));
        }
        self.rsa_verify("", method, url, &oauth, form)?;
        let mut grants = self.grants();
        self.fresh_nonce(&mut grants, &oauth)?;
        let token = random_hex(16);
        grants.request_tokens.insert(
            token.clone(),
            RequestToken {
                callback,
                issued_ms: (self.now)(),
                stage: Stage::Pending,
            },
        );
        Ok(serde_json::json!({ "oauth_token": token }))
    }

    /// Whether `request_token` waits for the user (what the authorization page checks first).
    pub fn pending(&self, request_token: &str) -> Result<(), Refusal> {
        let mut grants = self.grants();
        let rt = self.live_request_token(&mut grants, request_token)?;
        match rt.stage {
            Stage::Pending => Ok(()),
            _ => Err(Refusal::with_status(400, "request token already used")),
        }
    }

    /// The user `user` approved `request_token` (their password was checked): a fresh verifier, and where
    /// the browser goes.
    pub fn approve(&self, request_token: &str, user: &str) -> Result<Decision, Refusal> {
        let mut grants = self.grants();
        let rt = self.live_request_token(&mut grants, request_token)?;
        if rt.stage != Stage::Pending {
            return Err(Refusal::with_status(400, "request token already used"));
        }
        let verifier = random_hex(12);
        rt.stage = Stage::Approved {
            user: user.to_string(),
            verifier: verifier.clone(),
        };
        Ok(decision(
            &rt.callback,
            request_token,
            &[("oauth_verifier", verifier.as_str())],
            Some(verifier.clone()),
        ))
    }

    /// The user denied `request_token`: it is spent; the callback gets `denied=1` and no verifier.
    pub fn deny(&self, request_token: &str) -> Result<Decision, Refusal> {
        let mut grants = self.grants();
        let rt = self.live_request_token(&mut grants, request_token)?;
        if rt.stage != Stage::Pending {
            return Err(Refusal::with_status(400, "request token already used"));
        }
        rt.stage = Stage::Spent;
        Ok(decision(&rt.callback, request_token, &[("denied", "1")], None))
    }

    /// `POST /oauth/access_token`: RSA-SHA256, `oauth_token` = an approved request token, its
    /// `oauth_verifier`. Spends the request token and issues an access token for the user.
    pub fn access_token(
        &self,
        method: &str,
        url: &str,
        authorization: Option<&str>,
        form: &[(String, String)],
    ) -> Result<IssuedAccess, Refusal> {
        let oauth = self.checked_header(authorization, "RSA-SHA256", &["oauth_token", "oauth_verifier"])?;
        self.rsa_verify("", method, url, &oauth, form)?;
        let mut grants = self.grants();
        self.fresh_nonce(&mut grants, &oauth)?;
        let rt = self.live_request_token(&mut grants, &oauth["oauth_token"])?;
        let user = match &rt.stage {
            Stage::Approved { user, verifier } if *verifier == oauth["oauth_verifier"] => user.clone(),
            Stage::Approved { .. } => return Err(Refusal::unauthorized("invalid verifier")),
            Stage::Pending => return Err(Refusal::unauthorized("request token not authorized")),
            Stage::Spent => return Err(Refusal::unauthorized("request token already used")),
        };
        rt.stage = Stage::Spent;
        drop(grants);
        self.issue(&user)
    }

    /// Issues an access token for `user` at once (the test helper behind a grant without a browser).
    pub fn issue(&self, user: &str) -> Result<IssuedAccess, Refusal> {
        let token = random_hex(10);
        let secret = random_hex(32).into_bytes();
        let encrypted = self
            .encryption_key
            .encrypt(&mut rand::rngs::OsRng, Pkcs1v15Encrypt, &secret)
            .map_err(|_| Refusal::with_status(500, "cannot encrypt the token secret"))?;
        self.grants().access_tokens.insert(
            token.clone(),
            AccessToken {
                user: user.to_string(),
                secret,
                revoked: false,
                lsts: Vec::new(),
            },
        );
        Ok(IssuedAccess {
            access_token: token,
            encrypted_secret: B64.encode(encrypted),
            user: user.to_string(),
        })
    }

    /// `POST /oauth/live_session_token` for one access token: RSA-SHA256 over the hex secret + base
    /// string, Diffie-Hellman with the consumer's group. A revoked token gets 401.
    pub fn live_session_token(
        &self,
        method: &str,
        url: &str,
        authorization: Option<&str>,
        form: &[(String, String)],
    ) -> Result<(Caller, serde_json::Value), Refusal> {
        let oauth = self.checked_header(
            authorization,
            "RSA-SHA256",
            &["oauth_token", "diffie_hellman_challenge"],
        )?;
        let (secret, user) = {
            let grants = self.grants();
            let token = grants
                .access_tokens
                .get(&oauth["oauth_token"])
                .ok_or_else(|| Refusal::unauthorized("invalid token"))?;
            if token.revoked {
                return Err(Refusal::unauthorized("access token revoked"));
            }
            (token.secret.clone(), token.user.clone())
        };
        let prepend: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        self.rsa_verify(&prepend, method, url, &oauth, form)?;
        let a = BigUint::parse_bytes(oauth["diffie_hellman_challenge"].as_bytes(), 16)
            .ok_or_else(|| Refusal::with_status(400, "bad challenge"))?;
        let mut b = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut b);
        let reg = &self.registration;
        let (response, k) =
            server_exchange(&reg.dh_prime, &reg.dh_generator, &a, &BigUint::from_bytes_be(&b));
        let lst = hmac_sha1(&k, &secret);
        let signature: String = hmac_sha1(&lst, reg.consumer_key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let expires_ms = (self.now)() + reg.lst_lifetime_ms;
        let mut grants = self.grants();
        self.fresh_nonce(&mut grants, &oauth)?;
        grants.lsts_issued += 1;
        let keep = reg.lsts_per_token.max(1);
        let token = grants
            .access_tokens
            .get_mut(&oauth["oauth_token"])
            .ok_or_else(|| Refusal::unauthorized("invalid token"))?;
        token.lsts.push(Lst { key: lst, expires_ms });
        let excess = token.lsts.len().saturating_sub(keep);
        token.lsts.drain(..excess);
        let caller = Caller {
            access_token: oauth["oauth_token"].clone(),
            user,
        };
        Ok((
            caller,
            serde_json::json!({
                "diffie_hellman_response": response,
                "live_session_token_signature": signature,
                "live_session_token_expiration": expires_ms,
            }),
        ))
    }

    /// Verifies a resource call signed with a live session token of its access token (HMAC-SHA256).
    pub fn verify(
        &self,
        method: &str,
        url: &str,
        authorization: Option<&str>,
        form: &[(String, String)],
    ) -> Result<Caller, Refusal> {
        let oauth = self.checked_header(authorization, "HMAC-SHA256", &["oauth_token"])?;
        let base = rebuilt_base(method, url, &oauth, form)?;
        let given = B64
            .decode(&oauth["oauth_signature"])
            .map_err(|_| Refusal::unauthorized("invalid signature"))?;
        let now = (self.now)();
        let mut grants = self.grants();
        let token = grants
            .access_tokens
            .get(&oauth["oauth_token"])
            .ok_or_else(|| Refusal::unauthorized("invalid token"))?;
        if token.revoked {
            return Err(Refusal::unauthorized("access token revoked"));
        }
        let live: Vec<&Lst> = token.lsts.iter().filter(|l| l.expires_ms > now).collect();
        if live.is_empty() {
            let why = if token.lsts.is_empty() {
                "no live session token"
            } else {
                "live session token expired"
            };
            return Err(Refusal::unauthorized(why));
        }
        let signed = live.iter().any(|l| {
            Hmac::<Sha256>::new_from_slice(&l.key).is_ok_and(|mut mac| {
                mac.update(base.as_bytes());
                mac.verify_slice(&given).is_ok()
            })
        });
        if !signed {
            return Err(Refusal::unauthorized("invalid signature"));
        }
        let user = token.user.clone();
        self.fresh_nonce(&mut grants, &oauth)?;
        Ok(Caller {
            access_token: oauth["oauth_token"].clone(),
            user,
        })
    }

    /// Revokes every access token of `user` (their live session tokens stop working with them).
    pub fn revoke_user(&self, user: &str) -> usize {
        let mut grants = self.grants();
        let mut n = 0;
        for token in grants.access_tokens.values_mut().filter(|t| t.user == user) {
            token.revoked = true;
            n += 1;
        }
        n
    }

    /// Every live session token expires now.
    pub fn expire_lsts(&self) {
        let now = (self.now)();
        for token in self.grants().access_tokens.values_mut() {
            for lst in &mut token.lsts {
                lst.expires_ms = lst.expires_ms.min(now);
            }
        }
    }

    /// Live session tokens issued so far.
    pub fn lsts_issued(&self) -> usize {
        self.grants().lsts_issued
    }

    /// The access tokens issued to `user` (revoked ones included).
    pub fn access_tokens_of(&self, user: &str) -> Vec<String> {
        self.grants()
            .access_tokens
            .iter()
            .filter(|(_, t)| t.user == user)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The request token if it exists and has not aged out (an aged one is spent on the way).
    fn live_request_token<'g>(
        &self,
        grants: &'g mut Grants,
        token: &str,
    ) -> Result<&'g mut RequestToken, Refusal> {
        let now = (self.now)();
        let lifetime = self.registration.request_token_lifetime_ms;
        let rt = grants
            .request_tokens
            .get_mut(token)
            .ok_or_else(|| Refusal::unauthorized("invalid request token"))?;
        if now - rt.issued_ms > lifetime {
            rt.stage = Stage::Spent;
            return Err(Refusal::unauthorized("request token expired"));
        }
        Ok(rt)
    }

    /// The header's pairs (realm removed) once realm, consumer, method, timestamp and the `needed`
    /// pairs are there and right.
    fn checked_header(
        &self,
        authorization: Option<&str>,
        method: &str,
        needed: &[&str],
    ) -> Result<HashMap<String, String>, Refusal> {
        let rules = HeaderRules {
            realm: &self.registration.realm,
            consumer_key: &self.registration.consumer_key,
            token: None,
            method,
            needed,
            now_s: (self.wall)() / 1000,
            window_s: self.window_s,
        };
        checked_header(authorization, &rules)
    }

    /// Checks an RSA-SHA256 signature over `prepend` + the rebuilt base string.
    fn rsa_verify(
        &self,
        prepend: &str,
        method: &str,
        url: &str,
        oauth: &HashMap<String, String>,
        form: &[(String, String)],
    ) -> Result<(), Refusal> {
        let base = format!("{prepend}{}", rebuilt_base(method, url, oauth, form)?);
        let given = B64
            .decode(&oauth["oauth_signature"])
            .map_err(|_| Refusal::unauthorized("invalid signature"))?;
        self.signature_key
            .verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(base.as_bytes()),
                &given,
            )
            .map_err(|_| Refusal::unauthorized("invalid signature"))
    }

    /// Refuses a nonce seen within the window; forgets nonces older than the window.
    fn fresh_nonce(&self, grants: &mut Grants, oauth: &HashMap<String, String>) -> Result<(), Refusal> {
        let now_s = (self.wall)() / 1000;
        let window = self.window_s;
        grants.nonces.retain(|_, ts| (now_s - *ts).abs() <= window);
        let ts = oauth["oauth_timestamp"].parse().unwrap_or(now_s);
        if grants.nonces.insert(oauth["oauth_nonce"].clone(), ts).is_some() {
            return Err(Refusal::unauthorized("nonce already used"));
        }
        Ok(())
    }
}

/// An `http://` or `https://` URL with a host, or `oob`.
fn valid_callback(callback: &str) -> bool {
    if callback == "oob" {
        return true;
    }
    let rest = callback
        .strip_prefix("https://")
        .or_else(|| callback.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.contains(char::is_whitespace)
    })
}

/// The callback with `oauth_token` and `extra` appended (`&` after an existing query, else `?`), or the
/// out-of-band answer.
fn decision(callback: &str, token: &str, extra: &[(&str, &str)], verifier: Option<String>) -> Decision {
    if callback == "oob" {
        return Decision::OutOfBand(verifier);
    }
    let (before_fragment, fragment) = match callback.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (callback, None),
    };
    let mut url = before_fragment.to_string();
    let mut pairs = vec![("oauth_token", token)];
    pairs.extend_from_slice(extra);
    for (k, v) in pairs {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("{k}={}", super::pct(v)));
    }
    if let Some(f) = fragment {
        url.push('#');
        url.push_str(f);
    }
    Decision::Redirect(url)
}

/// Random lower-case hex of `bytes` random bytes.
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_are_http_urls_or_oob() {
        assert!(valid_callback("https://bridge.example/cb"));
        assert!(valid_callback("http://127.0.0.1:8080/cb?x=1"));
        assert!(valid_callback("oob"));
        assert!(!valid_callback("ftp://x/cb"));
        assert!(!valid_callback("https:///cb"));
        assert!(!valid_callback("javascript:alert(1)"));
        assert!(!valid_callback(""));
    }

    #[test]
    fn the_redirect_appends_to_an_existing_query_and_keeps_the_fragment() {
        let d = decision(
            "https://b.example/cb?state=a%20b#top",
            "rt",
            &[("denied", "1")],
            None,
        );
        assert_eq!(
            d,
            Decision::Redirect("https://b.example/cb?state=a%20b&oauth_token=rt&denied=1#top".into())
        );
        let d = decision("https://b.example/cb", "rt", &[("oauth_verifier", "v")], None);
        assert_eq!(
            d,
            Decision::Redirect("https://b.example/cb?oauth_token=rt&oauth_verifier=v".into())
        );
        assert_eq!(
            decision("oob", "rt", &[], Some("v".into())),
            Decision::OutOfBand(Some("v".into()))
        );
    }
}
