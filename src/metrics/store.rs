//! Latency and failures of every state-store operation, measured at the [`Store`] trait: a wrapper
//! around any store, with its histogram and error counter handles made once.

use super::names;
use crate::store::{Entry, Expect, Notice, Store, StoreResult};
use ::metrics::{Counter, Histogram};
use async_trait::async_trait;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

const OPS: [&str; 5] = ["get", "version", "swap", "publish", "ping"];

/// A store whose operations are timed (labels: the inner store's kind and the operation).
pub struct MeteredStore {
    inner: Arc<dyn Store>,
    handles: [(Histogram, Counter); OPS.len()],
}

impl MeteredStore {
    /// `inner`, timed.
    pub fn wrap(inner: Arc<dyn Store>) -> Arc<dyn Store> {
        let kind = inner.kind();
        let handles = OPS.map(|op| {
            let labels = [("store", kind), ("op", op)];
            (
                ::metrics::histogram!(names::STORE_DURATION, &labels),
                ::metrics::counter!(names::STORE_ERRORS, &labels),
            )
        });
        Arc::new(MeteredStore { inner, handles })
    }

    async fn timed<T>(&self, op: usize, f: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        let started = Instant::now();
        let result = f.await;
        let (histogram, errors) = &self.handles[op];
        histogram.record(started.elapsed().as_secs_f64());
        if result.is_err() {
            errors.increment(1);
        }
        result
    }
}

#[async_trait]
impl Store for MeteredStore {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn shared(&self) -> bool {
        self.inner.shared()
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Entry>> {
        self.timed(0, self.inner.get(key)).await
    }

    async fn version(&self, key: &str) -> StoreResult<Option<u64>> {
        self.timed(1, self.inner.version(key)).await
    }

    async fn swap(
        &self,
        key: &str,
        expect: Expect,
        value: Option<&[u8]>,
        ttl: Duration,
    ) -> StoreResult<Option<u64>> {
        self.timed(2, self.inner.swap(key, expect, value, ttl)).await
    }

    async fn publish(&self, channel: &str, payload: &[u8]) -> StoreResult<()> {
        self.timed(3, self.inner.publish(channel, payload)).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.inner.subscribe()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.timed(4, self.inner.ping()).await
    }
}
