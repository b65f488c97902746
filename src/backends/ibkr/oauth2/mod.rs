//! IBKR's OAuth 2.0 (server to server): a client-assertion JWT for the `client_credentials` grant, a signed
//! SSO-session request naming the IBKR username, and the bearer they give for `/v1/api`, renewed before it
//! expires.

mod jwt;
mod session;
mod settings;
#[cfg(test)]
pub(crate) mod tests;

pub use jwt::{client_assertion, sso_session_request, ASSERTION_LIFETIME_S};
pub use session::{access_token, login, sso_session, BearerToken, Oauth2Error, DEFAULT_LIFETIME};
pub use settings::{
    OAuth2Config, Oauth2Keys, DEFAULT_AUDIENCE, DEFAULT_SSO_SESSION_URL, DEFAULT_TOKEN_URL, SCOPE,
};

/// How long before expiry the bearer is renewed.
pub const RENEW_MARGIN: std::time::Duration = std::time::Duration::from_secs(5 * 60);
