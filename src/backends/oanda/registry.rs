//! The bridge's OANDA sessions: login in both modes (pass-through token or mapped bridge user), the accounts
//! each session may use, and the token that serves the data feed when no TradingView session is named.

use super::config::{ApiChoice, ApiVersion, LoginMode, ResolvedConfig};
use super::credentials::{self, MappedToken};
use super::http::Http;
use super::venue::{AccountHead, Conn, Venue};
use crate::broker::{BrokerError, BrokerResult, Credentials};
use crate::config::UserConfig;
use crate::secret::Secret;
use crate::upstream::refusal::RefusalLatch;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One logged-in bridge session.
#[derive(Debug)]
pub struct Session {
    pub user: String,
    pub conn: Conn,
    /// The accounts this session may use, in the order TradingView lists them.
    pub accounts: Vec<AccountHead>,
    /// When the session began (final orders since then stay in `/orders`).
    pub since: DateTime<Utc>,
    /// Mapped mode: whose configured token this is (`None`: the user's own, pass-through).
    pub mapped: Option<MappedToken>,
    /// Mapped mode: when OANDA last refused the configured token.
    pub refused: RefusalLatch,
}

impl Session {
    pub fn account(&self, id: &str) -> BrokerResult<&AccountHead> {
        self.accounts
            .iter()
            .find(|a| a.id == id)
            .ok_or_else(|| BrokerError::NotFound(format!("Unknown account '{id}'")))
    }
}

/// Who lends the data feed its token and account.
#[derive(Debug, Clone)]
pub struct DataSource {
    pub conn: Conn,
    pub account: String,
    /// The bridge session whose login lent the token (`None`: the configured data token).
    pub lender: Option<String>,
}

/// Every live session, by bridge session id.
pub struct Registry {
    config: Arc<ResolvedConfig>,
    http: Arc<Http>,
    bridge_users: Vec<UserConfig>,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    data: Mutex<Option<DataSource>>,
}

/// The venues, by version (lent to the registry to list accounts).
pub struct Venues<'a> {
    pub v20: &'a dyn Venue,
    pub v1: &'a dyn Venue,
}

impl Venues<'_> {
    pub fn of(&self, version: ApiVersion) -> &dyn Venue {
        match version {
            ApiVersion::V20 => self.v20,
            ApiVersion::V1 => self.v1,
        }
    }
}

