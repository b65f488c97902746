//! The socket as hyper sees it: every read marks the connection active, and hyper's own error answers
//! (400 for a malformed request, 414 for a URI over 64 KiB, 431 for oversized headers), which carry an empty
//! body, are replaced by the same status with TradingView's JSON error envelope.
//!
//! hyper writes those answers itself, before any request reaches the router, and offers no hook to shape
//! them. They are recognisable on the wire: a 4xx/5xx head with `content-length: 0`, which the router never
//! writes (every error it answers has a JSON body).

use super::conn::Activity;
use bytes::Bytes;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A socket wrapped for hyper.
pub(crate) struct EdgeIo<T> {
    inner: T,
    activity: Arc<Activity>,
    /// The envelope answer still to be written, and how much of it is.
    replacement: Option<(Bytes, usize)>,
    /// hyper's error answer was replaced: whatever else it writes is dropped (it closes next).
    swallowing: bool,
}

impl<T> EdgeIo<T> {
    pub(crate) fn new(inner: T, activity: Arc<Activity>) -> Self {
        EdgeIo {
            inner,
            activity,
            replacement: None,
            swallowing: false,
        }
    }
}

impl<T: AsyncWrite + Unpin> EdgeIo<T> {
    /// Writes what is left of the replacement answer.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.replacement {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
            if *written == bytes.len() {
                self.replacement = None;
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Whether `first` (the start of what hyper writes) is hyper's own error answer; if so, queues the
    /// envelope in its place.
    fn intercept(&mut self, first: &[u8]) -> bool {
        if self.swallowing {
            return true;
        }
        match hyper_error_status(first) {
            Some(status) => {
                self.replacement = Some((envelope_answer(status), 0));
                self.swallowing = true;
                true
            }
            None => false,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for EdgeIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            this.activity.on_read();
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for EdgeIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        if this.intercept(buf) {
            // Reported as written: hyper must not retry bytes that were replaced.
            let _ = this.drain(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        let first = bufs.iter().find(|b| !b.is_empty()).map(|b| &b[..]).unwrap_or(&[]);
        if !first.is_empty() && this.intercept(first) {
            let _ = this.drain(cx)?;
            return Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()));
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// The status of hyper's automatic error answer if `bytes` begins one: an HTTP/1.x 4xx or 5xx head with
/// `content-length: 0`.
fn hyper_error_status(bytes: &[u8]) -> Option<u16> {
    if !(bytes.starts_with(b"HTTP/1.1 ") || bytes.starts_with(b"HTTP/1.0 ")) || bytes.len() < 12 {
        return None;
    }
    let status: u16 = std::str::from_utf8(&bytes[9..12]).ok()?.parse().ok()?;
    if !(400..600).contains(&status) {
        return None;
    }
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = bytes[..end + 2].to_ascii_lowercase();
    head.windows(21)
        .any(|w| w == b"\r\ncontent-length: 0\r\n")
        .then_some(status)
}

/// The envelope answer replacing hyper's empty one; the connection closes after it, as hyper's would.
fn envelope_answer(status: u16) -> Bytes {
    let errmsg = match status {
        414 => "The request URI is too long (the limit is 64 KiB).",
        431 => "The request headers are too large.",
        400 => "The request is not valid HTTP/1.1.",
        _ => "The request could not be read.",
    };
    let body = serde_json::json!({ "s": "error", "errmsg": errmsg }).to_string();
    let reason = axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    Bytes::from(format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_empty_error_answers_are_recognised() {
        let hyper_414 =
            b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Mon, 05 Jan 2026 12:00:00 GMT\r\n\r\n";
        assert_eq!(hyper_error_status(hyper_414), Some(414));
        let ours =
            b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n{}";
        assert_eq!(hyper_error_status(ours), None);
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_error_status(ok), None);
        assert_eq!(hyper_error_status(b"{\"s\":\"ok\"}\n"), None);
        let answer = envelope_answer(431);
        let text = std::str::from_utf8(&answer).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{text}"
        );
        let body: serde_json::Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["s"], "error");
    }
}
