//! Bridge sessions: one per `/authorize`, holding the user and the accounts they may touch.

use crate::broker::{BrokerAccount, SessionCtx};
use std::collections::HashMap;
use std::sync::RwLock;

/// A logged-in session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub ctx: SessionCtx,
    pub display_name: String,
    /// The user's accounts as the backend listed them at login (refreshed by `/accounts`).
    pub accounts: Vec<BrokerAccount>,
    /// Unix seconds after which the session (and its token) is dead.
    pub expires_at: u64,
}

/// In-memory session store. Revoking a session revokes its token: tokens carry the session id and a
/// token whose session is gone is refused.
#[derive(Debug, Default)]
pub struct SessionStore {
    sessions: RwLock<HashMap<String, Session>>,
}

impl SessionStore {
    /// Stores a new session, dropping expired ones so the map cannot grow without bound.
    pub fn insert(&self, session: Session, now: u64) {
        let mut map = self.sessions.write().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.expires_at > now);
        map.insert(session.ctx.session_id.clone(), session);
    }

    /// The live session `sid`, if any.
    pub fn get(&self, sid: &str, now: u64) -> Option<Session> {
        let map = self.sessions.read().unwrap_or_else(|p| p.into_inner());
        map.get(sid).filter(|s| s.expires_at > now).cloned()
    }

    /// Replaces the cached account list of `sid`.
    pub fn set_accounts(&self, sid: &str, accounts: Vec<BrokerAccount>) {
        let mut map = self.sessions.write().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = map.get_mut(sid) {
            s.accounts = accounts;
        }
    }

    /// Ends session `sid`; its token stops working at once.
    pub fn revoke(&self, sid: &str) -> Option<Session> {
        self.sessions
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(sid)
    }
}
