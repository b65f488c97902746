//! The account hub: one per (session, account). It keeps the latest snapshot (orders, positions, state),
//! refreshes it single-flight, serves every poll from it while fresh, diffs consecutive snapshots into
//! stream lines rendered once for all subscribers, polls while streams listen, refreshes at once when the
//! backend pushes a change, and stops when nobody has used it for a while. How often it may ask the
//! backend is the backend's [`RefreshPolicy`] for the account.

use super::catalog::{Catalogs, MAX_CATALOGS};
use super::diff::changed;
use super::shared::{Plan, Share, Shared, Wall, Want};
use super::HubConfig;
use crate::broker::{
    AccountSnapshot, Broker, BrokerAccount, BrokerError, BrokerResult, RefreshMode, RefreshPolicy, SessionCtx,
};
use crate::error::ApiError;
use crate::store::Store;
use crate::sync::{MutexExt, RwLockExt};
use crate::tv;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::Duration;
use tokio::sync::broadcast;
// Tokio's clock, so that tests can run the hub's timing on a paused clock.
use tokio::time::Instant;

/// The trading streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Orders,
    Positions,
    NetPositions,
    IndividualPositions,
    State,
}

impl StreamKind {
    fn index(self) -> usize {
        self as usize
    }
}

/// One refresh of an account.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When the fetch that produced it started: the data is at least this recent.
    pub taken: Instant,
    pub orders: Vec<tv::Order>,
    /// Netting accounts.
    pub positions: Vec<tv::Position>,
    /// Hedging accounts.
    pub net_positions: Vec<tv::NetPosition>,
    pub individual_positions: Vec<tv::IndividualPosition>,
    pub state: tv::AccountState,
    /// Its version in the shared store; 0 when it was not shared (no shared store, or it failed).
    pub(super) version: u64,
    /// `taken` in wall-clock milliseconds, as replicas compare it (shared stores only; 0 otherwise).
    pub(super) taken_ms: u64,
    /// Each part's poll answer, rendered by the first poll and shared by the following ones.
    rendered: Rendered,
}

/// The whole `{"s":"ok","d":..}` answer of each [`StreamKind`] of one snapshot. A snapshot never changes
/// once shared, so its answers are rendered once; a clone may be changed, so it starts empty.
#[derive(Default)]
struct Rendered([OnceLock<Bytes>; 5]);

impl Clone for Rendered {
    fn clone(&self) -> Self {
        Rendered::default()
    }
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let done = self.0.iter().filter(|r| r.get().is_some()).count();
        write!(f, "Rendered({done} of 5)")
    }
}

impl Snapshot {
    pub(super) fn new(taken: Instant, s: AccountSnapshot) -> Snapshot {
        Snapshot {
            version: 0,
            taken_ms: 0,
            rendered: Rendered::default(),
            taken,
            orders: s.orders,
            positions: s.positions,
            net_positions: s.net_positions,
            individual_positions: s.individual_positions,
            state: s.state,
        }
    }

    /// The full-snapshot message of a stream (its first line).
    pub fn line(&self, kind: StreamKind) -> Bytes {
        match kind {
            StreamKind::Orders => json_line(&self.orders),
            StreamKind::Positions => json_line(&self.positions),
            StreamKind::NetPositions => json_line(&self.net_positions),
            StreamKind::IndividualPositions => json_line(&self.individual_positions),
            StreamKind::State => json_line(&self.state),
        }
    }
}

/// One list (or the state) of a shared snapshot, serialised in place: a poll costs no copy of the data.
pub struct SnapshotPart(pub Arc<Snapshot>, pub StreamKind);

impl Serialize for SnapshotPart {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let snap = &self.0;
        match self.1 {
            StreamKind::Orders => snap.orders.serialize(s),
            StreamKind::Positions => snap.positions.serialize(s),
            StreamKind::NetPositions => snap.net_positions.serialize(s),
            StreamKind::IndividualPositions => snap.individual_positions.serialize(s),
            StreamKind::State => snap.state.serialize(s),
        }
    }
}

