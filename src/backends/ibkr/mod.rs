//! Interactive Brokers backend: the IBKR Web API through the Client Portal gateway.

pub mod client;
pub mod config;
pub mod convert;
pub mod errors;
pub mod model;
pub mod orders;
pub mod session;
#[cfg(test)]
mod testing;

pub use config::IbkrConfig;
