//! The data-feed suite (`tests/datafeed_suite/`) on OANDA v20 through the fake OANDA (moving prices, the FX weekend closed).

mod support;

#[path = "datafeed_suite/mod.rs"]
mod suite;

suite::suite!(suite::Feed::oanda);
