//! OAuth 1.0a against the worked values of IBKR's OAuth guide (TESTCONS) where the guide gives them whole,
//! and against the fake IBKR's server side (independent code) for the rest.

use super::*;
use base64::Engine;
use fakes::ibkr_auth::oauth1::{server_exchange, Consumer, Oauth1Server};
use num_bigint::BigUint;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn testdata(name: &str) -> String {
    format!("{}/testdata/ibkr/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn read(name: &str) -> String {
    std::fs::read_to_string(testdata(name)).unwrap()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The guide's protected GET (`/marketdata/snapshot?conid=8314`, LST `YBWb...`), as its base string.
const GUIDE_GET_BASE: &str = "GET&http%3A%2F%2Flocalhost%3A12345%2Ftradingapi%2Fv1%2Fmarketdata%2Fsnapshot&conid%3D8314%26oauth_consumer_key%3DTESTCONS%26oauth_nonce%3Daecef17086308940e861%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1473795686%26oauth_token%3D6f531f8fd316915af53f";

const GUIDE_LST: &str = "YBWbLw+9RYP2nWrPQHxHZkBb1aM=";

#[test]
fn percent_encoding_keeps_only_the_unreserved_characters() {
    assert_eq!(pct("aZ09-._~"), "aZ09-._~");
    assert_eq!(pct("a b+c/d=e&f|g"), "a%20b%2Bc%2Fd%3De%26f%7Cg");
    assert_eq!(pct("é"), "%C3%A9");
}

#[test]
fn base_string_of_a_get_with_a_query_matches_the_guide() {
    let url: reqwest::Url = "http://localhost:12345/tradingapi/v1/marketdata/snapshot?conid=8314"
        .parse()
        .unwrap();
    let req = reqwest::Request::new(reqwest::Method::GET, url.clone());
    let mut all = pairs(&[
        ("oauth_token", "6f531f8fd316915af53f"),
        ("oauth_consumer_key", "TESTCONS"),
        ("oauth_signature_method", "HMAC-SHA256"),
        ("oauth_nonce", "aecef17086308940e861"),
        ("oauth_timestamp", "1473795686"),
    ]);
    all.extend(request_pairs(&req).unwrap());
    assert_eq!(base_string("GET", &url_without_query(&url), &all), GUIDE_GET_BASE);
}

#[test]
fn hmac_signature_with_the_guides_lst() {
    // The guide prints this signature as "+BdI...v8%3D"; the whole value was computed independently.
    let lst = LiveSessionToken::new(B64.decode(GUIDE_LST).unwrap(), Instant::now());
    let signature = lst.sign(GUIDE_GET_BASE);
    assert_eq!(signature, "+BdIuZDNooYZAbO9RZUCTC5F/3HjFOb04Tu4crpi0v8=");
    assert!(signature.starts_with("+BdI") && pct(&signature).ends_with("v8%3D"));
}

#[test]
fn base_string_of_a_form_post_matches_the_guide() {
    // The guide's "normal base string": a form body value with `|`, encoded once; an empty value kept.
    let client = reqwest::Client::new();
    let req = client
        .post("https://api.ibkr.com/v1/api/oauth/session_token")
        .form(&[("device_id", "CCCCCC95|48-DF-37-57-33-80"), ("username", "")])
        .build()
        .unwrap();
    let mut all = pairs(&[
        ("oauth_consumer_key", "TESTCONS"),
        ("oauth_nonce", "mQfUqcZD3TjC5RNguaYVQwOXfFyCgt0m"),
        ("oauth_signature_method", "RSA-SHA256"),
        ("oauth_timestamp", "1605211475"),
        ("oauth_token", "eb31c080cc0bd45b2f55"),
    ]);
    all.extend(request_pairs(&req).unwrap());
    assert_eq!(
        base_string("POST", &url_without_query(req.url()), &all),
        "POST&https%3A%2F%2Fapi.ibkr.com%2Fv1%2Fapi%2Foauth%2Fsession_token&device_id%3DCCCCCC95%7C48-DF-37-57-33-80%26oauth_consumer_key%3DTESTCONS%26oauth_nonce%3DmQfUqcZD3TjC5RNguaYVQwOXfFyCgt0m%26oauth_signature_method%3DRSA-SHA256%26oauth_timestamp%3D1605211475%26oauth_token%3Deb31c080cc0bd45b2f55%26username%3D"
    );
}

#[test]
fn a_json_body_is_never_in_the_base_string() {
    let req = reqwest::Client::new()
        .post("https://api.ibkr.com/v1/api/iserver/auth/ssodh/init?x=1")
        .header("content-type", "application/json")
        .body(r#"{"publish":true}"#)
        .build()
        .unwrap();
    assert_eq!(request_pairs(&req).unwrap(), pairs(&[("x", "1")]));
    let default_port: reqwest::Url = "https://api.ibkr.com:443/v1/api/tickle?a=b".parse().unwrap();
    assert_eq!(
        url_without_query(&default_port),
        "https://api.ibkr.com/v1/api/tickle"
    );
}

#[test]
fn authorization_header_matches_the_guides_protected_resource_example() {
    let header = authorization_header(
        "test_realm",
        &pairs(&[
            ("oauth_token", "eb31c080cc0bd45b2f55"),
            ("oauth_signature", "AwqwlUGJcIAV0yEAt7jjUTrNhoTQ39YdOEY+bGw8R/w="),
            ("oauth_consumer_key", "TESTCONS"),
            ("oauth_nonce", "1q8YmKU101RVyGwUBrq1CkJdcybucp23"),
            ("oauth_signature_method", "HMAC-SHA256"),
            ("oauth_timestamp", "1605211498"),
        ]),
    );
    assert_eq!(
        header,
        "OAuth realm=\"test_realm\", oauth_consumer_key=\"TESTCONS\", oauth_nonce=\"1q8YmKU101RVyGwUBrq1CkJdcybucp23\", oauth_signature=\"AwqwlUGJcIAV0yEAt7jjUTrNhoTQ39YdOEY%2BbGw8R%2Fw%3D\", oauth_signature_method=\"HMAC-SHA256\", oauth_timestamp=\"1605211498\", oauth_token=\"eb31c080cc0bd45b2f55\""
    );
}

#[test]
fn the_guides_lst_validates_against_its_signature() {
    // The guide gives the signature as "543c55477d6cbb0e792d1e4f8111cec7305ba3f" in its text and as
    // "54...f4" in the response: the whole value is both.
    let lst = B64.decode(GUIDE_LST).unwrap();
    assert!(is_valid(
        &lst,
        "TESTCONS",
        "543c55477d6cbb0e792d1e4f8111cec7305ba3f4"
    ));
    assert!(
        !is_valid(&lst, "TESTCONS", "543c55477d6cbb0e792d1e4f8111cec7305ba3f5"),
        "a tampered signature"
    );
    assert!(
        !is_valid(&lst, "TESTCONT", "543c55477d6cbb0e792d1e4f8111cec7305ba3f4"),
        "another consumer"
    );
    assert!(
        !is_valid(&lst, "TESTCONS", "543c55477d6cbb0e792d1e4f8111cec7305ba3f"),
        "a truncated signature"
    );
    assert!(!is_valid(&lst, "TESTCONS", "not hex"));
}

#[test]
fn k_gets_a_sign_byte_exactly_when_its_bit_length_is_a_multiple_of_8() {
    // The guide's two examples.
    assert_eq!(k_bytes(&BigUint::from(0xffu32)), vec![0, 0xff]);
    assert_eq!(k_bytes(&BigUint::from(0x7fu32)), vec![0x7f]);
    assert_eq!(k_bytes(&BigUint::from(0x80_00u32)), vec![0, 0x80, 0]);
    assert_eq!(k_bytes(&BigUint::from(0x01_00u32)), vec![1, 0]);
    // The guide's K (2043 bits): no sign byte.
    let k = BigUint::parse_bytes(b"6262468731191716683916525460981637432269697150114366475089957235034556054645865209772746619391812849127835137774753767516533120660657788130356019389258390639629771302856818611289175580360551663142007235858334526145988930399837930751734172031856168887029288967531594210251515114214270648331076558038219524053473452048253881320127188478755674108525316178231175969139768048756660413287188054680946609844209757147985947955909470087464016932223023419524321232125758731409798486170855401269035486806152769695999321982943785989707170257093535822989962797048573685671123477713856278662416004849291538363649715799319959947 81".iter().filter(|b| !b.is_ascii_whitespace()).copied().collect::<Vec<_>>().as_slice(), 10).unwrap();
    assert_eq!(k.bits(), 2043);
    assert_eq!(k_bytes(&k).len(), 256);
    assert_ne!(k_bytes(&k)[0], 0);
}

fn group() -> DhGroup {
    DhGroup::parse(&read("dhparam.pem"), None).unwrap()
}

#[test]
fn a_full_exchange_agrees_with_the_server_side_computed_independently() {
    let group = group();
    let secret = b"an access token secret".to_vec();
    for round in 0..16u32 {
        let challenge = group.challenge_with(BigUint::from(0xC0FFEEu32 + round) << 200);
        let a_public = BigUint::parse_bytes(challenge.challenge_hex().as_bytes(), 16).unwrap();
        let b = BigUint::from(0xBEEFu32 + round) << 190;
        let (response, server_k) = server_exchange(&group.prime, &group.generator, &a_public, &b);
        let client_k = challenge.shared_secret(&response).unwrap();
        assert_eq!(client_k, server_k, "round {round}");
        let lst = derive(&client_k, &secret);
        assert_eq!(lst, derive(&server_k, &secret));
    }
    // A response outside the group is refused.
    let challenge = group.challenge();
    assert!(challenge.shared_secret("1").is_err());
    assert!(challenge
        .shared_secret(&(&group.prime - 1u32).to_str_radix(16))
        .is_err());
    assert!(challenge.shared_secret("xyz").is_err());
}

#[test]
fn dh_parameters_from_pem_or_hex() {
    let from_pem = group();
    assert_eq!(from_pem.prime.bits(), 2048);
    assert_eq!(from_pem.generator, BigUint::from(2u32));
    let hex = from_pem.prime.to_str_radix(16);
    let with_colons: String = hex
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":");
    assert_eq!(DhGroup::parse(&with_colons, None).unwrap(), from_pem);
    assert_eq!(
        DhGroup::parse(&hex, Some(5)).unwrap().generator,
        BigUint::from(5u32)
    );
    assert!(DhGroup::parse("ff", None).is_err(), "a toy prime");
    assert!(DhGroup::parse("not hex", None).is_err());
    assert!(DhGroup::parse(
        "-----BEGIN DH PARAMETERS-----\nAAAA\n-----END DH PARAMETERS-----",
        None
    )
    .is_err());
}

/// A fake consumer whose public keys are the test fixtures, with its key material as the bridge loads it.
pub(crate) fn consumer() -> (Consumer, OAuth1Config) {
    let group = group();
    let consumer = Consumer {
        consumer_key: "TESTCONS".into(),
        realm: "test_realm".into(),
        signature_public_pem: read("signature.pub.pem"),
        encryption_public_pem: read("encryption.pub.pem"),
        dh_prime: group.prime.clone(),
        dh_generator: group.generator.clone(),
        access_token: "6f531f8fd316915af53f".into(),
        access_token_secret: (0u8..32).collect(),
        lst_lifetime_ms: 24 * 3_600_000,
    };
    let settings = OAuth1Config {
        consumer_key_env: "IBKR_CONSUMER_KEY".into(),
        access_token_env: "IBKR_ACCESS_TOKEN".into(),
        access_token_secret_env: "IBKR_ACCESS_TOKEN_SECRET".into(),
        signature_key_file: testdata("signature.pem"),
        encryption_key_file: testdata("encryption.pem"),
        dh_prime: String::new(),
        dh_param_file: testdata("dhparam.pem"),
        dh_generator: None,
        realm: "test_realm".into(),
    };
    (consumer, settings)
}

/// The environment holding the consumer's secrets (`secret`: the encrypted access token secret).
pub(crate) fn env(secret: &str) -> impl Fn(&str) -> Option<String> {
    let env: HashMap<&str, String> = [
        ("IBKR_CONSUMER_KEY", "TESTCONS".to_string()),
        ("IBKR_ACCESS_TOKEN", "6f531f8fd316915af53f".to_string()),
        ("IBKR_ACCESS_TOKEN_SECRET", secret.to_string()),
    ]
    .into();
    move |name| env.get(name).cloned()
}

fn load(settings: &OAuth1Config, secret: &str) -> Oauth1Keys {
    settings.load(&env(secret), &|path| std::fs::read(path)).unwrap()
}

#[test]
fn keys_load_from_files_and_env_and_never_print() {
    let (fake, settings) = consumer();
    let server = Oauth1Server::new(fake).unwrap();
    let keys = load(&settings, &server.encrypted_secret());
    assert_eq!(
        decrypt_secret(&keys.encryption_key, keys.access_token_secret.expose()).unwrap(),
        (0u8..32).collect::<Vec<_>>()
    );
    let shown = format!("{keys:?}");
    assert!(
        shown.contains("TESTCONS") && !shown.contains("6f531f8fd316915af53f") && !shown.contains("BEGIN")
    );
    // Missing material is named, never shown.
    let read = |path: &str| std::fs::read(path);
    let missing = settings.load(&|_| None, &read).unwrap_err();
    assert!(
        missing.contains("IBKR_CONSUMER_KEY") && missing.contains("IBKR_ACCESS_TOKEN_SECRET"),
        "{missing}"
    );
    let secret = server.encrypted_secret();
    let mut gone = settings.clone();
    gone.signature_key_file = "/no/such/key.pem".into();
    let e = gone.load(&env(&secret), &read).unwrap_err();
    assert!(
        e.starts_with("backend.oauth1.signature_key_file \"/no/such/key.pem\""),
        "{e}"
    );
    let mut public = settings.clone();
    public.encryption_key_file = testdata("encryption.pub.pem");
    let e = public.load(&env(&secret), &read).unwrap_err();
    assert!(
        e.contains("backend.oauth1.encryption_key_file") && !e.contains("BEGIN"),
        "{e}"
    );
    assert!(private_key("-----BEGIN PUBLIC KEY-----").is_err());
}

#[test]
fn problems_name_every_missing_key() {
    let (_, settings) = consumer();
    let mut out = Vec::new();
    settings.problems(&mut out);
    assert_eq!(out, Vec::<String>::new());
    let mut both = settings.clone();
    both.dh_prime = "ff".into();
    both.dh_generator = Some(1);
    both.signature_key_file = " ".into();
    both.problems(&mut out);
    let out = out.join("\n");
    for key in [
        "backend.oauth1.signature_key_file must be set",
        "exactly one of dh_prime and dh_param_file",
        "backend.oauth1.dh_generator must be",
    ] {
        assert!(out.contains(key), "{key} missing from:\n{out}");
    }
    let mut out = Vec::new();
    OAuth1Config::default().problems(&mut out);
    assert_eq!(out.len(), 6, "five keys and the DH parameters: {out:?}");
}

#[test]
fn the_lst_request_is_signed_over_the_prepend_and_base_string() {
    use rsa::pkcs8::DecodePublicKey;
    let (fake, settings) = consumer();
    let server = Oauth1Server::new(fake).unwrap();
    let keys = load(&settings, &server.encrypted_secret());
    let secret = decrypt_secret(&keys.encryption_key, keys.access_token_secret.expose()).unwrap();
    let mut req = reqwest::Request::new(
        reqwest::Method::POST,
        "https://api.ibkr.com/v1/api/oauth/live_session_token"
            .parse()
            .unwrap(),
    );
    RsaSigner::live_session_token(&keys, &secret, "abc123")
        .sign_at(&mut req, "nonce1", "1605211318")
        .unwrap();
    let header = req.headers()["authorization"].to_str().unwrap().to_string();
    assert!(req.headers()["authorization"].is_sensitive());
    let signature = header
        .split("oauth_signature=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let signature = B64
        .decode(fakes::ibkr_auth::pct_decode(signature).unwrap())
        .unwrap();
    let base = "POST&https%3A%2F%2Fapi.ibkr.com%2Fv1%2Fapi%2Foauth%2Flive_session_token&diffie_hellman_challenge%3Dabc123%26oauth_consumer_key%3DTESTCONS%26oauth_nonce%3Dnonce1%26oauth_signature_method%3DRSA-SHA256%26oauth_timestamp%3D1605211318%26oauth_token%3D6f531f8fd316915af53f";
    let public = rsa::RsaPublicKey::from_public_key_pem(&read("signature.pub.pem")).unwrap();
    let verify = |text: &str| {
        use sha2::Digest;
        public
            .verify(
                rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                &sha2::Sha256::digest(text.as_bytes()),
                &signature,
            )
            .is_ok()
    };
    assert!(verify(&format!("{}{base}", to_hex(&secret))));
    assert!(!verify(base), "the prepend is part of what is signed");
    assert!(header.starts_with(
        "OAuth realm=\"test_realm\", diffie_hellman_challenge=\"abc123\", oauth_consumer_key=\"TESTCONS\""
    ));
}

/// A fake IBKR on 127.0.0.1 serving the LST request and one protected GET through the fake's verifier.
async fn serve(server: Arc<Oauth1Server>) -> String {
    use axum::http::{HeaderMap, Method, Uri};
    use axum::response::IntoResponse;
    let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: String| {
        let server = server.clone();
        async move {
            let url = fakes::ibkr_auth::request_url(&headers, &uri);
            let form = fakes::ibkr_auth::form_pairs(&headers, &body);
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
            let answer = if uri.path().ends_with("/oauth/live_session_token") {
                server.live_session_token(method.as_str(), &url, auth, &form)
            } else {
                server
                    .verify(method.as_str(), &url, auth, &form)
                    .map(|id| serde_json::json!({ "user": id.user }))
            };
            match answer {
                Ok(body) => axum::Json(body).into_response(),
                Err(refusal) => refusal.into_response(),
            }
        }
    };
    let addr = serve_app(axum::Router::new().fallback(handler)).await;
    format!("http://{addr}/v1/api")
}

/// Serves `app` on a free port of 127.0.0.1 for the rest of the test; its address.
pub(crate) async fn serve_app(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn handshake_and_signed_calls_against_the_fake() {
    use crate::upstream::transport::{Call, Transport};
    let (fake, settings) = consumer();
    let server = Arc::new(Oauth1Server::new(fake).unwrap());
    let keys = load(&settings, &server.encrypted_secret());
    let transport = Transport::builder(&serve(server.clone()).await).build().unwrap();

    let lst = live_session_token(&transport, &keys).await.unwrap();
    let remaining = lst.expires_at.saturating_duration_since(Instant::now());
    assert!(remaining > Duration::from_secs(23 * 3600) && remaining <= Duration::from_secs(24 * 3600));
    let signer = LstSigner::new(&keys, &lst);
    let call = Call::get("/portfolio/accounts")
        .query([("conids", "1,2 3")])
        .signed(&signer);
    let answer: serde_json::Value = transport.json(&call).await.unwrap();
    assert_eq!(answer["user"], "6f531f8fd316915af53f");
    // A form body is part of what is signed; a JSON body is not.
    let form = Call::write(reqwest::Method::POST, "/iserver/auth/ssodh/init")
        .form([("compete", "false"), ("publish", "true")])
        .signed(&signer);
    transport.json::<serde_json::Value>(&form).await.unwrap();
    let json = Call::write(reqwest::Method::POST, "/iserver/auth/ssodh/init")
        .json(&serde_json::json!({ "publish": true, "compete": true }))
        .signed(&signer);
    transport.json::<serde_json::Value>(&json).await.unwrap();
    // Each attempt is signed afresh: the same call again is not a replay.
    transport.json::<serde_json::Value>(&call).await.unwrap();

    // A replayed nonce, a wrong LST and an expired LST are refused with a 401.
    let fixed = |req: &mut reqwest::Request| signer.sign_at(req, "same-nonce", &timestamp());
    struct Fixed<F>(F);
    impl<F: Fn(&mut reqwest::Request) -> Result<(), crate::upstream::transport::SignError> + Send + Sync>
        crate::upstream::transport::Signer for Fixed<F>
    {
        fn sign(&self, req: &mut reqwest::Request) -> Result<(), crate::upstream::transport::SignError> {
            (self.0)(req)
        }
    }
    let once = Fixed(fixed);
    transport
        .json::<serde_json::Value>(&Call::get("/tickle").signed(&once))
        .await
        .unwrap();
    let replay = transport
        .json::<serde_json::Value>(&Call::get("/tickle").signed(&once))
        .await
        .unwrap_err();
    assert_eq!(replay.status(), Some(401));
    let wrong = LiveSessionToken::new(vec![7; 20], lst.expires_at);
    let tampered = transport
        .json::<serde_json::Value>(&Call::get("/tickle").signed(&LstSigner::new(&keys, &wrong)))
        .await
        .unwrap_err();
    assert_eq!(tampered.status(), Some(401));
    server.expire_lst();
    let expired = transport.json::<serde_json::Value>(&call).await.unwrap_err();
    assert_eq!(expired.status(), Some(401));
    // A fresh handshake makes the consumer work again.
    let renewed = live_session_token(&transport, &keys).await.unwrap();
    transport
        .json::<serde_json::Value>(&Call::get("/tickle").signed(&LstSigner::new(&keys, &renewed)))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_wrong_signature_key_is_refused_by_the_fake() {
    use crate::upstream::transport::Transport;
    let (mut fake, settings) = consumer();
    fake.signature_public_pem = read("encryption.pub.pem");
    let server = Arc::new(Oauth1Server::new(fake).unwrap());
    let keys = load(&settings, &server.encrypted_secret());
    let transport = Transport::builder(&serve(server).await).build().unwrap();
    match live_session_token(&transport, &keys).await.unwrap_err() {
        HandshakeError::Call(e) => assert_eq!(e.status(), Some(401)),
        other => panic!("{other}"),
    }
}

/// A credential for the renewal tests.
struct Token(Instant);

impl Expiring for Token {
    fn expires_at(&self) -> Instant {
        self.0
    }
}

#[tokio::test(start_paused = true)]
async fn renewal_happens_a_margin_before_expiry_and_once_for_concurrent_callers() {
    let holder = Arc::new(Renewing::<Token>::new(Duration::from_secs(600)));
    let renewals = Arc::new(AtomicUsize::new(0));
    let get = |holder: Arc<Renewing<Token>>, renewals: Arc<AtomicUsize>| async move {
        holder
            .get(|| async {
                renewals.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok::<_, ()>(Token(Instant::now() + Duration::from_secs(3600)))
            })
            .await
            .unwrap()
    };
    let first: Vec<_> =
        futures_util::future::join_all((0..10).map(|_| get(holder.clone(), renewals.clone()))).await;
    assert_eq!(
        renewals.load(Ordering::SeqCst),
        1,
        "ten concurrent callers share one renewal"
    );
    assert!(first.iter().all(|t| Arc::ptr_eq(t, &first[0])));
    // The renewal ended at t = 1 s with a token expiring at t = 3601 s: due at t = 3001 s.
    tokio::time::advance(Duration::from_secs(2999)).await;
    get(holder.clone(), renewals.clone()).await;
    assert_eq!(
        renewals.load(Ordering::SeqCst),
        1,
        "still more than the margin before expiry"
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    get(holder.clone(), renewals.clone()).await;
    assert_eq!(
        renewals.load(Ordering::SeqCst),
        2,
        "renewed ten minutes before expiry"
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_token_is_renewed_once_and_a_short_lived_one_halfway() {
    let holder = Renewing::<Token>::new(Duration::from_secs(600));
    let renewals = AtomicUsize::new(0);
    let renew = || async {
        renewals.fetch_add(1, Ordering::SeqCst);
        Ok::<_, ()>(Token(Instant::now() + Duration::from_secs(60)))
    };
    let stale = holder.get(renew).await.unwrap();
    assert!(
        Arc::ptr_eq(&stale, &holder.get(renew).await.unwrap()),
        "a 60 s token is kept for 30 s"
    );
    holder.invalidate(&stale);
    let fresh = holder.get(renew).await.unwrap();
    assert_eq!(renewals.load(Ordering::SeqCst), 2);
    holder.invalidate(&stale);
    assert!(
        Arc::ptr_eq(&fresh, &holder.get(renew).await.unwrap()),
        "a second 401 with the stale token renews nothing"
    );
    tokio::time::advance(Duration::from_secs(31)).await;
    holder.get(renew).await.unwrap();
    assert_eq!(
        renewals.load(Ordering::SeqCst),
        3,
        "renewed halfway through a life shorter than twice the margin"
    );
    let failed = Renewing::<Token>::new(Duration::from_secs(600));
    assert!(failed.get(|| async { Err::<Token, _>("down") }).await.is_err());
    assert!(failed.current().is_none());
}

#[test]
fn nonces_are_fresh_and_signing_never_prints_the_token() {
    let n: std::collections::HashSet<String> = (0..100).map(|_| nonce()).collect();
    assert_eq!(n.len(), 100);
    assert!(n
        .iter()
        .all(|n| n.len() == 32 && n.chars().all(|c| c.is_ascii_alphanumeric())));
    let lst = LiveSessionToken::new(B64.decode(GUIDE_LST).unwrap(), Instant::now());
    assert!(!format!("{lst:?}").contains("YBWb"));
}
