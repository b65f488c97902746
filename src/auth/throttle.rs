//! Login throttling: failed logins are counted per login name and per client address, and past a free
//! allowance each key backs off exponentially. A throttled attempt is refused at once (never queued) and
//! before any backend call, so wrong guesses cost the upstream nothing and cannot starve good logins.

use crate::sync::MutexExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `[auth.login_throttle]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginThrottleConfig {
    /// Failed logins for one login name before it backs off.
    pub free_failures_per_login: u32,
    /// Failed logins from one client address before it backs off (higher: an office shares an address).
    pub free_failures_per_address: u32,
    /// The first back-off; each further failure doubles it.
    pub backoff_base_secs: u64,
    /// The longest back-off.
    pub backoff_max_secs: u64,
    /// A key's failures are forgotten after this long without a new one.
    pub forget_after_secs: u64,
    /// Keys tracked at most per table (login names, addresses); beyond it the least useful are dropped.
    pub max_tracked: usize,
}

impl Default for LoginThrottleConfig {
    fn default() -> Self {
        LoginThrottleConfig {
            free_failures_per_login: 5,
            free_failures_per_address: 20,
            backoff_base_secs: 1,
            backoff_max_secs: 300,
            forget_after_secs: 3600,
            max_tracked: 100_000,
        }
    }
}

impl LoginThrottleConfig {
    /// What is wrong with these settings, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let key = "auth.login_throttle";
        for (name, value) in [
            ("free_failures_per_login", self.free_failures_per_login),
            ("free_failures_per_address", self.free_failures_per_address),
        ] {
            if !(1..=1000).contains(&value) {
                out.push(format!("{key}.{name} must be 1..=1000, got {value}"));
            }
        }
        if !(1..=3600).contains(&self.backoff_base_secs) {
            out.push(format!(
                "{key}.backoff_base_secs must be 1..=3600, got {}",
                self.backoff_base_secs
            ));
        }
        if self.backoff_max_secs < self.backoff_base_secs || self.backoff_max_secs > 86_400 {
            out.push(format!(
                "{key}.backoff_max_secs must be from backoff_base_secs ({}) to 86400, got {}",
                self.backoff_base_secs, self.backoff_max_secs
            ));
        }
        if self.forget_after_secs < self.backoff_max_secs || self.forget_after_secs > 7 * 86_400 {
            out.push(format!(
                "{key}.forget_after_secs must be from backoff_max_secs ({}) to 604800, got {}",
                self.backoff_max_secs, self.forget_after_secs
            ));
        }
        if !(100..=10_000_000).contains(&self.max_tracked) {
            out.push(format!(
                "{key}.max_tracked must be 100..=10000000, got {}",
                self.max_tracked
            ));
        }
        out
    }
}

/// Which key refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Login,
    Address,
}

/// A refused attempt: who is throttled, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub scope: Scope,
    pub retry_in: Duration,
    /// Refused because other attempts of this key are still running, not because of failures.
    pub busy: bool,
}

impl Throttled {
    /// The message the user sees.
    pub fn message(&self) -> String {
        let secs = self.retry_in.as_secs_f64().ceil().max(1.0) as u64;
        let whose = match self.scope {
            Scope::Login => "for this login",
            Scope::Address => "from this address",
        };
        if self.busy {
            format!("Another login attempt {whose} is still running; try again in {secs} s.")
        } else {
            format!("Too many failed logins {whose}; try again in {secs} s.")
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    last_failure: Instant,
    in_flight: u32,
}

/// Failure records of one kind of key, bounded in number.
struct Tracker<K> {
    scope: Scope,
    free: u32,
    base: Duration,
    max: Duration,
    forget_after: Duration,
    max_tracked: usize,
    records: HashMap<K, Record>,
}

impl<K: Hash + Eq + Clone> Tracker<K> {
    fn new(scope: Scope, free: u32, config: &LoginThrottleConfig) -> Self {
        Tracker {
            scope,
            free,
            base: Duration::from_secs(config.backoff_base_secs),
            max: Duration::from_secs(config.backoff_max_secs),
            forget_after: Duration::from_secs(config.forget_after_secs),
            max_tracked: config.max_tracked,
            records: HashMap::new(),
        }
    }

    /// The back-off after `failures` failures: none within the free allowance, then base, 2 x base, ...
    fn backoff(&self, failures: u32) -> Duration {
        let over = failures.saturating_sub(self.free);
        if failures < self.free {
            return Duration::ZERO;
        }
        let factor = 2u32.checked_pow(over.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// Whether an attempt for `key` may run now; when it may, it is counted as running.
    fn begin(&mut self, key: &K, now: Instant) -> Result<(), Throttled> {
        if let Some(r) = self.records.get_mut(key) {
            if r.in_flight == 0 && now.saturating_duration_since(r.last_failure) >= self.forget_after {
                r.failures = 0;
            }
        }
        let record = self.records.get(key).copied();
        if let Some(r) = record {
            let until = r.last_failure + self.backoff(r.failures);
            if r.failures >= self.free && now < until {
                return Err(Throttled {
                    scope: self.scope,
                    retry_in: until - now,
                    busy: false,
                });
            }
            // Concurrent guesses may not outrun the count: at most the failures still free run at once,
            // and one at a time once backing off.
            let budget = self.free.saturating_sub(r.failures).max(1);
            if r.in_flight >= budget {
                return Err(Throttled {
                    scope: self.scope,
                    retry_in: Duration::from_secs(1),
                    busy: true,
                });
            }
        } else {
            self.make_room(now);
        }
        let r = self.records.entry(key.clone()).or_insert(Record {
            failures: 0,
            last_failure: now,
            in_flight: 0,
        });
        r.in_flight += 1;
        Ok(())
    }

    /// The end of an attempt begun with [`Tracker::begin`]: `Some(true)` failed, `Some(false)` succeeded
    /// (the key's failures are forgiven when `forgive`), `None` abandoned (the client left).
    fn end(&mut self, key: &K, failed: Option<bool>, forgive: bool, now: Instant) {
        let Some(r) = self.records.get_mut(key) else {
            return;
        };
        r.in_flight = r.in_flight.saturating_sub(1);
        match failed {
            Some(true) => {
                r.failures = r.failures.saturating_add(1);
                r.last_failure = now;
            }
            Some(false) if forgive => r.failures = 0,
            _ => {}
        }
        if r.failures == 0 && r.in_flight == 0 {
            self.records.remove(key);
        }
    }

    /// Takes in what other processes know of `key` (failures and the time of the last one), keeping the
    /// larger count and the later time.
    fn merge(&mut self, key: &K, failures: u32, last_failure: Instant, now: Instant) {
        if failures == 0 {
            return;
        }
        if !self.records.contains_key(key) {
            self.make_room(now);
        }
        let r = self.records.entry(key.clone()).or_insert(Record {
            failures: 0,
            last_failure,
            in_flight: 0,
        });
        r.failures = r.failures.max(failures);
        r.last_failure = r.last_failure.max(last_failure);
    }

    /// Keeps the table under its bound: first drops records that no longer hold anything back (forgotten
    /// or within the free allowance), then, if that freed too little, any record not in use. Dropping a
    /// tenth at a time keeps the cost of the scan amortised over many inserts.
    fn make_room(&mut self, now: Instant) {
        if self.records.len() < self.max_tracked {
            return;
        }
        let (free, forget_after) = (self.free, self.forget_after);
        self.records.retain(|_, r| {
            r.in_flight > 0
                || (r.failures >= free && now.saturating_duration_since(r.last_failure) < forget_after)
        });
        let target = self.max_tracked - self.max_tracked / 10;
        if self.records.len() > target {
            let excess = self.records.len() - target;
            let drop: Vec<K> = self
                .records
                .iter()
                .filter(|(_, r)| r.in_flight == 0)
                .map(|(k, _)| k.clone())
                .take(excess)
                .collect();
            for k in drop {
                self.records.remove(&k);
            }
        }
    }
}

/// Failed-login counters per login name and per client address.
pub struct LoginThrottle {
    logins: Mutex<Tracker<String>>,
    addresses: Mutex<Tracker<IpAddr>>,
}

impl LoginThrottle {
    pub fn new(config: &LoginThrottleConfig) -> Self {
        LoginThrottle {
            logins: Mutex::new(Tracker::new(Scope::Login, config.free_failures_per_login, config)),
            addresses: Mutex::new(Tracker::new(
                Scope::Address,
                config.free_failures_per_address,
                config,
            )),
        }
    }

    /// Starts a login attempt for `login` from `address` (unknown: only the login is counted), or refuses
    /// it at once. The attempt must be ended with [`Attempt::failed`] or [`Attempt::succeeded`]; dropping
    /// it counts nothing (the client went away before the answer).
    pub fn begin(
        &self,
        login: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt<'_>, Throttled> {
        let login = login_key(login);
        if let Some(addr) = address {
            lock(&self.addresses).begin(&addr, now)?;
        }
        if let Err(refused) = lock(&self.logins).begin(&login, now) {
            if let Some(addr) = address {
                lock(&self.addresses).end(&addr, None, false, now);
            }
            return Err(refused);
        }
        Ok(Attempt {
            throttle: self,
            login,
            address,
            ended: false,
        })
    }

    /// Takes in failures counted by other processes sharing the state store (or before a restart): `login`
    /// and `address` hold (failures, time of the last failure).
    pub fn merge(
        &self,
        login: &str,
        address: Option<IpAddr>,
        from_store: [Option<(u32, Instant)>; 2],
        now: Instant,
    ) {
        if let Some((failures, last)) = from_store[0] {
            lock(&self.logins).merge(&login_key(login), failures, last, now);
        }
        if let (Some(addr), Some((failures, last))) = (address, from_store[1]) {
            lock(&self.addresses).merge(&addr, failures, last, now);
        }
    }

    /// Login names and addresses currently tracked (diagnostics and tests).
    pub fn tracked(&self) -> (usize, usize) {
        (
            lock(&self.logins).records.len(),
            lock(&self.addresses).records.len(),
        )
    }

    fn end(&self, login: &str, address: Option<IpAddr>, failed: Option<bool>, now: Instant) {
        // A success forgives the login's failures (the user got the password right) but not the address's:
        // one valid account must not reset the count of guesses made on others from the same place.
        lock(&self.logins).end(&login.to_owned(), failed, true, now);
        if let Some(addr) = address {
            lock(&self.addresses).end(&addr, failed, false, now);
        }
    }
}

/// One running login attempt.
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    login: String,
    address: Option<IpAddr>,
    ended: bool,
}

impl Attempt<'_> {
    /// The credentials were refused.
    pub fn failed(mut self, now: Instant) {
        self.ended = true;
        self.throttle.end(&self.login, self.address, Some(true), now);
    }

    /// The credentials were accepted.
    pub fn succeeded(mut self, now: Instant) {
        self.ended = true;
        self.throttle.end(&self.login, self.address, Some(false), now);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.throttle.end(&self.login, self.address, None, Instant::now());
        }
    }
}

/// Logins are counted case-insensitively (e-mail identifiers): `Alice` and `alice` share one allowance.
pub fn login_key(login: &str) -> String {
    login.trim().to_lowercase()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.locked()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(&LoginThrottleConfig {
            free_failures_per_login: 3,
            free_failures_per_address: 5,
            backoff_base_secs: 2,
            backoff_max_secs: 16,
            forget_after_secs: 600,
            max_tracked: 100,
        })
    }

    fn fail(t: &LoginThrottle, login: &str, addr: Option<IpAddr>, now: Instant) {
        t.begin(login, addr, now).expect("not throttled yet").failed(now);
    }

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn failures_past_the_allowance_back_off_exponentially_up_to_the_maximum() {
        let t = throttle();
        let t0 = Instant::now();
        let s = Duration::from_secs;
        for _ in 0..3 {
            fail(&t, "alice", None, t0);
        }
        let refused = t.begin("alice", None, t0).err().expect("throttled");
        assert_eq!(refused.retry_in, s(2));
        assert_eq!(
            refused.message(),
            "Too many failed logins for this login; try again in 2 s."
        );
        // Case and spaces do not make another login.
        assert!(t.begin(" ALICE ", None, t0 + s(1)).is_err());
        fail(&t, "alice", None, t0 + s(2));
        assert_eq!(t.begin("alice", None, t0 + s(2)).err().unwrap().retry_in, s(4));
        let mut at = t0 + s(6);
        for expected in [8, 16, 16] {
            fail(&t, "alice", None, at);
            assert_eq!(t.begin("alice", None, at).err().unwrap().retry_in, s(expected));
            at += s(expected);
        }
        // Other logins are not affected.
        t.begin("bob", None, t0).unwrap().succeeded(t0);
    }

    #[test]
    fn a_success_forgives_the_login_but_not_the_address() {
        let t = throttle();
        let t0 = Instant::now();
        for _ in 0..2 {
            fail(&t, "alice", ip(1), t0);
        }
        t.begin("alice", ip(1), t0).unwrap().succeeded(t0);
        for _ in 0..2 {
            fail(&t, "alice", ip(1), t0);
        }
        assert!(t.begin("alice", ip(1), t0).is_ok(), "the count started again");
        // The address has four failures: one more and it backs off, for every login from it.
        fail(&t, "carol", ip(1), t0);
        let refused = t.begin("dave", ip(1), t0).err().expect("address throttled");
        assert_eq!(refused.scope, Scope::Address);
        assert_eq!(
            refused.message(),
            "Too many failed logins from this address; try again in 2 s."
        );
        assert!(
            t.begin("dave", ip(2), t0).is_ok(),
            "another address is not affected"
        );
    }

    #[test]
    fn concurrent_attempts_cannot_outrun_the_count() {
        let t = throttle();
        let t0 = Instant::now();
        let running: Vec<_> = (0..3).map(|_| t.begin("alice", None, t0).unwrap()).collect();
        let busy = t
            .begin("alice", None, t0)
            .err()
            .expect("a fourth guess must wait");
        assert!(busy.busy);
        assert_eq!(
            busy.message(),
            "Another login attempt for this login is still running; try again in 1 s."
        );
        for a in running {
            a.failed(t0);
        }
        assert!(!t.begin("alice", None, t0).err().unwrap().busy);
    }

    #[test]
    fn an_abandoned_attempt_counts_nothing_and_failures_are_forgotten() {
        let t = throttle();
        let t0 = Instant::now();
        let s = Duration::from_secs;
        drop(t.begin("alice", ip(1), t0).unwrap());
        assert_eq!(t.tracked(), (0, 0));
        for _ in 0..3 {
            fail(&t, "alice", None, t0);
        }
        let later = t0 + s(599);
        fail(&t, "alice", None, later);
        assert_eq!(
            t.begin("alice", None, later).err().unwrap().retry_in,
            s(4),
            "599 s later the failures still count"
        );
        let forgotten = later + s(600);
        fail(&t, "alice", None, forgotten);
        assert!(
            t.begin("alice", None, forgotten).is_ok(),
            "forgotten after forget_after_secs: one failure is within the allowance"
        );
    }

    #[test]
    fn the_tables_are_bounded_and_keep_the_records_that_hold_someone_back() {
        let t = throttle();
        let t0 = Instant::now();
        for _ in 0..3 {
            fail(&t, "victim", None, t0);
        }
        for i in 0..1000 {
            fail(&t, &format!("guess-{i}"), None, t0);
        }
        let (logins, _) = t.tracked();
        assert!(logins <= 100, "{logins} login records");
        assert!(
            t.begin("victim", None, t0).is_err(),
            "the blocked login is still blocked"
        );
    }

    #[test]
    fn config_problems_name_the_key() {
        let bad = LoginThrottleConfig {
            free_failures_per_login: 0,
            free_failures_per_address: 0,
            backoff_base_secs: 0,
            backoff_max_secs: 100_000,
            forget_after_secs: 1,
            max_tracked: 1,
        };
        let problems = bad.problems().join("; ");
        for key in [
            "free_failures_per_login",
            "free_failures_per_address",
            "backoff_base_secs",
            "backoff_max_secs",
            "forget_after_secs",
            "max_tracked",
        ] {
            assert!(
                problems.contains(&format!("auth.login_throttle.{key}")),
                "{key}: {problems}"
            );
        }
        assert!(LoginThrottleConfig::default().problems().is_empty());
    }
}
