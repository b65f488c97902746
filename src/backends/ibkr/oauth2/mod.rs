//! IBKR's OAuth 2.0 (server to server).
