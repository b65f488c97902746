//! Typed records on top of the byte store: JSON values, and read-modify-write loops over compare-and-swap
//! that retry when another writer got there first.

use super::{Expect, Store, StoreError, StoreResult};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// Attempts of one read-modify-write before giving up: more than this many writers racing on one key
/// means something is wrong, and an error is better than spinning.
const MAX_ATTEMPTS: usize = 64;

/// The record under `key` with its version, if any.
pub async fn get<T: DeserializeOwned>(store: &dyn Store, key: &str) -> StoreResult<Option<(u64, T)>> {
    let Some(entry) = store.get(key).await? else {
        return Ok(None);
    };
    let value = serde_json::from_slice(&entry.value)
        .map_err(|e| StoreError::Corrupt(format!("{}: {e}", key_kind(key))))?;
    Ok(Some((entry.version, value)))
}

/// Writes `value` under `key` if the key is as `expect` says; the new version, or `None` when it was not.
pub async fn put<T: Serialize>(
    store: &dyn Store,
    key: &str,
    expect: Expect,
    value: &T,
    ttl: Duration,
) -> StoreResult<Option<u64>> {
    let bytes = serde_json::to_vec(value).expect("records serialize");
    store.swap(key, expect, Some(&bytes), ttl).await
}

/// What an update decided.
pub enum Change<T> {
    /// Write this value (with this time to live).
    Put(T, Duration),
    /// Delete the key.
    Delete,
    /// Leave the key as it is.
    Keep,
}

/// Reads `key`, lets `decide` choose a change, and writes it if nobody wrote in between, retrying
/// otherwise. Returns what `decide` returned along with the change on the attempt that stuck.
pub async fn update<T, R>(
    store: &dyn Store,
    key: &str,
    mut decide: impl FnMut(Option<T>) -> (Change<T>, R),
) -> StoreResult<R>
where
    T: Serialize + DeserializeOwned,
{
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(contention_pause(attempt)).await;
        }
        let current = get::<T>(store, key).await?;
        let expect = match &current {
            Some((version, _)) => Expect::Version(*version),
            None => Expect::Absent,
        };
        let (change, result) = decide(current.map(|(_, v)| v));
        let written = match change {
            Change::Keep => return Ok(result),
            Change::Delete if expect == Expect::Absent => return Ok(result),
            Change::Delete => store.swap(key, expect, None, Duration::from_secs(1)).await?,
            Change::Put(value, ttl) => put(store, key, expect, &value, ttl).await?,
        };
        if written.is_some() {
            return Ok(result);
        }
    }
    Err(StoreError::Unavailable(format!(
        "{}: {MAX_ATTEMPTS} concurrent writers in a row",
        key_kind(key)
    )))
}

/// A random pause before attempt `attempt` (1 after the first conflict), growing to a few milliseconds.
/// Without it, writers on a shared store (Redis) retry in step: the same one can lose every round, each
/// read landing just after another's write, until it runs out of attempts.
fn contention_pause(attempt: usize) -> Duration {
    let ceiling_us = 200u64 << attempt.min(6);
    Duration::from_micros(rand::random::<u64>() % (ceiling_us + 1))
}

/// The kind of a key (its first segment), for messages: keys may hold digests of user input.
fn key_kind(key: &str) -> &str {
    key.split(':').next().unwrap_or(key)
}
