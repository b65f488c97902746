//! Newline-delimited JSON over one long-lived HTTP GET: the request's URL carries the whole subscription
//! set (so a grown set reopens the connection), and the chunked body is cut into whole lines, however it
//! is split, with a bound on how long a line may grow.

use super::link::{Frame, Link};

/// Where a streamed body comes from: an HTTP response, or a test's chunks.
#[async_trait::async_trait]
pub trait Chunks: Send {
    /// The next piece of the body; `Ok(None)` at its end.
    async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, String>;
}

#[async_trait::async_trait]
impl Chunks for reqwest::Response {
    async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, String> {
        reqwest::Response::chunk(self)
            .await
            .map_err(|e| e.without_url().to_string())
    }
}

/// Splits a streamed body into lines.
pub struct LineReader<C> {
    body: C,
    buffer: Vec<u8>,
    max_line: usize,
}

impl<C: Chunks> LineReader<C> {
    /// Lines of `body`; a line longer than `max_line` bytes is a broken stream.
    pub fn new(body: C, max_line: usize) -> LineReader<C> {
        LineReader {
            body,
            buffer: Vec::new(),
            max_line,
        }
    }

    /// The next non-empty line without its `\n` (and `\r`); `Ok(None)` when the body ended cleanly (a
    /// trailing unterminated fragment is dropped: it was cut off mid-line). Cancel-safe: a chunk is only
    /// taken into the buffer once it arrived.
    pub async fn next_line(&mut self) -> Result<Option<Vec<u8>>, String> {
        loop {
            if let Some(at) = self.buffer.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buffer.drain(..=at).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > self.max_line {
                    return Err(format!("a stream line grew past {} bytes", self.max_line));
                }
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Ok(Some(line));
            }
            if self.buffer.len() > self.max_line {
                return Err(format!("a stream line grew past {} bytes", self.max_line));
            }
            match self.body.chunk().await? {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => return Ok(None),
            }
        }
    }
}

/// An open NDJSON stream.
pub struct NdjsonLink<C> {
    lines: LineReader<C>,
}

impl<C: Chunks> NdjsonLink<C> {
    /// The stream of `body` (the response of the GET that opened it), lines at most `max_line` bytes.
    pub fn new(body: C, max_line: usize) -> NdjsonLink<C> {
        NdjsonLink {
            lines: LineReader::new(body, max_line),
        }
    }
}

#[async_trait::async_trait]
impl<C: Chunks> Link for NdjsonLink<C> {
    async fn send(&mut self, _text: String) -> Result<(), String> {
        // Nothing travels upstream on an HTTP stream; the pool never asks (see `carries_set_in_request`).
        Err("an HTTP stream takes no frames".to_string())
    }

    async fn recv(&mut self) -> Option<Result<Frame, String>> {
        match self.lines.next_line().await {
            Ok(Some(line)) => Some(Ok(Frame::Text(line))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }

    async fn close(&mut self) {}

    fn carries_set_in_request(&self) -> bool {
        true
    }
}
