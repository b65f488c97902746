//! The time that tokens, sessions and OAuth grants are judged by: the system clock, or (in tests) a manual
//! clock that can jump hours ahead, so that lifetimes and refreshes are tested without waiting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Unix seconds, from the system or set by hand.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicU64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock(None)
    }

    /// A clock that stands at `start` until moved with [`Clock::advance`].
    pub fn manual(start: u64) -> Self {
        Clock(Some(Arc::new(AtomicU64::new(start))))
    }

    /// Now, in unix seconds.
    pub fn now(&self) -> u64 {
        match &self.0 {
            Some(manual) => manual.load(Ordering::SeqCst),
            None => super::tokens::now_secs(),
        }
    }

    /// Moves a manual clock `secs` ahead. The system clock cannot be moved: a call on it is a bug.
    pub fn advance(&self, secs: u64) {
        match &self.0 {
            Some(manual) => {
                manual.fetch_add(secs, Ordering::SeqCst);
            }
            None => panic!("the system clock cannot be advanced"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let clock = Clock::manual(1_000);
        let shared = clock.clone();
        assert_eq!(clock.now(), 1_000);
        shared.advance(3_600);
        assert_eq!(clock.now(), 4_600);
        assert!(Clock::system().now() > 1_700_000_000);
    }
}
