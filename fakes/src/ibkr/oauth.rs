//! Ready-made OAuth modes of the fake IBKR, joining the server side of [`crate::ibkr_auth`] to the fake
//! gateway: [`FakeIbkrOptions::oauth1`] serves `POST /v1/api/oauth/live_session_token` and checks the
//! HMAC-SHA256 signature of every other `/v1/api` call; [`FakeIbkrOptions::oauth2`] serves the token and
//! SSO-session endpoints on the same host and checks the session bearer of every `/v1/api` call. Both
//! start the brokerage session closed (`ssodh/init` opens it) and pace at IBKR's OAuth limit of 50
//! requests per second. [`FakeOauth`] (from [`FakeIbkr::oauth`]) holds the switches and counters tests use.
//!
//! The WebSocket upgrade: IBKR's OpenAPI gives `/ws` an `oauth_token` query parameter (the access token)
//! and nothing else for OAuth; the fake wants it under OAuth 1.0a together with a live session token, and
//! under OAuth 2.0 (nothing documented) the strictest reading: a live session bearer in `Authorization`.

use super::oauth_keys::{dh_params, keys_dir, read_key, Oauth1ClientMaterial, Oauth2ClientMaterial};
use super::options::{FakeIbkrOptions, Refusal, Verifier};
use super::FakeIbkr;
use crate::ibkr_auth::oauth1::{Consumer, Oauth1Server};
use crate::ibkr_auth::oauth2::{Client, Oauth2Server};
use crate::ibkr_auth::{form_pairs, request_url, Refusal as AuthRefusal};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use rand::RngCore;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Where the OAuth 1.0a handshake is served (below the host).
pub const LIVE_SESSION_TOKEN_PATH: &str = "/v1/api/oauth/live_session_token";
/// Where OAuth 2.0 access tokens are issued.
pub const TOKEN_PATH: &str = "/oauth2/api/v1/token";
/// Where OAuth 2.0 SSO sessions are opened.
pub const SSO_SESSION_PATH: &str = "/gw/api/v1/sso-sessions";
/// The key id the fake's OAuth 2.0 client registers.
pub const OAUTH2_KEY_ID: &str = "tvbridge-test-key";
/// IBKR's pacing over OAuth.
const OAUTH_REQUESTS_PER_SECOND: u32 = 50;

/// Why the fake refused an OAuth call (the counters of [`FakeOauth::refusals`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefusalReason {
    /// A signature (HMAC or RSA) or a signed JWT that does not verify.
    BadSignature,
    /// A nonce seen before within the timestamp window.
    ReplayedNonce,
    /// A timestamp outside the window.
    StaleTimestamp,
    /// An expired live session token or bearer.
    Expired,
    /// The access token was revoked ([`FakeOauth::revoke`]).
    Revoked,
    /// Anything else: a missing or malformed header, an unknown token or consumer.
    Other,
}

impl RefusalReason {
    /// The reason of a refusal of the `ibkr_auth` servers, from its message.
    fn of(refusal: &AuthRefusal) -> RefusalReason {
        match refusal.message() {
            "invalid signature" | "invalid signed JWT" | "invalid_client" => RefusalReason::BadSignature,
            "nonce already used" => RefusalReason::ReplayedNonce,
            "timestamp outside the window" => RefusalReason::StaleTimestamp,
            "live session token expired" | "token expired" => RefusalReason::Expired,
            _ => RefusalReason::Other,
        }
    }
}

/// The scheme's server side (boxed: the two differ much in size) and its client's material.
enum Scheme {
    One {
        server: Box<Oauth1Server>,
        client: Oauth1ClientMaterial,
    },
    Two {
        server: Box<Oauth2Server>,
        client: Oauth2ClientMaterial,
    },
}

/// One OAuth mode of a fake: its server side, switches and counters.
pub struct FakeOauth {
    scheme: Scheme,
    revoked: AtomicBool,
    handshakes: AtomicUsize,
    access_tokens: AtomicUsize,
    session_bearers: AtomicUsize,
    refusals: Mutex<HashMap<RefusalReason, usize>>,
}

impl FakeOauth {
    fn new(scheme: Scheme) -> FakeOauth {
        FakeOauth {
            scheme,
            revoked: AtomicBool::new(false),
            handshakes: AtomicUsize::new(0),
            access_tokens: AtomicUsize::new(0),
            session_bearers: AtomicUsize::new(0),
            refusals: Mutex::new(HashMap::new()),
        }
    }

