//! Which failed calls are tried again, and after how long: reads after failures that changed nothing
//! upstream, writes only when they certainly never left.

use crate::upstream::call::CallError;
use std::time::Duration;

/// Whether a call may be repeated after a failure that leaves its effect unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CallKind {
    /// No side effect: retried after 429 (with the advised delay), 5xx and lost answers.
    Read,
    /// A side effect: sent again only when it provably never left (`NotSent`). Anything ambiguous goes
    /// back to the caller, which looks the effect up before answering.
    Write,
}

/// Attempts of a write (the first included) when every failure so far was `NotSent`.
const UNSENT_WRITE_ATTEMPTS: u32 = 2;

/// How one upstream's reads are retried. Every figure is a bound: no call is tried more often, and no call
/// waits longer in total, whatever the upstream answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts of a read (the first included) after failures that changed nothing: not sent, no answer, 5xx.
    pub read_attempts: u32,
    /// Attempts of a read (the first included) while the upstream answers 429.
    pub throttled_attempts: u32,
    /// The n-th retry waits n times this, unless the upstream advised a delay.
    pub backoff: Duration,
    /// The wait after a 429 that advises no delay (`None`: the back-off).
    pub throttled_wait: Option<Duration>,
    /// The most a call sleeps between its attempts, all retries together; a retry that would go past it is
    /// not made and the failure is reported.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            read_attempts: 3,
            throttled_attempts: 3,
            backoff: Duration::from_millis(200),
            throttled_wait: None,
            max_total_wait: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` of a `kind` call whose attempt `attempt` (1-based) failed with
    /// `error`, or `None` when the failure is final.
    pub fn retry_after(&self, kind: CallKind, error: &CallError, attempt: u32) -> Option<Duration> {
        let backoff = self.backoff * attempt;
        match (kind, error) {
            (CallKind::Write, CallError::NotSent(_)) if attempt < UNSENT_WRITE_ATTEMPTS => Some(backoff),
            (CallKind::Write, _) => None,
            (
                CallKind::Read,
                CallError::Status {
                    status: 429,
                    retry_after,
                    ..
                },
            ) if attempt < self.throttled_attempts => {
                Some(retry_after.or(self.throttled_wait).unwrap_or(backoff))
            }
            (
                CallKind::Read,
                CallError::Status {
                    status, retry_after, ..
                },
            ) if *status >= 500 && attempt < self.read_attempts => Some(retry_after.unwrap_or(backoff)),
            (CallKind::Read, CallError::NotSent(_) | CallError::NoAnswer(_))
                if attempt < self.read_attempts =>
            {
                Some(backoff)
            }
            // Other statuses are answers, and an undecodable answer would be the same again.
            _ => None,
        }
    }
}

/// What a call does while it waits for its next attempt, instead of only sleeping: a backend whose call
/// holds a lock lets go of it meanwhile, so a retry's back-off never holds up other work.
#[async_trait::async_trait]
pub trait RetryWait: Send + Sync {
    /// Waits `wait` before the next attempt; `false` when the call must not be tried again (its failure is
    /// then reported as it is).
    async fn wait(&self, wait: Duration) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, retry_after: Option<u64>) -> CallError {
        CallError::Status {
            status,
            body: String::new(),
            retry_after: retry_after.map(Duration::from_secs),
            parsed: Default::default(),
        }
    }

    const POLICY: RetryPolicy = RetryPolicy {
        read_attempts: 2,
        throttled_attempts: 4,
        backoff: Duration::from_millis(300),
        throttled_wait: Some(Duration::from_secs(1)),
        max_total_wait: Duration::from_secs(10),
    };

    #[test]
    fn writes_are_resent_only_when_they_never_left() {
        let not_sent = CallError::NotSent("refused".into());
        assert_eq!(
            POLICY.retry_after(CallKind::Write, &not_sent, 1),
            Some(Duration::from_millis(300))
        );
        assert_eq!(POLICY.retry_after(CallKind::Write, &not_sent, 2), None);
        for e in [
            CallError::NoAnswer("timeout".into()),
            status(502, None),
            status(429, Some(1)),
            CallError::Decode("x".into()),
        ] {
            assert_eq!(POLICY.retry_after(CallKind::Write, &e, 1), None, "{e:?}");
        }
    }

    #[test]
    fn reads_are_retried_after_what_changed_nothing_within_their_attempts() {
        let ms = Duration::from_millis;
        assert_eq!(
            POLICY.retry_after(CallKind::Read, &CallError::NoAnswer("t".into()), 1),
            Some(ms(300))
        );
        assert_eq!(POLICY.retry_after(CallKind::Read, &status(503, None), 2), None);
        assert_eq!(
            POLICY.retry_after(CallKind::Read, &status(503, Some(2)), 1),
            Some(ms(2000))
        );
        // 429: the advised delay, else the policy's own; more attempts than other failures.
        assert_eq!(
            POLICY.retry_after(CallKind::Read, &status(429, Some(3)), 3),
            Some(ms(3000))
        );
        assert_eq!(
            POLICY.retry_after(CallKind::Read, &status(429, None), 1),
            Some(ms(1000))
        );
        assert_eq!(POLICY.retry_after(CallKind::Read, &status(429, None), 4), None);
        for e in [
            status(400, None),
            status(401, None),
            status(404, None),
            CallError::Decode("x".into()),
        ] {
            assert_eq!(POLICY.retry_after(CallKind::Read, &e, 1), None, "{e:?}");
        }
        // The default back-off grows with the attempt.
        let default = RetryPolicy::default();
        assert_eq!(
            default.retry_after(CallKind::Read, &status(429, None), 2),
            Some(ms(400))
        );
    }

    #[test]
    fn kinds_order_so_the_stricter_wins() {
        assert_eq!(CallKind::Read.max(CallKind::Write), CallKind::Write);
    }
}
