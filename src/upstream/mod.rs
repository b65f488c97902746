//! Pieces every upstream backend shares: call-failure classification and request pacing.

pub mod bars;
pub mod call;
pub mod limiter;
pub mod probe;
pub mod settings;
