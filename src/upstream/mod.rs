//! Pieces every upstream backend shares: call-failure classification, request pacing, TradingView's bar
//! alignment, trading days and history paging.

pub mod bars;
pub mod call;
pub mod clock;
pub mod days;
pub mod history;
pub mod limiter;
pub mod settings;
