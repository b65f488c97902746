//! The fallback of the shared paces during a state-store outage: after a failure the store is left alone
//! for a few seconds (each replica paces on its own meanwhile), with one warning when it starts and one
//! line when the store answers again.

use crate::store::StoreError;
use crate::sync::MutexExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// How long a failed store is left alone before it is tried again.
const STORE_RETRY: Duration = Duration::from_secs(5);

/// Whether the store is being left alone, and whether the outage was reported.
#[derive(Debug)]
pub struct StoreOutage {
    down_until: std::sync::Mutex<Option<Instant>>,
    warned: AtomicBool,
    /// What is paced on its own meanwhile ("upstream calls", "upstream logins").
    what: &'static str,
}

impl StoreOutage {
    pub fn new(what: &'static str) -> Self {
        StoreOutage {
            down_until: std::sync::Mutex::new(None),
            warned: AtomicBool::new(false),
            what,
        }
    }

    /// Whether the store failed within the last few seconds.
    pub fn down(&self) -> bool {
        self.down_until.locked().is_some_and(|t| Instant::now() < t)
    }

    /// The store failed: leave it alone for a while (warned once per outage).
    pub fn failed(&self, e: &StoreError) {
        *self.down_until.locked() = Some(Instant::now() + STORE_RETRY);
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %e, what = self.what,
                "the shared state store failed: each replica paces this on its own until it answers");
        }
    }

    /// The store answered: says so once after an outage.
    pub fn answered(&self) {
        if self.warned.swap(false, Ordering::Relaxed) {
            tracing::info!(
                what = self.what,
                "the shared state store answers again: pacing is shared again"
            );
        }
    }
}
