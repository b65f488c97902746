//! Backends: one module per upstream broker, each implementing [`crate::broker::Broker`].

pub mod capital;
pub mod ibkr;
pub mod ibkr_third_party;
pub mod oanda;
pub mod paper;
