//! Tests of the fake OANDA server itself (`fakes::oanda`, `fakes/src/oanda`), driven over HTTP with `reqwest`
//! against the behaviour OANDA documents (the v20 OpenAPI file and the v1 documentation).

mod client;

mod accounts;
mod auth;
mod candles;
mod extensions;
mod faults;
mod orders;
mod process;
mod streams;
mod trades;
mod transactions;
mod v1;
