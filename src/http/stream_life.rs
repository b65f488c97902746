//! Stream lifetimes. Every stream (the five account streams, `/stream/quotes`, `/streaming`) is counted
//! against its session's and its user's limits, ends with an in-stream `{"s":"error",..}` line when its token
//! expires, its session logs out or the server stops, and leaves one audit log line when it opens and one
//! when it closes (user, account, kind, duration, why).

use crate::auth::{Session, TokenError};
use crate::error::{ApiError, ApiResult};
use crate::hub::json_line;
use crate::state::AppState;
use crate::sync::MutexExt;
use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// The final line of every stream when the server stops.
pub const RESTARTING: &str = "The server is restarting; reconnect.";

/// Why a stream ended, as the audit log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client closed the connection (or stopped reading and the connection broke).
    ClientLeft,
    /// The access token of the stream's session expired.
    TokenExpired,
    /// The session logged out.
    LoggedOut,
    /// The server is shutting down.
    Shutdown,
    /// The stream itself ended (its upstream session was lost, its feed stopped).
    Ended,
}

impl CloseReason {
    /// The audit log's words.
    pub fn as_str(self) -> &'static str {
        self.words().0
    }

    /// The audit log's words and the metrics label.
    fn words(self) -> (&'static str, &'static str) {
        match self {
            CloseReason::ClientLeft => ("client left", "client_left"),
            CloseReason::TokenExpired => ("token expired", "token_expired"),
            CloseReason::LoggedOut => ("logged out", "logged_out"),
            CloseReason::Shutdown => ("shutdown", "shutdown"),
            CloseReason::Ended => ("ended upstream", "ended"),
        }
    }

    /// The reason as a metrics label.
    pub fn label(self) -> &'static str {
        self.words().1
    }

    /// The in-stream error line the client gets, for the reasons the bridge decides.
    fn final_line(self) -> Option<Bytes> {
        let errmsg = match self {
            CloseReason::TokenExpired => TokenError::Expired.to_string(),
            // The words the account streams have always ended with at logout.
            CloseReason::LoggedOut => "Your broker session has ended. Please log in again.".to_owned(),
            CloseReason::Shutdown => RESTARTING.to_owned(),
            CloseReason::ClientLeft | CloseReason::Ended => return None,
        };
        Some(json_line(&serde_json::json!({ "s": "error", "errmsg": errmsg })))
    }
}

#[derive(Default)]
struct Counts {
    sessions: HashMap<String, SessionStreams>,
    users: HashMap<String, usize>,
}

struct SessionStreams {
    open: usize,
    /// Cancelled at logout: every stream of the session ends.
    ended: CancellationToken,
}

struct Registry {
    counts: Mutex<Counts>,
    max_per_session: usize,
    max_per_user: usize,
}

/// Open streams per session and per user, with their limits and the logout signal.
#[derive(Clone)]
pub struct StreamRegistry(Arc<Registry>);

impl StreamRegistry {
    /// A registry enforcing the two limits.
    pub fn new(max_per_session: usize, max_per_user: usize) -> Self {
        StreamRegistry(Arc::new(Registry {
            counts: Mutex::new(Counts::default()),
            max_per_session,
            max_per_user,
        }))
    }

    /// Counts a new stream of `session`, or refuses it past a limit.
    pub fn open(
        &self,
        session: &Session,
        kind: &'static str,
        account: Option<&str>,
    ) -> ApiResult<StreamTicket> {
        let sid = &session.ctx.session_id;
        let user = &session.ctx.user;
        let mut counts = self.0.counts.locked();
        let in_session = counts.sessions.get(sid).map_or(0, |s| s.open);
        if in_session >= self.0.max_per_session {
            return Err(ApiError::bad(format!(
                "Too many open streams: this session already has {in_session} (the limit is {} per \
                 session); close one and try again",
                self.0.max_per_session
            )));
        }
        let of_user = counts.users.get(user).copied().unwrap_or(0);
        if of_user >= self.0.max_per_user {
            return Err(ApiError::bad(format!(
                "Too many open streams: user '{user}' already has {of_user} (the limit is {} per user); \
                 close one and try again",
                self.0.max_per_user
            )));
        }
        let entry = counts
            .sessions
            .entry(sid.clone())
            .or_insert_with(|| SessionStreams {
                open: 0,
                ended: CancellationToken::new(),
            });
        entry.open += 1;
        let ended = entry.ended.clone();
        *counts.users.entry(user.clone()).or_insert(0) += 1;
        drop(counts);
        let ticket = StreamTicket {
            registry: self.0.clone(),
            session_id: sid.clone(),
            user: user.clone(),
            account: account.map(str::to_owned),
            kind,
            opened: Instant::now(),
            expires: Instant::now() + until_unix(session.expires_at),
            ended,
            reason: None,
        };
        tracing::info!(user = %ticket.user, account = ticket.account.as_deref().unwrap_or("-"), kind,
            "stream opened");
        crate::metrics::record::stream_opened(kind);
        Ok(ticket)
    }

