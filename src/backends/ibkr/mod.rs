//! Interactive Brokers (IBKR Web API): the OAuth 1.0a and OAuth 2.0 authentication of its transports.

pub mod oauth1;
pub mod oauth2;
