//! The server side of IBKR's OAuth 2.0: the `client_credentials` grant with a client-assertion JWT
//! (RS256, `kid`), the SSO-session request (a JWT signed with the same key, naming the IBKR username and
//! the caller's IP), and the bearer tokens both issue, which expire.

use super::{system_clock, Identity, NowMs, Refusal};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// The assertion type the token endpoint takes.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A registered OAuth 2.0 client.
#[derive(Clone)]
pub struct Client {
    pub client_id: String,
    /// The key id the client's assertions carry in `kid`.
    pub key_id: String,
    /// SPKI PEM of the client's signing key.
    pub public_pem: String,
    /// The IBKR username the client may open sessions for.
    pub username: String,
}

/// A bearer token the fake issued.
struct Token {
    user: String,
    expires_ms: i64,
}

/// The fake's OAuth 2.0 authorization and SSO-session server.
pub struct Oauth2Server {
    client: Client,
    key: DecodingKey,
    /// The `aud` client assertions must name.
    pub audience: String,
    /// Lifetimes of access tokens and of session bearers, in milliseconds.
    pub access_lifetime_ms: i64,
    pub session_lifetime_ms: i64,
    access: Mutex<HashMap<String, Token>>,
    sessions: Mutex<HashMap<String, Token>>,
    jtis: Mutex<HashSet<String>>,
    now: NowMs,
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    aud: String,
    iat: i64,
    exp: i64,
    #[serde(default)]
    jti: Option<String>,
}

#[derive(Deserialize)]
struct SessionClaims {
    iss: String,
    exp: i64,
    credential: String,
    ip: String,
}

impl Oauth2Server {
    /// A server for `client` on the system clock; assertions must name `audience`.
    pub fn new(client: Client, audience: &str) -> Result<Self, String> {
        Self::with_clock(client, audience, system_clock())
    }

    /// A server on the given clock.
    pub fn with_clock(client: Client, audience: &str, now: NowMs) -> Result<Self, String> {
        let key = DecodingKey::from_rsa_pem(client.public_pem.as_bytes())
            .map_err(|e| format!("public key: {e}"))?;
        Ok(Oauth2Server {
            client,
            key,
            audience: audience.to_string(),
            access_lifetime_ms: 3_600_000,
            session_lifetime_ms: 3_600_000,
            access: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            jtis: Mutex::new(HashSet::new()),
            now,
        })
    }

