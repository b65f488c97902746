//! Per bridge user: the live session token obtained with the user's grant (from [`Links`]), renewed
//! before it expires, and the signer every resource call for that user carries. A token IBKR refuses is
//! dropped and obtained again once; a grant IBKR refuses (revoked at IBKR) is deleted, and the user is
//! told to log in again.

use super::credentials::Links;
use super::federation::REQUEST_TOKEN_PATH;
use crate::backends::ibkr::oauth1::RsaSigner;
use crate::backends::ibkr::oauth1::{
    live_session_token_for, Expiring, HandshakeError, LiveSessionToken, LstSigner, Oauth1Keys, Renewing,
    RENEW_MARGIN,
};
use crate::broker::{BrokerError, BrokerResult};
use crate::secret::Secret;
use crate::sync::MutexExt;
use crate::upstream::call::CallError;
use crate::upstream::transport::{Call, CallKind, SignError, Signer, Transport};
use reqwest::Method;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How long a user's session is kept after their last call: an LST's life (IBKR: about 24 hours). A
/// user who comes back later costs one handshake.
pub const IDLE_AFTER: Duration = crate::backends::ibkr::oauth1::DEFAULT_LIFETIME;
/// How often the idle sessions are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A live session token and the access token it was obtained with (the `oauth_token` of every call it
/// signs).
struct UserLst {
    access_token: Secret,
    lst: LiveSessionToken,
}

impl Expiring for UserLst {
    fn expires_at(&self) -> Instant {
        self.lst.expires_at
    }
}

/// Signs one user's calls with their live session token (HMAC-SHA256).
pub struct UserSigner {
    keys: Arc<Oauth1Keys>,
    held: Arc<UserLst>,
}

impl std::fmt::Debug for UserSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSigner").finish_non_exhaustive()
    }
}

impl UserSigner {
    /// Signs `req` with the given nonce and timestamp (tests fix them).
    pub fn sign_at(&self, req: &mut reqwest::Request, nonce: &str, timestamp: &str) -> Result<(), SignError> {
        LstSigner::for_token(&self.keys, self.held.access_token.expose(), &self.held.lst)
            .sign_at(req, nonce, timestamp)
    }

    /// When IBKR stops accepting the token.
    pub fn expires_at(&self) -> Instant {
        self.held.lst.expires_at
    }
}

impl Signer for UserSigner {
    fn sign(&self, req: &mut reqwest::Request) -> Result<(), SignError> {
        // A fresh nonce and timestamp per attempt: a retried call is never a replay.
        LstSigner::for_token(&self.keys, self.held.access_token.expose(), &self.held.lst).sign(req)
    }
}

/// One user's live session.
struct UserSession {
    lst: Renewing<UserLst>,
    /// Milliseconds from [`Sessions::epoch`] to the last call (atomic: no lock taken inside another).
    last_used_ms: AtomicU64,
    /// IBKR refused the user's grant and it was deleted: "no grant" is then told as a revocation.
    revoked: AtomicBool,
}

/// Why no token was obtained for a user.
enum Failed {
    NoGrant,
    Revoked,
    Broker(BrokerError),
}

/// Every user's live session, by bridge user.
pub struct Sessions {
    transport: Arc<Transport>,
    keys: Arc<Oauth1Keys>,
    links: Arc<Links>,
    users: Mutex<HashMap<String, Arc<UserSession>>>,
    /// The origin of the sessions' clocks.
    epoch: Instant,
    /// Milliseconds from `epoch` to the last sweep of idle sessions.
    swept_at_ms: AtomicU64,
}

impl Sessions {
    pub fn new(transport: Arc<Transport>, keys: Arc<Oauth1Keys>, links: Arc<Links>) -> Sessions {
        Sessions {
            transport,
            keys,
            links,
            users: Mutex::new(HashMap::new()),
            epoch: Instant::now(),
            swept_at_ms: AtomicU64::new(0),
        }
    }

    /// The signer for `user`'s calls, obtaining or renewing the live session token first.
    /// `Err(BrokerError::LogInAgain)` when the user has no grant (never given, or revoked at IBKR: then
    /// the grant is deleted and the message says so).
    pub async fn signer(&self, user: &str) -> BrokerResult<Arc<UserSigner>> {
        let session = self.session(user);
        let held = session
            .lst
            .get(|| self.handshake(user, &session))
            .await
            .map_err(|failed| match failed {
                Failed::NoGrant if session.revoked.load(Ordering::SeqCst) => revoked(user),
                Failed::NoGrant => BrokerError::LogInAgain(format!(
                    "{user} has not granted the bridge access at Interactive Brokers yet: log in through TradingView to do so"
                )),
                Failed::Revoked => revoked(user),
                Failed::Broker(e) => e,
            })?;
        Ok(Arc::new(UserSigner {
            keys: self.keys.clone(),
            held,
        }))
    }

    /// IBKR answered 401 to a call signed with `stale`: the next [`Sessions::signer`] obtains a new token.
    pub fn invalidate(&self, user: &str, stale: &Arc<UserSigner>) {
        // Taken out first: no lock is held while another is taken.
        let session = self.users.locked().get(user).cloned();
        if let Some(session) = session {
            session.lst.invalidate(&stale.held);
        }
    }

    /// Drops whatever `user`'s session holds: their grant changed (granted again, unlinked).
    pub fn forget(&self, user: &str) {
        self.users.locked().remove(user);
    }

