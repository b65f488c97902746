//! A store that cannot be reached (every call fails as a timeout would), for the tests of what each user of
//! the store does during an outage.

use super::{Entry, Expect, Notice, Store, StoreError, StoreResult};
use async_trait::async_trait;
use std::time::Duration;
use tokio::sync::broadcast;

/// Every call fails; `shared`, as a Redis that went away is.
pub struct Unreachable;

#[async_trait]
impl Store for Unreachable {
    fn kind(&self) -> &'static str {
        "unreachable"
    }
    fn shared(&self) -> bool {
        true
    }
    async fn get(&self, _: &str) -> StoreResult<Option<Entry>> {
        Err(StoreError::Timeout(10))
    }
    async fn swap(&self, _: &str, _: Expect, _: Option<&[u8]>, _: Duration) -> StoreResult<Option<u64>> {
        Err(StoreError::Timeout(10))
    }
    async fn publish(&self, _: &str, _: &[u8]) -> StoreResult<()> {
        Err(StoreError::Timeout(10))
    }
    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        broadcast::channel(1).1
    }
    async fn ping(&self) -> StoreResult<()> {
        Err(StoreError::Timeout(10))
    }
}