    /// The OAuth 1.0a client's material (`None` under OAuth 2.0).
    pub fn oauth1_client(&self) -> Option<&Oauth1ClientMaterial> {
        match &self.scheme {
            Scheme::One { client, .. } => Some(client),
            Scheme::Two { .. } => None,
        }
    }

    /// The OAuth 2.0 client's material (`None` under OAuth 1.0a).
    pub fn oauth2_client(&self) -> Option<&Oauth2ClientMaterial> {
        match &self.scheme {
            Scheme::Two { client, .. } => Some(client),
            Scheme::One { .. } => None,
        }
    }

    /// The live session token (OAuth 1.0a) or every issued token (OAuth 2.0) expires now.
    pub fn expire_now(&self) {
        match &self.scheme {
            Scheme::One { server, .. } => server.expire_lst(),
            Scheme::Two { server, .. } => server.expire_all(),
        }
    }

    /// Revokes the access token: every call (handshakes and token requests included) gets 401 until
    /// [`FakeOauth::reinstate`].
    pub fn revoke(&self) {
        self.revoked.store(true, Ordering::SeqCst);
    }

    /// Undoes [`FakeOauth::revoke`] (tokens issued before stay as they were).
    pub fn reinstate(&self) {
        self.revoked.store(false, Ordering::SeqCst);
    }

    /// Live session token handshakes answered so far.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }

    /// OAuth 2.0 access tokens issued so far.
    pub fn access_tokens_issued(&self) -> usize {
        self.access_tokens.load(Ordering::SeqCst)
    }

    /// OAuth 2.0 session bearers issued so far.
    pub fn session_bearers_issued(&self) -> usize {
        self.session_bearers.load(Ordering::SeqCst)
    }

    /// Calls refused for `reason` so far.
    pub fn refusals(&self, reason: RefusalReason) -> usize {
        let counts = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(&reason).copied().unwrap_or(0)
    }

    /// Counts a refusal and turns it into the fake's answer.
    fn refuse(&self, refusal: AuthRefusal, reason: RefusalReason) -> Refusal {
        *self
            .refusals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(reason)
            .or_default() += 1;
        Refusal {
            status: refusal.status,
            body: refusal.body,
        }
    }

    fn counted(&self, refusal: AuthRefusal) -> Refusal {
        let reason = RefusalReason::of(&refusal);
        self.refuse(refusal, reason)
    }

    fn check_revoked(&self) -> Result<(), Refusal> {
        if self.revoked.load(Ordering::SeqCst) {
            return Err(self.refuse(
                AuthRefusal::unauthorized("access token revoked"),
                RefusalReason::Revoked,
            ));
        }
        Ok(())
    }

    /// The check of one call below `/v1/api` (not the handshake, which its handler checks).
    fn check_api_call(&self, parts: &Parts, body: &[u8]) -> Result<(), AuthRefusal> {
        let authorization = header(&parts.headers, "authorization");
        let websocket = parts.uri.path() == "/v1/api/ws";
        match &self.scheme {
            Scheme::One { server, .. } if websocket => {
                let query: Vec<(String, String)> =
                    serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
                let token = query.iter().find(|(k, _)| k == "oauth_token").map(|(_, v)| v);
                if token.map(String::as_str) != Some(server.access_token()) {
                    return Err(AuthRefusal::unauthorized("oauth_token missing or wrong"));
                }
                server.lst_live()
            }
            Scheme::One { server, .. } => {
                let form = form_pairs(&parts.headers, std::str::from_utf8(body).unwrap_or(""));
                let url = request_url(&parts.headers, &parts.uri);
                server
                    .verify(parts.method.as_str(), &url, authorization, &form)
                    .map(drop)
            }
            Scheme::Two { server, .. } => server.verify(authorization).map(drop),
        }
    }

    /// The routes of the scheme's handshake endpoints.
    fn routes(self: &Arc<Self>) -> Router {
        match self.scheme {
            Scheme::One { .. } => Router::new().route(LIVE_SESSION_TOKEN_PATH, post(live_session_token)),
            Scheme::Two { .. } => Router::new()
                .route(TOKEN_PATH, post(token))
                .route(SSO_SESSION_PATH, post(sso_session)),
        }
        .with_state(self.clone())
    }
}

