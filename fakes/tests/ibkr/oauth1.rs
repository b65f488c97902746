//! The fake behind OAuth 1.0a, driven by a consumer written here from IBKR's guide (not the bridge's
//! code): the live session token handshake, signed calls opening the brokerage session, and the 401s of a
//! tampered signature, a replayed nonce, a stale timestamp, an expired token and a revoked token.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fakes::ibkr::{FakeIbkr, FakeIbkrOptions, Oauth1ClientMaterial, RefusalReason};
use hmac::{Hmac, Mac};
use num_bigint::BigUint;
use reqwest::Method;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Encrypt, Pkcs1v15Sign, RsaPrivateKey};
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};

/// RFC 5849 percent-encoding.
fn pct(s: &str) -> String {
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

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A consumer of the fake: its material, the decrypted secret, and the live session token once made.
struct Consumer {
    http: reqwest::Client,
    origin: String,
    material: Oauth1ClientMaterial,
    secret: Vec<u8>,
    lst: Vec<u8>,
    nonces: AtomicU64,
}

impl Consumer {
    fn new(fake: &FakeIbkr) -> Consumer {
        let material = fake
            .oauth()
            .expect("an OAuth mode")
            .oauth1_client()
            .expect("OAuth 1.0a")
            .clone();
        let pem = std::fs::read_to_string(&material.encryption_key_file).unwrap();
        let secret = RsaPrivateKey::from_pkcs8_pem(&pem)
            .unwrap()
            .decrypt(
                Pkcs1v15Encrypt,
                &B64.decode(&material.encrypted_access_token_secret).unwrap(),
            )
            .unwrap();
        Consumer {
            http: reqwest::Client::new(),
            origin: fake.origin().to_string(),
            material,
            secret,
            lst: Vec::new(),
            nonces: AtomicU64::new(0),
        }
    }

    fn nonce(&self) -> String {
        format!(
            "nonce{}x{}",
            std::process::id(),
            self.nonces.fetch_add(1, Ordering::SeqCst)
        )
    }

    /// The `oauth_*` pairs of a request.
    fn pairs(&self, method: &str, nonce: &str, ts: i64) -> Vec<(String, String)> {
        [
            ("oauth_consumer_key", self.material.consumer_key.clone()),
            ("oauth_nonce", nonce.to_string()),
            ("oauth_signature_method", method.to_string()),
            ("oauth_timestamp", ts.to_string()),
            ("oauth_token", self.material.access_token.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
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

    /// The guide's base string: header pairs (no signature, no realm) and query pairs, sorted.
    fn base_string(method: &str, url: &str, pairs: &[(String, String)]) -> String {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let mut all = pairs.to_vec();
        all.extend(serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap());
        all.sort();
        let list: Vec<String> = all.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{method}&{}&{}", pct(path), pct(&list.join("&")))
    }

    /// The handshake's request: `(status, body)`; keeps the LST when it verifies.
    async fn handshake(&mut self, break_signature: bool) -> (u16, Value) {
        let (p, g) = (&self.material.dh_prime, &self.material.dh_generator);
        let mut a = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut a);
        let a = BigUint::from_bytes_be(&a);
        let url = format!("{}/v1/api/oauth/live_session_token", self.origin);
        let mut pairs = self.pairs("RSA-SHA256", &self.nonce(), now_s());
        pairs.push((
            "diffie_hellman_challenge".into(),
            g.modpow(&a, p).to_str_radix(16),
        ));
        let text = format!(
            "{}{}",
            hex(&self.secret),
            Consumer::base_string("POST", &url, &pairs)
        );
        let pem = std::fs::read_to_string(&self.material.signature_key_file).unwrap();
        let mut signature = RsaPrivateKey::from_pkcs1_pem(&pem)
            .unwrap()
            .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(text.as_bytes()))
            .unwrap();
        if break_signature {
            signature[10] ^= 1;
        }
        pairs.push(("oauth_signature".into(), B64.encode(signature)));
        let resp = self
            .http
            .post(&url)
            .header("Authorization", self.header(&pairs))
            .header("User-Agent", "fake-ibkr-test")
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status == 200 {
            let b = BigUint::parse_bytes(body["diffie_hellman_response"].as_str().unwrap().as_bytes(), 16)
                .unwrap();
            let k = b.modpow(&a, p);
            let mut k_bytes = k.to_bytes_be();
            if k.bits() % 8 == 0 {
                k_bytes.insert(0, 0);
            }
            let lst = mac_sha1(&k_bytes, &self.secret);
            assert_eq!(
                body["live_session_token_signature"],
                hex(&mac_sha1(&lst, self.material.consumer_key.as_bytes())),
                "the LST both sides derived"
            );
            self.lst = lst;
        }
        (status, body)
    }

    /// The `Authorization` header of a call signed with the LST.
    fn signed(&self, method: &str, url: &str, nonce: &str, ts: i64) -> String {
        let mut pairs = self.pairs("HMAC-SHA256", nonce, ts);
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.lst).unwrap();
        mac.update(Consumer::base_string(method, url, &pairs).as_bytes());
        pairs.push(("oauth_signature".into(), B64.encode(mac.finalize().into_bytes())));
        self.header(&pairs)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        authorization: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}/v1/api{path}", self.origin);
        let mut req = self
            .http
            .request(method, url)
            .header("Authorization", authorization);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// A correctly signed call.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/v1/api{path}", self.origin);
        let auth = self.signed(method.as_str(), &url, &self.nonce(), now_s());
        self.send(method, path, &auth, body).await
    }
}