impl Registry {
    pub fn new(config: Arc<ResolvedConfig>, http: Arc<Http>, bridge_users: Vec<UserConfig>) -> Registry {
        Registry {
            config,
            http,
            bridge_users,
            sessions: Mutex::new(HashMap::new()),
            data: Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn conn(&self, token: Secret) -> Conn {
        Conn {
            http: self.http.clone(),
            token,
        }
    }

    /// Checks the TradingView credentials, lists the token's accounts and registers the session.
    pub async fn login(
        &self,
        venues: &Venues<'_>,
        session_id: &str,
        credentials: &Credentials,
    ) -> BrokerResult<Arc<Session>> {
        let mut mapped_token = None;
        let (user, token, wanted) = match self.config.login {
            LoginMode::PassThrough => {
                let account = credentials.login.trim();
                if account.is_empty() || credentials.password.expose().trim().is_empty() {
                    return Err(BrokerError::Rejected(
                        "Enter your OANDA account id as login and your personal access token as password."
                            .into(),
                    ));
                }
                if account.contains(['/', '?', '#', ' ']) {
                    return Err(BrokerError::Rejected(format!(
                        "'{account}' is not an OANDA account id"
                    )));
                }
                let token = Secret::new(credentials.password.expose().trim().to_string());
                (account.to_string(), token, vec![account.to_string()])
            }
            LoginMode::Mapped => {
                let known = self.bridge_users.iter().any(|u| {
                    u.login == credentials.login && u.password.constant_time_eq(credentials.password.expose())
                });
                let mapped = self
                    .config
                    .users
                    .iter()
                    .find(|(login, _, _)| *login == credentials.login);
                match (known, mapped) {
                    (true, Some((login, token, accounts))) => {
                        mapped_token = Some(MappedToken {
                            login: login.clone(),
                            token_env: self
                                .config
                                .token_envs
                                .iter()
                                .find(|(l, _)| l == login)
                                .map(|(_, env)| env.clone())
                                .unwrap_or_default(),
                        });
                        (login.clone(), token.clone(), accounts.clone())
                    }
                    _ => return Err(BrokerError::Rejected("Invalid login or password".into())),
                }
            }
        };
        let conn = self.conn(token);
        let reachable = self
            .list_accounts(venues, &conn, &wanted)
            .await
            .map_err(|e| credentials::at_login(mapped_token.as_ref(), &user, e))?;
        let accounts: Vec<AccountHead> = if wanted.is_empty() {
            reachable
        } else {
            let mut picked = Vec::new();
            for id in &wanted {
                match reachable.iter().find(|a| &a.id == id) {
                    Some(a) => picked.push(a.clone()),
                    None => {
                        return Err(BrokerError::Rejected(format!(
                            "The access token has no OANDA account '{id}'"
                        )))
                    }
                }
            }
            picked
        };
        if accounts.is_empty() {
            return Err(BrokerError::Rejected(
                "The access token reaches no OANDA account".into(),
            ));
        }
        let session = Arc::new(Session {
            user: user.clone(),
            conn: conn.clone(),
            accounts,
            since: Utc::now(),
            mapped: mapped_token,
            refused: RefusalLatch::default(),
        });
        self.lock().insert(session_id.to_string(), session.clone());
        let mut data = self.data.lock().unwrap_or_else(|p| p.into_inner());
        if data.is_none() {
            *data = Some(DataSource {
                conn,
                account: self.data_account(&session.accounts),
                lender: Some(session_id.to_string()),
            });
        }
        Ok(session)
    }

    /// The accounts the token reaches through the API version(s) the configuration allows. With `auto`, v20
    /// is asked first; v1 is asked too when an all-digit account is wanted or v20 knows none of the token.
    async fn list_accounts(
        &self,
        venues: &Venues<'_>,
        conn: &Conn,
        wanted: &[String],
    ) -> BrokerResult<Vec<AccountHead>> {
        match self.config.api {
            ApiChoice::V20 => venues.v20.accounts(conn).await,
            ApiChoice::V1 => venues.v1.accounts(conn).await,
            ApiChoice::Auto => {
                let wants_v1 = wanted
                    .iter()
                    .any(|a| ApiChoice::Auto.version_for(a) == ApiVersion::V1);
                let wants_v20 = wanted.is_empty()
                    || wanted
                        .iter()
                        .any(|a| ApiChoice::Auto.version_for(a) == ApiVersion::V20);
                let mut out = Vec::new();
                let mut v20_failure = None;
                if wants_v20 {
                    match venues.v20.accounts(conn).await {
                        Ok(list) => out.extend(list),
                        Err(e) => v20_failure = Some(e),
                    }
                }
                if wants_v1 || (wanted.is_empty() && out.is_empty()) {
                    match venues.v1.accounts(conn).await {
                        Ok(list) => out.extend(list),
                        Err(e) if v20_failure.is_none() || wants_v1 => return Err(e),
                        // A v20 token unknown to v1 (or the reverse): the first failure says more.
                        Err(_) => {}
                    }
                }
                match v20_failure {
                    Some(e) if out.is_empty() => Err(e),
                    _ => Ok(out),
                }
            }
        }
    }

    fn data_account(&self, accounts: &[AccountHead]) -> String {
        match &self.config.data_account {
            Some(a) if accounts.iter().any(|h| &h.id == a) => a.clone(),
            _ => accounts.first().map(|a| a.id.clone()).unwrap_or_default(),
        }
    }

    /// The session of a bridge session.
    pub fn get(&self, session_id: &str) -> BrokerResult<Arc<Session>> {
        self.lock()
            .get(session_id)
            .cloned()
            .ok_or_else(|| BrokerError::Unauthorized("no OANDA session for this bridge session".into()))
    }

    /// Forgets a session; when it lent the data feed its token, another live session's (or none) takes over.
    pub fn logout(&self, session_id: &str) {
        self.lock().remove(session_id);
        let mut data = self.data.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(&*data, Some(DataSource { lender: Some(l), .. }) if l == session_id) {
            *data = self.lock().iter().next().map(|(id, s)| DataSource {
                conn: s.conn.clone(),
                account: self.data_account(&s.accounts),
                lender: Some(id.clone()),
            });
        }
    }

    /// The token and account of the data feed: the configured data token (its account found on first use),
    /// or a logged-in session's.
    pub async fn data_source(&self, venues: &Venues<'_>) -> BrokerResult<DataSource> {
        if let Some(d) = self.data.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok(d);
        }
        let Some(token) = self.config.data_token.clone() else {
            return Err(BrokerError::Unavailable(
                "the OANDA data feed needs a logged-in user or backend.data_token_env".into(),
            ));
        };
        let conn = self.conn(token);
        let wanted: Vec<String> = self.config.data_account.iter().cloned().collect();
        let accounts = self.list_accounts(venues, &conn, &wanted).await?;
        let source = DataSource {
            conn,
            account: self.data_account(&accounts),
            lender: None,
        };
        if source.account.is_empty() {
            return Err(BrokerError::Unavailable(
                "the OANDA data token reaches no account".into(),
            ));
        }
        *self.data.lock().unwrap_or_else(|p| p.into_inner()) = Some(source.clone());
        Ok(source)
    }
}
