//! Pieces every upstream backend shares: call-failure classification, request pacing, TradingView's bar
//! alignment, trading days, history paging, reachability probes and the memory of a refused configured
//! credential.

pub mod backoff;
pub mod bars;
pub mod call;
pub mod clock;
pub mod day_bars;
pub mod days;
pub mod fanout;
pub mod history;
pub mod limiter;
pub mod probe;
pub mod refusal;
pub mod settings;
pub mod transport;
