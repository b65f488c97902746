//! Remembering that an upstream refused the credentials the operator configured (mapped login mode), so
//! that TradingView's polling neither sends the upstream a stream of logins it will refuse (which can get
//! the account locked) nor fills the log: one attempt and one warning per cool-down.

use crate::sync::MutexExt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a refusal of configured credentials is answered without asking the upstream again. The
/// credentials come from the environment at start-up, so they only change with a restart; the cool-down
/// only lets a refusal the upstream takes back (an account unlocked) be noticed.
pub const COOL_DOWN: Duration = Duration::from_secs(60);

/// When the configured credentials were last refused.
#[derive(Debug, Default)]
pub struct RefusalLatch {
    at: Mutex<Option<Instant>>,
}

impl RefusalLatch {
    /// Whether a refusal was recorded less than `window` ago.
    pub fn holds(&self, window: Duration) -> bool {
        self.lock().is_some_and(|at| at.elapsed() < window)
    }

    /// Records a refusal now.
    pub fn trip(&self) {
        *self.lock() = Some(Instant::now());
    }

    /// Forgets the refusal (the credentials were accepted again).
    pub fn clear(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.at.locked()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_holds_for_its_window_until_cleared() {
        let latch = RefusalLatch::default();
        assert!(!latch.holds(COOL_DOWN));
        latch.trip();
        assert!(latch.holds(COOL_DOWN));
        assert!(!latch.holds(Duration::ZERO), "an empty window never holds");
        latch.clear();
        assert!(!latch.holds(COOL_DOWN));
    }
}
