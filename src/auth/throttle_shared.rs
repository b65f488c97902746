//! The login throttle's failure counts in the state store, so that a restart does not hand an attacker a
//! fresh allowance and replicas behind a load balancer count one set of failures, not one each. Each
//! process still runs the throttle on its own table (refusals cost no store call beyond one read per
//! attempt); failures are added to the store, and read back into the table before each attempt.

use super::throttle::{login_key, LoginThrottle, LoginThrottleConfig};
use crate::store::{self, json, Store};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Failures {
    count: u32,
    last_ms: u64,
}

fn keys(login: &str, address: Option<IpAddr>) -> [Option<String>; 2] {
    [
        Some(format!("throttle:login:{}", store::digest(&[&login_key(login)]))),
        address.map(|a| format!("throttle:addr:{}", store::digest(&[&a.to_string()]))),
    ]
}

/// Reads the stored failures of `login` and `address` into `throttle`. A store that cannot be read leaves
/// the local counts alone (logged): the throttle still holds within this process.
pub async fn load(store: &dyn Store, throttle: &LoginThrottle, login: &str, address: Option<IpAddr>) {
    let (now, now_ms) = (Instant::now(), store::now_ms());
    let mut found = [None, None];
    for (slot, key) in found.iter_mut().zip(keys(login, address)) {
        let Some(key) = key else { continue };
        match json::get::<Failures>(store, &key).await {
            Ok(Some((_, f))) => {
                let ago = Duration::from_millis(now_ms.saturating_sub(f.last_ms));
                *slot = Some((f.count, now.checked_sub(ago).unwrap_or(now)));
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "login throttle: stored failures could not be read"),
        }
    }
    throttle.merge(login, address, found, now);
}

/// Adds a failed login to the stored counts of `login` and `address`.
pub async fn failed(store: &dyn Store, config: &LoginThrottleConfig, login: &str, address: Option<IpAddr>) {
    let ttl = Duration::from_secs(config.forget_after_secs);
    let forget_ms = config.forget_after_secs * 1000;
    for key in keys(login, address).into_iter().flatten() {
        let now_ms = store::now_ms();
        let counted = json::update::<Failures, ()>(store, &key, |current| {
            let count = match current {
                Some(f) if now_ms.saturating_sub(f.last_ms) < forget_ms => f.count.saturating_add(1),
                _ => 1,
            };
            (
                json::Change::Put(
                    Failures {
                        count,
                        last_ms: now_ms,
                    },
                    ttl,
                ),
                (),
            )
        })
        .await;
        if let Err(e) = counted {
            tracing::warn!(error = %e, "login throttle: a failure could not be stored");
        }
    }
}

/// Forgets the stored failures of `login` after a successful login (the address keeps its count: one
/// valid account must not reset the guesses made on others from the same place).
pub async fn succeeded(store: &dyn Store, login: &str) {
    if let [Some(key), _] = keys(login, None) {
        let forgiven = json::update::<Failures, ()>(store, &key, |current| match current {
            Some(_) => (json::Change::Delete, ()),
            None => (json::Change::Keep, ()),
        })
        .await;
        if let Err(e) = forgiven {
            tracing::warn!(error = %e, "login throttle: a forgiven login could not be stored");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn config() -> LoginThrottleConfig {
        LoginThrottleConfig {
            free_failures_per_login: 3,
            ..LoginThrottleConfig::default()
        }
    }

    /// One failed attempt on `throttle`, counted locally and in the store, as `/authorize` does.
    async fn fail(store: &dyn Store, throttle: &LoginThrottle, login: &str, addr: Option<IpAddr>) {
        load(store, throttle, login, addr).await;
        throttle
            .begin(login, addr, Instant::now())
            .expect("not throttled yet")
            .failed(Instant::now());
        failed(store, &config(), login, addr).await;
    }

    #[tokio::test]
    async fn failures_on_one_replica_or_before_a_restart_count_on_another() {
        let store = MemoryStore::new_shared();
        let (a, b) = (LoginThrottle::new(&config()), LoginThrottle::new(&config()));
        let addr = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..3 {
            fail(&store, &a, "alice", addr).await;
        }
        // Replica b (or a restarted process) has counted nothing itself.
        assert!(
            b.begin("alice", None, Instant::now()).is_ok(),
            "nothing local yet"
        );
        load(&store, &b, "Alice", None).await;
        let refused = b
            .begin("alice", None, Instant::now())
            .err()
            .expect("throttled from the store");
        assert!(refused
            .message()
            .contains("Too many failed logins for this login"));
        // A success forgives the login everywhere, from the store too.
        succeeded(&store, "alice").await;
        let c = LoginThrottle::new(&config());
        load(&store, &c, "alice", None).await;
        assert!(c.begin("alice", None, Instant::now()).is_ok());
    }

    #[tokio::test]
    async fn the_address_count_is_shared_and_not_forgiven_by_a_success() {
        let store = MemoryStore::new_shared();
        let cfg = LoginThrottleConfig {
            free_failures_per_address: 2,
            ..config()
        };
        let a = LoginThrottle::new(&cfg);
        let addr = Some(IpAddr::from([10, 0, 0, 2]));
        for login in ["x", "y"] {
            load(&store, &a, login, addr).await;
            a.begin(login, addr, Instant::now())
                .unwrap()
                .failed(Instant::now());
            failed(&store, &cfg, login, addr).await;
        }
        succeeded(&store, "y").await;
        let b = LoginThrottle::new(&cfg);
        load(&store, &b, "z", addr).await;
        assert!(
            b.begin("z", addr, Instant::now()).is_err(),
            "the address is throttled on b"
        );
    }
}
