//! Bridge sessions: one per `/authorize`, holding the user and the accounts they may touch. The state
//! store is the truth (so a restart or another replica knows every live session, and a logout anywhere
//! ends it everywhere); each process keeps the sessions it serves in a local cache, indexed by expiry so
//! that dropping expired ones never scans the cache.

use crate::broker::{BrokerAccount, SessionCtx};
use crate::store::{self, json, Expect, Store, StoreResult};
use crate::sync::RwLockExt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::time::Instant;

/// The channel on which a revoked session's id is announced to every process sharing the store.
pub const REVOKED: &str = "session-revoked";

/// On a shared store, a cached session is checked against the store again after this long: revocations
/// arrive as messages at once, and this bounds how long a lost message could keep a session alive.
const RECHECK: Duration = Duration::from_secs(2);

/// Locks that make concurrent resumptions of one session wait for each other (striped: bounded memory).
const RESUME_STRIPES: usize = 64;

/// A logged-in session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub ctx: SessionCtx,
    pub display_name: String,
    /// The user's accounts as the backend listed them at login (refreshed by `/accounts`).
    pub accounts: Vec<BrokerAccount>,
    /// Unix seconds after which the session (and its token) is dead.
    pub expires_at: u64,
    /// Which of its access tokens work, and what for.
    pub grant: Grant,
}

/// What a session's access tokens may do and which of them still work: OAuth refreshes replace them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The OAuth client the session was granted to; `None` for a password login (`/authorize`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Bumped by each refresh; an access token carries the generation it was issued in.
    #[serde(default)]
    pub generation: u32,
    /// Until when (unix seconds) the previous generation's access tokens still work: TradingView switches
    /// to a refreshed token asynchronously.
    #[serde(default)]
    pub previous_until: u64,
    /// A ServerOAuth2Bearer session: the data feed only, with no upstream session behind it.
    #[serde(default)]
    pub datafeed_only: bool,
}

impl Grant {
    /// Whether an access token of `generation` still works at `now`.
    pub fn accepts(&self, generation: u32, now: u64) -> bool {
        generation == self.generation
            || (generation.checked_add(1) == Some(self.generation) && now < self.previous_until)
    }
}

/// What a refresh found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The session moved to this generation.
    Rotated(Grant),
    /// The refresh token was of an older generation: it was used before (a stolen copy, or a replay).
    Reused,
    /// The session has ended.
    Gone,
}

/// What the store keeps of a session: enough to serve it from any process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub user: String,
    pub display_name: String,
    pub expires_at: u64,
    /// The bridge user to open the backend's side of the session as, in a process that did not open it
    /// (after a restart, on another replica). `None` for a login with the upstream's own credentials,
    /// which the bridge never keeps: such a session lives only in the process that opened it.
    pub resume_as: Option<String>,
    #[serde(default)]
    pub grant: Grant,
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup {
    /// Live and served by this process.
    Live(Session),
    /// Live, but opened by another process (or before a restart): resume it here first.
    Elsewhere(Record),
    /// Expired, revoked or never existed.
    Gone,
}

