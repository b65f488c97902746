//! One socket of the pool: a task that connects, subscribes the epics the pool assigned to it, pings,
//! fans quotes out, and on any failure reconnects with exponential backoff and fresh tokens until the pool
//! no longer needs it.

use super::model::StreamDestination;
use super::pool::{Shared, SocketId};
use super::protocol::{classify, request, Incoming};
use super::{StreamTokens, MAX_EPICS_PER_SOCKET};
use crate::upstream::backoff::Backoff;
use futures_util::{SinkExt, StreamExt};
use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};
use tokio::time::{interval_at, sleep_until, timeout, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{connect_async_with_config, MaybeTlsStream, WebSocketStream};
use tracing::{debug, info, warn};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How often closed receivers are looked for (and an empty socket considers closing).
const UPKEEP_EVERY: Duration = Duration::from_millis(500);
/// A connection that heard from the upstream and lasted this long resets the backoff.
const HEALTHY_UPTIME: Duration = Duration::from_secs(10);
/// Subscribe requests remembered while awaiting their answer; older ones are forgotten.
const MAX_PENDING: usize = 64;
/// Upstream messages are a few hundred bytes; anything near this is not Capital.com talking.
const MAX_MESSAGE: usize = 1 << 20;
/// Time allowed for a polite close handshake before the socket is just dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Resolves once the pool is shut down. Yields `()` rather than the watch guard, so the select loops
/// that await it can use the socket again in their handlers.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens once the pool itself is gone: stop too.
    let _ = shutdown.wait_for(|down| *down).await;
}

/// How a connection ended.
enum End {
    /// The pool is shut down or no longer needs this socket.
    Stop,
    /// The connection is gone and should be replaced; `healthy` resets the backoff.
    Lost { reason: String, healthy: bool },
}

impl End {
    fn lost(reason: impl Into<String>) -> End {
        End::Lost {
            reason: reason.into(),
            healthy: false,
        }
    }
}

/// A subscribe request awaiting its answer.
struct Pending {
    correlation_id: String,
    epics: Vec<String>,
    sent: Instant,
}

/// The task state of one socket, kept across its successive connections.
pub(super) struct Socket {
    id: SocketId,
    shared: Arc<Shared>,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
    /// Last correlation id sent; ids keep increasing across reconnections.
    correlation: u64,
}

impl Socket {
    /// The task of socket `id`; `wake` is notified when the pool assigns it a new epic.
    pub fn new(id: SocketId, shared: Arc<Shared>, wake: Arc<Notify>) -> Socket {
        let shutdown = shared.shutdown_signal();
        Socket {
            id,
            shared,
            wake,
            shutdown,
            correlation: 0,
        }
    }

    /// Runs connections until the pool shuts down or leaves this socket without epics.
    pub async fn run(mut self) {
        let opts = &self.shared.options;
        let mut backoff = Backoff::new(opts.reconnect_min, opts.reconnect_max).jittered();
        loop {
            let failures = backoff.failures();
            if failures > 0 && !self.pause(backoff.wait()).await {
                return;
            }
            // A socket whose connection dropped while it had nothing to carry just goes away; receivers
            // dropped while it was down count as nothing to carry.
            self.shared.prune(self.id);
            if self.shared.release_if_empty(self.id) {
                debug!(socket = self.id, "Capital.com quote socket closed: no epics left");
                return;
            }
            if failures > 0 {
                self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
            }
            match self.connect(failures).await {
                End::Stop => return,
                End::Lost { reason, healthy } => {
                    backoff.failed(healthy);
                    warn!(
                        socket = self.id,
                        %reason,
                        attempt = backoff.failures(),
                        "Capital.com quote stream lost; reconnecting"
                    );
                }
            }
        }
    }

    /// Sleeps `delay`; false when the pool shut down meanwhile.
    async fn pause(&mut self, delay: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(delay) => true,
            _ = stopped(&mut self.shutdown) => false,
        }
    }

    /// One connection: tokens, handshake, then the message loop.
    async fn connect(&mut self, failures: u32) -> End {
        let wait = self.shared.options.connect_timeout;
        // Logging in can queue behind the upstream's one-login-per-second limit: allow more than a handshake.
        let tokens = tokio::select! {
            t = timeout(wait * 3, self.shared.tokens.tokens()) => t,
            _ = stopped(&mut self.shutdown) => return End::Stop,
        };
        let tokens = match tokens {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => return End::lost(format!("no session tokens: {e}")),
            Err(_) => return End::lost("no session tokens: the login timed out"),
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let handshake = connect_async_with_config(self.shared.url.as_str(), Some(config), true);
        let ws = tokio::select! {
            r = timeout(wait, handshake) => r,
            _ = stopped(&mut self.shutdown) => return End::Stop,
        };
        let ws = match ws {
            Ok(Ok((ws, _response))) => ws,
            Ok(Err(e)) => return End::lost(format!("connection failed: {e}")),
            Err(_) => return End::lost(format!("connection timed out after {wait:?}")),
        };
        if failures > 0 {
            info!(
                socket = self.id,
                attempts = failures,
                "Capital.com quote stream reconnected"
            );
        } else {
            debug!(socket = self.id, "Capital.com quote socket connected");
        }
        Connection::new(self, ws, tokens).run().await
    }
}