    /// `POST /oauth2/api/v1/token` with the decoded form: the answer body, or a refusal (RFC 6749's
    /// `{"error": "invalid_client"}` family, status 400 or 401).
    pub fn token(&self, form: &[(String, String)]) -> Result<serde_json::Value, Refusal> {
        let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        if field("grant_type") != Some("client_credentials") {
            return Err(oauth_error(400, "unsupported_grant_type"));
        }
        if field("client_assertion_type") != Some(JWT_BEARER) {
            return Err(oauth_error(400, "invalid_request"));
        }
        if !field("scope")
            .unwrap_or_default()
            .split(' ')
            .any(|s| s == "sso-sessions.write")
        {
            return Err(oauth_error(400, "invalid_scope"));
        }
        let assertion = field("client_assertion").ok_or_else(|| oauth_error(400, "invalid_request"))?;
        let claims: AssertionClaims = self
            .decode_signed(assertion)
            .ok_or_else(|| oauth_error(401, "invalid_client"))?;
        let now_s = (self.now)() / 1000;
        let valid = claims.iss == self.client.client_id
            && claims.sub == self.client.client_id
            && claims.aud == self.audience
            && claims.exp > now_s
            && claims.iat <= now_s + 60;
        if !valid {
            return Err(oauth_error(401, "invalid_client"));
        }
        if let Some(jti) = claims.jti {
            if !self.jtis.lock().unwrap().insert(jti) {
                return Err(oauth_error(401, "invalid_client"));
            }
        }
        let token = self.issue(
            &self.access,
            self.client.client_id.clone(),
            self.access_lifetime_ms,
        );
        Ok(serde_json::json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.access_lifetime_ms / 1000,
            "scope": "sso-sessions.write",
        }))
    }

    /// `POST /gw/api/v1/sso-sessions`: a live access token as bearer, `application/jwt`, a JWT signed by
    /// the client naming its IBKR username and an IP. Answers the session bearer.
    pub fn sso_session(
        &self,
        authorization: Option<&str>,
        content_type: Option<&str>,
        body: &str,
    ) -> Result<serde_json::Value, Refusal> {
        Self::live(&self.access, authorization, (self.now)())?;
        if content_type.map(|c| c.split(';').next().unwrap_or_default().trim()) != Some("application/jwt") {
            return Err(Refusal::with_status(415, "Content-Type must be application/jwt"));
        }
        let claims: SessionClaims = self
            .decode_signed(body.trim())
            .ok_or_else(|| Refusal::unauthorized("invalid signed JWT"))?;
        if claims.iss != self.client.client_id || claims.exp <= (self.now)() / 1000 {
            return Err(Refusal::unauthorized("invalid signed JWT"));
        }
        if claims.credential != self.client.username {
            return Err(Refusal::unauthorized("unknown credential"));
        }
        if claims.ip.parse::<std::net::IpAddr>().is_err() {
            return Err(Refusal::with_status(400, "ip is not an IP address"));
        }
        let token = self.issue(&self.sessions, claims.credential, self.session_lifetime_ms);
        Ok(serde_json::json!({ "active": true, "access_token": token, "token_type": "Bearer" }))
    }

    /// Verifies the session bearer of a `/v1/api` call.
    pub fn verify(&self, authorization: Option<&str>) -> Result<Identity, Refusal> {
        let user = Self::live(&self.sessions, authorization, (self.now)())?;
        Ok(Identity {
            client: self.client.client_id.clone(),
            user,
        })
    }

    /// Makes every issued token expire now (a fault to inject).
    pub fn expire_all(&self) {
        let now = (self.now)();
        for tokens in [&self.access, &self.sessions] {
            tokens
                .lock()
                .unwrap()
                .values_mut()
                .for_each(|t| t.expires_ms = now);
        }
    }

    /// The claims of a compact JWT signed RS256 by the client's key under its `kid`.
    fn decode_signed<C: serde::de::DeserializeOwned>(&self, jwt: &str) -> Option<C> {
        let header = decode_header(jwt).ok()?;
        if header.alg != Algorithm::RS256 || header.kid.as_deref() != Some(self.client.key_id.as_str()) {
            return None;
        }
        let mut validation = Validation::new(Algorithm::RS256);
        // Times are checked against the fake's own clock, which tests move.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        decode::<C>(jwt, &self.key, &validation).ok().map(|d| d.claims)
    }

    fn issue(&self, table: &Mutex<HashMap<String, Token>>, user: String, lifetime_ms: i64) -> String {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut table = table.lock().unwrap();
        let now = (self.now)();
        table.retain(|_, t| t.expires_ms > now);
        table.insert(
            token.clone(),
            Token {
                user,
                expires_ms: now + lifetime_ms,
            },
        );
        token
    }

    /// The user of a live `Bearer` token in `table`.
    fn live(
        table: &Mutex<HashMap<String, Token>>,
        authorization: Option<&str>,
        now: i64,
    ) -> Result<String, Refusal> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| Refusal::unauthorized("missing bearer token"))?;
        let table = table.lock().unwrap();
        match table.get(token.trim()) {
            Some(t) if t.expires_ms > now => Ok(t.user.clone()),
            Some(_) => Err(Refusal::unauthorized("token expired")),
            None => Err(Refusal::unauthorized("invalid token")),
        }
    }
}

/// RFC 6749's error answer of a token endpoint.
fn oauth_error(status: u16, error: &str) -> Refusal {
    Refusal {
        status,
        body: serde_json::json!({ "error": error }),
    }
}
