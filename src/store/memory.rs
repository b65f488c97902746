//! The memory store: a map in this process. What tests use, and what `kind = "memory"` chooses; a restart
//! forgets everything in it.

use super::events::Bus;
use super::{check_write, now_ms, Entry, Expect, Notice, Store, StoreResult};
use crate::sync::MutexExt;
use async_trait::async_trait;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::broadcast;

/// Writes between two sweeps of expired keys: the sweep's cost is spread over this many writes.
const SWEEP_EVERY: u64 = 1024;

#[derive(Debug)]
struct Slot {
    version: u64,
    expires_ms: u64,
    value: Bytes,
}

#[derive(Debug, Default)]
struct Inner {
    slots: HashMap<String, Slot>,
    last_version: u64,
    writes: u64,
}

/// State in this process only.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    bus: Bus,
    /// Claims to be shared (tests that stand several replicas on one store in one process).
    shared: bool,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A memory store that says it is shared, so that several hub sets in one test process behave as
    /// replicas on one Redis would (leases, shared snapshots).
    pub fn new_shared() -> Self {
        MemoryStore {
            shared: true,
            ..Self::default()
        }
    }

    /// Keys held, expired or not (tests).
    pub fn len(&self) -> usize {
        self.inner.locked().slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn shared(&self) -> bool {
        self.shared
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Entry>> {
        let now = now_ms();
        let inner = self.inner.locked();
        Ok(inner
            .slots
            .get(key)
            .filter(|s| s.expires_ms > now)
            .map(|s| Entry {
                version: s.version,
                value: s.value.clone(),
            }))
    }

    async fn swap(
        &self,
        key: &str,
        expect: Expect,
        value: Option<&[u8]>,
        ttl: Duration,
    ) -> StoreResult<Option<u64>> {
        check_write(value, ttl)?;
        let now = now_ms();
        let mut inner = self.inner.locked();
        let current = inner
            .slots
            .get(key)
            .filter(|s| s.expires_ms > now)
            .map(|s| s.version);
        let matches = match expect {
            Expect::Absent => current.is_none(),
            Expect::Version(v) => current == Some(v),
            Expect::Any => true,
        };
        if !matches {
            return Ok(None);
        }
        inner.writes += 1;
        if inner.writes % SWEEP_EVERY == 0 {
            inner.slots.retain(|_, s| s.expires_ms > now);
        }
        let Some(value) = value else {
            inner.slots.remove(key);
            return Ok(Some(0));
        };
        inner.last_version += 1;
        let version = inner.last_version;
        inner.slots.insert(
            key.to_owned(),
            Slot {
                version,
                expires_ms: now.saturating_add(ttl.as_millis() as u64),
                value: Bytes::copy_from_slice(value),
            },
        );
        Ok(Some(version))
    }

    async fn publish(&self, channel: &str, payload: &[u8]) -> StoreResult<()> {
        self.bus.send(channel, payload);
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.bus.subscribe()
    }

    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}
