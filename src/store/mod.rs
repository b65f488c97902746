//! Durable, shared state behind one small trait: versioned values with a time to live, compare-and-swap
//! writes, and a broadcast channel. Sessions, `requestId` outcomes, login-throttle counters and the paper
//! broker's books are built on these few operations, so each implementation (memory for tests, an embedded
//! file store by default, Redis for replicas) is small and every one passes the same conformance suite.

pub mod config;
pub mod conformance;
mod embedded;
pub mod events;
pub mod json;
mod memory;
mod redis;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub mod unreachable;

pub use config::{StoreConfig, StoreKind};
pub use embedded::EmbeddedStore;
pub use events::Bus;
pub use memory::MemoryStore;
pub use redis::RedisStore;

use async_trait::async_trait;
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// The largest value the store takes: every record the bridge keeps is far smaller, so a bigger one is a
/// bug or an attack, refused before it reaches the disk or the network.
pub const MAX_VALUE_BYTES: usize = 16 << 20;

/// A stored value and its version. Versions come from one counter per store and are never reused, so a
/// key deleted and written again never matches an old version (no ABA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub version: u64,
    pub value: Bytes,
}

/// What a compare-and-swap expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No live value (never written, deleted or expired).
    Absent,
    /// The value at exactly this version.
    Version(u64),
    /// Whatever is there (an unconditional write).
    Any,
}

/// A message on the store's broadcast channel, or the news that some may have been missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Message {
        channel: Arc<str>,
        payload: Bytes,
    },
    /// Messages may have been lost (the connection to a shared store dropped, or this receiver fell
    /// behind): whoever keeps a cache on the strength of messages must re-read it.
    Gap,
}

/// Why a store operation failed. Every one is temporary from the caller's point of view: the caller
/// refuses what needs the store and serves what it can from memory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the state store is unavailable: {0}")]
    Unavailable(String),
    #[error("the state store did not answer within {0} ms")]
    Timeout(u64),
    #[error("a value of {0} bytes is more than the state store takes")]
    TooLarge(usize),
    #[error("the state store holds a record this version cannot read: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Versioned key-value state with expiry and a broadcast channel.
///
/// Keys are short ASCII strings chosen by the bridge (never raw user input: callers hash what users
/// send). Every write carries a time to live, so nothing is kept forever.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `memory`, `embedded` or `redis`, for `/readyz` and logs.
    fn kind(&self) -> &'static str;

    /// Whether other processes share this store (Redis). When they do not, what this process last wrote
    /// is the truth, and caches need no re-reading.
    fn shared(&self) -> bool;

    /// The live value of `key`, if any.
    async fn get(&self, key: &str) -> StoreResult<Option<Entry>>;

    /// The version of the live value of `key`, if any, without the value: what a reader holding a copy
    /// asks to learn whether its copy is still current.
    async fn version(&self, key: &str) -> StoreResult<Option<u64>> {
        Ok(self.get(key).await?.map(|e| e.version))
    }

    /// Writes `value` (or deletes the key when `None`) with time to live `ttl`, if the key's current
    /// state matches `expect`. `Some(version)` on success (0 for a delete), `None` when it did not match.
    /// A write acknowledged here survives a crash of this process (and, for the embedded store, of the
    /// machine).
    async fn swap(
        &self,
        key: &str,
        expect: Expect,
        value: Option<&[u8]>,
        ttl: Duration,
    ) -> StoreResult<Option<u64>>;

    /// Sends `payload` to every subscriber of every process sharing the store, this one included.
    async fn publish(&self, channel: &str, payload: &[u8]) -> StoreResult<()>;

    /// Every message published from now on. Delivery is at most once: a gap is announced, never hidden.
    fn subscribe(&self) -> broadcast::Receiver<Notice>;

    /// Whether the store answers now (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;
}

/// Opens the store `config` describes.
pub async fn open(config: &StoreConfig) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match config.kind {
        StoreKind::Memory => Arc::new(MemoryStore::new()),
        StoreKind::Embedded => Arc::new(EmbeddedStore::open(&config.data_dir).await?),
        StoreKind::Redis => redis::open(config).await?,
    })
}

/// Milliseconds since the unix epoch: expiry is wall-clock time, so it means the same after a restart and
/// on every replica.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A key part made of user input (a login, a `requestId`), as a fixed-length hex digest: keys stay short
/// and printable whatever the user sent, and two different inputs never share a key.
pub fn digest(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    let sum = hasher.finalize();
    sum[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Refuses a value over [`MAX_VALUE_BYTES`] and a zero time to live, before any work.
fn check_write(value: Option<&[u8]>, ttl: Duration) -> StoreResult<()> {
    if let Some(v) = value {
        if v.len() > MAX_VALUE_BYTES {
            return Err(StoreError::TooLarge(v.len()));
        }
    }
    debug_assert!(!ttl.is_zero(), "every write has a time to live");
    Ok(())
}
