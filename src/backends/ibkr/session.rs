//! The brokerage session behind the Client Portal gateway: one per bridge, shared by every bridge user
//! (the gateway holds its own user's login). Before the first order or market-data call it checks
//! `/iserver/auth/status`, calls `ssodh/init` when the gateway is connected but not authenticated, and
//! reads `/iserver/accounts` as IBKR requires; a call refused with 401 re-opens it once (a refusal proves
//! nothing was done, so even a write is repeated), and a session the gateway cannot re-open is a
//! TradingView 401 saying to log in to the gateway again. A tickle keeps it alive; calls that depend on the
//! selected account switch it under one lock.

use super::client::Api;
use super::errors::{is_session_gone, to_broker, GATEWAY_LOGIN_AGAIN};
use super::model::session::PortfolioAccount;
use crate::broker::{BrokerError, BrokerResult};
use crate::sync::MutexExt;
use crate::tv;
use crate::upstream::call::{CallError, CallResult};
use crate::upstream::relogin::{AfterRefusal, ReloginOnce};
use std::future::Future;
use std::sync::Arc;

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

/// The gateway's brokerage session.
pub struct Gateway {
    api: Arc<dyn Api>,
    /// `Some` once the session is authenticated and its accounts are read.
    ready: tokio::sync::Mutex<Option<Arc<Vec<AccountInfo>>>>,
    /// The account selected upstream, as far as the bridge knows (`None`: unknown).
    selected: std::sync::Mutex<Option<String>>,
    /// Held while a call that depends on the selected account runs.
    turn: tokio::sync::Mutex<()>,
}

impl Gateway {
    /// A session over `api`; nothing is called until it is first needed.
    pub fn new(api: Arc<dyn Api>) -> Gateway {
        Gateway {
            api,
            ready: tokio::sync::Mutex::new(None),
            selected: std::sync::Mutex::new(None),
            turn: tokio::sync::Mutex::new(()),
        }
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
        let accounts = Arc::new(self.open().await?);
        *ready = Some(accounts.clone());
        Ok(accounts)
    }

    /// Forgets the open session (the gateway refused it): the next call opens it again.
    pub async fn forget(&self) {
        *self.ready.lock().await = None;
        *self.selected.locked() = None;
    }

    /// Whether the session is open, as far as the bridge knows.
    pub async fn is_open(&self) -> bool {
        self.ready.lock().await.is_some()
    }

    /// Status, `ssodh/init` when connected but not authenticated, then the accounts.
    async fn open(&self) -> BrokerResult<Vec<AccountInfo>> {
        let unreachable = |e: CallError| match e {
            CallError::NotSent(_) | CallError::NoAnswer(_) => BrokerError::Unavailable(format!(
                "the Client Portal gateway cannot be reached ({e}): is it running?"
            )),
            e if is_session_gone(&e) => BrokerError::Unauthorized(GATEWAY_LOGIN_AGAIN.into()),
            e => to_broker("checking the session", &e),
        };
        let mut status = self.api.auth_status().await.map_err(unreachable)?;
        if !status.authenticated && status.connected {
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
                "IBKR gateway session is not authenticated"
            );
            return Err(BrokerError::Unauthorized(GATEWAY_LOGIN_AGAIN.into()));
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
        tracing::info!(accounts = accounts.len(), "IBKR brokerage session open");
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
                        return Err(BrokerError::Unauthorized(GATEWAY_LOGIN_AGAIN.into()));
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
