//! The IBKR brokerage session: one per bridge, shared by every bridge user (the gateway's login, or the
//! operator's OAuth credentials). Before the first order or market-data call it opens it: through the
//! gateway it checks `/iserver/auth/status` and calls `ssodh/init` when connected but not authenticated;
//! over OAuth (the client obtained the live session token or bearer first) it calls `ssodh/init` at once;
//! then it reads `/iserver/accounts` as IBKR requires. A call refused with 401 re-opens it once (the client
//! forgot the refused OAuth credential, so this renews it; a refusal proves nothing was done, so even a
//! write is repeated). A gateway session that cannot be re-opened is a TradingView 401 saying to log in to
//! the gateway again; refused OAuth credentials are the operator's configuration, so, by the mapped-mode
//! rule, a refusal naming them (a 401 would send TradingView's users through a login that cannot help),
//! answered without asking IBKR again for a minute. A tickle keeps the session alive; calls that depend on
//! the selected account switch it under one lock.

use super::client::Api;
use super::config::TransportKind;
use super::errors::{is_session_gone, to_broker, GATEWAY_LOGIN_AGAIN};
use super::model::session::PortfolioAccount;
use crate::broker::{BrokerError, BrokerResult};
use crate::sync::MutexExt;
use crate::tv;
use crate::upstream::call::{CallError, CallResult};
use crate::upstream::refusal::{RefusalLatch, COOL_DOWN};
use crate::upstream::relogin::{AfterRefusal, ReloginOnce};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// What TradingView users are told when IBKR refuses the OAuth 1.0a credentials.
pub const OAUTH1_REFUSED: &str = "IBKR refused the OAuth 1.0a credentials the bridge trades with: the operator must check [backend.oauth1] (consumer key, access token and secret, signature and encryption keys, DH parameters)";

/// What TradingView users are told when IBKR refuses the OAuth 2.0 credentials.
pub const OAUTH2_REFUSED: &str = "IBKR refused the OAuth 2.0 credentials the bridge trades with: the operator must check [backend.oauth2] (client id, key id, private key, username, ip)";

/// One IBKR account of the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    pub id: String,
    /// The alias, or the id.
    pub name: String,
    /// Base currency (`USD` when IBKR does not say; see README, Known gaps).
    pub currency: String,
    pub kind: tv::AccountType,
}

/// The brokerage session (named after the gateway, its first transport).
pub struct Gateway {
    api: Arc<dyn Api>,
    transport: TransportKind,
    /// When IBKR last refused the OAuth credentials (never set through the gateway).
    refused: RefusalLatch,
    /// How long a refusal is answered without asking IBKR.
    hold: Duration,
    /// `Some` once the session is authenticated and its accounts are read.
    ready: tokio::sync::Mutex<Option<Arc<Vec<AccountInfo>>>>,
    /// The account selected upstream, as far as the bridge knows (`None`: unknown).
    selected: std::sync::Mutex<Option<String>>,
    /// Held while a call that depends on the selected account runs.
    turn: tokio::sync::Mutex<()>,
}

impl Gateway {
    /// A session through the gateway over `api`; nothing is called until it is first needed.
    pub fn new(api: Arc<dyn Api>) -> Gateway {
        Self::over(api, TransportKind::Gateway)
    }

