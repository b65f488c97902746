//! One connection slot of the pool: a task that opens a connection, subscribes the keys the pool assigned
//! to it, sends keep-alives, fans events out, and on any failure reconnects with back-off and fresh
//! credentials, resubscribing the whole wanted set, until the pool no longer needs it.

use super::protocol::{Incoming, OpenError, Opened, Protocol};
use super::table::{Shared, SlotId};
use super::Frame;
use super::Link;
use std::collections::{BTreeSet, VecDeque};
use std::future::pending;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::time::{interval_at, sleep, sleep_until, Instant, Interval, MissedTickBehavior};
use tracing::{debug, info, warn};

/// How often closed receivers are looked for (and an empty connection considers closing).
const UPKEEP_EVERY: Duration = Duration::from_millis(500);
/// Subscribe frames remembered while awaiting their answer; older ones are forgotten.
const MAX_PENDING: usize = 64;

/// Resolves once the pool is shut down. Yields `()` rather than the watch guard, so the select loops
/// that await it can use the slot again in their handlers.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens once the pool itself is gone: stop too.
    let _ = shutdown.wait_for(|down| *down).await;
}

/// How a connection ended.
enum End {
    /// The pool is shut down or no longer needs this slot.
    Stop,
    /// The set grew on a transport that carries it in its request: open again at once.
    Reopen,
    /// The connection is gone and should be replaced; `healthy` resets the back-off.
    Lost { reason: String, healthy: bool },
}

/// A subscribe frame awaiting its answer.
struct Pending {
    seq: String,
    keys: Vec<String>,
    sent: Instant,
}

/// The task state of one slot, kept across its successive connections.
pub(super) struct Slot<P: Protocol> {
    id: SlotId,
    shared: Arc<Shared<P>>,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
    /// Last frame number sent; numbers keep increasing across reconnections.
    seq: u64,
    /// Whether a connection of this slot was ever opened.
    opened_once: bool,
}

impl<P: Protocol> Slot<P> {
    /// The task of slot `id`; `wake` is notified when the pool assigns it a new key.
    pub fn new(id: SlotId, shared: Arc<Shared<P>>, wake: Arc<Notify>) -> Slot<P> {
        let shutdown = shared.shutdown_signal();
        Slot {
            id,
            shared,
            wake,
            shutdown,
            seq: 0,
            opened_once: false,
        }
    }

