//! Bridge sessions: one per `/authorize`, holding the user and the accounts they may touch. Bounded per
//! user, and indexed by expiry and by user so that a login never scans every session.

use crate::broker::{BrokerAccount, SessionCtx};
use crate::sync::RwLockExt;
use std::collections::{BTreeSet, HashMap, VecDeque};
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
#[derive(Debug)]
pub struct SessionStore {
    max_per_user: usize,
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<String, Session>,
    /// (expiry, session id): the sessions to drop first are at the front.
    by_expiry: BTreeSet<(u64, String)>,
    /// Each user's session ids, oldest first.
    by_user: HashMap<String, VecDeque<String>>,
    /// Sessions looked at by inserts, to test that an insert never scans the store.
    #[cfg(test)]
    visited: usize,
}

impl Default for SessionStore {
    fn default() -> Self {
        SessionStore::new(usize::MAX)
    }
}

impl SessionStore {
    /// A store holding at most `max_per_user` sessions per user.
    pub fn new(max_per_user: usize) -> Self {
        SessionStore {
            max_per_user: max_per_user.max(1),
            inner: RwLock::new(Inner::default()),
        }
    }

    /// Stores a new session, dropping expired ones so the map cannot grow without bound. When the user
    /// then holds more than the cap, their oldest sessions are removed and returned: the caller ends them
    /// as a logout would (hubs, streams, upstream session). Costs O(log n) plus the expired sessions.
    #[must_use = "sessions over the cap are removed here and must be ended by the caller"]
    pub fn insert(&self, session: Session, now: u64) -> Vec<Session> {
        let mut inner = self.write();
        inner.drop_expired(now);
        let (sid, user) = (session.ctx.session_id.clone(), session.ctx.user.clone());
        inner.by_expiry.insert((session.expires_at, sid.clone()));
        inner.by_id.insert(sid.clone(), session);
        let mine = inner.by_user.entry(user.clone()).or_default();
        mine.push_back(sid);
        let excess = mine.len().saturating_sub(self.max_per_user);
        let oldest: Vec<String> = mine.drain(..excess).collect();
        oldest.iter().filter_map(|sid| inner.remove(sid)).collect()
    }

    /// The live session `sid`, if any.
    pub fn get(&self, sid: &str, now: u64) -> Option<Session> {
        let inner = self.inner.read_locked();
        inner.by_id.get(sid).filter(|s| s.expires_at > now).cloned()
    }

    /// Replaces the cached account list of `sid`.
    pub fn set_accounts(&self, sid: &str, accounts: Vec<BrokerAccount>) {
        if let Some(s) = self.write().by_id.get_mut(sid) {
            s.accounts = accounts;
        }
    }

    /// Ends session `sid`; its token stops working at once.
    pub fn revoke(&self, sid: &str) -> Option<Session> {
        self.write().remove(sid)
    }

    /// Sessions stored, expired or not (diagnostics and tests).
    pub fn len(&self) -> usize {
        self.inner.read_locked().by_id.len()
    }

    /// Whether no session is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write_locked()
    }
}

impl Inner {
    fn drop_expired(&mut self, now: u64) {
        while let Some((expires, sid)) = self.by_expiry.first().cloned() {
            #[cfg(test)]
            {
                self.visited += 1;
            }
            if expires > now {
                break;
            }
            self.by_expiry.remove(&(expires, sid.clone()));
            self.remove(&sid);
        }
    }

    /// Removes `sid` from every index. A user holds at most the cap of sessions, so the scan of their own
    /// list is short.
    fn remove(&mut self, sid: &str) -> Option<Session> {
        let session = self.by_id.remove(sid)?;
        self.by_expiry.remove(&(session.expires_at, sid.to_owned()));
        let user = &session.ctx.user;
        if let Some(mine) = self.by_user.get_mut(user) {
            #[cfg(test)]
            {
                self.visited += mine.len();
            }
            mine.retain(|s| s != sid);
            if mine.is_empty() {
                self.by_user.remove(user);
            }
        }
        Some(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(sid: &str, user: &str, expires_at: u64) -> Session {
        Session {
            ctx: SessionCtx {
                session_id: sid.into(),
                user: user.into(),
            },
            display_name: user.into(),
            accounts: Vec::new(),
            expires_at,
        }
    }

    #[test]
    fn over_the_cap_the_users_oldest_session_is_removed_and_returned() {
        let store = SessionStore::new(2);
        assert!(store.insert(session("a1", "alice", 100), 0).is_empty());
        assert!(store.insert(session("b1", "bob", 100), 0).is_empty());
        assert!(store.insert(session("a2", "alice", 100), 0).is_empty());
        let ended = store.insert(session("a3", "alice", 100), 0);
        assert_eq!(
            ended
                .iter()
                .map(|s| s.ctx.session_id.as_str())
                .collect::<Vec<_>>(),
            ["a1"]
        );
        assert!(store.get("a1", 0).is_none(), "its token stops working");
        for sid in ["a2", "a3", "b1"] {
            assert!(store.get(sid, 0).is_some(), "{sid}");
        }
        // A revoked session frees its place.
        store.revoke("a2");
        assert!(store.insert(session("a4", "alice", 100), 0).is_empty());
        assert_eq!(store.len(), 3);
    }

    #[test]
    fn expired_sessions_are_dropped_on_insert() {
        let store = SessionStore::new(5);
        let _ = store.insert(session("old", "alice", 10), 0);
        let _ = store.insert(session("live", "alice", 100), 5);
        assert!(store.get("old", 10).is_none());
        let _ = store.insert(session("new", "bob", 100), 10);
        assert_eq!(store.len(), 2);
        assert!(store.get("live", 10).is_some());
    }

    /// An insert costs the same whatever the number of other users' sessions: it looks at the front of
    /// the expiry index and at the user's own sessions only. Counted in sessions looked at, not in time.
    #[test]
    fn insert_cost_does_not_depend_on_the_number_of_sessions() {
        let store = SessionStore::new(3);
        let visits_of_one_insert = |n: u32| {
            let before = store.inner.read().unwrap().visited;
            let _ = store.insert(session(&format!("s{n}"), "alice", 1_000), 0);
            store.inner.read().unwrap().visited - before
        };
        // The front of the expiry index, plus alice's own sessions when her oldest is ended.
        let bound = 1 + 3 + 1;
        assert!(visits_of_one_insert(0) <= bound);
        for n in 1..100_000u32 {
            let _ = store.insert(
                session(&format!("o{n}"), &format!("user{n}"), 1_000 + n as u64),
                0,
            );
        }
        for n in 1..4 {
            assert!(
                visits_of_one_insert(n) <= bound,
                "one insert among 100,000 sessions"
            );
        }
        assert_eq!(store.len(), 100_002, "alice keeps her cap of 3");
    }
}
