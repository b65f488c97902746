//! OANDA v20 REST (`/v3`) behind [`super::venue::Venue`].
//!
//! Layers: `model` (wire types from the OpenAPI definitions), `client` (one method per endpoint), `convert`
//! (pure mapping to TradingView types), `errors`
//! (reject and cancel reasons in words); `data` is the market data side (instruments, prices, candles,
//! streams).

pub mod client;
pub mod convert;
pub mod data;
pub mod errors;
pub mod model;

/// The v20 API.
#[derive(Debug, Default)]
pub struct V20Venue {}

impl V20Venue {
    pub fn new() -> V20Venue {
        V20Venue {}
    }
}