    /// Ends every stream of `session_id` (logout): each gets an error line and closes.
    pub fn end_session(&self, session_id: &str) {
        let counts = self.0.counts.locked();
        if let Some(s) = counts.sessions.get(session_id) {
            s.ended.cancel();
        }
    }

    /// Streams open now, over every session.
    pub fn open_streams(&self) -> usize {
        let counts = self.0.counts.locked();
        counts.sessions.values().map(|s| s.open).sum()
    }
}

/// How long from now until unix second `at` (zero when past); read once per stream, never per line.
fn until_unix(at: u64) -> Duration {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Duration::from_millis(at.saturating_mul(1000).saturating_sub(now_ms))
}

/// One counted stream; dropping it uncounts the stream and writes the closing audit line.
pub struct StreamTicket {
    registry: Arc<Registry>,
    session_id: String,
    user: String,
    account: Option<String>,
    kind: &'static str,
    opened: Instant,
    /// When the session's token expires.
    expires: Instant,
    ended: CancellationToken,
    reason: Option<CloseReason>,
}

impl Drop for StreamTicket {
    fn drop(&mut self) {
        {
            let mut counts = self.registry.counts.locked();
            if let Some(s) = counts.sessions.get_mut(&self.session_id) {
                s.open -= 1;
                if s.open == 0 {
                    counts.sessions.remove(&self.session_id);
                }
            }
            if let Some(n) = counts.users.get_mut(&self.user) {
                *n -= 1;
                if *n == 0 {
                    counts.users.remove(&self.user);
                }
            }
        }
        let reason = self.reason.unwrap_or(CloseReason::ClientLeft);
        crate::metrics::record::stream_closed(self.kind, reason.label());
        let secs = self.opened.elapsed().as_secs_f64();
        tracing::info!(user = %self.user, account = self.account.as_deref().unwrap_or("-"), kind = self.kind,
            duration_secs = (secs * 1000.0).round() / 1000.0, reason = reason.as_str(), "stream closed");
    }
}

/// Counts a stream for `session` and re-checks that the session is still live (a logout between the
/// token check and now would otherwise leave this stream running).
pub fn open_stream(
    state: &AppState,
    session: &Session,
    kind: &'static str,
    account: Option<&str>,
) -> ApiResult<StreamTicket> {
    if state.shutdown().is_stopping() {
        return Err(ApiError::bad(RESTARTING));
    }
    let ticket = state.streams().open(session, kind, account)?;
    if state
        .sessions()
        .get_local(&session.ctx.session_id, crate::auth::now_secs())
        .is_none()
    {
        return Err(ApiError::Unauthorized(
            "the session has ended; please log in again".into(),
        ));
    }
    Ok(ticket)
}

struct Guarded {
    ticket: StreamTicket,
    // The two waits are made once per stream and polled again for every line: a fresh `cancelled()` per
    // line would join and leave the token's waiter list each time, and the server's shutdown token is
    // shared by every stream (a quote reaching 1,000 streams did that 2,000 times under one lock).
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    ended: Pin<Box<WaitForCancellationFutureOwned>>,
    expiry: Pin<Box<Sleep>>,
    lines: Pin<Box<dyn Stream<Item = Bytes> + Send>>,
    done: bool,
}

/// `lines` ended by shutdown, logout or token expiry, each with a final error line; the ticket goes with
/// the stream, so the audit line is written however it ends.
pub fn guarded(
    ticket: StreamTicket,
    state: &AppState,
    lines: impl Stream<Item = Bytes> + Send + 'static,
) -> impl Stream<Item = Bytes> + Send + 'static {
    let start = Guarded {
        expiry: Box::pin(tokio::time::sleep_until(ticket.expires)),
        shutdown: Box::pin(state.shutdown().token().clone().cancelled_owned()),
        ended: Box::pin(ticket.ended.clone().cancelled_owned()),
        ticket,
        lines: Box::pin(lines),
        done: false,
    };
    stream::unfold(start, |mut g| async move {
        if g.done {
            return None;
        }
        // Biased: once the bridge has decided to end the stream, no further data line goes out.
        let reason = tokio::select! {
            biased;
            _ = &mut g.shutdown => CloseReason::Shutdown,
            _ = &mut g.ended => CloseReason::LoggedOut,
            _ = &mut g.expiry => CloseReason::TokenExpired,
            line = g.lines.next() => match line {
                Some(line) => return Some((line, g)),
                None => CloseReason::Ended,
            },
        };
        g.ticket.reason = Some(reason);
        g.done = true;
        match reason.final_line() {
            Some(line) => Some((line, g)),
            None => {
                drop(g);
                None
            }
        }
    })
}
