//! Pieces every upstream backend shares: call-failure classification, request pacing, TradingView's bar
//! alignment, trading days, history paging, reachability probes, the memory of a refused configured
//! credential, the session registry with its re-login rule, and the data-feed session.

pub mod bars;
pub mod call;
pub mod clock;
pub mod data_session;
pub mod days;
pub mod history;
pub mod limiter;
pub mod probe;
pub mod refusal;
pub mod relogin;
pub mod sessions;
pub mod settings;
