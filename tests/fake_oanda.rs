//! Tests of the fake OANDA server itself (`tests/support/fake_oanda`), driven over HTTP with `reqwest`
//! against the behaviour OANDA documents (the v20 OpenAPI file and the v1 documentation).

#[path = "support/fake_oanda/mod.rs"]
mod fake_oanda;

#[path = "fake_oanda/client.rs"]
mod client;

#[path = "fake_oanda/accounts.rs"]
mod accounts;
#[path = "fake_oanda/auth.rs"]
mod auth;
#[path = "fake_oanda/candles.rs"]
mod candles;
#[path = "fake_oanda/extensions.rs"]
mod extensions;
#[path = "fake_oanda/faults.rs"]
mod faults;
#[path = "fake_oanda/orders.rs"]
mod orders;
#[path = "fake_oanda/process.rs"]
mod process;
#[path = "fake_oanda/streams.rs"]
mod streams;
#[path = "fake_oanda/trades.rs"]
mod trades;
#[path = "fake_oanda/transactions.rs"]
mod transactions;
#[path = "fake_oanda/v1.rs"]
mod v1;
