//! Interactive Brokers' Third-Party Web API v1 (`kind = "ibkr-third-party"`): a firm's registered OAuth
//! 1.0a consumer trades for many IBKR customers, each of whom granted it access once at IBKR (the login
//! page's federated login, [`federation`]), through IBKR's FIX-style resources (`/accounts`, orders by
//! `CustomerOrderId`, `/secdef`, `/marketdata`).

pub mod config;
pub mod credentials;
pub mod federation;
pub mod session;

pub use config::IbkrThirdPartyConfig;
