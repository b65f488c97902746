//! The data-feed suite (`tests/datafeed_suite/`) on Capital.com through the fake Capital.com (moving prices, usual opening hours).

mod support;

#[path = "datafeed_suite/mod.rs"]
mod suite;

suite::suite!(suite::Feed::capital);
