//! The OAuth 2.0 authorization server TradingView logs users in through: clients, codes, refresh-token
//! families, browser sessions, and the ServerOAuth2Bearer assertions of TradingView's data-feed servers.

pub mod assertion;
pub mod browser;
pub mod clients;
pub mod codes;
pub mod config;
pub mod federated;
pub mod forms;
pub mod pkce;
pub mod refresh;
pub mod request;
pub mod secrets;

pub use clients::{Client, Clients};
