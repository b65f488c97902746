//! The toolkit every upstream backend shares: the transport (send, classify, retry by call kind, pacing,
//! signing), the session registry with its re-login rule and the data-feed session, TradingView's bar
//! alignment, trading days, history paging, streamed day bars, reconnection back-off, per-symbol fan-out, the
//! stream-subscription pool (WebSocket and NDJSON),
//! reachability probes, the memory of a refused configured credential, and client order ids.

pub mod backoff;
pub mod bars;
pub mod call;
pub mod clock;
pub mod confirms;
pub mod data_session;
pub mod day_bars;
pub mod days;
pub mod fanout;
#[cfg(test)]
pub mod fixtures;
pub mod history;
pub mod journal;
pub mod limiter;
pub mod order_ids;
pub mod probe;
pub mod refusal;
pub mod relogin;
pub mod sessions;
pub mod settings;
pub mod shared_turns;
pub mod shared_window;
pub mod store_outage;
pub mod stream;
pub mod transport;
