//! End to end on the paper broker, in one test binary: the API (`auth`, `bad_input`, `http`, `limits`,
//! `orders`, `positions`, `smoke`, `streams`), the HTTP edge over real sockets (`edge`), stream lifetimes
//! (`stream_life`), `/readyz`, paper `/history` (`history`) and the data-feed suite (`datafeed`). Each module
//! was a binary of its own; none needs a process to itself (the log capture of `limits` is per thread).

#[path = "../datafeed_suite/mod.rs"]
mod suite;
#[path = "../support/mod.rs"]
mod support;

mod auth;
mod bad_input;
mod datafeed;
mod edge;
mod history;
mod http;
mod limits;
mod metrics;
mod oauth;
mod orders;
mod positions;
mod readyz;
mod refresh;
mod smoke;
mod stream_life;
mod streams;
