//! A small independent consumer of the fake: RSA-SHA256 signing of the token endpoints, the
//! Diffie-Hellman live session token, HMAC-SHA256 signing of resource calls, and the browser's side of
//! the authorization page.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fakes::ibkr_third_party::{ConsumerMaterial, FakeIbkrThirdParty, FakeIbkrThirdPartyOptions};
use hmac::{Hmac, Mac};
use num_bigint::BigUint;
use reqwest::header::HeaderMap;
use reqwest::Method;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Encrypt, Pkcs1v15Sign, RsaPrivateKey};
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};

pub const ALICE: (&str, &str) = ("alice", "alice-pass-1");
pub const ALICE_ACCT: &str = "U1234567";
pub const BOB_ACCT: &str = "U7654321";
pub const AAPL: i64 = 265_598;
pub const IBM: i64 = 8_314;
pub const EURUSD: i64 = 12_087_792;
pub const CALLBACK: &str = "https://bridge.example/ibkr/callback?state=s1";

/// RFC 5849 percent-encoding.
pub fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An answer: status, headers, JSON body (Null when none).
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

/// One user's grant as the consumer holds it.
#[derive(Clone)]
pub struct Session {
    pub access_token: String,
    pub secret: Vec<u8>,
    pub lst: Vec<u8>,
}

/// The consumer.
pub struct Consumer {
    pub http: reqwest::Client,
    /// Follows no redirects (the authorization page's 302 is what the test reads).
    pub browser: reqwest::Client,
    pub origin: String,
    pub material: ConsumerMaterial,
    signing: RsaPrivateKey,
    encryption: RsaPrivateKey,
    nonces: AtomicU64,
}

impl Consumer {
    pub fn new(fake: &FakeIbkrThirdParty) -> Consumer {
        let material = fake.consumer().clone();
        let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
        Consumer {
            http: reqwest::Client::new(),
            browser: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            origin: fake.origin.clone(),
            signing: RsaPrivateKey::from_pkcs1_pem(&read(&material.signature_key_file)).unwrap(),
            encryption: RsaPrivateKey::from_pkcs8_pem(&read(&material.encryption_key_file)).unwrap(),
            material,
            nonces: AtomicU64::new(0),
        }
    }

    fn nonce(&self) -> String {
        format!(
            "n{}x{}",
            std::process::id(),
            self.nonces.fetch_add(1, Ordering::SeqCst)
        )
    }

    fn oauth_pairs(&self, method: &str, token: Option<&str>) -> Vec<(String, String)> {
        let mut pairs = vec![
            (
                "oauth_consumer_key".to_string(),
                self.material.consumer_key.clone(),
            ),
            ("oauth_nonce".to_string(), self.nonce()),
            ("oauth_signature_method".to_string(), method.to_string()),
            (
                "oauth_timestamp".to_string(),
                chrono::Utc::now().timestamp().to_string(),
            ),
        ];
        if let Some(t) = token {
            pairs.push(("oauth_token".to_string(), t.to_string()));
        }
        pairs
    }

    fn header(&self, pairs: &[(String, String)]) -> String {
        let mut sorted = pairs.to_vec();
        sorted.sort();
        let list: Vec<String> = sorted
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", pct(v)))
            .collect();
        format!("OAuth realm=\"{}\", {}", self.material.realm, list.join(", "))
    }

    /// The guide's base string over header pairs and query pairs.
    fn base_string(method: &str, url: &str, pairs: &[(String, String)]) -> String {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let mut all = pairs.to_vec();
        all.extend(serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap());
        all.sort();
        let list: Vec<String> = all.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{method}&{}&{}", pct(path), pct(&list.join("&")))
    }