impl SnapshotPart {
    /// The poll answer `{"s":"ok","d":..}` of this part, rendered once per snapshot.
    pub fn body(&self) -> Result<Bytes, serde_json::Error> {
        let cell = &self.0.rendered.0[self.1.index()];
        if let Some(body) = cell.get() {
            return Ok(body.clone());
        }
        let body = crate::error::ok_body(self)?;
        // Two first polls at once both render; either result is the same bytes.
        Ok(cell.get_or_init(|| body).clone())
    }
}

/// A poll's answer from the snapshot's rendered bytes: the same body and headers as `TvOk(part)`.
impl IntoResponse for SnapshotPart {
    fn into_response(self) -> Response {
        match self.body() {
            Ok(body) => crate::error::TvOkBytes(body).into_response(),
            Err(e) => {
                ApiError::Broker(BrokerError::Internal(format!("rendering a snapshot: {e}"))).into_response()
            }
        }
    }
}

/// What one refresh changed, rendered once as a line per stream kind, shared by every subscriber.
#[derive(Debug, Clone, Default)]
pub struct Update {
    lines: [Option<Bytes>; 5],
    /// The session is gone upstream: streams send this line and end.
    pub fatal: bool,
}

impl Update {
    /// The line for streams of `kind`, if this update concerns them.
    pub fn line(&self, kind: StreamKind) -> Option<&Bytes> {
        self.lines[kind.index()].as_ref()
    }

    fn error(e: &BrokerError) -> Update {
        let (_, errmsg) = ApiError::Broker(e.clone()).status_and_message();
        let line = json_line(&serde_json::json!({ "s": "error", "errmsg": errmsg }));
        Update {
            lines: std::array::from_fn(|_| Some(line.clone())),
            fatal: matches!(e, BrokerError::Unauthorized(_) | BrokerError::LogInAgain(_)),
        }
    }

    fn between(old: &Snapshot, new: &Snapshot) -> Update {
        let mut u = Update::default();
        let set = |v: Option<Vec<serde_json::Value>>| v.map(|v| json_line(&v));
        u.lines[StreamKind::Orders.index()] = set(changed(&old.orders, &new.orders, false));
        u.lines[StreamKind::Positions.index()] = set(changed(&old.positions, &new.positions, true));
        u.lines[StreamKind::NetPositions.index()] =
            set(changed(&old.net_positions, &new.net_positions, true));
        u.lines[StreamKind::IndividualPositions.index()] = set(changed(
            &old.individual_positions,
            &new.individual_positions,
            true,
        ));
        if old.state != new.state {
            u.lines[StreamKind::State.index()] = Some(json_line(&new.state));
        }
        u
    }

    fn is_empty(&self) -> bool {
        self.lines.iter().all(Option::is_none)
    }
}

/// Compact JSON plus the newline that separates stream messages.
pub fn json_line<T: Serialize + ?Sized>(value: &T) -> Bytes {
    let mut v = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
    v.push(b'\n');
    Bytes::from(v)
}

/// The hub of one session's account.
pub struct AccountHub {
    ctx: SessionCtx,
    account: BrokerAccount,
    broker: Arc<dyn Broker>,
    config: HubConfig,
    /// What the backend allows for this account.
    policy: RefreshPolicy,
    current: RwLock<Option<Arc<Snapshot>>>,
    /// Held while fetching; holds when the last fetch started (success or not), which the policy's
    /// minimum interval counts from.
    refresh_lock: tokio::sync::Mutex<Option<Instant>>,
    updates: broadcast::Sender<Arc<Update>>,
    last_used: Mutex<Instant>,
    fetches: AtomicU64,
    /// With a shared store: the lease and the shared snapshot of this (session, account).
    share: Option<Share>,
}

