//! Tests of the fake Capital.com server itself (`tests/support/fake_capital`), driven over HTTP with
//! `reqwest` and over WebSocket with `tokio-tungstenite`, against the behaviour the official Postman
//! collection documents.

mod support;

#[path = "fake_capital/client.rs"]
mod client;

#[path = "fake_capital/auth.rs"]
mod auth;
#[path = "fake_capital/faults.rs"]
mod faults;
#[path = "fake_capital/history.rs"]
mod history;
#[path = "fake_capital/markets.rs"]
mod markets;
#[path = "fake_capital/orders.rs"]
mod orders;
#[path = "fake_capital/prices.rs"]
mod prices;
#[path = "fake_capital/process.rs"]
mod process;
#[path = "fake_capital/trading.rs"]
mod trading;
#[path = "fake_capital/ws.rs"]
mod ws;
