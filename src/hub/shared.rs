//! One account hub across replicas: with a shared store, one replica per (session, account) holds a lease
//! and is the only one that asks the backend; it writes each snapshot to the store and announces it, and
//! the others serve from the stored snapshot, feed their streams from it, and ask the holder for a
//! refresh when theirs is too old. A holder that stops renewing is replaced once its lease runs out; a
//! replica that cannot reach the store refreshes on its own (availability over strict call counts).
//!
//! Store keys (all `<digest>` = `store::digest([session id, account id])`): `hub-lease:<digest>` (who
//! holds the lease, until when), `hub-snap:<digest>` (the last snapshot), and the broadcast channel
//! `hub:<digest>` (announcements, requests for a refresh, answers).

use super::accounts::{AccountHub, Snapshot};
use crate::broker::AccountSnapshot;
use crate::store::{json, Expect, Notice, Store, StoreError, StoreResult};
use crate::sync::MutexExt;
use crate::tv;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::time::Instant;

/// Wall-clock milliseconds since the unix epoch: `store::now_ms` (tests pass a clock that follows tokio's
/// paused one). Times in shared records are wall-clock, since every replica must read them alike.
pub type Wall = Arc<dyn Fn() -> u64 + Send + Sync>;

/// How long a replica whose store failed refreshes on its own before it tries the store again: a store
/// that is down would otherwise cost every poll a failed round trip (or a timeout).
const STORE_RETRY: Duration = Duration::from_secs(5);

/// Lease length in refresh intervals: a holder renews every interval, so two missed renewals in a row are
/// tolerated before another replica takes over.
const LEASE_INTERVALS: u32 = 3;

/// The shortest lease: the holder renews between fetches, and a slow backend call must not cost it the
/// lease.
const MIN_LEASE: Duration = Duration::from_secs(5);

/// Announcements and answers a waiting caller may fall behind by (one answer per replica per fetch).
const NOTICE_QUEUE: usize = 256;

/// What replicas say to each other about one hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub(super) enum Msg {
    /// The holder stored a new snapshot (store version `v`, fetch started at `taken_ms`).
    Snap { v: u64, taken_ms: u64 },
    /// A replica asks the holder for a snapshot taken no earlier than `since_ms`, or, without it, for a
    /// fetch that starts after the holder got this request (after a write: clocks of two replicas never
    /// agree to the millisecond, but the order "request received, then fetch started" holds everywhere).
    Need { id: String, since_ms: Option<u64> },
    /// The holder's answer to `id`: the stored version that satisfies it, or `None` when its fetch failed
    /// (the asker then fetches itself and gets the error first hand).
    Answer { id: String, v: Option<u64> },
    /// Not on the wire: the store's channel may have lost messages.
    #[serde(skip)]
    Gap,
}

/// The lease record.
#[derive(Debug, Serialize, Deserialize)]
struct Lease {
    holder: String,
    until_ms: u64,
}

/// The stored snapshot, written from borrowed lists (no copy of the data).
#[derive(Serialize)]
struct RecordRef<'a> {
    taken_ms: u64,
    orders: &'a [tv::Order],
    positions: &'a [tv::Position],
    net_positions: &'a [tv::NetPosition],
    individual_positions: &'a [tv::IndividualPosition],
    state: &'a tv::AccountState,
}

/// The stored snapshot, read back.
#[derive(Deserialize)]
struct Record {
    taken_ms: u64,
    orders: Vec<tv::Order>,
    positions: Vec<tv::Position>,
    net_positions: Vec<tv::NetPosition>,
    individual_positions: Vec<tv::IndividualPosition>,
    state: tv::AccountState,
}

/// What a refresh wants.
#[derive(Debug, Clone, Copy)]
pub(super) enum Want {
    /// A snapshot taken no earlier than this (polls, stream ticks).
    Since(Instant),
    /// A fetch that starts after this moment (after a write, a pushed change): on a follower, one the
    /// holder starts after it hears of the request.
    After(Instant),
}

impl Want {
    pub(super) fn at(self) -> Instant {
        match self {
            Want::Since(t) | Want::After(t) => t,
        }
    }
}

/// What [`Share::follow`] decided.
pub(super) enum Plan {
    /// Served from the shared snapshot.
    Served(Arc<Snapshot>),
    /// Ask the backend here: as the lease holder, or on its own (store failed, holder silent or failed).
    Fetch,
}

