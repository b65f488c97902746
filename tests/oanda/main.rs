//! The bridge on the OANDA backend against the fake OANDA (`fakes::oanda`), in one test binary: market
//! data, the data feed's rules (`feed`), sessions, v20 trading (`trading` and its folder), legacy v1
//! accounts (`v1`) and the data-feed suite (`datafeed`). Each module was a binary of its own; the environment
//! variables some set have names of their own, and the log capture is per thread.

#[path = "../datafeed_suite/mod.rs"]
mod suite;
#[path = "../support/mod.rs"]
mod support;

mod data;
mod datafeed;
mod feed;
mod outcome;
mod refresh;
mod session;
mod trading;
mod v1;
