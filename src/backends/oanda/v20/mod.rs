//! OANDA v20 REST (`/v3`) behind [`super::venue::Venue`].

pub mod data;

/// The v20 API.
#[derive(Debug, Default)]
pub struct V20Venue {}

impl V20Venue {
    pub fn new() -> V20Venue {
        V20Venue {}
    }
}