    fn name(&self) -> &'static str {
        self.shared.protocol.name()
    }

    /// Runs connections until the pool shuts down or leaves this slot without keys.
    pub async fn run(mut self) {
        let mut backoff = self.shared.options.backoff();
        loop {
            let failures = backoff.failures();
            if failures > 0 && !self.pause(backoff.wait()).await {
                return;
            }
            // A slot whose connection dropped while it had nothing to carry just goes away; receivers
            // dropped while it was down count as nothing to carry.
            self.shared.prune(self.id);
            if self.shared.release_if_empty(self.id) {
                debug!(
                    stream = self.name(),
                    connection = self.id,
                    "stream connection closed: no keys left"
                );
                return;
            }
            if failures > 0 {
                self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
            }
            match self.connect(failures).await {
                End::Stop => return,
                End::Reopen => backoff = self.shared.options.backoff(),
                End::Lost { reason, healthy } => {
                    backoff.failed(healthy);
                    warn!(
                        stream = self.name(),
                        connection = self.id,
                        %reason,
                        attempt = backoff.failures(),
                        "upstream stream lost; reconnecting"
                    );
                }
            }
        }
    }

    /// Sleeps `delay`; false when the pool shut down meanwhile.
    async fn pause(&mut self, delay: Duration) -> bool {
        tokio::select! {
            _ = sleep(delay) => true,
            _ = stopped(&mut self.shutdown) => false,
        }
    }

    /// One connection: open it, then the frame loop.
    async fn connect(&mut self, failures: u32) -> End {
        let Some(keys) = self.shared.keys_of(self.id) else {
            return End::Stop;
        };
        let keys: Vec<String> = keys.into_iter().collect();
        let protocol = self.shared.protocol.clone();
        let opened = tokio::select! {
            o = protocol.open(&keys, self.opened_once) => o,
            _ = stopped(&mut self.shutdown) => return End::Stop,
        };
        if opened.is_err() {
            crate::metrics::record::upstream_stream(self.name(), "failed");
        }
        let opened = match opened {
            Ok(opened) => opened,
            Err(OpenError { reason, fatal: true }) => {
                for key in &keys {
                    self.shared.fail(self.id, key);
                }
                warn!(stream = self.name(), connection = self.id, %reason, "the upstream refused the stream; its subscriptions are dropped");
                // Not a failure of the connection: the slot closes next, unless new keys came meanwhile.
                return End::Reopen;
            }
            Err(OpenError { reason, .. }) => {
                return End::Lost {
                    reason,
                    healthy: false,
                }
            }
        };
        self.opened_once = true;
        self.shared.opened.fetch_add(1, Ordering::Relaxed);
        let kind = if failures > 0 { "reconnect" } else { "first" };
        crate::metrics::record::upstream_stream(self.name(), kind);
        if failures > 0 {
            info!(
                stream = self.name(),
                connection = self.id,
                attempts = failures,
                "upstream stream reconnected"
            );
        } else {
            debug!(
                stream = self.name(),
                connection = self.id,
                "upstream stream connected"
            );
        }
        Connection::new(self, opened, keys).run().await
    }
}

/// The state of one live connection.
struct Connection<'a, P: Protocol> {
    slot: &'a mut Slot<P>,
    link: Box<dyn Link>,
    session: P::Session,
    /// Keys subscribed, or being subscribed, on this connection.
    upstream: BTreeSet<String>,
    /// Subscribe frames awaiting their answer, oldest first.
    pending: VecDeque<Pending>,
    opened: Instant,
    last_rx: Instant,
    /// Whether the upstream said anything meaningful on this connection.
    heard: bool,
    /// Since when the connection carries no key.
    idle_since: Option<Instant>,
}

impl<'a, P: Protocol> Connection<'a, P> {
    fn new(slot: &'a mut Slot<P>, opened: Opened<P::Session>, keys: Vec<String>) -> Self {
        let now = Instant::now();
        let upstream = if opened.link.carries_set_in_request() {
            keys.into_iter().collect()
        } else {
            BTreeSet::new()
        };
        Connection {
            slot,
            link: opened.link,
            session: opened.session,
            upstream,
            pending: VecDeque::new(),
            opened: now,
            last_rx: now,
            heard: false,
            idle_since: None,
        }
    }

    fn shared(&self) -> &Shared<P> {
        &self.slot.shared
    }

    async fn run(mut self) -> End {
        match self.serve().await {
            Ok(()) | Err(End::Stop) => {
                self.link.close().await;
                End::Stop
            }
            Err(End::Reopen) => {
                self.link.close().await;
                End::Reopen
            }
            Err(lost) => lost,
        }
    }

