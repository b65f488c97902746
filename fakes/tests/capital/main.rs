//! Tests of the fake Capital.com server itself (`fakes::capital`, `fakes/src/capital`), driven over HTTP with
//! `reqwest` and over WebSocket with `tokio-tungstenite`, against the behaviour the official Postman
//! collection documents.

mod client;

mod auth;
mod faults;
mod history;
mod markets;
mod orders;
mod prices;
mod process;
mod trading;
mod ws;
