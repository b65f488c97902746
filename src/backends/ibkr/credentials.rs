//! The credentials every IBKR Web API call carries, by transport: none through the gateway (it holds the
//! login), a live session token over OAuth 1.0a, a bearer over OAuth 2.0. Each is obtained when first
//! needed, renewed a margin before it expires ([`Renewing`], one renewal however many calls wait), and
//! forgotten when IBKR refuses it (a 401), so that the session's one re-login obtains a fresh one.

use super::config::ResolvedAuth;
use super::oauth1::{self, LiveSessionToken, LstSigner, Oauth1Keys, Renewing};
use super::oauth2::{self, BearerToken, Oauth2Keys};
use crate::secret::Secret;
use crate::upstream::call::{CallError, CallResult};
use crate::upstream::transport::{SignError, Signer, Transport, TransportBuilder};
use std::sync::Arc;

/// How the bridge authenticates to IBKR, with the credential it holds.
pub enum Credentials {
    /// The Client Portal gateway adds the login itself.
    Gateway,
    /// OAuth 1.0a: the live session token is obtained on the API transport itself.
    Oauth1 {
        keys: Arc<Oauth1Keys>,
        lst: Renewing<LiveSessionToken>,
    },
    /// OAuth 2.0 (boxed: two transports of its own).
    Oauth2(Box<Oauth2Login>),
}

/// OAuth 2.0's login: the token and SSO-session endpoints have transports of their own.
pub struct Oauth2Login {
    keys: Arc<Oauth2Keys>,
    token: Transport,
    sso: Transport,
    bearer: Renewing<BearerToken>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.scheme())
    }
}

/// The credential one call is signed with, kept so that a refusal forgets exactly that one.
pub enum Held {
    /// No credential (the gateway's).
    Nothing,
    Lst(Arc<Oauth1Keys>, Arc<LiveSessionToken>),
    Bearer(Arc<BearerToken>),
}

impl Signer for Held {
    fn sign(&self, req: &mut reqwest::Request) -> Result<(), SignError> {
        match self {
            Held::Nothing => Ok(()),
            // A fresh nonce and timestamp per attempt: a retried call is never a replay.
            Held::Lst(keys, lst) => LstSigner::new(keys, lst).sign(req),
            Held::Bearer(bearer) => bearer.signer().sign(req),
        }
    }
}

/// What the WebSocket upgrade carries, from the credential held when the socket opens. IBKR's OpenAPI
/// gives `GET /ws` a query parameter `oauth_token` (the OAuth access token) and an `api` cookie (the Web
/// API session); for OAuth 2.0 it names nothing, so the session bearer goes in `Authorization` as on
/// every REST call.
#[derive(Default)]
pub struct SocketPass {
    /// Pairs added to the socket URL's query (OAuth 1.0a: `oauth_token`).
    pub query: Vec<(&'static str, Secret)>,
    /// Headers of the upgrade request (OAuth 2.0: `Authorization`).
    pub headers: Vec<(&'static str, Secret)>,
    /// Whether the upgrade also carries the session (from `/tickle`) as the `api` cookie: over OAuth,
    /// where no gateway keeps the cookie for the bridge.
    pub session_cookie: bool,
}

impl std::fmt::Debug for SocketPass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = |pairs: &[(&'static str, Secret)]| pairs.iter().map(|(k, _)| *k).collect::<Vec<_>>();
        f.debug_struct("SocketPass")
            .field("query", &names(&self.query))
            .field("headers", &names(&self.headers))
            .field("session_cookie", &self.session_cookie)
            .finish()
    }
}

impl SocketPass {
    /// Every secret value the pass carries, and a bearer's token alone (to be masked in any text about
    /// the connection).
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        let values = self.query.iter().chain(&self.headers).map(|(_, v)| v.expose());
        let tokens = self
            .headers
            .iter()
            .filter_map(|(_, v)| v.expose().strip_prefix("Bearer "));
        values.chain(tokens)
    }
}

impl Held {
    /// What the WebSocket upgrade carries with this credential.
    pub fn socket_pass(&self) -> SocketPass {
        match self {
            Held::Nothing => SocketPass::default(),
            Held::Lst(keys, _) => SocketPass {
                query: vec![("oauth_token", keys.access_token.clone())],
                headers: Vec::new(),
                session_cookie: true,
            },
            Held::Bearer(bearer) => SocketPass {
                query: Vec::new(),
                headers: vec![(
                    "authorization",
                    Secret::new(format!("Bearer {}", bearer.token.expose())),
                )],
                session_cookie: true,
            },
        }
    }
}

impl Credentials {
    /// The credentials of `auth`; `builder` makes a transport like the API's (TLS, timeouts) for the OAuth
    /// 2.0 endpoints, which are not under `/v1/api`.
    pub fn new(
        auth: &ResolvedAuth,
        builder: impl Fn(&str) -> TransportBuilder,
    ) -> anyhow::Result<Credentials> {
        Ok(match auth {
            ResolvedAuth::Gateway => Credentials::Gateway,
            ResolvedAuth::Oauth1(keys) => Credentials::Oauth1 {
                keys: keys.clone(),
                lst: Renewing::new(oauth1::RENEW_MARGIN),
            },
            ResolvedAuth::Oauth2 {
                keys,
                token_url,
                sso_session_url,
            } => Credentials::Oauth2(Box::new(Oauth2Login {
                keys: keys.clone(),
                token: builder(token_url).build()?,
                sso: builder(sso_session_url).build()?,
                bearer: Renewing::new(oauth2::RENEW_MARGIN),
            })),
        })
    }

