//! Upstream sessions: one Capital.com session per bridge session, with its tokens, its current account, its
//! request pacing lane and the accounts it lists, and the policy around every call (re-login once on 401,
//! account switching serialised per session; pacing and retries by call kind are the shared transport's). A
//! session carries the shared context its calls need, so callers hold only the session.

use super::client::{CallError, CallResult, Client, Tokens};
use super::config::UpstreamCredentials;
use super::credentials::{self, When};
use crate::broker::BrokerError;
use crate::sync::MutexExt;
use crate::upstream::refusal::{RefusalLatch, COOL_DOWN};
use crate::upstream::relogin::{AfterRefusal, ReloginOnce};
use crate::upstream::sessions::UpstreamSession;
use crate::upstream::shared_turns::SharedTurns;
use crate::upstream::transport::{Lane, RetryWait};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::Duration;
use tokio::sync::{Mutex, OwnedRwLockReadGuard, RwLock};
use tokio::time::Instant;

/// Whether a call may be repeated after a failure that leaves its effect unknown: reads are retried by the
/// transport after 429 (with the advised delay), 5xx and lost answers; writes only when they provably did
/// not happen (not sent here, a 401 refusal in [`Upstream::call`]).
pub use crate::upstream::transport::CallKind as Kind;

pub use super::scope::AccountScope;

/// How a call through a session failed.
#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamError {
    /// The upstream call itself failed (after the retries its kind allows).
    Call(CallError),
    /// The session is gone and could not be re-established, or another broker-level refusal.
    Broker(BrokerError),
}

impl UpstreamError {
    /// For writes: whether the request may have been carried out although no success was seen.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, UpstreamError::Call(e) if e.is_ambiguous())
    }
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::Call(e) => e.fmt(f),
            UpstreamError::Broker(e) => e.fmt(f),
        }
    }
}

impl From<UpstreamError> for BrokerError {
    fn from(e: UpstreamError) -> BrokerError {
        match e {
            UpstreamError::Broker(b) => b,
            UpstreamError::Call(e @ CallError::Status { .. }) => {
                let mapped = super::errors::status_error(e.status().unwrap_or_default(), &e);
                if matches!(mapped, BrokerError::Unauthorized(_)) {
                    // Only the session layer decides that the user must log in again.
                    BrokerError::Rejected("Capital.com refused the request for this account.".into())
                } else {
                    mapped
                }
            }
            UpstreamError::Call(CallError::NotSent(e)) | UpstreamError::Call(CallError::NoAnswer(e)) => {
                BrokerError::Unavailable(format!("Capital.com: {e}"))
            }
            UpstreamError::Call(CallError::Decode(e)) => BrokerError::Internal(format!("Capital.com: {e}")),
        }
    }
}

/// Result of a call through a session.
pub type UpstreamResult<T> = Result<T, UpstreamError>;

/// The live part of a session, changed only under its mutex so a re-login happens once however many calls
/// see the same 401.
#[derive(Debug)]
struct Live {
    tokens: Option<Tokens>,
    /// Bumped on every new login; a caller re-logs in only if the tokens it failed with are still current.
    generation: u64,
    /// The account the upstream session is switched to.
    upstream_account: String,
}

/// What the bridge knows of one upstream account of a session.
#[derive(Debug, Clone)]
pub struct AccountInfo {
    pub hedging: bool,
    pub currency: String,
}

/// One Capital.com session.
pub struct Upstream {
    ctx: Arc<SessionContext>,
    credentials: UpstreamCredentials,
    /// The accounts `/accounts` listed for this session, by id (filled by the account list).
    accounts: SyncMutex<HashMap<String, AccountInfo>>,
    /// The session's pace (Capital.com allows 10 requests per second per session).
    limiter: Arc<Lane>,
    live: Mutex<Live>,
    /// The account in-flight account-scoped calls act on: shared while it stays, exclusive to switch, so two
    /// TradingView tabs on different accounts never see each other's data.
    account: Arc<RwLock<String>>,
    last_used: SyncMutex<Instant>,
    last_requested: SyncMutex<Instant>,
    closed: AtomicBool,
    /// Mapped mode: when Capital.com last refused the configured credentials (no new login is tried for a
    /// while, so polling cannot get the account locked).
    refused: RefusalLatch,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream").finish_non_exhaustive()
    }
}

/// Shared by every session: the raw client, the per-key pacing of `POST /session` (across replicas on a
/// shared store) and the keep-alive timings.
pub struct SessionContext {
    pub client: Client,
    pub creation_pacer: SharedTurns,
    pub requests_per_second: u32,
    /// A session idle this long is pinged.
    pub keepalive: Duration,
    /// A session TradingView has not used for this long is dropped.
    pub max_idle: Duration,
}

