//! Tests of the ServerOAuth2Bearer assertion check against fixed key pairs and certificates.
//!
//! The fixtures under tests/fixtures/oauth/ were made once with OpenSSL 3.0 and are committed; regenerating
//! them changes the thumbprints pinned below. `openssl ca -selfsign` was used (not `req -x509`) because it
//! takes explicit dates, which makes the certificates valid from 2000 to 2126 and gives an already expired
//! one. With `$T` a scratch directory holding `ca.cnf`:
//!
//! ```text
//! [ca]
//! default_ca = tv
//! [tv]
//! database = $ENV::T/index.txt
//! new_certs_dir = $ENV::T
//! serial = $ENV::T/serial
//! default_md = sha256
//! policy = any
//! unique_subject = no
//! [any]
//! commonName = supplied
//! ```
//!
//! plus an empty `index.txt` and `serial` holding `01`, each certificate NAME was made by
//!
//! ```text
//! openssl req -new -newkey KEYSPEC [-pkeyopt ec_paramgen_curve:P-256] -nodes \
//!   -subj "/CN=tvbridge test: NAME" -keyout $T/NAME.key.pem -out $T/NAME.csr
//! openssl ca -batch -config $T/ca.cnf -selfsign -keyfile $T/NAME.key.pem -in $T/NAME.csr \
//!   -startdate START -enddate END -notext -out NAME.cert.pem
//! ```
//!
//! with NAME KEYSPEC START END: `tradingview rsa:2048 20000101000000Z 21260101000000Z`, `other rsa:2048` (same
//! dates), `expired rsa:2048 20000101000000Z 20010101000000Z`, `ec ec` and `rsa1024 rsa:1024` (long dates).
//! Only tradingview.key.pem and other.key.pem were kept. `operator.cert.pem` is the README's recipe as is
//! (`openssl req -x509 -newkey rsa:3072 -sha256 -days 36500 -nodes ...`, a v3 certificate valid from
//! 2026-12-07), kept to prove that recipe's output loads.

use super::*;
use jsonwebtoken::{EncodingKey, Header as JwtHeader};
use serde_json::json;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/oauth/",
            $name
        ))
    };
}

const TV_CERT: &str = fixture!("tradingview.cert.pem");
const TV_KEY: &str = fixture!("tradingview.key.pem");
const OTHER_CERT: &str = fixture!("other.cert.pem");
const OTHER_KEY: &str = fixture!("other.key.pem");
const EXPIRED_CERT: &str = fixture!("expired.cert.pem");
const EC_CERT: &str = fixture!("ec.cert.pem");
const RSA1024_CERT: &str = fixture!("rsa1024.cert.pem");
const OPERATOR_CERT: &str = fixture!("operator.cert.pem");

/// `openssl x509 -in tradingview.cert.pem -outform der | openssl dgst -sha1 -binary | basenc --base64url`
const TV_X5T: &str = "YWNsBkUeprjwDAyiYfVW1kXfBVQ";
/// `openssl x509 -in tradingview.cert.pem -noout -fingerprint -sha1`, colons removed.
const TV_X5T_HEX: &str = "61636C06451EA6B8F00C0CA261F556D645DF0554";
const OTHER_X5T: &str = "HB-gp0ajfb220FhqmR9djuORM4g";

/// 2030-03-17: inside every long-lived fixture's validity, so nothing here depends on the real clock.
const NOW: u64 = 1_900_000_000;
const CLIENT_ID: &str = "tv-data-client";
const AUDIENCE: &str = "https://bridge.example/oauth/token";
const APP_URL: &str = "https://bridge.example/";

fn verifier(leeway: u64) -> AssertionVerifier {
    match AssertionVerifier::from_certificate_pem_at(TV_CERT, CLIENT_ID, AUDIENCE, leeway, NOW) {
        Ok(v) => v,
        Err(e) => panic!("fixture certificate refused: {e}"),
    }
}

fn claims() -> Value {
    json!({
        "iss": CLIENT_ID,
        "sub": "user-42",
        "exp": NOW + 60,
        "iat": NOW - 5,
        "aud": AUDIENCE,
        "spurl": APP_URL,
    })
}

fn sign_with(alg: Algorithm, x5t: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
    let mut header = JwtHeader::new(alg);
    header.x5t = x5t.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("test token signs")
}

fn rsa_key(pem: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(pem.as_bytes()).expect("fixture key parses")
}

