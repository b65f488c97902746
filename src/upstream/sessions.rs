//! The session registry every upstream backend keeps: bridge session id -> the backend's one per-session
//! struct (tokens, accounts, whatever it holds), the data-feed session beside them, a keep-alive loop that
//! drops sessions nobody uses, and logout cleanup in one place.

use super::data_session::{DataFeed, DataSession, DataSources};
use crate::broker::{BrokerError, BrokerResult, LoginKind};
use crate::sync::MutexExt;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `backend.login`: how TradingView's `/authorize` login becomes an upstream session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoginMode {
    /// TradingView's login and password are the upstream's own credentials (an identifier and API-key
    /// password, an account id and token), checked upstream.
    PassThrough,
    /// Bridge users (`[[auth.users]]`) log in with their bridge password; each is mapped to upstream
    /// credentials read from the environment (`[[backend.users]]`).
    Mapped,
}

impl LoginMode {
    /// The logins a backend in this mode takes.
    pub fn kind(self) -> LoginKind {
        match self {
            LoginMode::PassThrough => LoginKind::PassThrough,
            LoginMode::Mapped => LoginKind::Bridge,
        }
    }
}

/// A backend's upstream session, as the registry drives it.
#[async_trait]
pub trait UpstreamSession: Send + Sync + 'static {
    /// What the session lends the data feed (its credentials, or a token and accounts).
    type Lend: Clone + Send + Sync + 'static;
    /// The data-feed session opened from what a session lends (the same type when the upstream has real
    /// sessions, a token and account when it has not).
    type Data: Send + Sync + 'static;

    /// What the data feed borrows from this session under `first-login`.
    fn lend(&self) -> Self::Lend;

    /// Called by the keep-alive loop: pings the upstream when the session needs it, and answers false when
    /// the session should be dropped (unused for too long, or ended).
    async fn keep_alive(&self) -> bool {
        true
    }

    /// Ends the upstream session, best effort (logout).
    async fn close(&self) {}

    /// [`Self::keep_alive`] of the data-feed session.
    async fn keep_data_alive(_data: &Self::Data) -> bool {
        true
    }

    /// [`Self::close`] of the data-feed session.
    async fn close_data(_data: &Self::Data) {}
}

/// Every live upstream session of one backend, by bridge session id, and its data-feed session.
pub struct SessionRegistry<S: UpstreamSession> {
    upstream: &'static str,
    sessions: Mutex<HashMap<String, Entry<S>>>,
    data: DataFeed<S::Lend, S::Data>,
}

/// A registered session and the bridge user it belongs to (for the log).
struct Entry<S> {
    user: String,
    session: Arc<S>,
}

impl<S: UpstreamSession> SessionRegistry<S> {
    /// An empty registry of `upstream` (named in messages) whose data feed is what `choice` makes of
    /// `sources`; `missing` answers data-feed calls while nothing serves it.
    pub fn new(
        upstream: &'static str,
        choice: DataSession,
        sources: DataSources<S::Lend>,
        missing: BrokerError,
    ) -> Self {
        SessionRegistry {
            upstream,
            sessions: Mutex::new(HashMap::new()),
            data: DataFeed::choose(upstream, choice, sources, missing),
        }
    }

    /// Registers the session a login of `user` opened (lending it to the data feed when the choice says
    /// so).
    pub fn insert(&self, session_id: &str, user: &str, session: Arc<S>) {
        self.data.offer(session_id, user, || session.lend());
        let user = user.to_string();
        self.lock()
            .insert(session_id.to_string(), Entry { user, session });
    }

    /// The session of a bridge session; a missing one means the user must log in again (a 401).
    pub fn get(&self, session_id: &str) -> BrokerResult<Arc<S>> {
        self.find(session_id).ok_or_else(|| {
            BrokerError::Unauthorized(format!("no {} session for this bridge session", self.upstream))
        })
    }

    /// The session of a bridge session, if there is one.
    pub fn find(&self, session_id: &str) -> Option<Arc<S>> {
        self.lock().get(session_id).map(|e| e.session.clone())
    }

    /// Ends a bridge session's upstream session: forgets it, closes it upstream, and when it lent the data
    /// feed its login, hands the feed to another live session and closes the session opened with the old
    /// login. Returns the ended session (the backend may read what it held).
    pub async fn logout(&self, session_id: &str) -> Option<Arc<S>> {
        let removed = self.lock().remove(session_id).map(|e| e.session);
        if let Some(session) = &removed {
            session.close().await;
        }
        let stale = self.data.withdraw(session_id, || {
            let sessions = self.lock();
            let (id, e) = sessions.iter().next()?;
            Some((id.clone(), e.user.clone(), e.session.lend()))
        });
        if let Some(stale) = stale {
            S::close_data(&stale).await;
        }
        removed
    }

    /// The data feed's session, opened with `open` from the serving credentials when none is open.
    pub async fn data_session<F, Fut>(&self, open: F) -> BrokerResult<Arc<S::Data>>
    where
        F: FnOnce(S::Lend) -> Fut,
        Fut: Future<Output = BrokerResult<S::Data>>,
    {
        self.data.session(open).await
    }

    /// The data feed's choice and credentials.
    pub fn data(&self) -> &DataFeed<S::Lend, S::Data> {
        &self.data
    }

    /// Live sessions (the data-feed session not counted).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no bridge session has an upstream session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One round of the keep-alive: every session (and the data-feed session) gets its hook called; those
    /// answering false are logged out.
    pub async fn keep_alive_round(&self) {
        let sessions: Vec<(String, String, Arc<S>)> = self
            .lock()
            .iter()
            .map(|(id, e)| (id.clone(), e.user.clone(), e.session.clone()))
            .collect();
        for (id, user, session) in sessions {
            if !session.keep_alive().await {
                tracing::info!(user = %user, "dropping a {} session nobody used for too long", self.upstream);
                self.logout(&id).await;
            }
        }
        if let Some(data) = self.data.open_session() {
            if !S::keep_data_alive(&data).await {
                tracing::info!(
                    "dropping the {} data-feed session nobody used for too long",
                    self.upstream
                );
                if let Some(data) = self.data.take_session() {
                    S::close_data(&data).await;
                }
            }
        }
    }

    /// Runs [`Self::keep_alive_round`] every `tick`, forever; holds only a weak reference, so the loop ends
    /// with the backend.
    pub fn spawn_keepalive(self: &Arc<Self>, tick: Duration) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(registry) = weak.upgrade() else { return };
                registry.keep_alive_round().await;
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry<S>>> {
        self.sessions.locked()
    }
}

#[cfg(test)]
mod tests;
