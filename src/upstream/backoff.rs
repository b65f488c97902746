//! Exponential back-off between reconnections of an upstream push stream (Capital.com's WebSocket,
//! OANDA's NDJSON streams): the first retry waits the minimum, each further failure doubles the wait up
//! to the maximum, and a connection that was healthy (it lived long enough) starts the count again.
//! Optional jitter lowers each wait by up to a quarter, so connections dropped together do not all come
//! back (and log in) in the same instant.

use std::time::Duration;

/// The wait before reconnection attempt `failures` (1 = first retry): `min` doubled per earlier failure,
/// at most `max`, then lowered by `jitter` (0 to 1) quarters.
pub fn delay(min: Duration, max: Duration, failures: u32, jitter: f64) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let doublings = failures.saturating_sub(1).min(31);
    let base = min.saturating_mul(1u32 << doublings).min(max);
    base.mul_f64(1.0 - 0.25 * jitter.clamp(0.0, 1.0))
}

/// The failures of one stream in a row, and the wait they call for.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    jitter: bool,
    failures: u32,
}

impl Backoff {
    /// Waits from `min` doubling to `max`, without jitter.
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            min,
            max,
            jitter: false,
            failures: 0,
        }
    }

    /// The same, each wait lowered by a random share of up to a quarter.
    pub fn jittered(self) -> Backoff {
        Backoff { jitter: true, ..self }
    }

    /// Records a lost (or never opened) connection; `healthy` (it lived long enough) resets the count
    /// first, so the next wait is the minimum again.
    pub fn failed(&mut self, healthy: bool) {
        if healthy {
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
    }

    /// [`Backoff::failed`], then the wait it calls for.
    pub fn after_failure(&mut self, healthy: bool) -> Duration {
        self.failed(healthy);
        self.wait()
    }

    /// Failures in a row so far (0 before the first).
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The wait before the next attempt (zero before any failure).
    pub fn wait(&self) -> Duration {
        let jitter = if self.jitter { rand::random() } else { 0.0 };
        delay(self.min, self.max, self.failures, jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_limit_and_jitter_only_lowers_them() {
        let (min, max) = (Duration::from_millis(200), Duration::from_secs(30));
        let delays: Vec<_> = (1..=10).map(|n| delay(min, max, n, 0.0).as_millis()).collect();
        assert_eq!(
            delays,
            [200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]
        );
        assert_eq!(delay(min, max, 1, 1.0), Duration::from_millis(150));
        assert_eq!(delay(min, max, u32::MAX, 0.0), max);
        assert_eq!(delay(min, max, 0, 0.0), Duration::ZERO);
    }

    #[test]
    fn a_healthy_connection_starts_the_count_again() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        assert_eq!(b.wait(), Duration::ZERO);
        let waits: Vec<u64> = (0..8)
            .map(|_| {
                b.failed(false);
                b.wait().as_millis() as u64
            })
            .collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        b.failed(true);
        assert_eq!((b.failures(), b.wait()), (1, Duration::from_millis(500)));
        b.failed(false);
        assert_eq!(b.wait(), Duration::from_millis(1000));
    }

    #[test]
    fn jittered_waits_stay_within_a_quarter_below() {
        let mut b = Backoff::new(Duration::from_millis(400), Duration::from_secs(30)).jittered();
        b.failed(false);
        for _ in 0..50 {
            let w = b.wait();
            assert!(
                w >= Duration::from_millis(300) && w <= Duration::from_millis(400),
                "{w:?}"
            );
        }
    }
}