/// RS256 by TradingView's key with the right x5t: what a genuine assertion looks like.
fn sign(claims: &Value) -> String {
    sign_with(Algorithm::RS256, Some(TV_X5T), claims, &rsa_key(TV_KEY))
}

fn b64(json: &Value) -> String {
    URL_SAFE_NO_PAD.encode(json.to_string())
}

/// A token built by hand, for headers jsonwebtoken will not produce.
fn raw_token(header: &Value, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", b64(header), b64(claims))
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().expect("claims are an object").remove(key);
    base
}

#[test]
fn a_genuine_assertion_is_accepted() {
    let got = verifier(0).verify(&sign(&claims()), NOW).expect("accepted");
    assert_eq!(
        got,
        Assertion {
            subject: "user-42".into(),
            app_url: Some(APP_URL.into()),
            expires_at: NOW + 60
        }
    );
}

#[test]
fn spurl_is_optional() {
    let got = verifier(0)
        .verify(&sign(&without(claims(), "spurl")), NOW)
        .expect("accepted");
    assert_eq!(got.app_url, None);
}

#[test]
fn thumbprints_match_openssl() {
    let v = verifier(0);
    assert_eq!(v.thumbprint(), TV_X5T);
    assert_eq!(v.thumbprint_hex(), TV_X5T_HEX.to_ascii_lowercase());
}

#[test]
fn hex_x5t_is_accepted_in_either_case() {
    let v = verifier(0);
    for x5t in [TV_X5T_HEX.to_owned(), TV_X5T_HEX.to_ascii_lowercase()] {
        let token = sign_with(Algorithm::RS256, Some(&x5t), &claims(), &rsa_key(TV_KEY));
        assert!(v.verify(&token, NOW).is_ok(), "x5t {x5t}");
    }
    let padded = format!("{TV_X5T}=");
    let token = sign_with(Algorithm::RS256, Some(&padded), &claims(), &rsa_key(TV_KEY));
    assert!(v.verify(&token, NOW).is_ok(), "padded base64url x5t");
}

#[test]
fn a_wrong_or_missing_x5t_is_refused() {
    let v = verifier(0);
    let key = rsa_key(TV_KEY);
    let mut wrong_hex = TV_X5T_HEX.to_owned();
    wrong_hex.replace_range(0..1, "7");
    for x5t in [
        OTHER_X5T,
        wrong_hex.as_str(),
        "",
        "not a thumbprint",
        "YWNsBkUeprjwDAyiYfVW1kXfBV",
    ] {
        let token = sign_with(Algorithm::RS256, Some(x5t), &claims(), &key);
        assert_eq!(
            v.verify(&token, NOW),
            Err(AssertionError::ThumbprintMismatch),
            "x5t {x5t:?}"
        );
    }
    let token = sign_with(Algorithm::RS256, None, &claims(), &key);
    assert_eq!(v.verify(&token, NOW), Err(AssertionError::MissingThumbprint));
    let header = json!({"alg": "RS256", "x5t": 42});
    assert!(matches!(
        v.verify(&raw_token(&header, &claims(), "AAAA"), NOW),
        Err(AssertionError::Malformed(_))
    ));
}

#[test]
fn the_x5t_is_checked_before_the_signature() {
    // Signed by the other key and naming the other certificate: refused for the thumbprint, not the signature.
    let token = sign_with(Algorithm::RS256, Some(OTHER_X5T), &claims(), &rsa_key(OTHER_KEY));
    assert_eq!(
        verifier(0).verify(&token, NOW),
        Err(AssertionError::ThumbprintMismatch)
    );
}

#[test]
fn a_signature_by_another_key_is_refused_even_with_the_right_x5t() {
    let token = sign_with(Algorithm::RS256, Some(TV_X5T), &claims(), &rsa_key(OTHER_KEY));
    assert_eq!(verifier(0).verify(&token, NOW), Err(AssertionError::BadSignature));
}

#[test]
fn claims_changed_after_signing_are_refused() {
    let token = sign(&claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged = b64(&with(claims(), "sub", json!("admin")));
    parts[1] = &forged;
    assert_eq!(
        verifier(0).verify(&parts.join("."), NOW),
        Err(AssertionError::BadSignature)
    );

    // A header changed after signing (here: an added claim-free field) breaks the signature as well.
    let forged_header = b64(&json!({"typ": "JWT", "alg": "RS256", "x5t": TV_X5T, "kid": "x"}));
    let parts: Vec<&str> = token.split('.').collect();
    let token2 = format!("{forged_header}.{}.{}", parts[1], parts[2]);
    assert_eq!(
        verifier(0).verify(&token2, NOW),
        Err(AssertionError::BadSignature)
    );

    // So does a signature with one bit flipped.
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).expect("signature decodes");
    sig[10] ^= 1;
    let token3 = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
    assert_eq!(
        verifier(0).verify(&token3, NOW),
        Err(AssertionError::BadSignature)
    );
}

