//! The transport under a pool connection: send a text frame, receive the next frame, close. Two
//! implementations: [`super::ws::WsLink`] and [`super::ndjson::NdjsonLink`]; tests use in-process fakes.

/// One incoming frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame (WebSocket) or one line (NDJSON), handed to [`super::Protocol::decode`].
    Text(Vec<u8>),
    /// A frame that only proves the connection alive (WebSocket ping, pong or binary frame).
    Life,
    /// The peer closed the connection, with the close code if it sent one.
    Closed(Option<u16>),
}

/// An open connection to the upstream.
#[async_trait::async_trait]
pub trait Link: Send {
    /// Sends one text frame. The link bounds the time it takes.
    async fn send(&mut self, text: String) -> Result<(), String>;

    /// The next frame; `None` when the connection ended without a close frame, `Err` on a transport error.
    /// Must be cancel-safe: the pool races it against timers.
    async fn recv(&mut self) -> Option<Result<Frame, String>>;

    /// Closes politely (bounded), for a connection the pool no longer needs.
    async fn close(&mut self);

    /// Whether the subscription set travels in the request that opened the link (NDJSON over HTTP): a
    /// grown set then reopens the connection instead of sending subscribe frames.
    fn carries_set_in_request(&self) -> bool {
        false
    }
}
