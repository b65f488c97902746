//! The fake's verifiers refuse what IBKR refuses: a tampered signature, a replayed nonce, a stale
//! timestamp, an expired token, a wrong key; and accept a correctly signed request. The signing side here
//! is written in the test from IBKR's guide, not taken from the bridge.

use super::oauth1::{server_exchange, Consumer, Oauth1Server};
use super::oauth2::{Client, Oauth2Server, JWT_BEARER};
use super::*;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use num_bigint::BigUint;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Encrypt, Pkcs1v15Sign, RsaPrivateKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicI64, Ordering};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/ibkr/keys/");
const URL: &str = "http://127.0.0.1:9/v1/api";

fn key(name: &str) -> String {
    std::fs::read_to_string(format!("{KEYS}{name}")).unwrap()
}

/// RFC 3526's 2048-bit MODP prime (the `dhparam.pem` fixture).
fn prime() -> BigUint {
    let pem = key("dhparam.pem");
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = B64.decode(b64).unwrap();
    // SEQUENCE(len 0x82 xx xx) INTEGER(0x02 0x82 0x01 0x01) 0x00 <256 bytes>
    BigUint::from_bytes_be(&der[9..9 + 256])
}

fn clock(at_ms: i64) -> (Arc<AtomicI64>, NowMs) {
    let now = Arc::new(AtomicI64::new(at_ms));
    let read = now.clone();
    (now, Arc::new(move || read.load(Ordering::SeqCst)))
}

const T0: i64 = 1_800_000_000_000;

fn server() -> (Arc<AtomicI64>, Oauth1Server) {
    let consumer = Consumer {
        consumer_key: "TESTCONS".into(),
        realm: "test_realm".into(),
        signature_public_pem: key("signature.pub.pem"),
        encryption_public_pem: key("encryption.pub.pem"),
        dh_prime: prime(),
        dh_generator: BigUint::from(2u32),
        access_token: "tok".into(),
        access_token_secret: b"s3cret".to_vec(),
        lst_lifetime_ms: 3_600_000,
    };
    let (now, read) = clock(T0);
    (now, Oauth1Server::with_clock(consumer, read).unwrap())
}

fn header(pairs: &[(&str, String)]) -> String {
    let mut sorted = pairs.to_vec();
    sorted.sort();
    let body: Vec<String> = sorted
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", pct(v)))
        .collect();
    format!("OAuth realm=\"test_realm\", {}", body.join(", "))
}

fn oauth(method: &str, nonce: &str, ts: i64) -> Vec<(&'static str, String)> {
    vec![
        ("oauth_consumer_key", "TESTCONS".into()),
        ("oauth_nonce", nonce.into()),
        ("oauth_signature_method", method.into()),
        ("oauth_timestamp", ts.to_string()),
        ("oauth_token", "tok".into()),
    ]
}

fn owned(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// Runs the consumer's side of the LST exchange; returns the LST.
fn handshake(server: &Oauth1Server) -> Vec<u8> {
    let encryption = RsaPrivateKey::from_pkcs8_pem(&key("encryption.pem")).unwrap();
    let secret = encryption
        .decrypt(Pkcs1v15Encrypt, &B64.decode(server.encrypted_secret()).unwrap())
        .unwrap();
    assert_eq!(secret, b"s3cret");
    let a = BigUint::from(123_456_789u64) << 180;
    let challenge = BigUint::from(2u32).modpow(&a, &prime()).to_str_radix(16);
    let mut pairs = oauth("RSA-SHA256", "lst-nonce", T0 / 1000);
    pairs.push(("diffie_hellman_challenge", challenge));
    let url = format!("{URL}/oauth/live_session_token");
    let prepend: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let text = format!("{prepend}{}", base_string("POST", &url, &owned(&pairs)));
    let signing = RsaPrivateKey::from_pkcs1_pem(&key("signature.pem")).unwrap();
    let sig = signing
        .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(text.as_bytes()))
        .unwrap();
    pairs.push(("oauth_signature", B64.encode(sig)));
    let answer = server
        .live_session_token("POST", &url, Some(&header(&pairs)), &[])
        .unwrap();
    assert_eq!(answer["live_session_token_expiration"], T0 + 3_600_000);
    let b = BigUint::parse_bytes(answer["diffie_hellman_response"].as_str().unwrap().as_bytes(), 16).unwrap();
    let k = b.modpow(&a, &prime());
    let mut k_bytes = k.to_bytes_be();
    if k.bits() % 8 == 0 {
        k_bytes.insert(0, 0);
    }
    let lst = hmac(Hmac::<Sha1>::new_from_slice(&k_bytes).unwrap(), &secret);
    let check: String = hmac(Hmac::<Sha1>::new_from_slice(&lst).unwrap(), b"TESTCONS")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(answer["live_session_token_signature"], check);
    lst
}