#[test]
fn alg_none_is_refused() {
    let v = verifier(0);
    for alg in ["none", "None", "NONE"] {
        let token = raw_token(&json!({"alg": alg, "x5t": TV_X5T}), &claims(), "");
        assert_eq!(
            v.verify(&token, NOW),
            Err(AssertionError::UnsupportedAlgorithm(alg.into())),
            "{alg}"
        );
    }
    let token = raw_token(&json!({"x5t": TV_X5T}), &claims(), "");
    assert_eq!(
        v.verify(&token, NOW),
        Err(AssertionError::Malformed("its header has no alg"))
    );
}

#[test]
fn hs256_keyed_with_the_public_certificate_is_refused() {
    // The classic key confusion: the attacker knows the certificate, so an HMAC keyed with any public form
    // of it would verify in a library that lets the header pick the algorithm.
    let v = verifier(0);
    let der = x509_cert::der::pem::decode_vec(TV_CERT.as_bytes())
        .expect("fixture decodes")
        .1;
    let cert = Certificate::from_der(&der).expect("fixture parses");
    let spki_bits = cert
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes()
        .to_vec();
    for secret in [TV_CERT.as_bytes().to_vec(), der, spki_bits] {
        let token = sign_with(
            Algorithm::HS256,
            Some(TV_X5T),
            &claims(),
            &EncodingKey::from_secret(&secret),
        );
        assert_eq!(
            v.verify(&token, NOW),
            Err(AssertionError::UnsupportedAlgorithm("HS256".into()))
        );
    }
}

#[test]
fn other_algorithms_are_refused_by_name() {
    let v = verifier(0);
    // PS256 is a genuine signature by the right key: still refused, TradingView uses RS256 only.
    let ps = sign_with(Algorithm::PS256, Some(TV_X5T), &claims(), &rsa_key(TV_KEY));
    assert_eq!(
        v.verify(&ps, NOW),
        Err(AssertionError::UnsupportedAlgorithm("PS256".into()))
    );
    for alg in ["ES256", "RS512", "HS512", "EdDSA", "rs256"] {
        let token = raw_token(&json!({"alg": alg, "x5t": TV_X5T}), &claims(), "AAAA");
        assert_eq!(
            v.verify(&token, NOW),
            Err(AssertionError::UnsupportedAlgorithm(alg.into())),
            "{alg}"
        );
    }
    // A strange alg is not echoed.
    let token = raw_token(&json!({"alg": "RS256\"; drop", "x5t": TV_X5T}), &claims(), "AAAA");
    let err = v.verify(&token, NOW).expect_err("refused");
    assert_eq!(
        err,
        AssertionError::UnsupportedAlgorithm("not a supported value".into())
    );
    let token = raw_token(&json!({"alg": ["RS256"], "x5t": TV_X5T}), &claims(), "AAAA");
    assert!(matches!(
        v.verify(&token, NOW),
        Err(AssertionError::UnsupportedAlgorithm(_))
    ));
}

