//! OANDA v1 REST (`/v1`, legacy accounts whose id is all digits) behind [`super::venue::Venue`].
//!
//! Layers: `client` calls one endpoint and returns `model` wire types; `convert` maps them to venue and
//! TradingView types without I/O.

pub mod client;
pub mod convert;
pub mod errors;
pub mod model;
mod num;

#[cfg(test)]
mod fixtures;

/// The v1 API.
#[derive(Debug, Default)]
pub struct V1Venue {}

impl V1Venue {
    pub fn new() -> V1Venue {
        V1Venue {}
    }
}