/// The state of one live connection.
struct Connection<'a> {
    socket: &'a mut Socket,
    ws: Ws,
    tokens: StreamTokens,
    /// Epics subscribed, or being subscribed, on this connection.
    upstream: BTreeSet<String>,
    /// Subscribe requests awaiting their answer, oldest first.
    pending: VecDeque<Pending>,
    opened: Instant,
    last_rx: Instant,
    /// Whether the upstream answered anything meaningful on this connection.
    heard: bool,
    /// Since when the socket carries no epic.
    idle_since: Option<Instant>,
}

impl<'a> Connection<'a> {
    fn new(socket: &'a mut Socket, ws: Ws, tokens: StreamTokens) -> Self {
        let now = Instant::now();
        Connection {
            socket,
            ws,
            tokens,
            upstream: BTreeSet::new(),
            pending: VecDeque::new(),
            opened: now,
            last_rx: now,
            heard: false,
            idle_since: None,
        }
    }

    async fn run(mut self) -> End {
        match self.serve().await {
            Ok(()) | Err(End::Stop) => {
                let _ = timeout(CLOSE_WAIT, self.ws.close(None)).await;
                End::Stop
            }
            Err(lost) => lost,
        }
    }

    /// The message loop; returns only with `Err`, saying how the connection ended.
    async fn serve(&mut self) -> Result<(), End> {
        self.reconcile().await?;
        let every = self.socket.shared.options.ping_every;
        let stale_after = self.stale_after();
        let mut ping = interval_at(Instant::now() + every, every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut upkeep = interval_at(Instant::now() + UPKEEP_EVERY, UPKEEP_EVERY);
        upkeep.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let stale = sleep_until(self.last_rx + stale_after);
        tokio::pin!(stale);
        loop {
            tokio::select! {
                _ = stopped(&mut self.socket.shutdown) => return Err(End::Stop),
                frame = self.ws.next() => self.on_frame(frame).await?,
                _ = self.socket.wake.notified() => self.reconcile().await?,
                _ = ping.tick() => {
                    self.send(StreamDestination::Ping, None).await?;
                }
                _ = upkeep.tick() => self.upkeep().await?,
                () = &mut stale => {
                    // The timer was set at the previous deadline; re-arm it unless nothing came since.
                    if self.last_rx.elapsed() >= stale_after {
                        return Err(self.lost(format!("nothing received for {stale_after:?}")));
                    }
                    stale.as_mut().reset(self.last_rx + stale_after);
                }
            }
        }
    }

    /// Silence after which the connection counts as dead.
    fn stale_after(&self) -> Duration {
        self.socket.shared.options.ping_every * 2
    }

    /// An `End::Lost` for `reason`, healthy when this connection served well for a while.
    fn lost(&self, reason: impl Into<String>) -> End {
        End::Lost {
            reason: reason.into(),
            healthy: self.heard && self.opened.elapsed() >= HEALTHY_UPTIME,
        }
    }

    async fn on_frame(&mut self, frame: Option<Result<Message, WsError>>) -> Result<(), End> {
        let msg = match frame {
            None => return Err(self.lost("the server closed the connection")),
            Some(Err(e)) => return Err(self.lost(format!("socket error: {e}"))),
            Some(Ok(msg)) => msg,
        };
        self.last_rx = Instant::now();
        match msg {
            Message::Text(text) => self.on_text(text.as_str()).await,
            Message::Close(frame) => {
                let code = frame.map(|f| u16::from(f.code));
                Err(self.lost(format!("the server closed the connection (close code {code:?})")))
            }
            // WebSocket pings are answered by tungstenite itself; they only prove the socket alive.
            _ => Ok(()),
        }
    }

    async fn on_text(&mut self, text: &str) -> Result<(), End> {
        let id = self.socket.id;
        match classify(text) {
            Incoming::Quote(quote) => {
                self.heard = true;
                if self.socket.shared.deliver(id, quote) {
                    self.reconcile().await?;
                }
            }
            Incoming::Subscribed {
                correlation_id,
                failed,
            } => {
                self.heard = true;
                self.take_pending(correlation_id.as_deref());
                for (epic, status) in failed {
                    self.refuse(&epic, &status);
                }
            }
            Incoming::SessionInvalid { code } => {
                // Invalidate before reconnecting, so the next `tokens()` logs in again.
                self.socket.shared.tokens.invalidate();
                return Err(self.lost(format!("the upstream session is no longer valid ({code})")));
            }
            Incoming::Error {
                destination,
                correlation_id,
                code,
            } => {
                self.heard = true;
                let epics = match destination {
                    StreamDestination::MarketDataSubscribe => self.take_pending(correlation_id.as_deref()),
                    _ => Vec::new(),
                };
                if epics.is_empty() {
                    warn!(socket = id, ?destination, %code, "Capital.com quote stream answered an error");
                }
                for epic in epics {
                    self.refuse(&epic, &code);
                }
            }
            Incoming::Other => self.heard = true,
            Incoming::Malformed => {
                debug!(
                    socket = id,
                    len = text.len(),
                    "ignoring a message outside the stream protocol"
                );
            }
        }
        Ok(())
    }

    /// The epics of the subscribe request `correlation_id`, forgotten from the pending list.
    fn take_pending(&mut self, correlation_id: Option<&str>) -> Vec<String> {
        let Some(cid) = correlation_id else {
            return Vec::new();
        };
        match self.pending.iter().position(|p| p.correlation_id == cid) {
            Some(i) => self.pending.remove(i).map(|p| p.epics).unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// Drops an epic the upstream refused; its receivers are closed.
    fn refuse(&mut self, epic: &str, status: &str) {
        self.upstream.remove(epic);
        if self.socket.shared.fail(self.socket.id, epic) {
            warn!(
                socket = self.socket.id,
                epic, status, "Capital.com refused the quote subscription"
            );
        }
    }

    /// Drops closed receivers, unsubscribes unused epics, and closes the socket once idle long enough.
    async fn upkeep(&mut self) -> Result<(), End> {
        let id = self.socket.id;
        // An upstream that answers pings but drops a subscription would leave its receivers starving
        // forever; a fresh connection resubscribes everything.
        let stale_after = self.stale_after();
        if self
            .pending
            .front()
            .is_some_and(|p| p.sent.elapsed() >= stale_after)
        {
            return Err(self.lost(format!("a subscription was not answered within {stale_after:?}")));
        }
        self.socket.shared.prune(id);
        self.reconcile().await?;
        let idle = self
            .idle_since
            .is_some_and(|t| t.elapsed() >= self.socket.shared.idle_grace);
        if idle && self.socket.shared.release_if_empty(id) {
            debug!(socket = id, "Capital.com quote socket closed: idle");
            return Err(End::Stop);
        }
        Ok(())
    }

    /// Brings the upstream subscriptions of this connection in line with the epics the pool assigned.
    async fn reconcile(&mut self) -> Result<(), End> {
        let Some(wanted) = self.socket.shared.epics_of(self.socket.id) else {
            return Err(End::Stop);
        };
        let wanted: BTreeSet<String> = wanted.into_iter().collect();
        let gone: Vec<String> = self.upstream.difference(&wanted).cloned().collect();
        let new: Vec<String> = wanted.difference(&self.upstream).cloned().collect();
        for chunk in gone.chunks(MAX_EPICS_PER_SOCKET) {
            self.send(StreamDestination::MarketDataUnsubscribe, Some(chunk))
                .await?;
            for epic in chunk {
                self.upstream.remove(epic);
            }
        }
        for chunk in new.chunks(MAX_EPICS_PER_SOCKET) {
            let cid = self
                .send(StreamDestination::MarketDataSubscribe, Some(chunk))
                .await?;
            self.upstream.extend(chunk.iter().cloned());
            self.pending.push_back(Pending {
                correlation_id: cid,
                epics: chunk.to_vec(),
                sent: Instant::now(),
            });
            if self.pending.len() > MAX_PENDING {
                self.pending.pop_front();
            }
        }
        if wanted.is_empty() {
            self.idle_since.get_or_insert_with(Instant::now);
        } else {
            self.idle_since = None;
        }
        Ok(())
    }

    /// Sends one request with a fresh correlation id, which it returns.
    async fn send(
        &mut self,
        destination: StreamDestination,
        epics: Option<&[String]>,
    ) -> Result<String, End> {
        self.socket.correlation += 1;
        let cid = self.socket.correlation;
        let text = request(destination, cid, &self.tokens, epics);
        let wait = self.socket.shared.options.connect_timeout;
        match timeout(wait, self.ws.send(Message::text(text))).await {
            Ok(Ok(())) => Ok(cid.to_string()),
            Ok(Err(e)) => Err(self.lost(format!("sending {destination:?} failed: {e}"))),
            Err(_) => Err(self.lost(format!("sending {destination:?} timed out after {wait:?}"))),
        }
    }
}
