//! The Redis store: several replicas share sessions, `requestId` outcomes, counters and the broadcast
//! channel through one Redis.
//!
//! Layout. Every key and channel starts with `store.key_prefix`. A value lives in the hash
//! `<prefix>kv:<key>` with fields `v` (its version) and `d` (its bytes), expiring through PEXPIRE, so a read
//! never sees an expired value (Redis checks expiry on access). Versions come from one counter,
//! `<prefix>version` (INCR), so a key deleted and written again never gets an old version back (no ABA).
//! `swap` is one Lua script (EVALSHA, loaded again after NOSCRIPT), so compare, count, write and expire
//! happen atomically on the server whatever the other replicas do.
//!
//! Broadcast. `publish` is PUBLISH on `<prefix><channel>`. Each store keeps one connection subscribed to
//! `<prefix>*` (PSUBSCRIBE) that feeds this process's [`Bus`], the prefix stripped. Redis keeps nothing for a
//! subscriber that is away, so when that connection drops (or stops answering PING) it reconnects with
//! jittered, bounded back-off and then sends [`Notice::Gap`]. The task ends when the store is dropped.
//!
//! Failures. Every command is bounded by `store.timeout_ms` and fails with [`StoreError::Timeout`], never
//! hangs. A command that timed out may still have been applied: a timed-out `swap` is an unknown outcome,
//! which the caller's next compare-and-swap settles. Each of the `store.pool_size` connections reconnects on
//! its own after a drop (redis-rs's `ConnectionManager`), and is replaced outright after a few failures in
//! a row, so a connection that hangs without closing (a frozen server, a dropped route, a failed-over
//! primary now read-only, replaced at its first READONLY answer) is not kept.
//!
//! Durability is Redis's: an acknowledged write survives a Redis restart only with persistence on
//! (`appendonly yes`; `appendfsync always` to lose nothing on a machine crash, `everysec` to lose at most
//! about a second), and survives memory pressure only with `maxmemory-policy noeviction` (an evicted
//! record, or an evicted version counter, is lost state). Not supported: Redis Cluster (the swap script
//! touches the value and the version counter, two keys in different slots). A Sentinel-managed or managed
//! Redis reached through one URL (a stable primary endpoint) works: after a failover the connections are
//! replaced and find the new primary. Redis replicates asynchronously, so a failover can lose the last
//! writes the old primary acknowledged. Redis pub/sub ignores the database number (`/db` in the URL):
//! bridges sharing one Redis must differ in `key_prefix`, not only in the database.

use super::config::{masked_url, StoreConfig};
use super::events::Bus;
use super::{check_write, Entry, Expect, Notice, Store, StoreError, StoreResult};
use crate::sync::MutexExt;
use ::redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSub};
use ::redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, ErrorKind, IntoConnectionInfo, RedisError, ServerErrorKind,
};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_util::sync::{CancellationToken, DropGuard};

/// Compare, count, write and expire in one step. KEYS[1] the value's hash, KEYS[2] the version counter;
/// ARGV: expectation (`a` absent, `v` version, `*` any), the expected version, the time to live in ms,
/// `p` put or `d` delete, the value. Returns -1 when the expectation does not hold, 0 for a delete, else
/// the new version. Should the counter ever be behind the key's version (the counter evicted or lost while
/// the value survived), the key's version still grows.
const SWAP: &str = r"
local cur = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == 'a' then
  if cur then return -1 end
elseif ARGV[1] == 'v' then
  if cur ~= ARGV[2] then return -1 end
end
if ARGV[4] == 'd' then
  redis.call('DEL', KEYS[1])
  return 0
end
local v = redis.call('INCR', KEYS[2])
if cur and v <= tonumber(cur) then
  v = tonumber(cur) + 1
  redis.call('SET', KEYS[2], v)