    /// The frame loop; returns only with `Err`, saying how the connection ended.
    async fn serve(&mut self) -> Result<(), End> {
        self.reconcile().await?;
        let options = self.shared().options;
        let mut keep_alive = options.keep_alive.map(|every| {
            let mut i = interval_at(Instant::now() + every, every);
            i.set_missed_tick_behavior(MissedTickBehavior::Delay);
            i
        });
        let mut upkeep = interval_at(Instant::now() + UPKEEP_EVERY, UPKEEP_EVERY);
        upkeep.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let silence = options.silence;
        let stale = sleep_until(self.last_rx + silence);
        tokio::pin!(stale);
        loop {
            tokio::select! {
                _ = stopped(&mut self.slot.shutdown) => return Err(End::Stop),
                frame = self.link.recv() => self.on_frame(frame).await?,
                _ = self.slot.wake.notified() => self.on_growth().await?,
                _ = tick(keep_alive.as_mut()) => {
                    let seq = self.next_seq();
                    if let Some(frame) = self.shared().protocol.keep_alive(&self.session, seq) {
                        self.send(frame).await?;
                    }
                }
                _ = upkeep.tick() => self.upkeep().await?,
                () = &mut stale => {
                    // The timer was set at the previous deadline; re-arm it unless nothing came since.
                    if self.last_rx.elapsed() >= silence {
                        return Err(self.lost(format!("nothing received for {silence:?}")));
                    }
                    stale.as_mut().reset(self.last_rx + silence);
                }
            }
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.slot.seq += 1;
        self.slot.seq
    }

    /// An `End::Lost` for `reason`, healthy when this connection served well for a while.
    fn lost(&self, reason: impl Into<String>) -> End {
        End::Lost {
            reason: reason.into(),
            healthy: self.heard && self.opened.elapsed() >= self.shared().options.healthy_after,
        }
    }

    /// New keys were assigned: subscribe them, or (when the request carries the set) wait for the burst
    /// to settle and reopen if the set really grew.
    async fn on_growth(&mut self) -> Result<(), End> {
        if !self.link.carries_set_in_request() {
            return self.reconcile().await;
        }
        let debounce = self.shared().options.debounce;
        tokio::select! {
            _ = sleep(debounce) => {}
            _ = stopped(&mut self.slot.shutdown) => return Err(End::Stop),
        }
        self.shared().prune(self.slot.id);
        let Some(wanted) = self.shared().keys_of(self.slot.id) else {
            return Err(End::Stop);
        };
        if wanted.is_empty() || !wanted.is_subset(&self.upstream) {
            return Err(End::Reopen);
        }
        Ok(())
    }

    async fn on_frame(&mut self, frame: Option<Result<Frame, String>>) -> Result<(), End> {
        let frame = match frame {
            None => return Err(self.lost("the server closed the connection")),
            Some(Err(e)) => return Err(self.lost(e)),
            Some(Ok(frame)) => frame,
        };
        self.last_rx = Instant::now();
        match frame {
            Frame::Text(bytes) => {
                let incoming = self.shared().protocol.decode(&self.session, &bytes);
                self.on_incoming(incoming, bytes.len()).await
            }
            Frame::Closed(code) => {
                Err(self.lost(format!("the server closed the connection (close code {code:?})")))
            }
            Frame::Life => Ok(()),
        }
    }

    async fn on_incoming(&mut self, incoming: Incoming<P::Event>, len: usize) -> Result<(), End> {
        let id = self.slot.id;
        match incoming {
            Incoming::Data { key, event } => {
                self.heard = true;
                if self.shared().deliver(id, &key, event) {
                    self.reconcile().await?;
                }
            }
            Incoming::Subscribed { ack, refused } => {
                self.heard = true;
                self.take_pending(ack.as_deref());
                for (key, reason) in refused {
                    self.refuse(&key, &reason);
                }
            }
            Incoming::SessionInvalid { reason } => {
                // Invalidate before reconnecting, so the next `open` gets fresh credentials.
                self.shared().protocol.invalidate(&self.session);
                return Err(self.lost(format!("the upstream session is no longer valid ({reason})")));
            }
            Incoming::Error { ack, reason } => {
                self.heard = true;
                let keys = self.take_pending(ack.as_deref());
                if keys.is_empty() {
                    warn!(stream = self.slot.name(), connection = id, %reason, "the upstream stream answered an error");
                }
                for key in keys {
                    self.refuse(&key, &reason);
                }
            }
            Incoming::Alive => self.heard = true,
            Incoming::Malformed => {
                debug!(
                    stream = self.slot.name(),
                    connection = id,
                    len,
                    "ignoring a frame outside the stream protocol"
                );
            }
        }
        Ok(())
    }

    /// The keys of the subscribe frame `ack`, forgotten from the pending list.
    fn take_pending(&mut self, ack: Option<&str>) -> Vec<String> {
        let Some(ack) = ack else {
            return Vec::new();
        };
        match self.pending.iter().position(|p| p.seq == ack) {
            Some(i) => self.pending.remove(i).map(|p| p.keys).unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// Drops a key the upstream refused; its receivers are closed.
    fn refuse(&mut self, key: &str, reason: &str) {
        self.upstream.remove(key);
        if self.shared().fail(self.slot.id, key) {
            warn!(
                stream = self.slot.name(),
                connection = self.slot.id,
                key,
                reason,
                "the upstream refused a subscription"
            );
        }
    }

    /// Drops closed receivers, unsubscribes unused keys, and closes the connection once idle long enough.
    async fn upkeep(&mut self) -> Result<(), End> {
        let id = self.slot.id;
        // An upstream that answers keep-alives but drops a subscription would leave its receivers starving
        // forever; a fresh connection resubscribes everything.
        let ack_within = self.shared().options.ack_within;
        if self
            .pending
            .front()
            .is_some_and(|p| p.sent.elapsed() >= ack_within)
        {
            return Err(self.lost(format!("a subscription was not answered within {ack_within:?}")));
        }
        self.shared().prune(id);
        self.reconcile().await?;
        let linger = self.shared().options.linger;
        let idle = self.idle_since.is_some_and(|t| t.elapsed() >= linger);
        if idle && self.shared().release_if_empty(id) {
            debug!(
                stream = self.slot.name(),
                connection = id,
                "stream connection closed: idle"
            );
            return Err(End::Stop);
        }
        Ok(())
    }

    /// Brings the upstream subscriptions of this connection in line with the keys the pool assigned. A
    /// transport that carries the set in its request only forgets keys here; growth reopens it (see
    /// [`Self::on_growth`]).
    async fn reconcile(&mut self) -> Result<(), End> {
        let Some(wanted) = self.shared().keys_of(self.slot.id) else {
            return Err(End::Stop);
        };
        let options = self.shared().options;
        let chunk = options.per_connection.min(options.per_frame);
        let gone: Vec<String> = self.upstream.difference(&wanted).cloned().collect();
        for keys in gone.chunks(chunk) {
            let seq = self.next_seq();
            if let Some(frame) = self.shared().protocol.unsubscribe(&self.session, seq, keys) {
                self.send(frame).await?;
            }
            for key in keys {
                self.upstream.remove(key);
            }
        }
        if !self.link.carries_set_in_request() {
            let new: Vec<String> = wanted.difference(&self.upstream).cloned().collect();
            for keys in new.chunks(chunk) {
                self.subscribe(keys).await?;
            }
        }
        if wanted.is_empty() {
            self.idle_since.get_or_insert_with(Instant::now);
        } else {
            self.idle_since = None;
        }
        Ok(())
    }

    /// Sends the subscribe frame of `keys` and remembers it until answered.
    async fn subscribe(&mut self, keys: &[String]) -> Result<(), End> {
        let seq = self.next_seq();
        let Some(frame) = self.shared().protocol.subscribe(&self.session, seq, keys) else {
            return Ok(());
        };
        self.send(frame).await?;
        self.upstream.extend(keys.iter().cloned());
        if self.shared().protocol.acks_subscriptions() {
            self.pending.push_back(Pending {
                seq: seq.to_string(),
                keys: keys.to_vec(),
                sent: Instant::now(),
            });
            if self.pending.len() > MAX_PENDING {
                self.pending.pop_front();
            }
        }
        Ok(())
    }

    async fn send(&mut self, frame: String) -> Result<(), End> {
        match self.link.send(frame).await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.lost(e)),
        }
    }
}

/// The next tick of an optional interval; never, without one.
async fn tick(interval: Option<&mut Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => pending::<()>().await,
    }
}
