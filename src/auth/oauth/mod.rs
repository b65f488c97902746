//! The OAuth 2.0 authorization server TradingView logs users in through: clients, codes, refresh-token
//! families, browser sessions, and the ServerOAuth2Bearer assertions of TradingView's data-feed servers.

pub mod assertion;