end
redis.call('HSET', KEYS[1], 'v', v, 'd', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return v
";

/// Failures in a row on one pooled connection after which it is replaced by a new one.
const REPLACE_AFTER_FAILURES: u32 = 3;

/// How often the subscription connection is checked with PING: a connection that hangs without closing
/// would otherwise lose messages unnoticed. (Shorter in tests, so that they see it work.)
const SUBSCRIPTION_PING_EVERY: Duration = if cfg!(test) {
    Duration::from_millis(200)
} else {
    Duration::from_secs(5)
};

/// Back-off between attempts to re-establish the subscription: doubling from the first, never above the
/// last, each drawn at random from its upper half so that replicas do not reconnect in step.
const RESUBSCRIBE_FIRST: Duration = Duration::from_millis(100);
const RESUBSCRIBE_MAX: Duration = Duration::from_secs(5);

/// One pooled connection: redis-rs's manager (one multiplexed connection that reconnects after a drop)
/// and how many calls on it failed in a row.
struct Slot {
    conn: Mutex<ConnectionManager>,
    failures: AtomicU32,
}

/// State shared by replicas through one Redis.
pub struct RedisStore {
    slots: Vec<Slot>,
    next: AtomicUsize,
    client: Client,
    manager_config: ConnectionManagerConfig,
    prefix: String,
    counter_key: String,
    timeout: Duration,
    script: ::redis::Script,
    bus: Bus,
    /// Stops the subscription task when the store is dropped.
    _listener: DropGuard,
}

impl std::fmt::Debug for RedisStore {
    // No URL, client or connection here: the password stays out of every print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("key_prefix", &self.prefix)
            .field("pool_size", &self.slots.len())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Connects to the Redis `config` names.
pub async fn open(config: &StoreConfig) -> anyhow::Result<Arc<dyn Store>> {
    Ok(Arc::new(RedisStore::open(config).await?))
}

impl RedisStore {
    /// Connects `store.pool_size` connections and the subscription, each within `store.connect_timeout_ms`;
    /// an error names `store.url` (its password masked) and what failed.
    pub async fn open(config: &StoreConfig) -> anyhow::Result<RedisStore> {
        let shown = masked_url(&config.url);
        let client = client(config).map_err(|e| anyhow::anyhow!("store.url {shown}: {e}"))?;
        let connect_timeout = Duration::from_millis(config.connect_timeout_ms);
        let timeout = Duration::from_millis(config.timeout_ms);
        let failed = |e: RedisError| connect_error(&shown, config, &e);

        // One plain connection and a PING first: its error (a refused connection, a wrong password) is the
        // one to show, where a connection manager would retry it into a timeout.
        let probe_config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(timeout));
        let mut probe = bounded(
            connect_timeout,
            client.get_multiplexed_async_connection_with_config(&probe_config),
        )
        .await
        .map_err(failed)?;
        let _: String = bounded(timeout, ::redis::cmd("PING").query_async(&mut probe))
            .await
            .map_err(failed)?;
        drop(probe);

        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(1));
        let managers = futures_util::future::try_join_all((0..config.pool_size.max(1)).map(|_| {
            bounded(
                connect_timeout,
                ConnectionManager::new_with_config(client.clone(), manager_config.clone()),
            )
        }))
        .await
        .map_err(failed)?;

        let bus = Bus::default();
        let pattern = format!("{}*", glob_escape(&config.key_prefix));
        let subscriber = Subscriber {
            client: client.clone(),
            pattern,
            prefix: config.key_prefix.clone(),
            bus: bus.clone(),
            connect_timeout,
            timeout,
        };
        // Subscribed before `open` returns, so that nothing published afterwards is missed.
        let pubsub = subscriber.connect().await.map_err(failed)?;
        let stop = CancellationToken::new();
        tokio::spawn(subscriber.run(pubsub, stop.clone()));

        Ok(RedisStore {
            slots: managers
                .into_iter()
                .map(|m| Slot {
                    conn: Mutex::new(m),
                    failures: AtomicU32::new(0),
                })
                .collect(),
            next: AtomicUsize::new(0),
            client,
            manager_config,
            prefix: config.key_prefix.clone(),
            counter_key: format!("{}version", config.key_prefix),
            timeout,
            script: ::redis::Script::new(SWAP),
            bus,
            _listener: stop.drop_guard(),
        })
    }

    fn value_key(&self, key: &str) -> String {
        format!("{}kv:{key}", self.prefix)
    }

    /// Runs `call` on the next pooled connection within the timeout, and keeps count of failures in a row.
    async fn call<T>(
        &self,
        call: impl AsyncFnOnce(&mut ConnectionManager) -> Result<T, RedisError>,
    ) -> StoreResult<T> {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let slot = &self.slots[index];
        let mut conn = slot.conn.locked().clone();
        let outcome = tokio::time::timeout(self.timeout, call(&mut conn)).await;
        let (error, read_only) = match outcome {
            Ok(Ok(value)) => {
                slot.failures.store(0, Ordering::Relaxed);
                return Ok(value);
            }
            Ok(Err(e)) if e.is_timeout() => (self.timed_out(), false),
            Ok(Err(e)) => (
                store_error(&e),
                e.kind() == ErrorKind::Server(ServerErrorKind::ReadOnly),
            ),
            Err(_) => (self.timed_out(), false),
        };
        // A READONLY answer comes from a primary demoted by a failover: its reads still succeed (and would
        // reset the count), so the connection is replaced at once to find the new primary.
        if read_only || slot.failures.fetch_add(1, Ordering::Relaxed) + 1 >= REPLACE_AFTER_FAILURES {
            self.replace(slot);
        }
        Err(error)
    }

    fn timed_out(&self) -> StoreError {
        StoreError::Timeout(self.timeout.as_millis() as u64)
    }

    /// A new connection (made on first use) in place of one that keeps failing: the old one may hang on a
    /// socket that never closes, or hold a failed reconnection it will not retry (an authentication error).
    fn replace(&self, slot: &Slot) {
        match ConnectionManager::new_lazy_with_config(self.client.clone(), self.manager_config.clone()) {
            Ok(fresh) => {
                *slot.conn.locked() = fresh;
                slot.failures.store(0, Ordering::Relaxed);
                tracing::warn!(
                    "redis store: a connection kept failing (or met a read-only replica); replaced it"
                );
            }
            Err(e) => tracing::warn!(error = %e, "redis store: replacing a failing connection failed"),
        }
    }
}