    /// A session over `api`, which reaches IBKR by `transport`.
    pub fn over(api: Arc<dyn Api>, transport: TransportKind) -> Gateway {
        Gateway {
            api,
            transport,
            refused: RefusalLatch::default(),
            hold: COOL_DOWN,
            ready: tokio::sync::Mutex::new(None),
            selected: std::sync::Mutex::new(None),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    /// The same session answering for `hold` without asking IBKR after IBKR refused the OAuth credentials
    /// (`backend.refusal_hold_secs`; [`COOL_DOWN`] by default).
    pub fn with_refusal_hold(mut self, hold: Duration) -> Gateway {
        self.hold = hold;
        self
    }

    /// The API (for calls that need no session, like the readiness probe).
    pub fn api(&self) -> &Arc<dyn Api> {
        &self.api
    }

    /// The session's accounts, opening the session first when it is not open.
    pub async fn accounts(&self) -> BrokerResult<Arc<Vec<AccountInfo>>> {
        let mut ready = self.ready.lock().await;
        if let Some(accounts) = &*ready {
            return Ok(accounts.clone());
        }
        if self.refused.holds(self.hold) {
            return Err(self.session_refused());
        }
        let accounts = Arc::new(self.open().await?);
        self.refused.clear();
        *ready = Some(accounts.clone());
        Ok(accounts)
    }

    /// What the user is told when IBKR refuses the session after the one re-login: through the gateway,
    /// a 401 (log in to the gateway, then to TradingView again); over OAuth, a refusal naming the
    /// operator's credentials (the mapped-mode rule).
    fn session_refused(&self) -> BrokerError {
        match self.transport {
            TransportKind::Gateway => BrokerError::LogInAgain(GATEWAY_LOGIN_AGAIN.into()),
            TransportKind::Oauth1 => BrokerError::Rejected(OAUTH1_REFUSED.into()),
            TransportKind::Oauth2 => BrokerError::Rejected(OAUTH2_REFUSED.into()),
        }
    }

    /// Why the bridge cannot trade now, when IBKR refused the OAuth credentials in the last minute (for
    /// `/readyz`; the message names the table to check, never a value).
    pub fn refused_reason(&self) -> Option<String> {
        self.refused
            .holds(self.hold)
            .then(|| self.session_refused().to_string())
    }

    /// IBKR refused the session for good: logged once per cool-down over OAuth, never with a secret.
    fn refusal(&self) -> BrokerError {
        if self.transport != TransportKind::Gateway && !self.refused.holds(self.hold) {
            tracing::warn!(transport = ?self.transport, "IBKR refused the bridge's OAuth credentials; answering without asking IBKR for {} s", self.hold.as_secs());
            self.refused.trip();
        }
        self.session_refused()
    }

    /// Forgets the open session (IBKR refused it or says it ended), and over OAuth the credential it was
    /// opened with: the next call opens it again with a fresh one.
    pub async fn forget(&self) {
        self.api.forget_credentials();
        *self.ready.lock().await = None;
        *self.selected.locked() = None;
    }

    /// Whether the session is open, as far as the bridge knows.
    pub async fn is_open(&self) -> bool {
        self.ready.lock().await.is_some()
    }

    /// Through the gateway: status, `ssodh/init` when connected but not authenticated. Over OAuth:
    /// `ssodh/init` (the client authenticates it), status only when that did not authenticate. Then the
    /// accounts.
    async fn open(&self) -> BrokerResult<Vec<AccountInfo>> {
        let unreachable = |e: CallError| match e {
            CallError::NotSent(_) | CallError::NoAnswer(_) if self.transport == TransportKind::Gateway => {
                BrokerError::Unavailable(format!(
                    "the Client Portal gateway cannot be reached ({e}): is it running?"
                ))
            }
            CallError::NotSent(_) | CallError::NoAnswer(_) => {
                BrokerError::Unavailable(format!("IBKR cannot be reached ({e})"))
            }
            e if is_session_gone(&e) => self.refusal(),
            e => to_broker("checking the session", &e),
        };
        let mut status = if self.transport == TransportKind::Gateway {
            self.api.auth_status().await.map_err(unreachable)?
        } else {
            let init = self.api.ssodh_init().await.map_err(unreachable)?;
            if init.authenticated {
                init
            } else {
                self.api.auth_status().await.map_err(unreachable)?
            }
        };
        if !status.authenticated && status.connected && self.transport == TransportKind::Gateway {
            tracing::info!(
                competing = status.competing,
                "IBKR brokerage session not authenticated; calling ssodh/init"
            );
            self.api.ssodh_init().await.map_err(unreachable)?;
            status = self.api.auth_status().await.map_err(unreachable)?;
        }
        if !status.authenticated {
            tracing::warn!(
                connected = status.connected,
                competing = status.competing,
                transport = ?self.transport,
                "IBKR brokerage session is not authenticated"
            );
            if self.transport != TransportKind::Gateway {
                // The credentials were accepted (ssodh/init answered): IBKR keeps the brokerage session
                // elsewhere, e.g. another login of the same user competing for it.
                return Err(BrokerError::Unavailable(format!(
                    "IBKR did not open the brokerage session for the bridge's login{}",
                    if status.competing {
                        ": another session of the same IBKR user holds it"
                    } else {
                        ""
                    }
                )));
            }
            return Err(BrokerError::LogInAgain(GATEWAY_LOGIN_AGAIN.into()));
        }
        let listed = self.api.accounts().await.map_err(unreachable)?;
        if listed.accounts.is_empty() {
            return Err(BrokerError::Rejected(
                "The IBKR login of the gateway has no accounts to trade".into(),
            ));
        }
        let details = self.api.portfolio_accounts().await.map_err(unreachable)?;
        *self.selected.locked() = listed.selected_account.clone();
        let demo = listed.is_paper.unwrap_or(false);
        let accounts = listed
            .accounts
            .iter()
            .map(|id| {
                account_info(
                    id,
                    listed.aliases.get(id),
                    details.iter().find(|d| &d.id == id),
                    demo,
                )
            })
            .collect::<Vec<_>>();
        tracing::info!(accounts = accounts.len(), transport = ?self.transport, "IBKR brokerage session open");
        Ok(accounts)
    }

    /// Runs `f` on the open session; a 401 re-opens the session once and runs `f` again. The outer error is
    /// the session's (gateway down, log in again); the inner result is the call's own.
    pub async fn raw<T, F, Fut>(&self, mut f: F) -> BrokerResult<CallResult<T>>
    where
        F: FnMut(Arc<dyn Api>) -> Fut,
        Fut: Future<Output = CallResult<T>>,
    {
        let mut budget = ReloginOnce::default();
        loop {
            self.accounts().await?;
            match f(self.api.clone()).await {
                Err(e) if is_session_gone(&e) => match budget.refused() {
                    AfterRefusal::Relogin => {
                        tracing::info!("IBKR refused the session; opening it again");
                        self.forget().await;
                    }
                    AfterRefusal::GiveUp => {
                        self.forget().await;
                        return Err(self.refusal());
                    }
                },
                other => return Ok(other),
            }
        }
    }

    /// [`Self::raw`] with the call's failure mapped for the user; `what` names the action.
    pub async fn call<T, F, Fut>(&self, what: &str, f: F) -> BrokerResult<T>
    where
        F: FnMut(Arc<dyn Api>) -> Fut,
        Fut: Future<Output = CallResult<T>>,
    {
        self.raw(f).await?.map_err(|e| to_broker(what, &e))
    }

    /// Runs `f` with `account` selected upstream (for calls whose answer depends on the selected account),
    /// switching first when the session has several accounts and another is selected. Calls of this kind
    /// take turns, so one never runs while another has switched away.
    pub async fn on_account<T, F, Fut>(&self, account: &str, what: &str, f: F) -> BrokerResult<T>
    where
        F: FnMut(Arc<dyn Api>) -> Fut,
        Fut: Future<Output = CallResult<T>>,
    {
        let accounts = self.accounts().await?;
        let _turn = self.turn.lock().await;
        let current = self.selected.locked().clone();
        if accounts.len() > 1 && current.as_deref() != Some(account) {
            let id = account.to_string();
            let switched = self
                .raw(|api| {
                    let id = id.clone();
                    async move { api.switch_account(&id).await }
                })
                .await?;
            match switched {
                Ok(()) => *self.selected.locked() = Some(account.to_string()),
                Err(e) => {
                    // Whatever happened upstream, the selection is unknown now.
                    *self.selected.locked() = None;
                    return Err(to_broker("selecting the account", &e));
                }
            }
        }
        self.call(what, f).await
    }

    /// One keep-alive: tickles an open session and forgets it when the gateway says it is no longer
    /// authenticated (the next call then re-opens it or answers the 401).
    pub async fn tickle(&self) {
        if !self.is_open().await {
            return;
        }
        match self.api.tickle().await {
            Ok(t) => {
                let status = t.iserver.and_then(|i| i.auth_status);
                if status.is_some_and(|s| !s.authenticated) {
                    tracing::warn!("IBKR tickle: the brokerage session is no longer authenticated");
                    self.forget().await;
                }
            }
            Err(e) if is_session_gone(&e) => {
                tracing::warn!("IBKR tickle refused: the gateway session has ended");
                self.forget().await;
            }
            Err(e) => tracing::info!(error = %e, "IBKR tickle failed"),
        }
    }

    /// Tickles every `every` for as long as the session exists.
    pub fn spawn_tickle(self: &Arc<Self>, every: std::time::Duration) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval.tick().await;
            loop {
                interval.tick().await;
                let Some(gateway) = weak.upgrade() else { return };
                gateway.tickle().await;
            }
        });
    }
}

/// An account from `/iserver/accounts` and its `/portfolio/accounts` entry.
fn account_info(
    id: &str,
    alias: Option<&String>,
    details: Option<&PortfolioAccount>,
    paper: bool,
) -> AccountInfo {
    let name = alias
        .filter(|a| !a.trim().is_empty())
        .cloned()
        .or_else(|| details.and_then(|d| d.display_name.clone()))
        .unwrap_or_else(|| id.to_string());
    let currency = details
        .and_then(|d| d.currency.clone())
        .filter(|c| c.len() == 3)
        .unwrap_or_else(|| "USD".to_string());
    let demo = paper || details.and_then(|d| d.kind.as_deref()) == Some("DEMO") || id.starts_with("DU");
    AccountInfo {
        id: id.to_string(),
        name,
        currency,
        kind: if demo {
            tv::AccountType::Demo
        } else {
            tv::AccountType::Live
        },
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
