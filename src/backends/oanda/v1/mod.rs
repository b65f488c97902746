//! OANDA v1 REST (`/v1`, legacy accounts whose id is all digits) behind [`super::venue::Venue`].

/// The v1 API.
#[derive(Debug, Default)]
pub struct V1Venue {}

impl V1Venue {
    pub fn new() -> V1Venue {
        V1Venue {}
    }
}