#[async_trait]
impl Store for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn shared(&self) -> bool {
        true
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Entry>> {
        let mut cmd = ::redis::cmd("HMGET");
        cmd.arg(self.value_key(key)).arg("v").arg("d");
        let (version, value): (Option<String>, Option<Vec<u8>>) =
            self.call(async |c| cmd.query_async(c).await).await?;
        match (version, value) {
            (None, None) => Ok(None),
            (Some(version), Some(value)) => {
                let version = version
                    .parse::<u64>()
                    .map_err(|_| StoreError::Corrupt("a record's version is not a number".into()))?;
                Ok(Some(Entry {
                    version,
                    value: Bytes::from(value),
                }))
            }
            _ => Err(StoreError::Corrupt(
                "a record lacks its version or its value".into(),
            )),
        }
    }

    async fn version(&self, key: &str) -> StoreResult<Option<u64>> {
        let mut cmd = ::redis::cmd("HGET");
        cmd.arg(self.value_key(key)).arg("v");
        let version: Option<String> = self.call(async |c| cmd.query_async(c).await).await?;
        version
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| StoreError::Corrupt("a record's version is not a number".into()))
            })
            .transpose()
    }

    async fn swap(
        &self,
        key: &str,
        expect: Expect,
        value: Option<&[u8]>,
        ttl: Duration,
    ) -> StoreResult<Option<u64>> {
        check_write(value, ttl)?;
        let (mode, expected) = match expect {
            Expect::Absent => ("a", 0),
            Expect::Version(v) => ("v", v),
            Expect::Any => ("*", 0),
        };
        // PEXPIRE 0 would delete the key at once; i64::MAX is Redis's bound.
        let ttl_ms = ttl.as_millis().clamp(1, i64::MAX as u128) as i64;
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(self.value_key(key))
            .key(&self.counter_key)
            .arg(mode)
            .arg(expected)
            .arg(ttl_ms)
            .arg(if value.is_some() { "p" } else { "d" })
            .arg(value.unwrap_or_default());
        let reply: i64 = self.call(async |c| invocation.invoke_async(c).await).await?;
        Ok(u64::try_from(reply).ok())
    }

    async fn publish(&self, channel: &str, payload: &[u8]) -> StoreResult<()> {
        let mut cmd = ::redis::cmd("PUBLISH");
        cmd.arg(format!("{}{channel}", self.prefix)).arg(payload);
        let _receivers: i64 = self.call(async |c| cmd.query_async(c).await).await?;
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.bus.subscribe()
    }

    async fn ping(&self) -> StoreResult<()> {
        let cmd = ::redis::cmd("PING");
        let _pong: String = self.call(async |c| cmd.query_async(c).await).await?;
        Ok(())
    }
}

/// The client for `config`: the URL, with `store.password` (and `store.username`) when the URL has no
/// password. Errors never carry the URL.
fn client(config: &StoreConfig) -> Result<Client, String> {
    let mut info = config
        .url
        .as_str()
        .into_connection_info()
        .map_err(|e| format!("not a Redis URL: {}", e.detail().unwrap_or("did not parse")))?;
    if let ConnectionAddr::TcpTls { insecure: true, .. } = info.addr() {
        return Err("#insecure (TLS without a certificate check) is not supported".into());
    }
    let mut settings = info.redis_settings().clone();
    if settings.password().is_none() && !config.password.is_empty() {
        settings = settings.set_password(config.password.expose());
        if !config.username.is_empty() {
            settings = settings.set_username(&config.username);
        }
    } else if settings.password().is_some() && !config.password.is_empty() {
        tracing::warn!("store.password is not used: store.url carries a password, which takes precedence");
    }
    info = info.set_redis_settings(settings);
    Client::open(info).map_err(|e| format!("not a usable Redis address: {e}"))
}