fn mac_sha1(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

#[test]
fn the_mode_starts_closed_at_ibkrs_oauth_pace() {
    let options = FakeIbkrOptions::oauth1("TESTCONS");
    assert_eq!(options.requests_per_second, 50);
    assert!(!options.start_authenticated);
    let material = options.oauth.as_ref().unwrap().oauth1_client().unwrap().clone();
    assert_eq!(material.realm, "test_realm");
    assert!(material.signature_key_file.exists() && material.dh_param_file.exists());
    let other = FakeIbkrOptions::oauth1("MYCONSUMER");
    assert_eq!(
        other.oauth.as_ref().unwrap().oauth1_client().unwrap().realm,
        "limited_poa"
    );
}

#[tokio::test]
async fn the_handshake_makes_a_live_session_token_that_signs_calls_and_opens_the_session() {
    let fake = FakeIbkr::start(FakeIbkrOptions::oauth1("TESTCONS")).await;
    let mut consumer = Consumer::new(&fake);
    assert_eq!(
        consumer.call(Method::POST, "/tickle", None).await.0,
        401,
        "no LST yet"
    );
    let (status, body) = consumer.handshake(false).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["live_session_token_expiration"].as_i64().unwrap() > chrono::Utc::now().timestamp_millis());
    let auth = fake.oauth().unwrap();
    assert_eq!(auth.handshakes(), 1);

    let (status, body) = consumer
        .call(Method::POST, "/iserver/auth/status", Some(json!({})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["authenticated"], false,
        "the brokerage session starts closed"
    );
    assert_eq!(consumer.call(Method::GET, "/iserver/accounts", None).await.0, 401);
    let init = json!({ "publish": true, "compete": true });
    assert_eq!(
        consumer
            .call(Method::POST, "/iserver/auth/ssodh/init", Some(init))
            .await
            .0,
        200
    );
    let (status, body) = consumer.call(Method::GET, "/iserver/accounts", None).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = consumer
        .call(Method::GET, "/iserver/secdef/search?symbol=AAPL&name=false", None)
        .await;
    assert_eq!(status, 200, "query pairs are in the base string");
    let (status, body) = consumer.send(Method::GET, "/portfolio/accounts", "", None).await;
    assert_eq!(status, 401, "an unsigned call: {body}");
}

#[tokio::test]
async fn tampered_replayed_stale_expired_and_revoked_calls_get_401() {
    let fake = FakeIbkr::start(FakeIbkrOptions::oauth1("TESTCONS")).await;
    let auth = fake.oauth().unwrap();
    let mut consumer = Consumer::new(&fake);
    assert_eq!(consumer.handshake(false).await.0, 200);
    let url = |path: &str| format!("{}/v1/api{path}", fake.origin());

    // A signature made for another query.
    let header = consumer.signed("GET", &url("/trsrv/secdef?conids=1"), "t1", now_s());
    let (status, body) = consumer
        .send(Method::GET, "/trsrv/secdef?conids=2", &header, None)
        .await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid signature")));
    assert_eq!(auth.refusals(RefusalReason::BadSignature), 1);

    // The same header twice.
    let header = consumer.signed("POST", &url("/tickle"), "r1", now_s());
    assert_eq!(consumer.send(Method::POST, "/tickle", &header, None).await.0, 200);
    let (status, body) = consumer.send(Method::POST, "/tickle", &header, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("nonce already used"))
    );
    assert_eq!(auth.refusals(RefusalReason::ReplayedNonce), 1);

    // Ten minutes old.
    let header = consumer.signed("POST", &url("/tickle"), "s1", now_s() - 600);
    assert_eq!(consumer.send(Method::POST, "/tickle", &header, None).await.0, 401);
    assert_eq!(auth.refusals(RefusalReason::StaleTimestamp), 1);

    // Revoked: signed calls and the handshake itself are refused until reinstated.
    auth.revoke();
    assert_eq!(consumer.call(Method::POST, "/tickle", None).await.0, 401);
    assert_eq!(consumer.handshake(false).await.0, 401);
    assert_eq!(auth.refusals(RefusalReason::Revoked), 2);
    auth.reinstate();
    assert_eq!(consumer.call(Method::POST, "/tickle", None).await.0, 200);

    // The LST expires: refused until a new handshake.
    auth.expire_now();
    let (status, body) = consumer.call(Method::POST, "/tickle", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("live session token expired"))
    );
    assert_eq!(auth.refusals(RefusalReason::Expired), 1);
    assert_eq!(consumer.handshake(false).await.0, 200);
    assert_eq!(consumer.call(Method::POST, "/tickle", None).await.0, 200);
    assert_eq!(auth.handshakes(), 2);
}

