//! Tests of the fake IBKR Client Portal gateway itself (`fakes::ibkr`, `fakes/src/ibkr`), driven over HTTP
//! with `reqwest` and over WebSocket with `tokio-tungstenite`, against the behaviour IBKR's OpenAPI
//! models and documentation describe.

mod client;

mod contracts;
mod faults;
mod market;
mod oauth1;
mod oauth2;
mod orders;
mod pacing;
mod portfolio;
mod replies;
mod session;
mod ws;
