//! Pieces every upstream backend shares: call-failure classification, request pacing and the memory of a
//! refused configured credential.

pub mod bars;
pub mod call;
pub mod limiter;
pub mod probe;
pub mod refusal;
pub mod settings;
