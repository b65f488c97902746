//! The paper books in the state store: the whole [`PaperState`] as one versioned record, read back when
//! another writer changed it and written with compare-and-swap, so replicas sharing a store act as one
//! broker and a restart resumes from the last acknowledged change.
//!
//! One record rather than one per account: a fill, an expiry or an id counter touches several parts of
//! the state at once, and compare-and-swap on one key is the only atomic write every store offers.

use super::engine::{Engine, PaperState};
use super::persist;
use crate::broker::BrokerError;
use crate::store::{Expect, Store, StoreError};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The record's key, and the channel its change notices go out on.
pub const KEY: &str = "paper:state";
pub const CHANNEL: &str = "paper";

/// The largest record the paper books may become, well under what a store takes: before refusing a
/// change, the older half of the order history and executions is dropped to make room.
pub const MAX_STATE_BYTES: usize = 8 << 20;

/// What a write came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Saved {
    /// Written; the record's new version.
    Written(u64),
    /// Someone else wrote first: re-read and apply again.
    Conflict,
}

/// The engine's link to its record.
pub struct Books {
    store: Arc<dyn Store>,
    ttl: Duration,
    /// The version the engine holds (`None`: no record yet).
    version: Option<u64>,
    /// The engine may differ from the record (a write failed or was refused, a job panicked, a write
    /// conflicted): it is read again before the next job.
    pub stale: bool,
}

impl Books {
    /// The books in `store`, importing `state_file` when the store holds none yet.
    pub async fn open(
        store: Arc<dyn Store>,
        ttl: Duration,
        state_file: Option<&Path>,
    ) -> anyhow::Result<(Books, Option<PaperState>)> {
        let mut books = Books {
            store,
            ttl,
            version: None,
            stale: false,
        };
        if let Some(state) = books.read().await? {
            if let Some(path) = state_file {
                tracing::warn!(
                    path = %path.display(),
                    "backend.state_file is ignored: the state store already holds the paper books; remove the setting"
                );
            }
            return Ok((books, Some(state)));
        }
        let Some(path) = state_file else {
            return Ok((books, None));
        };
        let Some(state) = persist::load(path)? else {
            return Ok((books, None));
        };
        let bytes = serde_json::to_vec(&state)?;
        match books.store.swap(KEY, Expect::Absent, Some(&bytes), ttl).await? {
            Some(version) => {
                books.version = Some(version);
                tracing::info!(
                    path = %path.display(),
                    "paper books imported from backend.state_file into the state store; the file is no longer written, remove the setting"
                );
                Ok((books, Some(state)))
            }
            // Another replica imported (or wrote) first: theirs is the truth.
            None => {
                let state = books.read().await?;
                Ok((books, state))
            }
        }
    }

    /// The record, remembering its version.
    async fn read(&mut self) -> Result<Option<PaperState>, StoreError> {
        let entry = self.store.get(KEY).await?;
        self.version = entry.as_ref().map(|e| e.version);
        entry
            .map(|e| serde_json::from_slice(&e.value))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("paper books: {e}")))
    }

    /// Brings the engine up to the record when it may be behind: after a conflict or a failure, and, when
    /// `look` is set on a shared store, when another replica wrote since. Accounts that differ are marked
    /// changed.
    pub async fn sync(&mut self, engine: &mut Engine, now_ms: i64, look: bool) -> Result<(), StoreError> {
        let may_be_behind = self.stale || (look && self.store.shared());
        if !may_be_behind {
            return Ok(());
        }
        // The version alone first: the record is read (and parsed) only when another replica changed it.
        if !self.stale && self.store.version(KEY).await? == self.version {
            return Ok(());
        }
        let entry = self.store.get(KEY).await?;
        let version = entry.as_ref().map(|e| e.version);
        if !self.stale && version == self.version {
            return Ok(());
        }
        let state = entry
            .map(|e| serde_json::from_slice::<PaperState>(&e.value))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("paper books: {e}")))?;
        engine.resume(state, now_ms);
        self.version = version;
        self.stale = false;
        Ok(())
    }

    /// Whether a notice of `payload` announces a version newer than the one the engine holds.
    pub fn is_news(&self, payload: &[u8]) -> bool {
        let announced = std::str::from_utf8(payload)
            .ok()
            .and_then(|s| s.parse::<u64>().ok());
        match (announced, self.version) {
            (Some(announced), Some(held)) => announced > held,
            _ => true,
        }
    }

    /// Writes the engine's state if the record is still the one it was read from. Too large a state first
    /// sheds old history, then is refused.
    pub async fn save(&mut self, engine: &mut Engine) -> Result<Saved, BrokerError> {
        let bytes = loop {
            let bytes = serde_json::to_vec(engine.state())
                .map_err(|e| BrokerError::Internal(format!("paper books: {e}")))?;
            if bytes.len() <= MAX_STATE_BYTES {
                break bytes;
            }
            if !engine.shed_history() {
                return Err(BrokerError::Rejected(format!(
                    "The paper broker's books are full ({} of at most {MAX_STATE_BYTES} bytes): cancel orders or close positions first",
                    bytes.len()
                )));
            }
            tracing::warn!(
                bytes = bytes.len(),
                "paper books near their size limit: dropped the older half of order history and executions"
            );
        };
        let expect = match self.version {
            Some(v) => Expect::Version(v),
            None => Expect::Absent,
        };
        let written = self
            .store
            .swap(KEY, expect, Some(&bytes), self.ttl)
            .await
            .map_err(|e| BrokerError::Unavailable(format!("the paper broker could not save: {e}")))?;
        Ok(match written {
            Some(version) => {
                self.version = Some(version);
                Saved::Written(version)
            }
            None => Saved::Conflict,
        })
    }

    /// Tells the other replicas a new version is there, so they re-read it and announce its changes.
    pub async fn announce(&self, version: u64) {
        if !self.store.shared() {
            return;
        }
        if let Err(e) = self.store.publish(CHANNEL, version.to_string().as_bytes()).await {
            // They still see it at their next job or tick: they re-read the record then.
            tracing::warn!(error = %e, "could not announce a paper books change");
        }
    }

    pub fn shared(&self) -> bool {
        self.store.shared()
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::store::Notice> {
        self.store.subscribe()
    }
}
