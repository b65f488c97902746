//! Capital.com wire types: WebSocket requests and messages (quotes, OHLC).

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------------------
// Streaming
// ---------------------------------------------------------------------------------------------------------

/// Outgoing streaming message. `Debug` masks both tokens.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamRequest<'a, P: Serialize> {
    pub destination: StreamDestination,
    pub correlation_id: String,
    pub cst: &'a str,
    pub security_token: &'a str,
    pub payload: P,
}

impl<P: Serialize + fmt::Debug> fmt::Debug for StreamRequest<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamRequest")
            .field("destination", &self.destination)
            .field("correlation_id", &self.correlation_id)
            .field("cst", &crate::secret::MASK)
            .field("security_token", &crate::secret::MASK)
            .field("payload", &self.payload)
            .finish()
    }
}

/// Payload of `marketData.subscribe` / `marketData.unsubscribe` (at most 40 epics).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpicsPayload {
    pub epics: Vec<String>,
}

/// Payload of `OHLCMarketData.subscribe`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OhlcSubscribePayload {
    pub epics: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resolutions: Vec<Resolution>,
    /// `classic` (default) or `heikin-ashi`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub bar_type: Option<String>,
}

/// Incoming streaming message; `payload` is decoded according to `destination`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamMessage {
    #[serde(default)]
    pub status: Option<String>,
    pub destination: StreamDestination,
    #[serde(default)]
    pub correlation_id: Option<String>,
    #[serde(default)]
    pub payload: serde_json::Value,
}

impl StreamMessage {
    /// The quote of a `quote` message; `None` for other destinations or a malformed payload.
    pub fn quote(&self) -> Option<StreamQuote> {
        (self.destination == StreamDestination::Quote)
            .then(|| serde_json::from_value(self.payload.clone()).ok())
            .flatten()
    }

    /// The bar of an `ohlc.event` message; `None` for other destinations or a malformed payload.
    pub fn ohlc(&self) -> Option<StreamOhlc> {
        (self.destination == StreamDestination::OhlcEvent)
            .then(|| serde_json::from_value(self.payload.clone()).ok())
            .flatten()
    }
}

/// Payload of a `quote` message.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamQuote {
    pub epic: String,
    #[serde(default)]
    pub product: Option<String>,
    pub bid: Decimal,
    #[serde(default)]
    pub bid_qty: Option<Decimal>,
    pub ofr: Decimal,
    #[serde(default)]
    pub ofr_qty: Option<Decimal>,
    /// Unix milliseconds.
    pub timestamp: i64,
}

/// Payload of an `ohlc.event` message.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamOhlc {
    pub epic: String,
    pub resolution: Resolution,
    #[serde(default, rename = "type")]
    pub bar_type: Option<String>,
    /// `bid` or `ask`.
    #[serde(default)]
    pub price_type: Option<String>,
    /// Bar start, Unix milliseconds.
    pub t: i64,
    pub o: Decimal,
    pub h: Decimal,
    pub l: Decimal,
    pub c: Decimal,
}
