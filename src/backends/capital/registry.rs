//! The bridge's Capital.com sessions on the shared [`SessionRegistry`]: what a login maps to in each mode,
//! and how the market-data session opens.

use super::client::Client;
use super::config::{LoginMode, ResolvedConfig, UpstreamCredentials};
use super::credentials::When;
use super::session::{SessionContext, Upstream, UpstreamError, NEW_LOGIN_MAX_WAIT};
use crate::broker::{BrokerError, BrokerResult, Login, LoginKind, INVALID_LOGIN};
use crate::secret::Secret;
use crate::store::Store;
use crate::upstream::data_session::DataSources;
use crate::upstream::sessions::SessionRegistry;
use crate::upstream::shared_turns::SharedTurns;
use std::sync::Arc;
use std::time::Duration;

/// What a login established.
#[derive(Debug, Clone)]
pub struct Opened {
    pub upstream: Arc<Upstream>,
    pub accounts: Vec<super::model::SessionAccount>,
    pub current_account: String,
}

/// Every live Capital.com session, by bridge session id, and the market-data session.
pub struct Registry {
    ctx: Arc<SessionContext>,
    config: Arc<ResolvedConfig>,
    sessions: Arc<SessionRegistry<Upstream>>,
}

impl Registry {
    /// The registry; with a shared `store`, logins are paced per API key across every replica on it.
    pub fn new(config: Arc<ResolvedConfig>, store: Option<Arc<dyn Store>>) -> anyhow::Result<Registry> {
        let client = Client::new(&config.base_url, config.api_key.clone(), config.request_timeout)?;
        let sources = DataSources {
            mapped: config.users.clone(),
            // Capital.com has no credentials of the bridge's own: only users' logins.
            configured: None,
            // In mapped mode the first mapped user serves from the start (their credentials need no login).
            first_mapped_serves: true,
        };
        let missing = BrokerError::Rejected(
            "Market data from Capital.com needs a logged-in session: log in first.".into(),
        );
        Ok(Registry {
            ctx: Arc::new(SessionContext {
                client,
                // One session per second per key (on every replica of this key's host, when the store is
                // shared), with the same safety margin as the request limiter.
                creation_pacer: SharedTurns::per_second(
                    1,
                    store,
                    "capital-session",
                    &[&config.base_url, config.api_key.expose()],
                ),
                requests_per_second: config.requests_per_second,
                keepalive: config.keepalive,
                max_idle: config.keepalive_max_idle,
            }),
            sessions: Arc::new(SessionRegistry::new(
                "Capital.com",
                config.data_session.clone(),
                sources,
                missing,
            )),
            config,
        })
    }

    /// Which logins the configured mode takes.
    pub fn login_kind(&self) -> LoginKind {
        self.config.login.kind()
    }

    /// Opens the Capital.com session `login` maps to and registers it under `session_id`.
    pub async fn login(&self, session_id: &str, login: &Login) -> BrokerResult<(String, Opened)> {
        let (user, upstream_credentials) = match (self.config.login, login) {
            (LoginMode::PassThrough, Login::PassThrough(credentials)) => {
                let login = credentials.login.trim();
                if login.is_empty() || credentials.password.is_empty() {
                    return Err(BrokerError::Rejected(
                        "Enter your Capital.com login and API-key password.".into(),
                    ));
                }
                let upstream = UpstreamCredentials {
                    identifier: Secret::new(login.to_string()),
                    password: credentials.password.clone(),
                    source: None,
                };
                (login.to_string(), upstream)
            }
            (LoginMode::Mapped, Login::Bridge(user)) => {
                let mapped = self.config.users.iter().find(|(login, _)| *login == user.login);
                match mapped {
                    Some((_, c)) => (user.login.clone(), c.clone()),
                    None => return Err(BrokerError::Rejected(INVALID_LOGIN.into())),
                }
            }
            _ => return Err(BrokerError::Rejected(INVALID_LOGIN.into())),
        };
        let (upstream, created) =
            Upstream::open(&self.ctx, upstream_credentials.clone(), Some(NEW_LOGIN_MAX_WAIT))
                .await
                .map_err(|e| login_error(e, &upstream_credentials))?;
        let upstream = Arc::new(upstream);
        self.sessions.insert(session_id, &user, upstream.clone());
        Ok((
            user,
            Opened {
                upstream,
                accounts: created.accounts,
                current_account: created.current_account_id,
            },
        ))
    }

    /// The upstream session of a bridge session.
    pub fn get(&self, session_id: &str) -> BrokerResult<Arc<Upstream>> {
        self.sessions.get(session_id)
    }

    /// Logs the upstream session out (`DELETE /session`) and forgets it with everything it held. When the
    /// user lent the market-data session their credentials, that session ends too and the next one borrows
    /// another live login's.
    pub async fn logout(&self, session_id: &str) {
        self.sessions.logout(session_id).await;
    }

    /// The session for calls that belong to no TradingView session (history, symbol info, quote streams). It
    /// is a session of its own, never switched between accounts: Capital.com drops a session's WebSocket
    /// when the session changes account, and TradingView tabs switch accounts all the time.
    pub async fn data_session(&self) -> BrokerResult<Arc<Upstream>> {
        self.sessions
            .data_session(|credentials| async move {
                let (upstream, _) = Upstream::open(&self.ctx, credentials.clone(), None)
                    .await
                    .map_err(|e| login_error(e, &credentials))?;
                Ok(upstream)
            })
            .await
    }

    /// Pings idle sessions and drops abandoned ones, forever; the loop ends with the broker.
    pub fn spawn_keepalive(&self) {
        let tick = (self.config.keepalive / 4).clamp(Duration::from_millis(200), Duration::from_secs(30));
        self.sessions.spawn_keepalive(tick);
    }
}

/// A failed `POST /session` as the user should read it (see [`super::credentials`]).
fn login_error(e: UpstreamError, credentials: &UpstreamCredentials) -> BrokerError {
    match e {
        UpstreamError::Call(super::client::CallError::Status { status, body, .. }) if status < 500 => {
            super::credentials::refused(credentials, status, &body, When::Login)
        }
        UpstreamError::Broker(BrokerError::Unauthorized(_)) => {
            super::credentials::refused(credentials, 401, "", When::Login)
        }
        other => other.into(),
    }
}