    /// The scheme's name for logs and messages.
    pub fn scheme(&self) -> &'static str {
        match self {
            Credentials::Gateway => "Client Portal gateway",
            Credentials::Oauth1 { .. } => "OAuth 1.0a",
            Credentials::Oauth2(_) => "OAuth 2.0",
        }
    }

    /// The credential for the next call, obtained or renewed first when none is held or it is due. A
    /// refused handshake is the 401 IBKR answered; unusable key material or answers are `Decode` failures
    /// naming the problem (never a secret).
    pub async fn current(&self, api: &Transport) -> CallResult<Held> {
        match self {
            Credentials::Gateway => Ok(Held::Nothing),
            Credentials::Oauth1 { keys, lst } => {
                let token = lst
                    .get(|| oauth1::live_session_token(api, keys))
                    .await
                    .map_err(|e| match e {
                        oauth1::HandshakeError::Call(e) => e,
                        e @ oauth1::HandshakeError::Invalid(_) => CallError::Decode(e.to_string()),
                    })?;
                Ok(Held::Lst(keys.clone(), token))
            }
            Credentials::Oauth2(login) => {
                let held = login
                    .bearer
                    .get(|| oauth2::login(&login.token, &login.sso, &login.keys))
                    .await
                    .map_err(|e| match e {
                        oauth2::Oauth2Error::Call(e) => e,
                        e @ oauth2::Oauth2Error::Invalid(_) => CallError::Decode(e.to_string()),
                    })?;
                Ok(Held::Bearer(held))
            }
        }
    }

    /// Drops the held credential: the brokerage session is being re-opened, and IBKR's flow opens it with a
    /// fresh one (so a 401 while opening is a refusal of the credentials, not of a stale token).
    pub fn forget(&self) {
        match self {
            Credentials::Gateway => {}
            Credentials::Oauth1 { lst, .. } => lst.forget(),
            Credentials::Oauth2(login) => login.bearer.forget(),
        }
    }

    /// IBKR refused a call signed with `held` (a 401): forget it, so the next call renews it (once, however
    /// many calls were refused with it).
    pub fn refused(&self, held: &Held) {
        match (self, held) {
            (Credentials::Oauth1 { lst, .. }, Held::Lst(_, token)) => {
                tracing::info!("IBKR refused the live session token; it is renewed before the next call");
                lst.invalidate(token);
            }
            (Credentials::Oauth2(login), Held::Bearer(token)) => {
                tracing::info!("IBKR refused the OAuth 2.0 bearer; it is renewed before the next call");
                login.bearer.invalidate(token);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "credentials_tests.rs"]
mod tests;