impl Verifier for FakeOauth {
    fn verify(&self, parts: &Parts, body: &[u8]) -> Result<(), Refusal> {
        self.check_revoked()?;
        let path = parts.uri.path();
        if path == LIVE_SESSION_TOKEN_PATH || !path.starts_with("/v1/api") {
            // The handshake and token endpoints check their own requests.
            return Ok(());
        }
        self.check_api_call(parts, body).map_err(|r| self.counted(r))
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `POST /v1/api/oauth/live_session_token`.
async fn live_session_token(
    State(auth): State<Arc<FakeOauth>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Scheme::One { server, .. } = &auth.scheme else {
        return AuthRefusal::with_status(404, "Not Found").into_response();
    };
    let form = form_pairs(&headers, std::str::from_utf8(&body).unwrap_or(""));
    let url = request_url(&headers, &uri);
    match server.live_session_token(method.as_str(), &url, header(&headers, "authorization"), &form) {
        Ok(answer) => {
            auth.handshakes.fetch_add(1, Ordering::SeqCst);
            Json(answer).into_response()
        }
        Err(refusal) => refused(auth.counted(refusal)),
    }
}

/// `POST /oauth2/api/v1/token`.
async fn token(State(auth): State<Arc<FakeOauth>>, headers: HeaderMap, body: Bytes) -> Response {
    let Scheme::Two { server, .. } = &auth.scheme else {
        return AuthRefusal::with_status(404, "Not Found").into_response();
    };
    let form = form_pairs(&headers, std::str::from_utf8(&body).unwrap_or(""));
    match server.token(&form) {
        Ok(answer) => {
            auth.access_tokens.fetch_add(1, Ordering::SeqCst);
            Json(answer).into_response()
        }
        Err(refusal) => refused(auth.counted(refusal)),
    }
}

/// `POST /gw/api/v1/sso-sessions`.
async fn sso_session(State(auth): State<Arc<FakeOauth>>, headers: HeaderMap, body: Bytes) -> Response {
    let Scheme::Two { server, .. } = &auth.scheme else {
        return AuthRefusal::with_status(404, "Not Found").into_response();
    };
    let body = std::str::from_utf8(&body).unwrap_or("");
    let answer = server.sso_session(
        header(&headers, "authorization"),
        header(&headers, "content-type"),
        body,
    );
    match answer {
        Ok(answer) => {
            auth.session_bearers.fetch_add(1, Ordering::SeqCst);
            Json(answer).into_response()
        }
        Err(refusal) => refused(auth.counted(refusal)),
    }
}

fn refused(refusal: Refusal) -> Response {
    AuthRefusal {
        status: refusal.status,
        body: refusal.body,
    }
    .into_response()
}

/// Random lower-case hex of `bytes` random bytes.
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

impl FakeIbkrOptions {
    /// The fake behind OAuth 1.0a for `consumer_key`, registered with the keys of `testdata/ibkr/keys/`
    /// and a fresh access token and secret; the session starts closed, pacing is 50 requests per second.
    ///
    /// # Panics
    /// When the test keys are missing or unreadable (the checkout is broken).
    pub fn oauth1(consumer_key: &str) -> FakeIbkrOptions {
        let (dh_prime, dh_generator) =
            dh_params(&read_key("dhparam.pem")).expect("the DH parameters fixture");
        let realm = if consumer_key == "TESTCONS" {
            "test_realm"
        } else {
            "limited_poa"
        };
        let consumer = Consumer {
            consumer_key: consumer_key.to_string(),
            realm: realm.to_string(),
            signature_public_pem: read_key("signature.pub.pem"),
            encryption_public_pem: read_key("encryption.pub.pem"),
            dh_prime: dh_prime.clone(),
            dh_generator: dh_generator.clone(),
            access_token: random_hex(10),
            access_token_secret: random_hex(32).into_bytes(),
            // IBKR: about 24 hours.
            lst_lifetime_ms: 24 * 3_600_000,
        };
        let server = Oauth1Server::new(consumer.clone()).expect("the test public keys");
        let client = Oauth1ClientMaterial {
            consumer_key: consumer.consumer_key,
            realm: consumer.realm,
            access_token: consumer.access_token,
            encrypted_access_token_secret: server.encrypted_secret(),
            signature_key_file: keys_dir().join("signature.pem"),
            encryption_key_file: keys_dir().join("encryption.pem"),
            dh_param_file: keys_dir().join("dhparam.pem"),
            dh_prime,
            dh_generator,
        };
        FakeIbkrOptions::with_oauth(FakeOauth::new(Scheme::One {
            server: Box::new(server),
            client,
        }))
    }

    /// The fake behind OAuth 2.0 for `client_id` (key id [`OAUTH2_KEY_ID`], the key pair of
    /// `testdata/ibkr/keys/oauth2_client*.pem`, the default username, audience `/token`); the session
    /// starts closed, pacing is 50 requests per second.
    ///
    /// # Panics
    /// When the test keys are missing or unreadable (the checkout is broken).
    pub fn oauth2(client_id: &str) -> FakeIbkrOptions {
        let username = FakeIbkrOptions::default().username;
        let registered = Client {
            client_id: client_id.to_string(),
            key_id: OAUTH2_KEY_ID.to_string(),
            public_pem: read_key("oauth2_client.pub.pem"),
            username: username.clone(),
        };
        let audience = "/token";
        let server = Oauth2Server::new(registered, audience).expect("the test public key");
        let client = Oauth2ClientMaterial {
            client_id: client_id.to_string(),
            key_id: OAUTH2_KEY_ID.to_string(),
            private_key_file: keys_dir().join("oauth2_client.pem"),
            username,
            audience: audience.to_string(),
        };
        FakeIbkrOptions::with_oauth(FakeOauth::new(Scheme::Two {
            server: Box::new(server),
            client,
        }))
    }

    fn with_oauth(auth: FakeOauth) -> FakeIbkrOptions {
        let auth = Arc::new(auth);
        FakeIbkrOptions {
            requests_per_second: OAUTH_REQUESTS_PER_SECOND,
            start_authenticated: false,
            verifier: Some(auth.clone()),
            extra_routes: Some(auth.routes()),
            oauth: Some(auth),
            ..FakeIbkrOptions::default()
        }
    }
}

impl FakeIbkr {
    /// The OAuth mode's switches and counters (`None` in gateway mode).
    pub fn oauth(&self) -> Option<&FakeOauth> {
        self.oauth.as_deref()
    }

    /// `http://127.0.0.1:PORT`, the host every URL of the fake is under.
    pub fn origin(&self) -> &str {
        self.base_url
            .strip_suffix(super::gate::PREFIX)
            .unwrap_or(&self.base_url)
    }

    /// The OAuth 2.0 token endpoint's URL.
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.origin())
    }