impl AccountHub {
    /// The account this hub serves.
    pub fn account(&self) -> &BrokerAccount {
        &self.account
    }

    /// How many times the hub fetched the account from the backend (each fetch is one call per endpoint).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Number of streams listening.
    pub fn subscribers(&self) -> usize {
        self.updates.receiver_count()
    }

    /// The last snapshot taken, however old, without asking the backend (audit lines name what an action
    /// was about from it).
    pub fn latest(&self) -> Option<Arc<Snapshot>> {
        self.current()
    }

    fn current(&self) -> Option<Arc<Snapshot>> {
        self.current.read_locked().clone()
    }

    pub(super) fn share(&self) -> Option<&Share> {
        self.share.as_ref()
    }

    /// Whether this replica holds the hub's lease (tests).
    #[cfg(test)]
    pub(super) fn leads(&self) -> bool {
        self.share.as_ref().is_some_and(Share::holds)
    }

    /// The current snapshot if it was taken no earlier than `t` and, with a shared store, no newer one
    /// was announced meanwhile (a write on another replica is seen at the next poll here).
    fn fresh(&self, t: Instant) -> Option<Arc<Snapshot>> {
        let s = self.current().filter(|s| s.taken >= t)?;
        match &self.share {
            Some(share) if !share.down() && s.version < share.announced() => None,
            _ => Some(s),
        }
    }

    fn touch(&self) {
        *self.last_used.locked() = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.last_used.locked().elapsed()
    }

    /// The snapshot, fetched from the backend only when the cached one is older than the freshness window
    /// (or the backend's minimum interval, when longer).
    pub async fn snapshot(&self) -> BrokerResult<Arc<Snapshot>> {
        self.touch();
        self.refresh(Want::Since(self.fresh_since())).await
    }

    /// A snapshot whose fetch starts after this call, never sooner than the backend allows (concurrent
    /// callers share it; with a shared store, the lease holder starts it after it hears of the request).
    /// For an action on an order the current snapshot does not hold: a backend with a minimum interval
    /// (Interactive Brokers) refreshes after a write in the background, so an order acknowledged a moment
    /// ago may not be in the snapshot the last poll took.
    pub async fn snapshot_from_now(&self) -> BrokerResult<Arc<Snapshot>> {
        self.touch();
        self.refresh(Want::After(Instant::now())).await
    }

    /// The oldest snapshot start a poll accepts.
    fn fresh_since(&self) -> Instant {
        let window = Duration::from_millis(self.config.freshness_ms).max(self.policy.min_interval);
        let now = Instant::now();
        now.checked_sub(window).unwrap_or(now)
    }

    /// The refresh policy the backend declared for this account.
    pub fn policy(&self) -> RefreshPolicy {
        self.policy
    }

    /// Refreshes after a write so that the client's next poll, and every stream, sees its own change. A
    /// backend with a minimum interval between snapshots (Interactive Brokers reads orders once per 5 s)
    /// gets the refresh in the background as soon as the interval allows: the write's answer never waits
    /// seconds for it. Queued refreshes collapse into one, since each needs a snapshot newer than its write.
    ///
    /// With a shared store, a replica that does not hold the hub's lease asks the holder for a fetch that
    /// starts after it hears of the write, and waits for it: the holder keeps the backend's minimum
    /// interval (which a fetch here would break), and writes on several replicas meanwhile share one fetch.
    /// The new snapshot reaches every replica's streams, and every replica's next poll.
    pub async fn after_write(self: &Arc<Self>) {
        let written = Instant::now();
        if self.policy.min_interval.is_zero() {
            self.refresh_after(written).await;
        } else {
            let hub = self.clone();
            tokio::spawn(async move { hub.refresh_after(written).await });
        }
    }

    async fn refresh_after(&self, written: Instant) {
        if let Err(e) = self.refresh(Want::After(written)).await {
            tracing::warn!(error = %e, account = %self.account.id, "refresh after a write failed");
        }
    }