/// The sharing of every hub of one `AccountHubs`: the store, this process's identity, the routing of
/// channel messages to hubs, and whether the store is failing.
pub(super) struct Shared {
    store: Arc<dyn Store>,
    instance: String,
    wall: Wall,
    needs: AtomicU64,
    /// Until when the store is left alone after a failure.
    down_until: Mutex<Option<Instant>>,
    /// Whether the failure was logged (once per outage).
    warned: AtomicBool,
    routes: Mutex<HashMap<String, Weak<AccountHub>>>,
    routing: AtomicBool,
}

impl Shared {
    pub(super) fn new(store: Arc<dyn Store>, instance: String, wall: Wall) -> Arc<Shared> {
        Arc::new(Shared {
            store,
            instance,
            wall,
            needs: AtomicU64::new(0),
            down_until: Mutex::new(None),
            warned: AtomicBool::new(false),
            routes: Mutex::new(HashMap::new()),
            routing: AtomicBool::new(false),
        })
    }

    fn now_ms(&self) -> u64 {
        (self.wall)()
    }

    /// Whether the store failed recently.
    fn down(&self) -> bool {
        self.down_until.locked().is_some_and(|t| Instant::now() < t)
    }

    fn failed(&self, e: &StoreError) {
        *self.down_until.locked() = Some(Instant::now() + STORE_RETRY);
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                error = %e,
                "the shared state store failed: account hubs refresh from the backend on their own \
                 (one call per replica) until it answers again"
            );
        }
    }

    fn answered(&self) {
        if self.warned.swap(false, Ordering::Relaxed) {
            tracing::info!("the shared state store answers again: account hubs share their refreshes again");
        }
    }

    /// The hub's sharing state; registers it for channel messages and starts the router on first use.
    pub(super) fn share(self: &Arc<Self>, session_id: &str, account: &str, interval: Duration) -> Share {
        let digest = crate::store::digest(&[session_id, account]);
        if !self.routing.swap(true, Ordering::AcqRel) {
            tokio::spawn(route(Arc::downgrade(self), self.store.subscribe()));
        }
        Share {
            shared: self.clone(),
            lease_ttl: (interval * LEASE_INTERVALS).max(MIN_LEASE),
            digest,
            held: Mutex::new(None),
            announced: AtomicU64::new(0),
            holder_until: AtomicU64::new(0),
            notices: broadcast::channel(NOTICE_QUEUE).0,
        }
    }

    fn hub(&self, digest: &str) -> Option<Arc<AccountHub>> {
        self.routes.locked().get(digest).and_then(Weak::upgrade)
    }

    fn hubs(&self) -> Vec<Arc<AccountHub>> {
        self.routes.locked().values().filter_map(Weak::upgrade).collect()
    }
}

/// A lease this replica holds.
#[derive(Debug, Clone, Copy)]
struct Held {
    version: u64,
    /// Until when this replica counts itself the holder: one interval before the lease runs out, so that
    /// a replica whose clock is up to an interval behind never takes over while this one still fetches.
    until: Instant,
}

/// One hub's sharing state.
pub(super) struct Share {
    shared: Arc<Shared>,
    digest: String,
    lease_ttl: Duration,
    held: Mutex<Option<Held>>,
    /// The newest snapshot version announced on the channel: a local copy older than it is not served.
    announced: AtomicU64,
    /// Until when (wall-clock ms) another replica's lease was seen to run; 0 when not known.
    holder_until: AtomicU64,
    notices: broadcast::Sender<Msg>,
}

impl Share {
    /// Routes the channel's messages to `hub` (the hub this share belongs to).
    pub(super) fn register(&self, hub: &Arc<AccountHub>) {
        self.shared
            .routes
            .locked()
            .insert(self.digest.clone(), Arc::downgrade(hub));
    }