/// The start-up error for `e`, naming `store.url` as `shown` (masked) and the setting to look at.
fn connect_error(shown: &str, config: &StoreConfig, e: &RedisError) -> anyhow::Error {
    if e.is_timeout() {
        anyhow::anyhow!(
            "store.url {shown}: Redis did not answer within {} ms (store.connect_timeout_ms / store.timeout_ms)",
            config.connect_timeout_ms.max(config.timeout_ms)
        )
    } else if e.kind() == ErrorKind::AuthenticationFailed
        || matches!(e.code(), Some("NOAUTH" | "WRONGPASS" | "NOPERM"))
    {
        anyhow::anyhow!(
            "store.url {shown}: Redis refused the login; check store.password (TVBRIDGE__STORE__PASSWORD) and store.username, or the URL's user info: {e}"
        )
    } else {
        anyhow::anyhow!("store.url {shown}: cannot connect to Redis: {e}")
    }
}

/// `future`, or a timeout error after `limit`.
async fn bounded<T>(
    limit: Duration,
    future: impl std::future::Future<Output = Result<T, RedisError>>,
) -> Result<T, RedisError> {
    match tokio::time::timeout(limit, future).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into()),
    }
}

/// A failed command as the trait's error.
fn store_error(e: &RedisError) -> StoreError {
    if e.code() == Some("WRONGTYPE") {
        return StoreError::Corrupt("a key under store.key_prefix holds something else".into());
    }
    StoreError::Unavailable(format!("redis: {e}"))
}

/// `text` with Redis's glob characters escaped, so a prefix matches only itself in PSUBSCRIBE.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The subscription connection: `<prefix>*` into the bus.
struct Subscriber {
    client: Client,
    pattern: String,
    prefix: String,
    bus: Bus,
    connect_timeout: Duration,
    timeout: Duration,
}

impl Subscriber {
    async fn connect(&self) -> Result<PubSub, RedisError> {
        let mut pubsub = bounded(self.connect_timeout, self.client.get_async_pubsub()).await?;
        bounded(self.timeout, pubsub.psubscribe(&self.pattern)).await?;
        Ok(pubsub)
    }

    /// Forwards messages until `stop`; reconnects (then announces a gap) whenever the connection is lost.
    async fn run(self, first: PubSub, stop: CancellationToken) {
        let mut pubsub = Some(first);
        let mut attempt = 0u32;
        loop {
            let current = match pubsub.take() {
                Some(p) => p,
                None => {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(backoff(attempt)) => {}
                    }
                    attempt = attempt.saturating_add(1);
                    match self.connect().await {
                        Ok(p) => {
                            tracing::info!(attempts = attempt, "redis store: subscription re-established");
                            attempt = 0;
                            // Whatever was published while the connection was down is gone.
                            self.bus.gap();
                            p
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, attempt, "redis store: resubscribing failed; will retry");
                            continue;
                        }
                    }
                }
            };
            if self.forward(current, &stop).await {
                return;
            }
            tracing::warn!("redis store: the subscription connection was lost; reconnecting");
        }
    }

    /// Forwards the messages of one connection; `true` when stopped, `false` when the connection was lost.
    async fn forward(&self, pubsub: PubSub, stop: &CancellationToken) -> bool {
        let (mut sink, mut stream) = pubsub.split();
        let mut check = tokio::time::interval(SUBSCRIPTION_PING_EVERY);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        check.tick().await;
        loop {
            tokio::select! {
                () = stop.cancelled() => return true,
                message = stream.next() => {
                    let Some(message) = message else { return false };
                    // Only channels under the prefix are subscribed; anything else is not ours.
                    if let Some(channel) = message.get_channel_name().strip_prefix(self.prefix.as_str()) {
                        self.bus.send(channel, message.get_payload_bytes());
                    }
                }
                _ = check.tick() => {
                    let pong = bounded(self.timeout, sink.ping::<::redis::Value>()).await;
                    if pong.is_err() {
                        return false;
                    }
                }
            }
        }
    }
}

/// The wait before resubscribing attempt `attempt` (0 first).
fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let ceiling = RESUBSCRIBE_FIRST
        .saturating_mul(1u32 << attempt.min(16))
        .min(RESUBSCRIBE_MAX);
    let ms = ceiling.as_millis() as u64;
    Duration::from_millis(rand::thread_rng().gen_range(ms / 2..=ms))
}

#[cfg(test)]
#[path = "redis_tests.rs"]
mod tests;