    /// How many users' sessions are held (tests, metrics).
    pub fn len(&self) -> usize {
        self.users.locked().len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `user`'s session, made when missing, marked used now; sessions idle for [`IDLE_AFTER`] are dropped
    /// on the way (at most once per [`SWEEP_EVERY`]), so the memory held follows the users active today.
    fn session(&self, user: &str) -> Arc<UserSession> {
        let now = Instant::now().saturating_duration_since(self.epoch).as_millis() as u64;
        let last_sweep = self.swept_at_ms.load(Ordering::SeqCst);
        let sweep = now.saturating_sub(last_sweep) >= SWEEP_EVERY.as_millis() as u64
            && self
                .swept_at_ms
                .compare_exchange(last_sweep, now, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok();
        let idle = IDLE_AFTER.as_millis() as u64;
        let mut users = self.users.locked();
        if sweep {
            users.retain(|_, s| now.saturating_sub(s.last_used_ms.load(Ordering::SeqCst)) < idle);
        }
        let session = users.entry(user.to_string()).or_insert_with(|| {
            Arc::new(UserSession {
                lst: Renewing::new(RENEW_MARGIN),
                last_used_ms: AtomicU64::new(now),
                revoked: AtomicBool::new(false),
            })
        });
        session.last_used_ms.store(now, Ordering::SeqCst);
        session.clone()
    }

    /// Obtains a live session token with `user`'s grant.
    async fn handshake(&self, user: &str, session: &UserSession) -> Result<UserLst, Failed> {
        let grant = self.links.get(user).await.map_err(Failed::Broker)?;
        let Some(grant) = grant else {
            return Err(Failed::NoGrant);
        };
        let answer = live_session_token_for(
            &self.transport,
            &self.keys,
            &grant.access_token,
            &grant.access_token_secret,
        )
        .await;
        match answer {
            Ok(lst) => {
                session.revoked.store(false, Ordering::SeqCst);
                tracing::info!(user, "IBKR live session token obtained for the user's grant");
                Ok(UserLst {
                    access_token: grant.access_token,
                    lst,
                })
            }
            // IBKR's answer to an access token the user revoked. Only this grant is deleted: one the
            // user gave meanwhile (another replica) stays.
            Err(HandshakeError::Call(e)) if e.status() == Some(401) => {
                if self.consumer_refused().await {
                    return Err(Failed::Broker(BrokerError::Unavailable(
                        "IBKR refuses the bridge's consumer itself (backend.consumer_key_env, signature_key_file or realm wrong?): the users' grants are kept".into(),
                    )));
                }
                let deleted = self
                    .links
                    .delete_if(user, &grant.access_token)
                    .await
                    .map_err(Failed::Broker)?;
                session.revoked.store(true, Ordering::SeqCst);
                tracing::warn!(
                    user,
                    deleted,
                    "IBKR refused the user's grant (revoked at IBKR); the grant is deleted and the user must grant access again"
                );
                Err(Failed::Revoked)
            }
            Err(HandshakeError::Call(e)) => Err(Failed::Broker(token_call_failed(
                "the live session token request",
                &e,
            ))),
            Err(e @ HandshakeError::Invalid(_)) => Err(Failed::Broker(BrokerError::Unavailable(format!(
                "{user}'s IBKR grant: {e}"
            )))),
        }
    }
}

impl Sessions {
    /// Whether IBKR refuses the consumer itself (a request token request, which carries no user's token,
    /// answered 401 or 403): then a 401 to a user's live session token request says nothing about their
    /// grant, and deleting it would make every user grant access again after a configuration mistake.
    /// Any other outcome leaves the 401 to the user's grant. The request token obtained is never used
    /// and expires at IBKR.
    async fn consumer_refused(&self) -> bool {
        let signer = RsaSigner::request_token(&self.keys);
        let call = Call::new(CallKind::Read, Method::POST, REQUEST_TOKEN_PATH)
            .once()
            .signed(&signer);
        match self.transport.execute(&call).await {
            Err(e) if matches!(e.status(), Some(401 | 403)) => {
                tracing::error!(error = %e, "IBKR refuses the bridge's OAuth consumer: check backend.consumer_key_env, signature_key_file and realm");
                true
            }
            _ => false,
        }
    }
}

fn revoked(user: &str) -> BrokerError {
    BrokerError::LogInAgain(format!(
        "Interactive Brokers no longer accepts the access {user} granted the bridge (it was revoked at IBKR): log in through TradingView to grant it again"
    ))
}

/// A failed OAuth token request (request token, access token, live session token) that is not the user's
/// doing: throttled, or IBKR unavailable or refusing the bridge's consumer. The details go to the log.
pub(super) fn token_call_failed(what: &str, e: &CallError) -> BrokerError {
    match e {
        CallError::Status {
            status: 429,
            retry_after,
            ..
        } => BrokerError::RateLimited {
            retry_after: *retry_after,
        },
        CallError::Status { status, .. } => {
            let said = crate::backends::ibkr::errors::message(e)
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            BrokerError::Unavailable(format!("IBKR answered {status} to {what}{said}"))
        }
        CallError::NotSent(d) | CallError::NoAnswer(d) => BrokerError::Unavailable(format!("{what}: {d}")),
        CallError::Decode(d) => BrokerError::Internal(format!("{what}: {d}")),
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "test_ibkr.rs"]
pub(super) mod test_ibkr;