    fn rsa_sign(&self, text: &str) -> String {
        let sig = self
            .signing
            .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(text.as_bytes()))
            .unwrap();
        B64.encode(sig)
    }

    async fn send(&self, method: Method, url: &str, auth: Option<String>, body: Option<&Value>) -> Answer {
        let mut req = self
            .http
            .request(method, url)
            .header("User-Agent", "tp-fake-test");
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `POST /oauth/request_token` with `callback` (`extra` pairs are added to the header, `tamper`
    /// breaks the signature).
    pub async fn request_token(&self, callback: Option<&str>, tamper: bool) -> Answer {
        let url = format!("{}/v1/api/oauth/request_token", self.origin);
        let mut pairs = self.oauth_pairs("RSA-SHA256", None);
        if let Some(c) = callback {
            pairs.push(("oauth_callback".into(), c.into()));
        }
        let mut sig = self.rsa_sign(&Self::base_string("POST", &url, &pairs));
        if tamper {
            sig = self.rsa_sign("something else");
        }
        pairs.push(("oauth_signature".into(), sig));
        self.send(Method::POST, &url, Some(self.header(&pairs)), None)
            .await
    }

    /// `POST /oauth/access_token`.
    pub async fn access_token(&self, request_token: &str, verifier: &str) -> Answer {
        let url = format!("{}/v1/api/oauth/access_token", self.origin);
        let mut pairs = self.oauth_pairs("RSA-SHA256", Some(request_token));
        pairs.push(("oauth_verifier".into(), verifier.into()));
        let sig = self.rsa_sign(&Self::base_string("POST", &url, &pairs));
        pairs.push(("oauth_signature".into(), sig));
        self.send(Method::POST, &url, Some(self.header(&pairs)), None)
            .await
    }

    /// The access token secret in clear.
    pub fn decrypt(&self, encrypted: &str) -> Vec<u8> {
        self.encryption
            .decrypt(Pkcs1v15Encrypt, &B64.decode(encrypted).unwrap())
            .unwrap()
    }

    /// `POST /oauth/live_session_token`: the answer and, when it verifies, the LST.
    pub async fn live_session_token(&self, access_token: &str, secret: &[u8]) -> (Answer, Option<Vec<u8>>) {
        let (p, g) = (&self.material.dh_prime, &self.material.dh_generator);
        let mut a = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut a);
        let a = BigUint::from_bytes_be(&a);
        let url = format!("{}/v1/api/oauth/live_session_token", self.origin);
        let mut pairs = self.oauth_pairs("RSA-SHA256", Some(access_token));
        pairs.push((
            "diffie_hellman_challenge".into(),
            g.modpow(&a, p).to_str_radix(16),
        ));
        let text = format!("{}{}", hex(secret), Self::base_string("POST", &url, &pairs));
        pairs.push(("oauth_signature".into(), self.rsa_sign(&text)));
        let answer = self
            .send(Method::POST, &url, Some(self.header(&pairs)), None)
            .await;
        if answer.status != 200 {
            return (answer, None);
        }
        let b = BigUint::parse_bytes(
            answer.body["diffie_hellman_response"]
                .as_str()
                .unwrap()
                .as_bytes(),
            16,
        )
        .unwrap();
        let k = b.modpow(&a, p);
        let mut k_bytes = k.to_bytes_be();
        if k.bits() % 8 == 0 {
            k_bytes.insert(0, 0);
        }
        let lst = hmac_sha1(&k_bytes, secret);
        let check = hex(&hmac_sha1(&lst, self.material.consumer_key.as_bytes()));
        assert_eq!(
            answer.body["live_session_token_signature"], check,
            "LST signature"
        );
        (answer, Some(lst))
    }

    /// A resource call below `/v1/api` (`path` may carry a query) signed with the session's LST.
    pub async fn call(&self, s: &Session, method: Method, path: &str, body: Option<&Value>) -> Answer {
        let url = format!("{}/v1/api{path}", self.origin);
        let auth = self.authorization(s, method.as_str(), &url);
        self.send(method, &url, Some(auth), body).await
    }

    /// The `Authorization` header of a resource call to `url` (with its query), HMAC-SHA256 with the
    /// session's LST and a fresh nonce (`examples/overhead.rs` signs its direct calls with it too).
    pub fn authorization(&self, s: &Session, method: &str, url: &str) -> String {
        let mut pairs = self.oauth_pairs("HMAC-SHA256", Some(&s.access_token));
        let base = Self::base_string(method, url, &pairs);
        let mut mac = Hmac::<Sha256>::new_from_slice(&s.lst).unwrap();
        mac.update(base.as_bytes());
        pairs.push(("oauth_signature".into(), B64.encode(mac.finalize().into_bytes())));
        self.header(&pairs)
    }

    pub async fn get(&self, s: &Session, path: &str) -> Answer {
        self.call(s, Method::GET, path, None).await
    }

    /// A session for `username` granted through the test hook, with a live session token.
    pub async fn granted(&self, fake: &FakeIbkrThirdParty, username: &str) -> Session {
        let issued = fake.grant(username).expect("a known user");
        let secret = self.decrypt(&issued.encrypted_secret);
        let (answer, lst) = self.live_session_token(&issued.access_token, &secret).await;
        assert_eq!(answer.status, 200, "LST: {}", answer.body);
        Session {
            access_token: issued.access_token,
            secret,
            lst: lst.unwrap(),
        }
    }

    /// Submits the authorization form as a browser would: (status, Location, page text).
    pub async fn submit_form(&self, fields: &[(&str, &str)]) -> (u16, Option<String>, String) {
        let resp = self
            .browser
            .post(format!("{}/authorize", self.origin))
            .header("User-Agent", "Mozilla/5.0 (test)")
            .form(fields)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        (status, location, resp.text().await.unwrap())
    }
}

fn hmac_sha1(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// A query parameter of a URL.
pub fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A relaxed fake (users refreshed, no lock, no rate limit) and its consumer.
pub async fn relaxed() -> (FakeIbkrThirdParty, Consumer) {
    let fake = FakeIbkrThirdParty::start(FakeIbkrThirdPartyOptions::relaxed()).await;
    let consumer = Consumer::new(&fake);
    (fake, consumer)
}