    /// The OAuth 2.0 SSO-session endpoint's URL.
    pub fn sso_session_url(&self) -> String {
        format!("{}{SSO_SESSION_PATH}", self.origin())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_sorted_by_the_servers_message() {
        let of = |m: &str| RefusalReason::of(&AuthRefusal::unauthorized(m));
        assert_eq!(of("invalid signature"), RefusalReason::BadSignature);
        assert_eq!(of("nonce already used"), RefusalReason::ReplayedNonce);
        assert_eq!(of("timestamp outside the window"), RefusalReason::StaleTimestamp);
        assert_eq!(of("live session token expired"), RefusalReason::Expired);
        assert_eq!(of("token expired"), RefusalReason::Expired);
        assert_eq!(of("missing bearer token"), RefusalReason::Other);
    }

    #[test]
    fn a_revoked_token_refuses_everything_until_reinstated() {
        let options = FakeIbkrOptions::oauth2("client");
        let auth = options.oauth.clone().expect("an OAuth mode");
        let (parts, ()) = axum::http::Request::post(TOKEN_PATH)
            .body(())
            .unwrap()
            .into_parts();
        assert!(
            auth.verify(&parts, b"").is_ok(),
            "the token endpoint checks itself"
        );
        auth.revoke();
        assert_eq!(auth.verify(&parts, b"").map_err(|r| r.status), Err(401));
        assert_eq!(auth.refusals(RefusalReason::Revoked), 1);
        auth.reinstate();
        assert!(auth.verify(&parts, b"").is_ok());
        let (api, ()) = axum::http::Request::get("/v1/api/tickle")
            .body(())
            .unwrap()
            .into_parts();
        assert_eq!(
            auth.verify(&api, b"").map_err(|r| r.status),
            Err(401),
            "no bearer"
        );
        assert_eq!(auth.refusals(RefusalReason::Other), 1);
    }
}