    /// Subscribes to updates, then takes the snapshot: every change after the snapshot reaches the receiver.
    pub async fn subscribe(&self) -> BrokerResult<(Arc<Snapshot>, broadcast::Receiver<Arc<Update>>)> {
        let rx = self.updates.subscribe();
        let snapshot = self.snapshot().await?;
        Ok((snapshot, rx))
    }

    /// A snapshot `want` accepts: single flight, so concurrent callers share one fetch. With a shared
    /// store, a replica that does not hold the lease serves the stored snapshot or asks the holder (see
    /// [`Share::follow`]).
    pub(super) async fn refresh(&self, want: Want) -> BrokerResult<Arc<Snapshot>> {
        use crate::metrics::record::hub_snapshot;
        let t = want.at();
        if let Some(s) = self.fresh(t) {
            hub_snapshot("fresh");
            return Ok(s);
        }
        let mut last_fetch = self.refresh_lock.lock().await;
        if let Some(s) = self.fresh(t) {
            hub_snapshot("coalesced");
            return Ok(s);
        }
        if let Some(share) = &self.share {
            if let Plan::Served(s) = share.follow(self, want).await {
                hub_snapshot("replica");
                return Ok(s);
            }
        }
        // Never sooner than the backend allows, however many callers queue here. The last snapshot counts
        // too: with a shared store it may come from the replica that held the lease before this one.
        let last = (*last_fetch).max(self.current().map(|s| s.taken));
        if let Some(last) = last {
            tokio::time::sleep_until(last + self.policy.min_interval).await;
        }
        let started = Instant::now();
        *last_fetch = Some(started);
        let fetched = self.fetch(started).await;
        crate::metrics::record::hub_fetch(started.elapsed());
        hub_snapshot(if fetched.is_ok() { "fetched" } else { "failed" });
        let mut new = match fetched {
            Ok(s) => s,
            Err(e) => {
                let _ = self.updates.send(Arc::new(Update::error(&e)));
                return Err(e);
            }
        };
        if let Some(share) = &self.share {
            new.taken_ms = share.wall_of(started);
            new.version = share.publish(&new).await;
        }
        Ok(self.install(new))
    }

    /// Makes `new` the current snapshot, and tells the streams what changed, unless the current one is
    /// newer (a shared snapshot read late); returns whichever is current.
    pub(super) fn install(&self, new: Snapshot) -> Arc<Snapshot> {
        let new = Arc::new(new);
        let mut current = self.current.write_locked();
        if let Some(old) = current.as_ref() {
            let older = if new.version == 0 {
                false
            } else if old.version == 0 {
                new.taken_ms < old.taken_ms
            } else {
                new.version <= old.version
            };
            if older {
                return old.clone();
            }
        }
        let old = current.replace(new.clone());
        // Stored before it is announced (and announced under the lock, so streams get the changes in the
        // order the snapshots were installed): a subscriber that misses the announcement gets the new
        // snapshot.
        if let Some(old) = old {
            let update = Update::between(&old, &new);
            if !update.is_empty() && self.updates.receiver_count() > 0 {
                let _ = self.updates.send(Arc::new(update));
            }
        }
        new
    }

    /// Takes the shared snapshot (version `min` or later) for the streams here.
    pub(super) async fn adopt(&self, min: u64) {
        if let Some(share) = &self.share {
            share.adopt(self, min).await;
        }
    }

    /// Answers another replica's request for a refresh (this one holds the lease). Requests keep the hub
    /// alive: the holder serves every replica's clients.
    pub(super) async fn answer(&self, id: String, since_ms: Option<u64>) {
        self.touch();
        if let Some(share) = &self.share {
            share.answer(self, id, since_ms).await;
        }
    }