    /// Stops routing to `hub` (it stopped), unless a newer hub of the same account took its place.
    pub(super) fn unregister(&self, hub: &Arc<AccountHub>) {
        let mut routes = self.shared.routes.locked();
        if routes
            .get(&self.digest)
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(hub)))
        {
            routes.remove(&self.digest);
        }
    }

    fn lease_key(&self) -> String {
        format!("hub-lease:{}", self.digest)
    }

    fn snap_key(&self) -> String {
        format!("hub-snap:{}", self.digest)
    }

    fn channel(&self) -> String {
        format!("hub:{}", self.digest)
    }

    /// Records outlive the lease: a stored snapshot is still the newest one for a moment after its holder
    /// is gone. Both are deleted by expiry; nothing is kept forever.
    fn store_ttl(&self) -> Duration {
        self.lease_ttl * 2
    }

    /// Whether this replica holds the lease (by its own margin).
    pub(super) fn holds(&self) -> bool {
        self.held.locked().is_some_and(|h| Instant::now() < h.until)
    }

    /// Whether the store is failing (this replica refreshes on its own meanwhile).
    pub(super) fn down(&self) -> bool {
        self.shared.down()
    }

    /// The newest version announced.
    pub(super) fn announced(&self) -> u64 {
        self.announced.load(Ordering::Relaxed)
    }

    /// Wall-clock milliseconds of local instant `t`.
    pub(super) fn wall_of(&self, t: Instant) -> u64 {
        let ago = Instant::now().saturating_duration_since(t).as_millis() as u64;
        self.shared.now_ms().saturating_sub(ago)
    }

    /// The local instant of wall-clock milliseconds `ms` (now at the latest).
    fn instant_of(&self, ms: u64) -> Instant {
        let now = Instant::now();
        let ago = Duration::from_millis(self.shared.now_ms().saturating_sub(ms));
        now.checked_sub(ago).unwrap_or(now)
    }

    /// Decides how a caller holding the hub's refresh lock gets a snapshot `want` accepts: from the store,
    /// from the holder, or by fetching here.
    pub(super) async fn follow(&self, hub: &AccountHub, want: Want) -> Plan {
        if self.down() || self.holds() {
            return Plan::Fetch;
        }
        match self.try_follow(hub, want).await {
            Ok(plan) => {
                self.shared.answered();
                plan
            }
            Err(e) => {
                self.shared.failed(&e);
                Plan::Fetch
            }
        }
    }

    async fn try_follow(&self, hub: &AccountHub, want: Want) -> StoreResult<Plan> {
        let store = &*self.shared.store;
        let since_ms = match want {
            Want::Since(t) => Some(self.wall_of(t)),
            Want::After(_) => None,
        };
        for attempt in 0..3 {
            // Subscribed before anything is read or asked: no answer can slip in between.
            let mut rx = self.notices.subscribe();
            // The store holds nothing newer than the copy here when the copy is the last one announced
            // (messages lost meanwhile only cost the wait for an answer): no need to read it.
            let announced = self.announced();
            let have_latest = announced > 0 && hub.latest().is_some_and(|s| s.version >= announced);
            if let Some(since) = since_ms.filter(|_| attempt > 0 || !have_latest) {
                if let Some(s) = self.read(0).await? {
                    if s.taken_ms >= since {
                        return Ok(Plan::Served(hub.install(s)));
                    }
                }
            }
            let now = self.shared.now_ms();
            // The holder seen last time, while its lease lasts: a request costs no lease read.
            let known = self.holder_until.load(Ordering::Relaxed);
            let lease = if attempt == 0 && known > now {
                Some((0, None))
            } else {
                self.holder_until.store(0, Ordering::Relaxed);
                json::get::<Lease>(store, &self.lease_key())
                    .await?
                    .map(|(v, l)| (v, Some(l)))
            };
            let mut wait = self.lease_ttl + hub.policy().min_interval;
            match lease {
                Some((_, None)) => {
                    wait = wait.min(Duration::from_millis(known - now + 50));
                }
                Some((_, Some(l))) if l.until_ms > now && l.holder != self.shared.instance => {
                    self.holder_until.store(l.until_ms, Ordering::Relaxed);
                    // A holder that is gone answers nothing: look again when its lease runs out.
                    wait = wait.min(Duration::from_millis(l.until_ms - now + 50));
                    if attempt == 2 {
                        // The holder's lease is live but it did not answer (a slow backend, a lost
                        // message): fetching here costs one call, waiting longer costs the client.
                        tracing::debug!(account = %hub.account().id, "the hub's lease holder did not answer; fetching here");
                        return Ok(Plan::Fetch);
                    }
                }
                other => {
                    let expect = match other {
                        Some((v, _)) => Expect::Version(v),
                        None => Expect::Absent,
                    };
                    if self.take(expect).await? {
                        crate::metrics::record::hub_lease("taken");
                        return Ok(Plan::Fetch);
                    }
                    // Another replica took it a moment ago: ask it.
                }
            }
            let id = format!(
                "{}.{}",
                self.shared.instance,
                self.shared.needs.fetch_add(1, Ordering::Relaxed)
            );
            self.send(&Msg::Need {
                id: id.clone(),
                since_ms,
            })
            .await?;
            // The holder answers within one fetch; it fetches at once unless the backend's minimum
            // interval holds it back.
            let answer = tokio::time::timeout(wait, async {
                loop {
                    match rx.recv().await {
                        Ok(Msg::Snap { v, taken_ms }) if since_ms.is_some_and(|s| taken_ms >= s) => {
                            return Some(Some(v))
                        }
                        Ok(Msg::Answer { id: a, v }) if a == id => return Some(v),
                        Ok(Msg::Gap) | Err(broadcast::error::RecvError::Lagged(_)) => return None,
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                    }
                }
            })
            .await;
            match answer {
                Ok(Some(Some(v))) => {
                    return Ok(match self.read(v).await? {
                        Some(s) => Plan::Served(hub.install(s)),
                        None => Plan::Fetch,
                    })
                }
                // The holder's fetch failed: fetch here, so that the caller gets the error first hand.
                Ok(Some(None)) => return Ok(Plan::Fetch),
                // Messages were lost, or no answer in time: look again (the holder may be gone).
                Ok(None) | Err(_) => {}
            }
        }
        Ok(Plan::Fetch)
    }

    /// The stored snapshot, if it is at version `min` or later.
    async fn read(&self, min: u64) -> StoreResult<Option<Snapshot>> {
        let Some(entry) = self.shared.store.get(&self.snap_key()).await? else {
            return Ok(None);
        };
        if entry.version < min {
            return Ok(None);
        }
        let r: Record = serde_json::from_slice(&entry.value)
            .map_err(|e| StoreError::Corrupt(format!("hub-snap: {e}")))?;
        let fetched = AccountSnapshot {
            orders: r.orders,
            positions: r.positions,
            net_positions: r.net_positions,
            individual_positions: r.individual_positions,
            state: r.state,
        };
        let mut s = Snapshot::new(self.instant_of(r.taken_ms), fetched);
        s.taken_ms = r.taken_ms;
        s.version = entry.version;
        Ok(Some(s))
    }

    /// Takes the lease if it is as `expect` says.
    async fn take(&self, expect: Expect) -> StoreResult<bool> {
        let started = Instant::now();
        let lease = Lease {
            holder: self.shared.instance.clone(),
            until_ms: self.shared.now_ms() + self.lease_ttl.as_millis() as u64,
        };
        let key = self.lease_key();
        let taken = json::put(&*self.shared.store, &key, expect, &lease, self.store_ttl()).await?;
        if let Some(version) = taken {
            *self.held.locked() = Some(Held {
                version,
                until: started + self.lease_ttl - self.lease_ttl / LEASE_INTERVALS,
            });
        }
        Ok(taken.is_some())
    }

    /// Extends the lease this replica holds (from the hub's loop while the hub lives), once a third of it
    /// has passed: one write per a third of a lease, not one per interval.
    pub(super) async fn renew(&self) {
        let Some(held) = *self.held.locked() else {
            return;
        };
        let left = held.until.saturating_duration_since(Instant::now());
        if self.down() || left > self.lease_ttl / LEASE_INTERVALS {
            return;
        }
        match self.take(Expect::Version(held.version)).await {
            Ok(true) => {
                crate::metrics::record::hub_lease("renewed");
                self.shared.answered()
            }
            Ok(false) => {
                // It ran out and another replica took it: follow that one from now on.
                crate::metrics::record::hub_lease("lost");
                *self.held.locked() = None;
            }
            Err(e) => {
                crate::metrics::record::hub_lease("lost");
                *self.held.locked() = None;
                self.shared.failed(&e);
            }
        }
    }

    /// Gives the lease up (the hub stopped), so that another replica takes over at once.
    pub(super) async fn release(&self) {
        let Some(held) = self.held.locked().take() else {
            return;
        };
        let key = self.lease_key();
        if let Err(e) = self
            .shared
            .store
            .swap(&key, Expect::Version(held.version), None, self.store_ttl())
            .await
        {
            // It runs out by itself.
            tracing::debug!(error = %e, "giving up a hub lease failed");
        }
    }

    /// Stores and announces a snapshot this replica fetched as the holder; its version, or 0 when it was
    /// not stored (not the holder any more, or the store failed).
    pub(super) async fn publish(&self, s: &Snapshot) -> u64 {
        if !self.holds() || self.down() {
            return 0;
        }
        match self.try_publish(s).await {
            Ok(v) => {
                self.announced.fetch_max(v, Ordering::Relaxed);
                v
            }
            Err(e) => {
                self.shared.failed(&e);
                0
            }
        }
    }

    async fn try_publish(&self, s: &Snapshot) -> StoreResult<u64> {
        let record = RecordRef {
            taken_ms: s.taken_ms,
            orders: &s.orders,
            positions: &s.positions,
            net_positions: &s.net_positions,
            individual_positions: &s.individual_positions,
            state: &s.state,
        };
        let bytes = serde_json::to_vec(&record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let key = self.snap_key();
        let v = self
            .shared
            .store
            .swap(&key, Expect::Any, Some(&bytes), self.store_ttl())
            .await?
            .ok_or_else(|| StoreError::Unavailable("an unconditional write did not apply".into()))?;
        self.send(&Msg::Snap {
            v,
            taken_ms: s.taken_ms,
        })
        .await?;
        Ok(v)
    }

    async fn send(&self, msg: &Msg) -> StoreResult<()> {
        let payload = serde_json::to_vec(msg).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.shared.store.publish(&self.channel(), &payload).await
    }

    /// A message for this hub from the channel.
    fn on_message(&self, hub: &Arc<AccountHub>, msg: Msg) {
        match &msg {
            Msg::Snap { v, .. } => {
                self.announced.fetch_max(*v, Ordering::Relaxed);
                let behind = hub.latest().is_none_or(|s| s.version < *v);
                if hub.subscribers() > 0 && behind && !self.holds() {
                    // Streams here hear of the change as soon as the holder's do.
                    let hub = hub.clone();
                    let v = *v;
                    tokio::spawn(async move { hub.adopt(v).await });
                }
            }
            Msg::Need { id, since_ms } => {
                if self.holds() {
                    let hub = hub.clone();
                    let (id, since_ms) = (id.clone(), *since_ms);
                    tokio::spawn(async move { hub.answer(id, since_ms).await });
                }
                // Only the holder reads requests.
                return;
            }
            Msg::Answer { .. } | Msg::Gap => {}
        }
        // For callers waiting on an answer.
        let _ = self.notices.send(msg);
    }

    fn on_gap(&self, hub: &Arc<AccountHub>) {
        if hub.subscribers() > 0 {
            let hub = hub.clone();
            tokio::spawn(async move { hub.adopt(0).await });
        }
        let _ = self.notices.send(Msg::Gap);
    }

    /// Reads the stored snapshot (version `min` or later) for streams.
    pub(super) async fn adopt(&self, hub: &AccountHub, min: u64) {
        if self.down() {
            return;
        }
        match self.read(min).await {
            Ok(Some(s)) => {
                hub.install(s);
            }
            Ok(None) => {}
            Err(e) => self.shared.failed(&e),
        }
    }

    /// Answers a request as the holder.
    pub(super) async fn answer(&self, hub: &AccountHub, id: String, since_ms: Option<u64>) {
        let want = match since_ms {
            Some(ms) => Want::Since(self.instant_of(ms)),
            None => Want::After(Instant::now()),
        };
        let v = hub
            .refresh(want)
            .await
            .ok()
            .map(|s| s.version)
            .filter(|v| *v != 0);
        if let Err(e) = self.send(&Msg::Answer { id, v }).await {
            self.shared.failed(&e);
        }
    }
}

/// Delivers the store's channel messages to the hubs they concern, for as long as the hubs exist.
async fn route(shared: Weak<Shared>, mut rx: broadcast::Receiver<Notice>) {
    loop {
        let notice = match rx.recv().await {
            Ok(n) => n,
            Err(broadcast::error::RecvError::Lagged(_)) => Notice::Gap,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Some(shared) = shared.upgrade() else {
            return;
        };
        match notice {
            Notice::Message { channel, payload } => {
                let Some(digest) = channel.strip_prefix("hub:") else {
                    continue;
                };
                let Some(hub) = shared.hub(digest) else {
                    continue;
                };
                let Some(share) = hub.share() else {
                    continue;
                };
                match serde_json::from_slice::<Msg>(&payload) {
                    Ok(msg) => share.on_message(&hub, msg),
                    Err(e) => tracing::debug!(error = %e, "an unreadable hub message"),
                }
            }
            Notice::Gap => {
                for hub in shared.hubs() {
                    if let Some(share) = hub.share() {
                        share.on_gap(&hub);
                    }
                }
            }
        }
    }
}
