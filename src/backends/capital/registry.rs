//! The bridge's Capital.com sessions: login in both modes, lookup per bridge session, logout, the
//! keep-alive loop, and the session that serves market data when no TradingView session is named.

use super::client::Client;
use super::config::{LoginMode, ResolvedConfig, UpstreamCredentials};
use super::credentials::When;
use super::session::{SessionContext, Upstream, UpstreamError, NEW_LOGIN_MAX_WAIT};
use crate::broker::{BrokerError, BrokerResult, Credentials};
use crate::config::UserConfig;
use crate::secret::Secret;
use crate::upstream::limiter::ReservingWindow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Registry key of the market-data session.
const DATA_SESSION: &str = "\u{0}market-data";

/// What a login established.
#[derive(Debug, Clone)]
pub struct Opened {
    pub upstream: Arc<Upstream>,
    pub accounts: Vec<super::model::SessionAccount>,
    pub current_account: String,
}

/// Every live upstream session, by bridge session id.
pub struct Registry {
    pub ctx: Arc<SessionContext>,
    config: Arc<ResolvedConfig>,
    bridge_users: Vec<UserConfig>,
    sessions: Mutex<HashMap<String, Arc<Upstream>>>,
    /// Serialises opening the market-data session.
    data_open: tokio::sync::Mutex<()>,
    /// Whose credentials open the market-data session: the first mapped user, or (pass-through) the bridge
    /// session whose login lent them, so they are dropped when that user logs out.
    data_credentials: Mutex<Option<(Option<String>, UpstreamCredentials)>>,
}

impl Registry {
    pub fn new(config: Arc<ResolvedConfig>, bridge_users: Vec<UserConfig>) -> anyhow::Result<Registry> {
        let client = Client::new(&config.base_url, config.api_key.clone(), config.request_timeout)?;
        Ok(Registry {
            ctx: Arc::new(SessionContext {
                client,
                // One session per second per key, with the same safety margin as the request limiter.
                creation_pacer: ReservingWindow::per_second(1),
                requests_per_second: config.requests_per_second,
            }),
            bridge_users,
            sessions: Mutex::new(HashMap::new()),
            data_open: tokio::sync::Mutex::new(()),
            data_credentials: Mutex::new(config.users.first().map(|(_, c)| (None, c.clone()))),
            config,
        })
    }

    /// Checks the TradingView credentials, opens the Capital.com session and registers it under `session_id`.
    pub async fn login(&self, session_id: &str, credentials: &Credentials) -> BrokerResult<(String, Opened)> {
        let (user, upstream_credentials) = match self.config.login {
            LoginMode::PassThrough => {
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
            LoginMode::Mapped => {
                let known = self.bridge_users.iter().any(|u| {
                    u.login == credentials.login && u.password.constant_time_eq(credentials.password.expose())
                });
                let mapped = self
                    .config
                    .users
                    .iter()
                    .find(|(login, _)| *login == credentials.login)
                    .map(|(_, c)| c.clone());
                match (known, mapped) {
                    (true, Some(c)) => (credentials.login.clone(), c),
                    _ => return Err(BrokerError::Rejected("Invalid login or password".into())),
                }
            }
        };
        let (upstream, created) =
            Upstream::open(&self.ctx, upstream_credentials.clone(), Some(NEW_LOGIN_MAX_WAIT))
                .await
                .map_err(|e| login_error(e, &upstream_credentials))?;
        let upstream = Arc::new(upstream);
        self.lock().insert(session_id.to_string(), upstream.clone());
        let mut data = self.data_credentials.lock().unwrap_or_else(|p| p.into_inner());
        if data.is_none() {
            *data = Some((Some(session_id.to_string()), upstream.credentials().clone()));
        }
        drop(data);
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
        self.lock()
            .get(session_id)
            .cloned()
            .ok_or_else(|| BrokerError::Unauthorized("no Capital.com session for this bridge session".into()))
    }

    /// Logs the upstream session out and forgets it. When the user lent the market-data session their
    /// credentials, that session ends too and the next one borrows another live login's.
    pub async fn logout(&self, session_id: &str) {
        let removed = self.lock().remove(session_id);
        if let Some(upstream) = removed {
            upstream.close(&self.ctx).await;
        }
        let lent = {
            let mut data = self.data_credentials.lock().unwrap_or_else(|p| p.into_inner());
            let lent = matches!(&*data, Some((Some(owner), _)) if owner == session_id);
            if lent {
                *data = self
                    .lock()
                    .iter()
                    .find(|(id, _)| id.as_str() != DATA_SESSION)
                    .map(|(id, u)| (Some(id.clone()), u.credentials().clone()));
            }
            lent
        };
        if lent {
            let data = self.lock().remove(DATA_SESSION);
            if let Some(upstream) = data {
                upstream.close(&self.ctx).await;
            }
        }
    }

    /// The session for calls that belong to no TradingView session (history, symbol info, quote streams). It
    /// is a session of its own, never switched between accounts: Capital.com drops a session's WebSocket
    /// when the session changes account, and TradingView tabs switch accounts all the time.
    pub async fn data_session(&self) -> BrokerResult<Arc<Upstream>> {
        if let Some(s) = self.lock().get(DATA_SESSION).cloned() {
            return Ok(s);
        }
        let _guard = self.data_open.lock().await;
        if let Some(s) = self.lock().get(DATA_SESSION).cloned() {
            return Ok(s);
        }
        let credentials = self
            .data_credentials
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(_, c)| c.clone());
        let Some(credentials) = credentials else {
            return Err(BrokerError::Rejected(
                "Market data from Capital.com needs a logged-in session: log in first.".into(),
            ));
        };
        let (upstream, _) = Upstream::open(&self.ctx, credentials.clone(), None)
            .await
            .map_err(|e| login_error(e, &credentials))?;
        let upstream = Arc::new(upstream);
        self.lock().insert(DATA_SESSION.to_string(), upstream.clone());
        Ok(upstream)
    }

    /// Pings idle sessions and drops abandoned ones, forever; holds only a weak reference so the loop ends
    /// with the broker.
    pub fn spawn_keepalive(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let keepalive = self.config.keepalive;
        let max_idle = self.config.keepalive_max_idle;
        let tick = (keepalive / 4).clamp(Duration::from_millis(200), Duration::from_secs(30));
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(registry) = weak.upgrade() else { return };
                let sessions: Vec<(String, Arc<Upstream>)> = registry
                    .lock()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                for (id, upstream) in sessions {
                    if !upstream.keep_alive(&registry.ctx, keepalive, max_idle).await {
                        tracing::info!("dropping a Capital.com session nobody used for {max_idle:?}");
                        registry.logout(&id).await;
                    }
                }
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Upstream>>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
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
