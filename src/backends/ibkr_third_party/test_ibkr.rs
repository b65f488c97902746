//! A small IBKR for this backend's tests: the three-legged grant (request token with a callback, the
//! authorization page as a method, access token with a verifier, each RSA-SHA256 signature checked over
//! the base string rebuilt here), and per access token the first-party fake's verifier
//! (`fakes::ibkr_auth::oauth1`) for the live session token and the HMAC-signed calls.

use super::super::config::{IbkrThirdPartyConfig, ResolvedConfig, SymbolConfig};
use super::super::credentials::Grant;
use crate::secret::Secret;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::IntoResponse;
use base64::Engine;
use fakes::ibkr_auth::oauth1::Oauth1Server;
use fakes::ibkr_auth::{base_string, parse_oauth_header, Refusal};
use rand::distributions::{Alphanumeric, DistString};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A valid `link_key` (bytes 0..32).
pub const LINK_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// Another valid `link_key`.
pub const OTHER_LINK_KEY: &str = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=";

pub fn testdata(name: &str) -> String {
    format!("{}/testdata/ibkr/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The environment of the tests' consumer.
pub fn env(name: &str) -> Option<String> {
    match name {
        "IBKR_TP_CONSUMER_KEY" => Some("TESTCONS".into()),
        "IBKR_TP_LINK_KEY" => Some(LINK_KEY.into()),
        _ => None,
    }
}

/// A complete configuration of the tests' consumer (TESTCONS, `test_realm`, the throw-away keys).
pub fn config(base_url: &str) -> IbkrThirdPartyConfig {
    IbkrThirdPartyConfig {
        base_url: base_url.into(),
        authorize_url: "https://ibkr.example/authorize".into(),
        consumer_key_env: "IBKR_TP_CONSUMER_KEY".into(),
        signature_key_file: testdata("signature.pem"),
        encryption_key_file: testdata("encryption.pem"),
        dh_param_file: testdata("dhparam.pem"),
        realm: "test_realm".into(),
        link_key_env: "IBKR_TP_LINK_KEY".into(),
        symbols: vec![SymbolConfig {
            symbol: "AAPL".into(),
            conid: None,
            instrument_type: None,
            ticker: None,
            exchange: Some("NASDAQ".into()),
            currency: None,
            tradingview: None,
        }],
        ..IbkrThirdPartyConfig::default()
    }
}

pub fn resolved(base_url: &str) -> ResolvedConfig {
    config(base_url)
        .resolve_with(&|path| std::fs::read(path), &env)
        .unwrap()
}

/// What the fake saw of the token requests.
#[derive(Default)]
pub struct Seen {
    pub request_token_bases: Vec<String>,
    pub access_token_bases: Vec<String>,
    pub lst_requests: usize,
    pub user_agents: Vec<Option<String>>,
}

/// The fake IBKR's state.
pub struct FakeIbkr {
    /// Per access token, the first-party verifier of that grant.
    grants: Mutex<HashMap<String, Arc<Oauth1Server>>>,
    revoked: Mutex<HashSet<String>>,
    /// Request token -> the verifier once authorised.
    request_tokens: Mutex<HashMap<String, Option<String>>>,
    pub seen: Mutex<Seen>,
    /// Answers the next access token requests with 500 (a fault to inject).
    pub fail_access_token: AtomicUsize,
}

impl FakeIbkr {
    pub fn new() -> Arc<FakeIbkr> {
        Arc::new(FakeIbkr {
            grants: Mutex::new(HashMap::new()),
            revoked: Mutex::new(HashSet::new()),
            request_tokens: Mutex::new(HashMap::new()),
            seen: Mutex::new(Seen::default()),
            fail_access_token: AtomicUsize::new(0),
        })
    }

    /// Issues a grant (as IBKR does after the user approved): the access token and its secret encrypted
    /// to the consumer's encryption key.
    pub fn issue_grant(&self) -> Grant {
        let (mut consumer, _) = crate::backends::ibkr::oauth1::tests::consumer();
        consumer.access_token = Alphanumeric.sample_string(&mut rand::rngs::OsRng, 20);
        consumer.access_token_secret = Alphanumeric
            .sample_string(&mut rand::rngs::OsRng, 32)
            .into_bytes();
        let server = Oauth1Server::new(consumer).unwrap();
        let grant = Grant {
            access_token: Secret::new(server.access_token()),
            access_token_secret: Secret::new(server.encrypted_secret()),
        };
        self.grants
            .lock()
            .unwrap()
            .insert(server.access_token().to_string(), Arc::new(server));
        grant
    }

    /// The user revokes the grant of `access_token` at IBKR.
    pub fn revoke(&self, access_token: &str) {
        self.revoked.lock().unwrap().insert(access_token.to_string());
    }

    /// The live session token of `access_token` expires now.
    pub fn expire_lst(&self, access_token: &str) {
        self.grants.lock().unwrap()[access_token].expire_lst();
    }

    /// The user approves at IBKR's authorization page: the verifier the browser brings back.
    pub fn authorize(&self, request_token: &str) -> String {
        let verifier = Alphanumeric.sample_string(&mut rand::rngs::OsRng, 16);
        *self
            .request_tokens
            .lock()
            .unwrap()
            .get_mut(request_token)
            .expect("a request token the fake issued") = Some(verifier.clone());
        verifier
    }

    fn answer(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &str,
    ) -> axum::response::Response {
        let agent = headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        self.seen.lock().unwrap().user_agents.push(agent.clone());
        if agent.is_none() {
            return Refusal::with_status(400, "User-Agent header required").into_response();
        }
        let url = fakes::ibkr_auth::request_url(headers, uri);
        let form = fakes::ibkr_auth::form_pairs(headers, body);
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
        let path = uri.path();
        let answer = if path.ends_with("/oauth/request_token") {
            self.request_token(method.as_str(), &url, auth, &form)
        } else if path.ends_with("/oauth/access_token") {
            self.access_token(method.as_str(), &url, auth, &form)
        } else {
            let token = auth
                .and_then(parse_oauth_header)
                .and_then(|h| h.get("oauth_token").cloned())
                .unwrap_or_default();
            let server = self.grants.lock().unwrap().get(&token).cloned();
            match server {
                _ if self.revoked.lock().unwrap().contains(&token) => {
                    Err(Refusal::unauthorized("invalid token"))
                }
                None => Err(Refusal::unauthorized("invalid token")),
                Some(server) if path.ends_with("/oauth/live_session_token") => {
                    self.seen.lock().unwrap().lst_requests += 1;
                    server.live_session_token(method.as_str(), &url, auth, &form)
                }
                Some(server) => {
                    if path.ends_with("/error") {
                        return Refusal::with_status(400, "Bad thing").into_response();
                    }
                    server
                        .verify(method.as_str(), &url, auth, &form)
                        .map(|id| serde_json::json!({ "user": id.user }))
                }
            }
        };
        match answer {
            Ok(body) => axum::Json(body).into_response(),
            Err(refusal) => refusal.into_response(),
        }
    }

    /// `POST /oauth/request_token`: RSA-SHA256 over the base string with `oauth_callback`, no token.
    fn request_token(
        &self,
        method: &str,
        url: &str,
        auth: Option<&str>,
        form: &[(String, String)],
    ) -> Result<serde_json::Value, Refusal> {
        let (oauth, base) = rsa_verified(method, url, auth, form)?;
        if oauth.contains_key("oauth_token") || !oauth.contains_key("oauth_callback") {
            return Err(Refusal::with_status(
                400,
                "oauth_callback required, no oauth_token",
            ));
        }
        self.seen.lock().unwrap().request_token_bases.push(base);
        let token = Alphanumeric.sample_string(&mut rand::rngs::OsRng, 20);
        self.request_tokens.lock().unwrap().insert(token.clone(), None);
        Ok(serde_json::json!({ "oauth_token": token }))
    }

    /// `POST /oauth/access_token`: the request token and its verifier, each used once.
    fn access_token(
        &self,
        method: &str,
        url: &str,
        auth: Option<&str>,
        form: &[(String, String)],
    ) -> Result<serde_json::Value, Refusal> {
        let (oauth, base) = rsa_verified(method, url, auth, form)?;
        self.seen.lock().unwrap().access_token_bases.push(base);
        if self
            .fail_access_token
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(Refusal::with_status(500, "internal error"));
        }
        let (Some(token), Some(verifier)) = (oauth.get("oauth_token"), oauth.get("oauth_verifier")) else {
            return Err(Refusal::with_status(
                400,
                "oauth_token and oauth_verifier required",
            ));
        };
        // Single use: the request token is gone whatever the outcome.
        let issued = self.request_tokens.lock().unwrap().remove(token);
        if issued.flatten().as_ref() != Some(verifier) {
            return Err(Refusal::unauthorized("invalid verifier"));
        }
        let grant = self.issue_grant();
        Ok(serde_json::json!({
            "oauth_token": grant.access_token.expose(),
            "oauth_token_secret": grant.access_token_secret.expose(),
        }))
    }
}

/// The header's pairs and the base string of an RSA-SHA256 token request whose signature (over the base
/// string rebuilt here, no prepend) the consumer's public signature key verifies.
fn rsa_verified(
    method: &str,
    url: &str,
    auth: Option<&str>,
    form: &[(String, String)],
) -> Result<(BTreeMap<String, String>, String), Refusal> {
    use rsa::pkcs8::DecodePublicKey;
    use sha2::Digest;
    let mut oauth = auth
        .and_then(parse_oauth_header)
        .ok_or_else(|| Refusal::unauthorized("malformed OAuth header"))?;
    if oauth.remove("realm").as_deref() != Some("test_realm")
        || oauth.get("oauth_consumer_key").map(String::as_str) != Some("TESTCONS")
        || oauth.get("oauth_signature_method").map(String::as_str) != Some("RSA-SHA256")
    {
        return Err(Refusal::unauthorized("wrong realm, consumer or method"));
    }
    let signature = oauth
        .remove("oauth_signature")
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .ok_or_else(|| Refusal::unauthorized("no signature"))?;
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<(String, String)> = oauth.clone().into_iter().collect();
    pairs.extend(serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default());
    pairs.extend(form.iter().cloned());
    let base = base_string(method, path, &pairs);
    let public = rsa::RsaPublicKey::from_public_key_pem(
        &std::fs::read_to_string(testdata("signature.pub.pem")).unwrap(),
    )
    .unwrap();
    public
        .verify(
            rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            &sha2::Sha256::digest(base.as_bytes()),
            &signature,
        )
        .map_err(|_| Refusal::unauthorized("invalid signature"))?;
    Ok((oauth, base))
}

/// Serves `fake` on 127.0.0.1; its base URL (`.../v1/api`).
pub async fn serve(fake: Arc<FakeIbkr>) -> String {
    let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: String| {
        let fake = fake.clone();
        async move { fake.answer(&method, &uri, &headers, &body) }
    };
    let addr = crate::backends::ibkr::oauth1::tests::serve_app(axum::Router::new().fallback(handler)).await;
    format!("http://{addr}/v1/api")
}
