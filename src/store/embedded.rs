//! The embedded store (the default): one redb file under `[store] data_dir`. Every write is its own
//! transaction committed with an fsync before it is acknowledged, so a kill -9 or a power cut at any
//! moment loses nothing the bridge has answered for. redb locks the file: a second process pointed at
//! the same directory is refused at start instead of sharing it unsafely.

use super::events::Bus;
use super::{check_write, now_ms, Entry, Expect, Notice, Store, StoreError, StoreResult};
use async_trait::async_trait;
use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// key -> version (8 bytes LE), expiry in unix ms (8 bytes LE), value.
const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
/// "version" -> the last version handed out.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const HEADER: usize = 16;

/// How often expired keys are deleted from the file, and how many at most per pass (bounded work).
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);
const SWEEP_MAX: usize = 10_000;

/// What redb may keep in memory of the file. Its default (1 GiB) lets the resident size follow the file's
/// growth; the records here are small and read by key (sessions, `requestId` outcomes, the paper books),
/// so a bounded cache costs a page read now and then, never correctness.
const CACHE_BYTES: usize = 32 << 20;

/// The file name inside `data_dir`.
pub const FILE_NAME: &str = "tvbridge.redb";

/// A crash-safe file store for one instance.
pub struct EmbeddedStore {
    db: Arc<Database>,
    bus: Bus,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore").finish_non_exhaustive()
    }
}

impl EmbeddedStore {
    /// Opens (creating when missing) the store in `dir`, and starts its expiry sweep.
    pub async fn open(dir: &Path) -> anyhow::Result<EmbeddedStore> {
        let dir = dir.to_path_buf();
        let db = tokio::task::spawn_blocking(move || open_file(&dir)).await??;
        let db = Arc::new(db);
        let weak = Arc::downgrade(&db);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_INTERVAL);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(db) = weak.upgrade() else { return };
                let swept = tokio::task::spawn_blocking(move || sweep(&db, now_ms())).await;
                if let Ok(Err(e)) = swept {
                    tracing::warn!(error = %e, "embedded store: deleting expired keys failed; will retry");
                }
            }
        });
        Ok(EmbeddedStore {
            db,
            bus: Bus::default(),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(|e| StoreError::Unavailable(format!("store worker stopped: {e}")))?
    }
}

fn open_file(dir: &Path) -> anyhow::Result<Database> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("store.data_dir {}: cannot create it: {e}", dir.display()))?;
    let path = dir.join(FILE_NAME);
    let db = Database::builder().set_cache_size(CACHE_BYTES).create(&path).map_err(|e| match e {
        redb::DatabaseError::DatabaseAlreadyOpen => anyhow::anyhow!(
            "store.data_dir {}: another tvbridge process has {FILE_NAME} open; give each instance its own data_dir, or share state through [store] kind = \"redis\"",
            dir.display()
        ),
        other => anyhow::anyhow!("store file {}: {other}", path.display()),
    })?;
    // Create the tables once, so reads never meet a missing table.
    let tx = db.begin_write()?;
    tx.open_table(KV)?;
    tx.open_table(META)?;
    tx.commit()?;
    Ok(db)
}

fn fail(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// The live (version, value) in a stored record.
fn decode(raw: &[u8], now: u64) -> StoreResult<Option<(u64, &[u8])>> {
    if raw.len() < HEADER {
        return Err(StoreError::Corrupt(format!("record of {} bytes", raw.len())));
    }
    let version = u64::from_le_bytes(raw[..8].try_into().expect("8 bytes"));
    let expires = u64::from_le_bytes(raw[8..16].try_into().expect("8 bytes"));
    Ok((expires > now).then(|| (version, &raw[HEADER..])))
}

fn sweep(db: &Database, now: u64) -> StoreResult<usize> {
    let expired: Vec<String> = {
        let tx = db.begin_read().map_err(fail)?;
        let table = tx.open_table(KV).map_err(fail)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(fail)? {
            let (k, v) = row.map_err(fail)?;
            if matches!(decode(v.value(), now), Ok(None)) {
                out.push(k.value().to_owned());
                if out.len() >= SWEEP_MAX {
                    break;
                }
            }
        }
        out
    };
    if expired.is_empty() {
        return Ok(0);
    }
    let tx = db.begin_write().map_err(fail)?;
    {
        let mut table = tx.open_table(KV).map_err(fail)?;
        for key in &expired {
            // Re-checked inside the write: the key may have been written again since the scan.
            let still_expired = match table.get(key.as_str()).map_err(fail)? {
                Some(v) => matches!(decode(v.value(), now), Ok(None)),
                None => false,
            };
            if still_expired {
                table.remove(key.as_str()).map_err(fail)?;
            }
        }
    }
    tx.commit().map_err(fail)?;
    Ok(expired.len())
}

#[async_trait]
impl Store for EmbeddedStore {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    fn shared(&self) -> bool {
        false
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Entry>> {
        let key = key.to_owned();
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(fail)?;
            let table = tx.open_table(KV).map_err(fail)?;
            let Some(raw) = table.get(key.as_str()).map_err(fail)? else {
                return Ok(None);
            };
            Ok(decode(raw.value(), now_ms())?.map(|(version, value)| Entry {
                version,
                value: Bytes::copy_from_slice(value),
            }))
        })
        .await
    }

    async fn swap(
        &self,
        key: &str,
        expect: Expect,
        value: Option<&[u8]>,
        ttl: Duration,
    ) -> StoreResult<Option<u64>> {
        check_write(value, ttl)?;
        let key = key.to_owned();
        let value = value.map(<[u8]>::to_vec);
        self.blocking(move |db| {
            let now = now_ms();
            let tx = db.begin_write().map_err(fail)?;
            let outcome = {
                let mut table = tx.open_table(KV).map_err(fail)?;
                let current = match table.get(key.as_str()).map_err(fail)? {
                    Some(raw) => decode(raw.value(), now)?.map(|(v, _)| v),
                    None => None,
                };
                let matches = match expect {
                    Expect::Absent => current.is_none(),
                    Expect::Version(v) => current == Some(v),
                    Expect::Any => true,
                };
                if !matches {
                    None
                } else if let Some(value) = &value {
                    let mut meta = tx.open_table(META).map_err(fail)?;
                    let version = meta.get("version").map_err(fail)?.map(|v| v.value()).unwrap_or(0) + 1;
                    meta.insert("version", version).map_err(fail)?;
                    let mut record = Vec::with_capacity(HEADER + value.len());
                    record.extend_from_slice(&version.to_le_bytes());
                    record.extend_from_slice(&now.saturating_add(ttl.as_millis() as u64).to_le_bytes());
                    record.extend_from_slice(value);
                    table.insert(key.as_str(), record.as_slice()).map_err(fail)?;
                    Some(version)
                } else {
                    table.remove(key.as_str()).map_err(fail)?;
                    Some(0)
                }
            };
            match outcome {
                // Durability::Immediate (redb's default): fsynced before this returns.
                Some(_) => tx.commit().map_err(fail)?,
                None => tx.abort().map_err(fail)?,
            }
            Ok(outcome)
        })
        .await
    }

    async fn publish(&self, channel: &str, payload: &[u8]) -> StoreResult<()> {
        self.bus.send(channel, payload);
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.bus.subscribe()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.blocking(|db| db.begin_read().map(|_| ()).map_err(fail))
            .await
    }
}

#[cfg(test)]
pub(super) fn sweep_now(store: &EmbeddedStore, now: u64) -> usize {
    sweep(&store.db, now).expect("sweep")
}