/// The sessions, in the store and cached here.
pub struct SessionStore {
    store: Arc<dyn Store>,
    max_per_user: usize,
    local: RwLock<Local>,
    resuming: Vec<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore")
            .field("store", &self.store.kind())
            .field("cached", &self.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Local {
    by_id: HashMap<String, (Session, Instant)>,
    /// (expiry, session id): the sessions to drop first are at the front.
    by_expiry: BTreeSet<(u64, String)>,
    /// Cached sessions looked at by inserts, to test that an insert never scans the cache.
    #[cfg(test)]
    visited: usize,
}

impl SessionStore {
    /// Sessions kept in `store`, at most `max_per_user` per user.
    pub fn new(store: Arc<dyn Store>, max_per_user: usize) -> Self {
        SessionStore {
            store,
            max_per_user: max_per_user.max(1),
            local: RwLock::new(Local::default()),
            resuming: (0..RESUME_STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
        }
    }

    /// Stores a new session opened in this process. When its user then holds more than the cap, the
    /// oldest of their sessions are returned: the caller revokes them as a logout would.
    pub async fn insert(
        &self,
        session: Session,
        resume_as: Option<String>,
        now: u64,
    ) -> StoreResult<Vec<String>> {
        let sid = session.ctx.session_id.clone();
        let record = Record {
            user: session.ctx.user.clone(),
            display_name: session.display_name.clone(),
            expires_at: session.expires_at,
            resume_as,
            grant: session.grant.clone(),
        };
        let ttl = ttl_until(session.expires_at, now);
        json::put(self.store.as_ref(), &record_key(&sid), Expect::Any, &record, ttl).await?;
        let cap = self.max_per_user;
        let index_ttl = ttl;
        let over_cap = json::update::<Vec<(String, u64)>, Vec<String>>(
            self.store.as_ref(),
            &user_key(&record.user),
            |current| {
                let mut mine: Vec<(String, u64)> = current
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(other, expires)| *expires > now && *other != sid)
                    .collect();
                mine.push((sid.clone(), record.expires_at));
                let excess = mine.len().saturating_sub(cap);
                let ended: Vec<String> = mine.drain(..excess).map(|(s, _)| s).collect();
                // The index lives as long as its longest-lived session.
                let longest = mine.iter().map(|(_, e)| *e).max().unwrap_or(now);
                let ttl = ttl_until(longest, now).max(index_ttl);
                (json::Change::Put(mine, ttl), ended)
            },
        )
        .await?;
        self.attach(session, now);
        Ok(over_cap)
    }

    /// Caches a session this process now serves (after a login here, or a resumption).
    pub fn attach(&self, session: Session, now: u64) {
        let mut local = self.local.write_locked();
        local.drop_expired(now);
        let sid = session.ctx.session_id.clone();
        local.remove(&sid);
        local.by_expiry.insert((session.expires_at, sid.clone()));
        local.by_id.insert(sid, (session, Instant::now()));
    }

    /// The session `sid`: cached here, opened elsewhere, or gone. When the store cannot be reached, a
    /// session cached here is still served (reads go on through a store outage); one that is not fails.
    pub async fn lookup(&self, sid: &str, now: u64) -> StoreResult<Lookup> {
        self.lookup_generation(sid, 0, now).await
    }

    /// [`Self::lookup`] for a token of `generation`: a cached session of an older generation was refreshed
    /// in another process, so the store is asked whatever the cache's age.
    pub async fn lookup_generation(&self, sid: &str, generation: u32, now: u64) -> StoreResult<Lookup> {
        // One look at the cache: the session, and whether the store confirmed it lately.
        let (mut cached, checked_recently) = {
            let local = self.local.read_locked();
            match local.by_id.get(sid) {
                Some((s, at)) if s.expires_at > now => (
                    Some(s.clone()),
                    at.elapsed() < RECHECK && s.grant.generation >= generation,
                ),
                _ => (None, false),
            }
        };
        // Only this process writes a store nobody shares: what it has cached is the truth.
        if let Some(session) = cached.take_if(|_| !self.store.shared() || checked_recently) {
            return Ok(Lookup::Live(session));
        }
        let stored = match json::get::<Record>(self.store.as_ref(), &record_key(sid)).await {
            Ok(found) => found.map(|(_, r)| r).filter(|r| r.expires_at > now),
            Err(e) => {
                return match cached {
                    Some(session) => Ok(Lookup::Live(session)),
                    None => Err(e),
                }
            }
        };
        match (stored, cached) {
            (None, cached) => {
                if cached.is_some() {
                    self.forget_local(sid);
                }
                Ok(Lookup::Gone)
            }
            (Some(record), Some(mut session)) => {
                // A refresh elsewhere moves the generation and the expiry on.
                let refreshed = session.grant != record.grant || session.expires_at != record.expires_at;
                session.grant = record.grant;
                session.expires_at = record.expires_at;
                let mut local = self.local.write_locked();
                if refreshed {
                    local.remove(sid);
                    local.by_expiry.insert((session.expires_at, sid.to_owned()));
                    local
                        .by_id
                        .insert(sid.to_owned(), (session.clone(), Instant::now()));
                } else if let Some((_, at)) = local.by_id.get_mut(sid) {
                    *at = Instant::now();
                }
                Ok(Lookup::Live(session))
            }
            (Some(record), None) => Ok(Lookup::Elsewhere(record)),
        }
    }

    /// Refreshes session `sid`: when its generation is still `from`, it moves to the next one, lives until
    /// `expires_at`, and the tokens of generation `from` keep working until `previous_until`. Compare and
    /// swap: of two refreshes with one token, one wins and the other sees [`Rotation::Reused`].
    pub async fn rotate(
        &self,
        sid: &str,
        from: u32,
        expires_at: u64,
        previous_until: u64,
        now: u64,
    ) -> StoreResult<Rotation> {
        let mut user = None;
        let outcome =
            json::update::<Record, Rotation>(
                self.store.as_ref(),
                &record_key(sid),
                |current| match current {
                    Some(mut record) if record.expires_at > now => {
                        if record.grant.generation != from {
                            return (json::Change::Keep, Rotation::Reused);
                        }
                        record.grant.generation = from.saturating_add(1);
                        record.grant.previous_until = previous_until;
                        record.expires_at = expires_at;
                        let grant = record.grant.clone();
                        user = Some(record.user.clone());
                        (
                            json::Change::Put(record, ttl_until(expires_at, now)),
                            Rotation::Rotated(grant),
                        )
                    }
                    _ => (json::Change::Keep, Rotation::Gone),
                },
            )
            .await?;
        if let Some(user) = &user {
            self.reindex(user, sid, expires_at, now).await;
        }
        if let Rotation::Rotated(grant) = &outcome {
            let mut local = self.local.write_locked();
            if let Some(mut session) = local.remove(sid) {
                session.grant = grant.clone();
                session.expires_at = expires_at;
                local.by_expiry.insert((expires_at, sid.to_owned()));
                local.by_id.insert(sid.to_owned(), (session, Instant::now()));
            }
        }
        Ok(outcome)
    }

    /// Lengthens session `sid` to `expires_at` (a code exchanged: the session now lives as long as its
    /// refresh tokens). `false` when it has ended.
    pub async fn extend(&self, sid: &str, expires_at: u64, now: u64) -> StoreResult<bool> {
        let mut user = None;
        let extended =
            json::update::<Record, bool>(self.store.as_ref(), &record_key(sid), |current| match current {
                Some(mut record) if record.expires_at > now => {
                    record.expires_at = record.expires_at.max(expires_at);
                    user = Some(record.user.clone());
                    let ttl = ttl_until(record.expires_at, now);
                    (json::Change::Put(record, ttl), true)
                }
                _ => (json::Change::Keep, false),
            })
            .await?;
        if let Some(user) = &user {
            self.reindex(user, sid, expires_at, now).await;
        }
        if extended {
            let mut local = self.local.write_locked();
            if let Some(mut session) = local.remove(sid) {
                session.expires_at = session.expires_at.max(expires_at);
                local.by_expiry.insert((session.expires_at, sid.to_owned()));
                local.by_id.insert(sid.to_owned(), (session, Instant::now()));
            }
        }
        Ok(extended)
    }

    /// Moves `sid`'s expiry in its user's index (which the per-user cap counts from). Best effort: a stale
    /// entry only makes the cap count the session as ended a little early.
    async fn reindex(&self, user: &str, sid: &str, expires_at: u64, now: u64) {
        let updated =
            json::update::<Vec<(String, u64)>, ()>(self.store.as_ref(), &user_key(user), |current| {
                let mut mine = current.unwrap_or_default();
                match mine.iter_mut().find(|(s, _)| s == sid) {
                    Some(entry) if entry.1 < expires_at => entry.1 = expires_at,
                    _ => return (json::Change::Keep, ()),
                }
                let longest = mine.iter().map(|(_, e)| *e).max().unwrap_or(expires_at);
                (json::Change::Put(mine, ttl_until(longest, now)), ())
            })
            .await;
        if let Err(e) = updated {
            tracing::warn!(error = %e, "the user's session index could not be updated");
        }
    }

    /// The live session `sid` if this process serves it (no store call).
    pub fn get_local(&self, sid: &str, now: u64) -> Option<Session> {
        let local = self.local.read_locked();
        local
            .by_id
            .get(sid)
            .map(|(s, _)| s)
            .filter(|s| s.expires_at > now)
            .cloned()
    }

    /// Serialises resumptions of one session, so that concurrent first requests open its backend side once.
    pub async fn resume_lock(&self, sid: &str) -> tokio::sync::MutexGuard<'_, ()> {
        let stripe = store::digest(&[sid]).as_bytes()[0] as usize % RESUME_STRIPES;
        self.resuming[stripe].lock().await
    }

    /// Replaces the cached account list of `sid`.
    pub fn set_accounts(&self, sid: &str, accounts: Vec<BrokerAccount>) {
        if let Some((s, _)) = self.local.write_locked().by_id.get_mut(sid) {
            s.accounts = accounts;
        }
    }

    /// Ends session `sid` everywhere: its token stops working in every process sharing the store, whose
    /// streams of it end. Returns the session if this process served it. A store failure is logged and
    /// the local session still ends.
    pub async fn revoke(&self, sid: &str) -> Option<Session> {
        let local = self.forget_local(sid);
        let stored = json::get::<Record>(self.store.as_ref(), &record_key(sid)).await;
        let user = match (&local, &stored) {
            (Some(s), _) => Some(s.ctx.user.clone()),
            (None, Ok(Some((_, r)))) => Some(r.user.clone()),
            _ => None,
        };
        let deleted = self
            .store
            .swap(&record_key(sid), Expect::Any, None, Duration::from_secs(1))
            .await;
        if let Err(e) = deleted {
            tracing::error!(error = %e, "logout: the session could not be deleted from the state store; other instances may accept its token until it expires");
        }
        if let Some(user) = user {
            let removed =
                json::update::<Vec<(String, u64)>, ()>(self.store.as_ref(), &user_key(&user), |current| {
                    match current {
                        Some(mut mine) if mine.iter().any(|(s, _)| s == sid) => {
                            mine.retain(|(s, _)| s != sid);
                            let longest = mine.iter().map(|(_, e)| *e).max().unwrap_or(0);
                            if mine.is_empty() {
                                (json::Change::Delete, ())
                            } else {
                                (
                                    json::Change::Put(mine, ttl_until(longest, crate::auth::now_secs())),
                                    (),
                                )
                            }
                        }
                        _ => (json::Change::Keep, ()),
                    }
                })
                .await;
            if let Err(e) = removed {
                tracing::warn!(error = %e, "logout: the user's session index could not be updated");
            }
        }
        if let Err(e) = self.store.publish(REVOKED, sid.as_bytes()).await {
            tracing::warn!(error = %e, "logout: other instances could not be told at once; they notice within seconds");
        }
        local
    }

    /// Drops `sid` from this process's cache (it was revoked, here or elsewhere).
    pub fn forget_local(&self, sid: &str) -> Option<Session> {
        self.local.write_locked().remove(sid)
    }

    /// Makes every cached session be checked against the store at its next use (messages may have been lost).
    pub fn recheck_all(&self) {
        let long_ago = Instant::now().checked_sub(RECHECK).unwrap_or_else(Instant::now);
        for (_, at) in self.local.write_locked().by_id.values_mut() {
            *at = long_ago;
        }
    }

    /// Sessions cached here, expired or not (diagnostics and tests).
    pub fn len(&self) -> usize {
        self.local.read_locked().by_id.len()
    }

    /// Whether no session is cached here.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Local {
    fn drop_expired(&mut self, now: u64) {
        while let Some((expires, sid)) = self.by_expiry.first().cloned() {
            #[cfg(test)]
            {
                self.visited += 1;
            }
            if expires > now {
                break;
            }
            self.remove(&sid);
        }
    }

    fn remove(&mut self, sid: &str) -> Option<Session> {
        let (session, _) = self.by_id.remove(sid)?;
        self.by_expiry.remove(&(session.expires_at, sid.to_owned()));
        Some(session)
    }
}

fn record_key(sid: &str) -> String {
    // Session ids are the bridge's own UUIDs, read from verified tokens; hashed anyway to bound the key.
    format!("session:{}", store::digest(&[sid]))
}

fn user_key(user: &str) -> String {
    format!("sessions-of:{}", store::digest(&[user]))
}

/// The time to live of a record that must last until `expires_at` (unix seconds).
fn ttl_until(expires_at: u64, now: u64) -> Duration {
    Duration::from_secs(expires_at.saturating_sub(now).max(1) + 5)
}

#[cfg(test)]
mod tests;
