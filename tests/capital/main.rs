//! The bridge on the Capital.com backend against the fake Capital.com (`fakes::capital`), in one test
//! binary: brackets, market data, the data feed's bounds (`feed`), order ids, logins, sessions, trading and
//! the data-feed suite (`datafeed`). Each module was a binary of its own; the environment variables some set
//! have names of their own, and the log capture is per thread.

#[path = "../datafeed_suite/mod.rs"]
mod suite;
#[path = "../support/mod.rs"]
mod support;

mod brackets;
mod data;
mod datafeed;
mod feed;
mod ids;
mod login;
mod outcome;
mod refresh;
mod replicas;
mod session;
mod trading;
