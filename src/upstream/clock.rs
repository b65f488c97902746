//! The time an upstream backend calls "now": the system clock, or the clock a test gives it (a fake
//! upstream's, so that both agree on what is recent, as a real upstream and the bridge do).

use std::sync::Arc;

/// A source of the current unix time in seconds.
pub type Now = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system() -> Now {
    Arc::new(|| chrono::Utc::now().timestamp())
}