    async fn fetch(&self, taken: Instant) -> BrokerResult<Snapshot> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = self.broker.snapshot(&self.ctx, &self.account).await?;
        Ok(Snapshot::new(taken, fetched))
    }

    /// How often the hub's loop runs: the backend's polling interval, or the hub's.
    fn interval(&self) -> Duration {
        let hub_interval = Duration::from_millis(self.config.poll_interval_ms);
        let every = match self.policy.mode {
            RefreshMode::Push => hub_interval,
            RefreshMode::Poll(every) => every.unwrap_or(hub_interval),
        };
        every.max(self.policy.min_interval)
    }
}

type HubKey = (String, String);

struct HubsInner {
    map: Mutex<HashMap<HubKey, Arc<AccountHub>>>,
    broker: Arc<dyn Broker>,
    config: HubConfig,
    catalogs: Catalogs,
    /// With a store other processes share: leases and shared snapshots.
    shared: Option<Arc<Shared>>,
}

/// Every account hub, by (session id, account id).
#[derive(Clone)]
pub struct AccountHubs(Arc<HubsInner>);

impl AccountHubs {
    /// No hubs yet; every hub asks the backend itself (one process).
    pub fn new(broker: Arc<dyn Broker>, config: HubConfig) -> Self {
        Self::build(broker, config, None)
    }

    /// No hubs yet; when `store` is shared by several replicas, each (session, account) is refreshed from
    /// the backend by one of them (the holder of its lease) for all (see the `shared` module).
    /// `instance_id` names this process among them (unique per process start). With a store that is not
    /// shared this is [`AccountHubs::new`]: no store call is made.
    pub fn with_store(
        broker: Arc<dyn Broker>,
        config: HubConfig,
        store: Arc<dyn Store>,
        instance_id: String,
    ) -> Self {
        Self::with_store_clock(broker, config, store, instance_id, Arc::new(crate::store::now_ms))
    }

    /// [`AccountHubs::with_store`] with the wall clock `wall` (tests on tokio's paused clock).
    pub(crate) fn with_store_clock(
        broker: Arc<dyn Broker>,
        config: HubConfig,
        store: Arc<dyn Store>,
        instance_id: String,
        wall: Wall,
    ) -> Self {
        let shared = store.shared().then(|| Shared::new(store, instance_id, wall));
        Self::build(broker, config, shared)
    }

    fn build(broker: Arc<dyn Broker>, config: HubConfig, shared: Option<Arc<Shared>>) -> Self {
        let ttl = Duration::from_secs(config.catalog_ttl_secs);
        AccountHubs(Arc::new(HubsInner {
            map: Mutex::new(HashMap::new()),
            catalogs: Catalogs::new(broker.clone(), ttl, MAX_CATALOGS),
            broker,
            config,
            shared,
        }))
    }

    /// The instrument rows of every (session, account), shared by `/instruments` and the order checks.
    pub fn catalogs(&self) -> &Catalogs {
        &self.0.catalogs
    }

    /// The hub of `account` in session `ctx`, started on first use.
    pub fn get(&self, ctx: &SessionCtx, account: &BrokerAccount) -> Arc<AccountHub> {
        let key = (ctx.session_id.clone(), account.id.clone());
        let mut map = self.0.map.locked();
        if let Some(hub) = map.get(&key) {
            return hub.clone();
        }
        let (updates, _) = broadcast::channel(self.0.config.stream_queue);
        let mut hub = AccountHub {
            ctx: ctx.clone(),
            account: account.clone(),
            broker: self.0.broker.clone(),
            config: self.0.config.clone(),
            policy: self.0.broker.refresh_policy(account),
            current: RwLock::new(None),
            refresh_lock: tokio::sync::Mutex::new(None),
            updates,
            last_used: Mutex::new(Instant::now()),
            fetches: AtomicU64::new(0),
            share: None,
        };
        if let Some(shared) = &self.0.shared {
            hub.share = Some(shared.share(&ctx.session_id, &account.id, hub.interval()));
        }
        let hub = Arc::new(hub);
        if let Some(share) = &hub.share {
            share.register(&hub);
        }
        map.insert(key.clone(), hub.clone());
        tokio::spawn(run_hub(Arc::downgrade(&self.0), key, hub.clone()));
        hub
    }