#[tokio::test]
async fn a_handshake_with_a_wrong_rsa_signature_is_refused() {
    let fake = FakeIbkr::start(FakeIbkrOptions::oauth1("TESTCONS")).await;
    let mut consumer = Consumer::new(&fake);
    let (status, body) = consumer.handshake(true).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid signature")));
    let auth = fake.oauth().unwrap();
    assert_eq!(auth.handshakes(), 0);
    assert_eq!(auth.refusals(RefusalReason::BadSignature), 1);
}

#[tokio::test]
async fn the_websocket_upgrade_needs_the_access_token_and_a_live_session_token() {
    use futures_util::StreamExt;
    let fake = FakeIbkr::start(FakeIbkrOptions::oauth1("TESTCONS")).await;
    let mut consumer = Consumer::new(&fake);
    let with_token = format!("{}?oauth_token={}", fake.ws_url, consumer.material.access_token);
    assert!(
        tokio_tungstenite::connect_async(&with_token).await.is_err(),
        "no LST yet"
    );
    assert_eq!(consumer.handshake(false).await.0, 200);
    assert!(
        tokio_tungstenite::connect_async(&fake.ws_url).await.is_err(),
        "no oauth_token"
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(&with_token)
        .await
        .expect("upgrade");
    let first = socket.next().await.unwrap().unwrap();
    assert_eq!(first.to_text().unwrap(), r#"{"message":"waiting for session"}"#);
}