impl Upstream {
    /// Logs in (paced per API key) and returns the new session with the login's answer. With `max_wait`,
    /// a login whose turn at the pacer is further away than that is refused at once (see
    /// [`NEW_LOGIN_MAX_WAIT`]).
    pub async fn open(
        ctx: &Arc<SessionContext>,
        credentials: UpstreamCredentials,
        max_wait: Option<Duration>,
    ) -> UpstreamResult<(Upstream, super::model::SessionCreated)> {
        let (created, tokens) = login(ctx, &credentials, max_wait).await?;
        let now = Instant::now();
        let upstream = Upstream {
            ctx: ctx.clone(),
            credentials,
            accounts: SyncMutex::new(HashMap::new()),
            limiter: Arc::new(Lane::per_second(ctx.requests_per_second)),
            live: Mutex::new(Live {
                tokens: Some(tokens),
                generation: 1,
                upstream_account: created.current_account_id.clone(),
            }),
            account: Arc::new(RwLock::new(created.current_account_id.clone())),
            last_used: SyncMutex::new(now),
            last_requested: SyncMutex::new(now),
            closed: AtomicBool::new(false),
            refused: RefusalLatch::default(),
        };
        Ok((upstream, created))
    }

    /// A call that does not depend on the current account (markets, prices, the account list).
    pub async fn call<T, F, Fut>(&self, kind: Kind, f: F) -> UpstreamResult<T>
    where
        F: Fn(Client, Tokens) -> Fut,
        Fut: Future<Output = CallResult<T>>,
    {
        self.exec(&self.ctx, None, kind, None, f).await
    }