    /// Number of live hubs.
    pub fn len(&self) -> usize {
        self.0.map.locked().len()
    }

    /// Whether no hub is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Backend fetches made by every live hub so far (one fetch = one call per account endpoint).
    pub fn total_fetches(&self) -> u64 {
        self.0.map.locked().values().map(|h| h.fetches()).sum()
    }

    /// Stops every hub of a session (logout); its streams get an error line and end.
    pub fn remove_session(&self, session_id: &str) {
        self.0.catalogs.remove_session(session_id);
        let mut removed = Vec::new();
        self.0.map.locked().retain(|(sid, _), hub| {
            let keep = sid != session_id;
            if !keep {
                removed.push(hub.clone());
            }
            keep
        });
        let ended = Arc::new(Update::error(&BrokerError::Unauthorized("logged out".into())));
        for hub in removed {
            let _ = hub.updates.send(ended.clone());
        }
    }
}

/// A hub's background life: poll while streams listen, refresh at once on pushed changes, stop when idle.
async fn run_hub(hubs: Weak<HubsInner>, key: HubKey, hub: Arc<AccountHub>) {
    live(&hubs, &key, &hub).await;
    if let Some(share) = &hub.share {
        // Another replica takes over at once rather than when the lease runs out.
        share.release().await;
        share.unregister(&hub);
    }
}

/// The loop of [`run_hub`], until the hub stops.
async fn live(hubs: &Weak<HubsInner>, key: &HubKey, hub: &Arc<AccountHub>) {
    let mut events = match hub.policy.mode {
        RefreshMode::Push => hub.broker.account_changes(),
        RefreshMode::Poll(_) => None,
    };
    let mut tick = tokio::time::interval(hub.interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let idle = Duration::from_secs(hub.config.idle_timeout_secs);
    loop {
        let pushed = tokio::select! {
            _ = tick.tick() => false,
            event = next_event(&mut events) => match event {
                Pushed::Account(account) if account != hub.account.id => continue,
                Pushed::Account(_) | Pushed::Missed => true,
            },
        };
        let still_listed = hubs
            .upgrade()
            .is_some_and(|h| h.map.locked().get(key).is_some_and(|h| Arc::ptr_eq(h, hub)));
        if !still_listed {
            break;
        }
        if let Some(share) = &hub.share {
            // The holder keeps its lease while the hub lives here (used here, or asked by other replicas);
            // renewed before a refresh, which may take a while.
            share.renew().await;
        }
        if hub.subscribers() > 0 {
            hub.touch();
            let want = if pushed {
                Want::After(Instant::now())
            } else {
                Want::Since(hub.fresh_since())
            };
            // Errors reach the streams inside `refresh`.
            let _ = hub.refresh(want).await;
        } else if hub.idle_for() >= idle {
            if let Some(h) = hubs.upgrade() {
                let mut map = h.map.locked();
                if map.get(key).is_some_and(|h| Arc::ptr_eq(h, hub)) && hub.subscribers() == 0 {
                    map.remove(key);
                }
            }
            break;
        }
    }
}

/// What the backend pushed.
enum Pushed {
    Account(String),
    /// The channel overflowed: some change may concern this account.
    Missed,
}

/// The next push; pends forever when the backend does not push (or stopped pushing).
async fn next_event(events: &mut Option<broadcast::Receiver<String>>) -> Pushed {
    loop {
        match events {
            None => return std::future::pending().await,
            Some(rx) => match rx.recv().await {
                Ok(id) => return Pushed::Account(id),
                Err(broadcast::error::RecvError::Lagged(_)) => return Pushed::Missed,
                Err(broadcast::error::RecvError::Closed) => *events = None,
            },
        }
    }
}
