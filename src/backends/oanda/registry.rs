//! The bridge's OANDA sessions on the shared [`SessionRegistry`]: what a login maps to in each mode (the
//! user's own token, or a mapped bridge user's configured one), the accounts each session may use, and the
//! token and account that serve the data feed.

use super::client::Http;
use super::config::{ApiChoice, ApiVersion, LoginMode, ResolvedConfig};
use super::credentials::{self, MappedToken};
use super::venue::{AccountHead, Conn, Venue};
use crate::broker::{BrokerError, BrokerResult, Login, LoginKind, INVALID_LOGIN};
use crate::secret::Secret;
use crate::upstream::data_session::DataSources;
use crate::upstream::refusal::RefusalLatch;
use crate::upstream::sessions::{SessionRegistry, UpstreamSession};
use chrono::{DateTime, Utc};
use std::sync::Arc;

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

/// A token that may serve the data feed, with the accounts it reaches when a login listed them already.
#[derive(Debug, Clone)]
pub struct DataGrant {
    pub conn: Conn,
    /// The accounts a logged-in session may use; `None`: listed when the data feed first needs them.
    pub accounts: Option<Vec<AccountHead>>,
    /// The accounts to look for when listing.
    pub wanted: Vec<String>,
}

/// The token and account serving the data feed.
#[derive(Debug, Clone)]
pub struct DataSource {
    pub conn: Conn,
    pub account: String,
}

#[async_trait::async_trait]
impl UpstreamSession for Session {
    type Lend = DataGrant;
    type Data = DataSource;

    fn lend(&self) -> DataGrant {
        DataGrant {
            conn: self.conn.clone(),
            accounts: Some(self.accounts.clone()),
            wanted: Vec::new(),
        }
    }
    // OANDA tokens are not sessions: nothing to ping and nothing to end upstream.
}

/// Every live session, by bridge session id.
pub struct Registry {
    config: Arc<ResolvedConfig>,
    http: Arc<Http>,
    /// The API versions' venues, which list a token's accounts.
    v20: Arc<dyn Venue>,
    v1: Arc<dyn Venue>,
    sessions: SessionRegistry<Session>,
}

impl Registry {
    pub fn new(
        config: Arc<ResolvedConfig>,
        http: Arc<Http>,
        v20: Arc<dyn Venue>,
        v1: Arc<dyn Venue>,
    ) -> Registry {
        let conn = |token: &Secret| Conn {
            http: http.clone(),
            token: token.clone(),
        };
        let grant = |token: &Secret, wanted: Vec<String>| DataGrant {
            conn: conn(token),
            accounts: None,
            wanted,
        };
        let sources = DataSources {
            mapped: config
                .users
                .iter()
                .map(|(login, token, accounts)| (login.clone(), grant(token, accounts.clone())))
                .collect(),
            configured: config.data_token.as_ref().map(|token| {
                let wanted = config.data_account.iter().cloned().collect();
                ("backend.data_token_env".to_string(), grant(token, wanted))
            }),
            // The first login lends its token; the configured one serves while nobody does.
            first_mapped_serves: false,
        };
        let missing = BrokerError::Unavailable(
            "the OANDA data feed needs a logged-in user or backend.data_token_env".into(),
        );
        Registry {
            sessions: SessionRegistry::new("OANDA", config.data_session.clone(), sources, missing),
            config,
            http,
            v20,
            v1,
        }
    }

    /// Which logins the configured mode takes.
    pub fn login_kind(&self) -> LoginKind {
        self.config.login.kind()
    }

    /// The venue serving `account` (by the configured API choice).
    pub fn venue(&self, account: &str) -> Arc<dyn Venue> {
        match self.config.api.version_for(account) {
            ApiVersion::V20 => self.v20.clone(),
            ApiVersion::V1 => self.v1.clone(),
        }
    }

    fn conn(&self, token: Secret) -> Conn {
        Conn {
            http: self.http.clone(),
            token,
        }
    }

    /// Finds the token `login` maps to, lists its accounts and registers the session.
    pub async fn login(&self, session_id: &str, login: &Login) -> BrokerResult<Arc<Session>> {
        let mut mapped_token = None;
        let (user, token, wanted) = match (self.config.login, login) {
            (LoginMode::PassThrough, Login::PassThrough(credentials)) => {
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
            (LoginMode::Mapped, Login::Bridge(bridge)) => {
                let mapped = self
                    .config
                    .users
                    .iter()
                    .find(|(login, _, _)| *login == bridge.login);
                match mapped {
                    Some((login, token, accounts)) => {
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
                    None => return Err(BrokerError::Rejected(INVALID_LOGIN.into())),
                }
            }
            _ => return Err(BrokerError::Rejected(INVALID_LOGIN.into())),
        };
        let conn = self.conn(token);
        let reachable = self
            .list_accounts(&conn, &wanted)
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
        self.sessions.insert(session_id, &session.user, session.clone());
        Ok(session)
    }

    /// The accounts the token reaches through the API version(s) the configuration allows. With `auto`, v20
    /// is asked first; v1 is asked too when an all-digit account is wanted or v20 knows none of the token.
    async fn list_accounts(&self, conn: &Conn, wanted: &[String]) -> BrokerResult<Vec<AccountHead>> {
        match self.config.api {
            ApiChoice::V20 => self.v20.accounts(conn).await,
            ApiChoice::V1 => self.v1.accounts(conn).await,
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
                    match self.v20.accounts(conn).await {
                        Ok(list) => out.extend(list),
                        Err(e) => v20_failure = Some(e),
                    }
                }
                if wants_v1 || (wanted.is_empty() && out.is_empty()) {
                    match self.v1.accounts(conn).await {
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
        self.sessions.get(session_id)
    }

    /// Forgets a session; when it lent the data feed its token, another live session's (or none) takes over.
    pub async fn logout(&self, session_id: &str) -> Option<Arc<Session>> {
        self.sessions.logout(session_id).await
    }

    /// The token and account of the data feed, as `backend.data_session` chooses them (a configured token's
    /// account is found on first use).
    pub async fn data_source(&self) -> BrokerResult<Arc<DataSource>> {
        self.sessions
            .data_session(|grant| async move {
                let accounts = match grant.accounts {
                    Some(accounts) => accounts,
                    None => self.list_accounts(&grant.conn, &grant.wanted).await?,
                };
                let account = self.data_account(&accounts);
                if account.is_empty() {
                    return Err(BrokerError::Unavailable(
                        "the OANDA data token reaches no account".into(),
                    ));
                }
                Ok(DataSource {
                    conn: grant.conn,
                    account,
                })
            })
            .await
    }
}
