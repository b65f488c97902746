//! Hubs between TradingView's many clients and the one backend: the account hub (one snapshot per session
//! and account, refreshed single-flight, diffed into stream updates) and the quote hub (one market
//! subscription per symbol, fanned out to every stream).

mod accounts;
mod catalog;
mod diff;
mod quotes;
mod shared;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_catalog;
#[cfg(test)]
mod tests_shared;

pub use accounts::{json_line, AccountHub, AccountHubs, Snapshot, SnapshotPart, StreamKind, Update};
pub use catalog::{Catalogs, MAX_CATALOGS};

pub use quotes::{QuoteHub, TickLines};

use serde::{Deserialize, Serialize};

/// `[hub]`: how fresh served data is and how streams behave.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HubConfig {
    /// A snapshot younger than this serves GETs without a backend call; 0 fetches on every request
    /// (for tests that move a simulated clock). The default is one pulling interval (500 ms), not half:
    /// under continuous polling a window of W ms means up to 500/W fetches per interval, each one call per
    /// account endpoint, and half an interval (12 calls/s per account) would exceed Capital.com's 10
    /// requests/s per session. Writes refresh at once whatever the window.
    pub freshness_ms: u64,
    /// How often an account with open streams is refreshed from the backend.
    pub poll_interval_ms: u64,
    /// A hub nobody polled or streamed for this long stops and releases its upstream resources.
    pub idle_timeout_secs: u64,
    /// A stream that had nothing to say for this long sends `{"s":"ok"}`.
    pub ping_secs: u64,
    /// Messages a slow stream client may fall behind before it is resynchronised with a fresh snapshot.
    pub stream_queue: usize,
    /// How long an account's instrument rows (`/instruments`, and what every order is checked against)
    /// are reused before the backend is asked again.
    pub catalog_ttl_secs: u64,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            freshness_ms: 500,
            poll_interval_ms: 1000,
            idle_timeout_secs: 60,
            ping_secs: 5,
            stream_queue: 256,
            catalog_ttl_secs: 60,
        }
    }
}

impl HubConfig {
    /// Problems, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.freshness_ms > 60_000 {
            out.push(format!(
                "hub.freshness_ms must be 0..=60000, got {}",
                self.freshness_ms
            ));
        }
        if !(50..=60_000).contains(&self.poll_interval_ms) {
            out.push(format!(
                "hub.poll_interval_ms must be 50..=60000, got {}",
                self.poll_interval_ms
            ));
        }
        if !(1..=86_400).contains(&self.idle_timeout_secs) {
            out.push(format!(
                "hub.idle_timeout_secs must be 1..=86400, got {}",
                self.idle_timeout_secs
            ));
        }
        if !(1..=60).contains(&self.ping_secs) {
            out.push(format!("hub.ping_secs must be 1..=60, got {}", self.ping_secs));
        }
        if !(8..=65_536).contains(&self.stream_queue) {
            out.push(format!(
                "hub.stream_queue must be 8..=65536, got {}",
                self.stream_queue
            ));
        }
        if !(1..=86_400).contains(&self.catalog_ttl_secs) {
            out.push(format!(
                "hub.catalog_ttl_secs must be 1..=86400, got {}",
                self.catalog_ttl_secs
            ));
        }
        out
    }
}