#[test]
fn crit_and_duplicate_header_fields_are_refused() {
    let v = verifier(0);
    let token = raw_token(
        &json!({"alg": "RS256", "x5t": TV_X5T, "crit": ["exp"]}),
        &claims(),
        "AAAA",
    );
    assert_eq!(v.verify(&token, NOW), Err(AssertionError::CriticalHeader));
    // Two alg fields: a parser that keeps the first and one that keeps the last would disagree.
    let header = format!(r#"{{"alg":"RS256","x5t":"{TV_X5T}","alg":"none"}}"#);
    let token = format!("{}.{}.AAAA", URL_SAFE_NO_PAD.encode(header), b64(&claims()));
    assert!(matches!(v.verify(&token, NOW), Err(AssertionError::Malformed(_))));
}

#[test]
fn the_audience_must_name_this_endpoint() {
    let v = verifier(0);
    for aud in [
        json!("https://evil.example/oauth/token"),
        json!([]),
        json!(["https://a.example", "b"]),
    ] {
        assert_eq!(
            v.verify(&sign(&with(claims(), "aud", aud.clone())), NOW),
            Err(AssertionError::WrongAudience),
            "{aud}"
        );
    }
    let in_array = with(claims(), "aud", json!(["https://other.example", AUDIENCE]));
    assert!(v.verify(&sign(&in_array), NOW).is_ok());
    let bad_type = with(claims(), "aud", json!([AUDIENCE, 7]));
    assert!(matches!(
        v.verify(&sign(&bad_type), NOW),
        Err(AssertionError::InvalidClaim { claim: "aud", .. })
    ));
    assert_eq!(
        v.verify(&sign(&without(claims(), "aud")), NOW),
        Err(AssertionError::MissingClaim("aud"))
    );
}

#[test]
fn the_issuer_must_be_the_client_id() {
    let v = verifier(0);
    let wrong = with(claims(), "iss", json!("someone-else"));
    assert_eq!(v.verify(&sign(&wrong), NOW), Err(AssertionError::WrongIssuer));
    assert_eq!(
        v.verify(&sign(&without(claims(), "iss")), NOW),
        Err(AssertionError::MissingClaim("iss"))
    );
    let number = with(claims(), "iss", json!(1));
    assert!(matches!(
        v.verify(&sign(&number), NOW),
        Err(AssertionError::InvalidClaim { claim: "iss", .. })
    ));
}

#[test]
fn expiry_is_enforced_with_the_leeway() {
    let expired = with(claims(), "exp", json!(NOW - 10));
    assert_eq!(
        verifier(0).verify(&sign(&expired), NOW),
        Err(AssertionError::Expired)
    );
    assert_eq!(
        verifier(10).verify(&sign(&expired), NOW),
        Err(AssertionError::Expired)
    );
    assert!(verifier(11).verify(&sign(&expired), NOW).is_ok());
    // Not accepted at exp itself (RFC 7519 §4.1.4: "on or after").
    let at = with(claims(), "exp", json!(NOW));
    assert_eq!(verifier(0).verify(&sign(&at), NOW), Err(AssertionError::Expired));
    // A fractional exp counts from its whole second.
    let fractional = with(claims(), "exp", json!(NOW as f64 + 0.9));
    assert_eq!(
        verifier(0).verify(&sign(&fractional), NOW),
        Err(AssertionError::Expired)
    );
}

#[test]
fn exp_is_required_and_numeric() {
    let v = verifier(0);
    assert_eq!(
        v.verify(&sign(&without(claims(), "exp")), NOW),
        Err(AssertionError::MissingClaim("exp"))
    );
    assert_eq!(
        v.verify(&sign(&with(claims(), "exp", Value::Null)), NOW),
        Err(AssertionError::MissingClaim("exp"))
    );
    for bad in [json!("1900000060"), json!(-5), json!(true)] {
        let err = v.verify(&sign(&with(claims(), "exp", bad.clone())), NOW);
        assert!(
            matches!(err, Err(AssertionError::InvalidClaim { claim: "exp", .. })),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn nbf_and_iat_in_the_future_are_refused_beyond_the_leeway() {
    for claim in ["nbf", "iat"] {
        let future = with(claims(), claim, json!(NOW + 30));
        assert_eq!(
            verifier(0).verify(&sign(&future), NOW),
            Err(AssertionError::NotYetValid(claim))
        );
        assert!(
            verifier(30).verify(&sign(&future), NOW).is_ok(),
            "{claim} within leeway"
        );
        let fractional = with(claims(), claim, json!(NOW as f64 + 0.1));
        assert_eq!(
            verifier(0).verify(&sign(&fractional), NOW),
            Err(AssertionError::NotYetValid(claim))
        );
        let past = with(claims(), claim, json!(NOW - 30));
        assert!(
            verifier(0).verify(&sign(&past), NOW).is_ok(),
            "{claim} in the past"
        );
        let bad = with(claims(), claim, json!("soon"));
        assert!(matches!(
            verifier(0).verify(&sign(&bad), NOW),
            Err(AssertionError::InvalidClaim { .. })
        ));
    }
    assert!(
        verifier(0).verify(&sign(&without(claims(), "iat")), NOW).is_ok(),
        "iat is optional"
    );
}

#[test]
fn the_subject_is_required_bounded_and_plain() {
    let v = verifier(0);
    assert_eq!(
        v.verify(&sign(&without(claims(), "sub")), NOW),
        Err(AssertionError::MissingClaim("sub"))
    );
    let cases = [json!(""), json!("x".repeat(257)), json!("a\nb"), json!(42)];
    for sub in cases {
        let err = v.verify(&sign(&with(claims(), "sub", sub.clone())), NOW);
        assert!(
            matches!(err, Err(AssertionError::InvalidClaim { claim: "sub", .. })),
            "{err:?}"
        );
    }
    // 256 characters, several bytes each, is still fine: the limit is in characters.
    let long = "é".repeat(256);
    let got = v
        .verify(&sign(&with(claims(), "sub", json!(long.clone()))), NOW)
        .expect("accepted");
    assert_eq!(got.subject, long);
}

#[test]
fn spurl_must_be_a_string_when_present() {
    let err = verifier(0).verify(&sign(&with(claims(), "spurl", json!({"u": 1}))), NOW);
    assert!(matches!(
        err,
        Err(AssertionError::InvalidClaim { claim: "spurl", .. })
    ));
}

#[test]
fn oversized_assertions_are_refused_before_parsing() {
    let v = verifier(0);
    let big = "a".repeat(MAX_ASSERTION_BYTES + 1);
    assert_eq!(v.verify(&big, NOW), Err(AssertionError::TooLarge));
    // A genuinely signed assertion made big by a padding claim is refused for its size alone.
    let padded = with(claims(), "pad", json!("p".repeat(MAX_ASSERTION_BYTES)));
    assert_eq!(v.verify(&sign(&padded), NOW), Err(AssertionError::TooLarge));
}

#[test]
fn garbage_gets_a_clear_error_and_no_panic() {
    let v = verifier(0);
    let good = sign(&claims());
    let parts: Vec<&str> = good.split('.').collect();
    let not_object = URL_SAFE_NO_PAD.encode("[\"RS256\"]");
    let garbage = [
        String::new(),
        "garbage".into(),
        "a.b".into(),
        "a.b.c.d".into(),
        "a.b.c.d.e".into(),
        "...".into(),
        "!!!.@@@.###".into(),
        "é.é.é".into(),
        format!("{}.{}.{}=", parts[0], parts[1], parts[2]),
        format!("{}.{}.not*base64", parts[0], parts[1]),
        format!("{not_object}.{}.{}", parts[1], parts[2]),
        format!("{}.{}.{}", URL_SAFE_NO_PAD.encode("not json"), parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode([0xff, 0xfe]),
            parts[1],
            parts[2]
        ),
        format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            parts[2].get(..10).unwrap_or_default()
        ),
        format!(" {good}"),
        format!("{good}\n"),
    ];
    for token in &garbage {
        let err = v.verify(token, NOW).expect_err("garbage refused");
        let text = err.to_string();
        assert!(
            !text.contains(parts[2]) && !text.contains(parts[1]),
            "error echoes the token: {text}"
        );
    }
    // A payload that is not JSON but signed genuinely: the signature holds, the payload does not parse.
    let header = b64(&json!({"alg": "RS256", "x5t": TV_X5T}));
    let payload = URL_SAFE_NO_PAD.encode("not json");
    let signing_input = format!("{header}.{payload}");
    let sig = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &rsa_key(TV_KEY), Algorithm::RS256)
        .expect("signs");
    let err = v
        .verify(&format!("{signing_input}.{sig}"), NOW)
        .expect_err("refused");
    assert!(matches!(err, AssertionError::Malformed(_)), "{err:?}");
}

#[test]
fn every_error_fits_an_oauth_error_description() {
    let samples = [
        AssertionError::TooLarge,
        AssertionError::Malformed("it is empty"),
        AssertionError::UnsupportedAlgorithm("HS256".into()),
        AssertionError::CriticalHeader,
        AssertionError::MissingThumbprint,
        AssertionError::ThumbprintMismatch,
        AssertionError::BadSignature,
        AssertionError::CertificateExpired,
        AssertionError::MissingClaim("exp"),
        invalid("sub", "is empty"),
        AssertionError::WrongIssuer,
        AssertionError::WrongAudience,
        AssertionError::Expired,
        AssertionError::NotYetValid("nbf"),
    ];
    for err in samples {
        let text = err.to_string();
        // RFC 6749 §5.2: %x20-21 / %x23-5B / %x5D-7E.
        assert!(
            text.bytes()
                .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'),
            "{text}"
        );
        assert_eq!(err.oauth_error(), "invalid_grant");
    }
}

#[test]
fn an_assertion_after_the_certificate_expired_is_refused() {
    // The fixture's notAfter is 2126-01-01; a bridge still running then refuses, as a restart would.
    let after = 4_923_000_000;
    let token = sign(&with(claims(), "exp", json!(after + 60)));
    assert_eq!(
        verifier(0).verify(&token, after),
        Err(AssertionError::CertificateExpired)
    );
}

fn load(pem: &str) -> Result<AssertionVerifier, String> {
    AssertionVerifier::from_certificate_pem_at(pem, CLIENT_ID, AUDIENCE, 0, NOW)
}

#[test]
fn loading_uses_the_real_clock_and_accepts_the_fixtures() {
    let v = AssertionVerifier::from_certificate_pem(TV_CERT, CLIENT_ID, AUDIENCE, 30).expect("loads today");
    assert_eq!(v.thumbprint(), TV_X5T);
    let debug = format!("{v:?}");
    assert!(debug.contains(TV_X5T) && debug.contains(CLIENT_ID), "{debug}");
    assert_eq!(load(OTHER_CERT).expect("loads").thumbprint(), OTHER_X5T);
    // The README's openssl recipe (a v3 certificate with extensions) loads too.
    load(OPERATOR_CERT).expect("operator recipe loads");
}

#[test]
fn pem_around_the_block_and_crlf_are_tolerated() {
    let with_text = format!("Bag Attributes\n    friendlyName: tv\nsubject=CN = x\n{TV_CERT}\n\n");
    assert_eq!(load(&with_text).expect("loads").thumbprint(), TV_X5T);
    let crlf = TV_CERT.replace('\n', "\r\n");
    assert_eq!(load(&crlf).expect("loads").thumbprint(), TV_X5T);
}

#[test]
fn expired_and_not_yet_valid_certificates_are_refused() {
    let err =
        AssertionVerifier::from_certificate_pem(EXPIRED_CERT, CLIENT_ID, AUDIENCE, 0).expect_err("expired");
    assert!(err.contains("expired at 2001-01-01T00:00:00+00:00"), "{err}");
    // Injected times around the long-lived fixture's bounds (2000-01-01 to 2126-01-01).
    let before = AssertionVerifier::from_certificate_pem_at(TV_CERT, CLIENT_ID, AUDIENCE, 0, 946_684_799);
    assert!(before
        .expect_err("not yet valid")
        .contains("not valid before 2000-01-01"));
    let after = AssertionVerifier::from_certificate_pem_at(TV_CERT, CLIENT_ID, AUDIENCE, 0, 4_922_899_200);
    assert!(after.expect_err("expired").contains("expired at 2126-01-01"));
}

#[test]
fn non_rsa_weak_and_garbage_certificates_are_refused() {
    let err = load(EC_CERT).expect_err("EC refused");
    assert!(err.contains("not an RSA key"), "{err}");
    let err = load(RSA1024_CERT).expect_err("1024 bits refused");
    assert!(err.contains("1024 bits"), "{err}");
    let garbage = [
        ("", "no PEM block"),
        ("hello", "no PEM block"),
        (
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
            "not hold a valid X.509",
        ),
        (
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            "not valid base64 PEM",
        ),
        (
            "-----BEGIN CERTIFICATE-----\nMIIB\n",
            "no -----END CERTIFICATE-----",
        ),
        (
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "PUBLIC KEY block",
        ),
    ];
    for (pem, expected) in garbage {
        let err = load(pem).expect_err("garbage refused");
        assert!(err.contains(expected), "{pem:?}: {err}");
    }
    let err = load(TV_KEY).expect_err("a key is no certificate");
    assert!(err.contains("private key"), "{err}");
    assert!(!err.contains("MII"), "the key is not echoed: {err}");
    let err = load(&format!("{TV_CERT}{TV_KEY}")).expect_err("cert plus key refused");
    assert!(err.contains("also holds a private key"), "{err}");
    let err = load(&format!("{TV_CERT}{OTHER_CERT}")).expect_err("a chain refused");
    assert!(err.contains("2 PEM blocks"), "{err}");
}

#[test]
fn empty_client_id_or_audience_is_refused() {
    assert!(AssertionVerifier::from_certificate_pem_at(TV_CERT, "", AUDIENCE, 0, NOW).is_err());
    assert!(AssertionVerifier::from_certificate_pem_at(TV_CERT, CLIENT_ID, "", 0, NOW).is_err());
}