    /// Holds the session on `account` (switching with `PUT /session` when needed) for a sequence of calls.
    pub async fn on_account(&self, account: &str) -> UpstreamResult<AccountScope<'_>> {
        let ctx = &*self.ctx;
        self.touch_requested();
        let hold = self.hold(ctx, account).await?;
        Ok(AccountScope::new(self, ctx, hold, account))
    }

    /// The account lock: which account the session is on, held shared by calls on it and exclusively
    /// to switch.
    pub(super) fn account_lock(&self) -> Arc<RwLock<String>> {
        self.account.clone()
    }

    /// The account lock held shared with the session on `account`, switching it first when needed.
    pub(super) async fn hold(
        &self,
        ctx: &SessionContext,
        account: &str,
    ) -> UpstreamResult<OwnedRwLockReadGuard<String>> {
        {
            let guard = self.account.clone().read_owned().await;
            if *guard == account {
                return Ok(guard);
            }
        }
        let mut guard = self.account.clone().write_owned().await;
        if *guard != account {
            self.switch(ctx, account).await?;
            *guard = account.to_string();
        }
        Ok(guard.downgrade())
    }

    /// Ends the upstream session (best effort) and refuses later calls.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let tokens = self.live.lock().await.tokens.take();
        if let Some(tokens) = tokens {
            if let Err(e) = self.own_calls().delete_session(&tokens).await {
                tracing::debug!(error = %e, "Capital.com logout failed; the session expires on its own");
            }
        }
    }

    /// Pings the upstream when the session has been idle for the keep-alive interval; returns false once
    /// TradingView has not used the session for the longest idle time (the registry then drops it).
    pub async fn keep_alive(&self) -> bool {
        let (keepalive, max_idle) = (self.ctx.keepalive, self.ctx.max_idle);
        if self.closed.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        let requested = *self.last_requested.locked();
        if now.duration_since(requested) >= max_idle {
            return false;
        }
        let used = *self.last_used.locked();
        if now.duration_since(used) < keepalive {
            return true;
        }
        let Some(tokens) = self.live.lock().await.tokens.clone() else {
            return true;
        };
        self.touch_used();
        match self.own_calls().ping(&tokens).await {
            Ok(_) => tracing::debug!("Capital.com session kept alive"),
            Err(e) => {
                // The next call re-logs in; a ping never forces the user out.
                tracing::info!(error = %e, "Capital.com keep-alive ping failed");
                let mut live = self.live.lock().await;
                if e.status() == Some(401) && live.tokens.as_ref() == Some(&tokens) {
                    live.tokens = None;
                }
            }
        }
        true
    }

    /// The current tokens (logging in again if they were dropped), for the WebSocket stream.
    pub async fn tokens(&self) -> UpstreamResult<Tokens> {
        Ok(self.current_tokens(&self.ctx, None).await?.0)
    }

    /// Forgets the tokens so the next use logs in again (the stream reported them invalid).
    pub async fn invalidate(&self, tokens: &Tokens) {
        let mut live = self.live.lock().await;
        if live.tokens.as_ref() == Some(tokens) {
            live.tokens = None;
        }
    }

    /// The credentials this session logs in with.
    pub fn credentials(&self) -> &UpstreamCredentials {
        &self.credentials
    }

    /// Remembers what `/accounts` said of `account`.
    pub fn remember_account(&self, account: &str, info: AccountInfo) {
        self.accounts.locked().insert(account.to_string(), info);
    }

    /// What `/accounts` said of `account`, if it listed it for this session.
    pub fn account_info(&self, account: &str) -> Option<AccountInfo> {
        self.accounts.locked().get(account).cloned()
    }

    pub fn last_requested(&self) -> Instant {
        *self.last_requested.locked()
    }

    /// The client of the session's own calls (ping, account switch, logout): paced in the session's lane
    /// like every other call, sent once.
    fn own_calls(&self) -> Client {
        self.ctx.client.paced(self.limiter.clone())
    }

    fn touch_used(&self) {
        *self.last_used.locked() = Instant::now();
    }

    fn touch_requested(&self) {
        *self.last_requested.locked() = Instant::now();
    }

    /// One call with the policy around it (re-login once on 401); `waiter` waits between the transport's
    /// attempts (an account scope lets go of the account meanwhile).
    pub(super) async fn exec<T, F, Fut>(
        &self,
        ctx: &SessionContext,
        account: Option<&str>,
        kind: Kind,
        waiter: Option<Arc<dyn RetryWait>>,
        f: F,
    ) -> UpstreamResult<T>
    where
        F: Fn(Client, Tokens) -> Fut,
        Fut: Future<Output = CallResult<T>>,
    {
        self.touch_requested();
        let mut relogin = ReloginOnce::default();
        loop {
            let (tokens, generation) = self.current_tokens(ctx, account).await?;
            self.touch_used();
            // Pacing and the retries a call's kind allows are the transport's, through the bound client.
            let mut client = ctx.client.bound(self.limiter.clone(), kind);
            if let Some(waiter) = &waiter {
                client = client.waiting_with(waiter.clone());
            }
            let error = match f(client, tokens).await {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            match &error {
                // A 401 refused the request, so even a write may be repeated after logging in again; once.
                e if is_auth_failure(e) => match relogin.refused() {
                    AfterRefusal::Relogin => self.relogin(ctx, generation, account).await?,
                    AfterRefusal::GiveUp => {
                        self.live.lock().await.tokens = None;
                        return Err(UpstreamError::Broker(credentials::refused_again(
                            &self.credentials,
                        )));
                    }
                },
                _ => return Err(UpstreamError::Call(error)),
            }
        }
    }

    async fn current_tokens(
        &self,
        ctx: &SessionContext,
        account: Option<&str>,
    ) -> UpstreamResult<(Tokens, u64)> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(session_lost());
        }
        let generation = {
            let live = self.live.lock().await;
            if let Some(t) = &live.tokens {
                return Ok((t.clone(), live.generation));
            }
            live.generation
        };
        self.relogin(ctx, generation, account).await?;
        let live = self.live.lock().await;
        match &live.tokens {
            Some(t) => Ok((t.clone(), live.generation)),
            None => Err(session_lost()),
        }
    }

    /// Logs in again unless another call already did since `seen_generation`, then puts the session back on
    /// `account` (a new Capital.com session starts on the preferred account).
    async fn relogin(
        &self,
        ctx: &SessionContext,
        seen_generation: u64,
        account: Option<&str>,
    ) -> UpstreamResult<()> {
        let mut live = self.live.lock().await;
        if live.generation == seen_generation {
            live.tokens = None;
            if self.credentials.source.is_some() && self.refused.holds(COOL_DOWN) {
                // Refused a moment ago: answered without another login attempt (or another warning).
                return Err(UpstreamError::Broker(BrokerError::Rejected(
                    credentials::MAPPED_REFUSED.into(),
                )));
            }
            tracing::info!("Capital.com session expired or refused; logging in again");
            // A re-login of a session that worked waits its turn: new logins queue at most
            // `NEW_LOGIN_MAX_WAIT`, so the turn comes within that.
            let (created, tokens) = match login(ctx, &self.credentials, None).await {
                Ok(ok) => ok,
                Err(UpstreamError::Call(CallError::Status { status, body, .. }))
                    if status == 401 || status == 400 =>
                {
                    self.refused.trip();
                    return Err(UpstreamError::Broker(credentials::refused(
                        &self.credentials,
                        status,
                        &body,
                        When::Later,
                    )));
                }
                Err(e) => return Err(e),
            };
            self.refused.clear();
            live.tokens = Some(tokens);
            live.generation += 1;
            live.upstream_account = created.current_account_id;
        }
        // Calls that do not name an account still need the account every scoped caller expects.
        let wanted = match account {
            Some(a) => a.to_string(),
            None => match self.account.try_read() {
                Ok(a) => a.clone(),
                Err(_) => return Ok(()),
            },
        };
        if live.upstream_account != wanted {
            let tokens = live.tokens.clone().ok_or_else(session_lost)?;
            switch_call(&self.own_calls(), &tokens, &wanted).await?;
            live.upstream_account = wanted;
        }
        Ok(())
    }

    /// Switches the upstream session to `account` (the caller holds the account lock exclusively).
    async fn switch(&self, ctx: &SessionContext, account: &str) -> UpstreamResult<()> {
        let mut relogin = ReloginOnce::default();
        loop {
            let (tokens, generation) = self.current_tokens(ctx, None).await?;
            let mut live = self.live.lock().await;
            if live.upstream_account == account {
                return Ok(());
            }
            if live.generation != generation {
                continue;
            }
            self.touch_used();
            match switch_call(&self.own_calls(), &tokens, account).await {
                Ok(()) => {
                    live.upstream_account = account.to_string();
                    return Ok(());
                }
                Err(UpstreamError::Call(CallError::Status { status: 401, .. }))
                    if relogin.refused() == AfterRefusal::Relogin =>
                {
                    drop(live);
                    self.relogin(ctx, generation, None).await?;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[async_trait::async_trait]
impl UpstreamSession for Upstream {
    type Lend = UpstreamCredentials;
    /// The market-data session is a Capital.com session of its own.
    type Data = Upstream;

    fn lend(&self) -> UpstreamCredentials {
        self.credentials.clone()
    }

    async fn keep_alive(&self) -> bool {
        Upstream::keep_alive(self).await
    }

    async fn close(&self) {
        Upstream::close(self).await
    }

    async fn keep_data_alive(data: &Upstream) -> bool {
        data.keep_alive().await
    }

    async fn close_data(data: &Upstream) {
        data.close().await
    }
}

/// `PUT /session`; "already on that account" counts as success.
async fn switch_call(client: &Client, tokens: &Tokens, account: &str) -> UpstreamResult<()> {
    match client.switch_account(tokens, account).await {
        Ok(_) => Ok(()),
        Err(e @ CallError::Status { status: 400, .. })
            if super::errors::code_of(&e).is_some_and(|c| c.contains("not-different")) =>
        {
            Ok(())
        }
        Err(e @ CallError::Status { status, .. }) if status == 400 || status == 404 => {
            tracing::warn!(status, code = ?super::errors::code_of(&e), "Capital.com refused the account switch");
            Err(UpstreamError::Broker(BrokerError::NotFound(format!(
                "Capital.com does not know account {account} for this login."
            ))))
        }
        Err(e) => Err(UpstreamError::Call(e)),
    }
}

/// How long a new TradingView login may queue for its turn at `POST /session` (one per second per API key)
/// before it is refused with "try again in N s". Bogus logins under other identifiers can then hold a good
/// one back for this long at most, instead of one second each.
pub const NEW_LOGIN_MAX_WAIT: Duration = Duration::from_secs(3);

/// `POST /session`, paced per API key; refused at once when the turn is further away than `max_wait`.
async fn login(
    ctx: &SessionContext,
    credentials: &UpstreamCredentials,
    max_wait: Option<Duration>,
) -> UpstreamResult<(super::model::SessionCreated, Tokens)> {
    if let Err(wait) = ctx.creation_pacer.acquire(max_wait).await {
        tracing::info!(
            wait_ms = wait.as_millis() as u64,
            "Capital.com login queue is full; refusing a login at once"
        );
        // Whole seconds, rounded up: the message says "try again in N s", and N must not be too early.
        let retry_after = Duration::from_secs(wait.as_secs_f64().ceil() as u64);
        return Err(UpstreamError::Broker(BrokerError::RateLimited {
            retry_after: Some(retry_after),
        }));
    }
    match ctx
        .client
        .create_session(&credentials.identifier, &credentials.password)
        .await
    {
        Ok(ok) => Ok(ok),
        Err(CallError::Status { status: 429, .. }) => Err(UpstreamError::Broker(BrokerError::Rejected(
            "Capital.com is refusing logins for a moment (too many attempts); try again in a few seconds."
                .into(),
        ))),
        Err(e) => Err(UpstreamError::Call(e)),
    }
}

/// A refusal of the session itself (401, or a session-token error code under another status).
fn is_auth_failure(e: &CallError) -> bool {
    match e {
        CallError::Status { status: 401, .. } => true,
        CallError::Status { status, .. } if *status < 500 && *status != 429 => matches!(
            super::errors::status_error(*status, e),
            BrokerError::Unauthorized(_)
        ),
        _ => false,
    }
}

fn session_lost() -> UpstreamError {
    UpstreamError::Broker(credentials::session_lost())
}
