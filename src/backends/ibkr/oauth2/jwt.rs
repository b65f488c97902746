//! The two JWTs of IBKR's OAuth 2.0, both RS256 with the registered key id in `kid`: the client assertion
//! of the `client_credentials` grant and the signed request body of the SSO-session call.

use super::settings::Oauth2Keys;
use jsonwebtoken::{encode, Algorithm, Header};
use serde::Serialize;

/// How long an assertion is valid: long enough for clock skew, short enough to be useless if leaked.
pub const ASSERTION_LIFETIME_S: i64 = 60;

/// Claims of the client assertion (RFC 7523): `iss` = `sub` = the client id.
#[derive(Debug, Serialize)]
struct Assertion<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
}

/// Claims of the SSO-session request (IBKR's `CreateSessionRequest`: `credential`, `ip`), issued by the
/// client.
#[derive(Debug, Serialize)]
struct SessionRequest<'a> {
    iss: &'a str,
    iat: i64,
    exp: i64,
    credential: &'a str,
    ip: &'a str,
}

fn header(keys: &Oauth2Keys) -> Header {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(keys.key_id.clone());
    header
}

/// The client assertion at unix second `now`, with a fresh `jti`.
pub fn client_assertion(keys: &Oauth2Keys, now: i64) -> Result<String, String> {
    let claims = Assertion {
        iss: &keys.client_id,
        sub: &keys.client_id,
        aud: &keys.audience,
        iat: now,
        exp: now + ASSERTION_LIFETIME_S,
        jti: uuid::Uuid::new_v4().to_string(),
    };
    encode(&header(keys), &claims, &keys.key).map_err(|e| format!("signing the client assertion: {e}"))
}

/// The signed body of the SSO-session request at unix second `now`.
pub fn sso_session_request(keys: &Oauth2Keys, now: i64) -> Result<String, String> {
    let claims = SessionRequest {
        iss: &keys.client_id,
        iat: now,
        exp: now + ASSERTION_LIFETIME_S,
        credential: &keys.username,
        ip: &keys.ip,
    };
    encode(&header(keys), &claims, &keys.key).map_err(|e| format!("signing the SSO-session request: {e}"))
}