fn hmac<M: Mac>(mut mac: M, msg: &[u8]) -> Vec<u8> {
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// A GET of `/portfolio/accounts?x=1 2` signed with `lst`.
fn signed_get(lst: &[u8], nonce: &str, ts_ms: i64) -> (String, String) {
    let url = format!("{URL}/portfolio/accounts?x=1%202");
    let mut pairs = oauth("HMAC-SHA256", nonce, ts_ms / 1000);
    let mut base_pairs = owned(&pairs);
    base_pairs.push(("x".into(), "1 2".into()));
    let base = base_string("GET", &format!("{URL}/portfolio/accounts"), &base_pairs);
    pairs.push((
        "oauth_signature",
        B64.encode(hmac(
            Hmac::<Sha256>::new_from_slice(lst).unwrap(),
            base.as_bytes(),
        )),
    ));
    (url, header(&pairs))
}

#[test]
fn a_signed_call_passes_and_a_replay_tamper_or_stale_timestamp_does_not() {
    let (now, server) = server();
    let lst = handshake(&server);
    let (url, auth) = signed_get(&lst, "n1", T0);
    let who = server.verify("GET", &url, Some(&auth), &[]).unwrap();
    assert_eq!(
        who,
        Identity {
            client: "TESTCONS".into(),
            user: "tok".into()
        }
    );
    let replay = server.verify("GET", &url, Some(&auth), &[]).unwrap_err();
    assert_eq!((replay.status, replay.message()), (401, "nonce already used"));
    let (url, auth) = signed_get(&lst, "n2", T0);
    let tampered = url.replace("x=1", "x=9");
    assert_eq!(
        server
            .verify("GET", &tampered, Some(&auth), &[])
            .unwrap_err()
            .message(),
        "invalid signature"
    );
    assert_eq!(
        server
            .verify("POST", &url, Some(&auth), &[])
            .unwrap_err()
            .message(),
        "invalid signature"
    );
    let (url, auth) = signed_get(&lst, "n3", T0 - 301_000);
    assert_eq!(
        server
            .verify("GET", &url, Some(&auth), &[])
            .unwrap_err()
            .message(),
        "timestamp outside the window"
    );
    let (url, auth) = signed_get(&[9; 20], "n4", T0);
    assert_eq!(
        server
            .verify("GET", &url, Some(&auth), &[])
            .unwrap_err()
            .message(),
        "invalid signature"
    );
    assert_eq!(server.verify("GET", &url, None, &[]).unwrap_err().status, 401);
    assert_eq!(
        server
            .verify("GET", &url, Some("Bearer x"), &[])
            .unwrap_err()
            .message(),
        "malformed OAuth header"
    );
    now.store(T0 + 3_600_000, Ordering::SeqCst);
    let (url, auth) = signed_get(&lst, "n5", T0 + 3_600_000);
    assert_eq!(
        server
            .verify("GET", &url, Some(&auth), &[])
            .unwrap_err()
            .message(),
        "live session token expired"
    );
}

#[test]
fn a_wrongly_signed_lst_request_is_refused() {
    let (_, server) = server();
    let mut pairs = oauth("RSA-SHA256", "x", T0 / 1000);
    pairs.push(("diffie_hellman_challenge", "abcdef".into()));
    pairs.push(("oauth_signature", B64.encode([1u8; 256])));
    let refused = server
        .live_session_token(
            "POST",
            &format!("{URL}/oauth/live_session_token"),
            Some(&header(&pairs)),
            &[],
        )
        .unwrap_err();
    assert_eq!((refused.status, refused.message()), (401, "invalid signature"));
    assert_eq!(refused.body["statusCode"], 401);
}

#[test]
fn the_server_exchange_matches_the_guides_sign_byte_rule() {
    let p = prime();
    let g = BigUint::from(2u32);
    for b in 1u32..40 {
        let a = BigUint::from(77u32 + b) << 100;
        let a_public = g.modpow(&a, &p);
        let (response, k) = server_exchange(&p, &g, &a_public, &BigUint::from(b << 20));
        let shared = BigUint::parse_bytes(response.as_bytes(), 16)
            .unwrap()
            .modpow(&a, &p);
        assert_eq!(BigUint::from_bytes_be(&k), shared);
        assert_eq!(
            k.len(),
            (shared.bits() as usize) / 8 + 1,
            "one byte more than the bits need, sign included"
        );
    }
}

#[test]
fn oauth_header_parsing() {
    let pairs = parse_oauth_header("OAuth realm=\"r\", oauth_signature=\"a%2Bb%3D\"").unwrap();
    assert_eq!(pairs["oauth_signature"], "a+b=");
    assert!(parse_oauth_header("OAuth realm=r").is_none());
    assert!(parse_oauth_header("OAuth a=\"1\", a=\"2\"").is_none());
    assert_eq!(pct_decode("%zz"), None);
}

fn oauth2_server() -> (Arc<AtomicI64>, Oauth2Server) {
    let client = Client {
        client_id: "C".into(),
        key_id: "k1".into(),
        public_pem: key("oauth2_client.pub.pem"),
        username: "user1".into(),
    };
    let (now, read) = clock(T0);
    (now, Oauth2Server::with_clock(client, "/token", read).unwrap())
}

fn jwt(claims: serde_json::Value, kid: &str) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.into());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(key("oauth2_client.pem").as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn token_form(assertion: String) -> Vec<(String, String)> {
    [
        ("grant_type", "client_credentials".to_string()),
        ("client_assertion_type", JWT_BEARER.to_string()),
        ("client_assertion", assertion),
        ("scope", "sso-sessions.write".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[test]
fn oauth2_assertions_sessions_and_expiry() {
    let (now, server) = oauth2_server();
    let s = T0 / 1000;
    let claims =
        serde_json::json!({ "iss": "C", "sub": "C", "aud": "/token", "iat": s, "exp": s + 60, "jti": "j1" });
    let token = server.token(&token_form(jwt(claims.clone(), "k1"))).unwrap();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(
        server
            .token(&token_form(jwt(claims.clone(), "k1")))
            .unwrap_err()
            .status,
        401,
        "a replayed jti"
    );
    let mut expired = claims.clone();
    expired["exp"] = serde_json::json!(s - 1);
    expired["jti"] = serde_json::json!("j2");
    assert_eq!(
        server.token(&token_form(jwt(expired, "k1"))).unwrap_err().body["error"],
        "invalid_client"
    );
    let mut other = claims.clone();
    other["jti"] = serde_json::json!("j3");
    assert_eq!(
        server.token(&token_form(jwt(other, "k2"))).unwrap_err().status,
        401,
        "an unknown kid"
    );

    let access = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let request = jwt(
        serde_json::json!({ "iss": "C", "iat": s, "exp": s + 60, "credential": "user1", "ip": "203.0.113.7" }),
        "k1",
    );
    assert_eq!(
        server
            .sso_session(Some(&access), Some("application/json"), &request)
            .unwrap_err()
            .status,
        415
    );
    assert_eq!(
        server
            .sso_session(Some("Bearer nope"), Some("application/jwt"), &request)
            .unwrap_err()
            .status,
        401
    );
    let session = server
        .sso_session(Some(&access), Some("application/jwt"), &request)
        .unwrap();
    let bearer = format!("Bearer {}", session["access_token"].as_str().unwrap());
    assert_eq!(server.verify(Some(&bearer)).unwrap().user, "user1");
    assert!(
        server.verify(Some(&access)).is_err(),
        "the access token is not a session bearer"
    );
    let stranger = jwt(
        serde_json::json!({ "iss": "C", "iat": s, "exp": s + 60, "credential": "user2", "ip": "203.0.113.7" }),
        "k1",
    );
    assert_eq!(
        server
            .sso_session(Some(&access), Some("application/jwt"), &stranger)
            .unwrap_err()
            .message(),
        "unknown credential"
    );
    now.store(T0 + 3_600_000, Ordering::SeqCst);
    assert_eq!(
        server.verify(Some(&bearer)).unwrap_err().message(),
        "token expired"
    );
}

#[test]
fn handler_helpers_rebuild_the_url_and_take_only_form_bodies() {
    use axum::http::{HeaderMap, HeaderValue, Uri};
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
    let uri: Uri = "/v1/api/x?a=1".parse().unwrap();
    assert_eq!(request_url(&headers, &uri), "http://127.0.0.1:8080/v1/api/x?a=1");
    assert!(
        form_pairs(&headers, "a=1").is_empty(),
        "no content type: not a form"
    );
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    assert_eq!(
        form_pairs(&headers, "a=1&b=x%7Cy"),
        vec![("a".into(), "1".into()), ("b".into(), "x|y".into())]
    );
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    assert!(form_pairs(&headers, "{\"a\":1}").is_empty());
    let response = axum::response::IntoResponse::into_response(Refusal::unauthorized("invalid signature"));
    assert_eq!(response.status(), 401);
}
