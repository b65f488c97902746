//! Body wrappers of the connection service: a request body that must arrive whole before a deadline, and
//! a response body that holds the connection's "request in flight" mark until it is done.

use super::conn::InFlight;
use axum::BoxError;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The request body did not arrive whole in time (a client that announced more than it sends, or sends
/// it byte by byte).
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} s", .0.as_secs())]
pub struct BodyTimedOut(pub Duration);

impl BodyTimedOut {
    /// The timeout in `error` or any of its sources.
    pub fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a BodyTimedOut> {
        let mut current = Some(error);
        while let Some(e) = current {
            if let Some(found) = e.downcast_ref::<BodyTimedOut>() {
                return Some(found);
            }
            current = e.source();
        }
        None
    }
}

/// A request body that fails with [`BodyTimedOut`] when it is not complete by its deadline.
pub struct DeadlineBody<B> {
    inner: B,
    deadline: Instant,
    limit: Duration,
    /// Made on the first wait only: most bodies are empty or already buffered.
    sleep: Option<Pin<Box<Sleep>>>,
    timed_out: bool,
}

impl<B> DeadlineBody<B> {
    /// `inner`, due whole within `limit` from now.
    pub fn new(inner: B, limit: Duration) -> Self {
        DeadlineBody {
            inner,
            deadline: Instant::now() + limit,
            limit,
            sleep: None,
            timed_out: false,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.timed_out {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                let deadline = this.deadline;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if sleep.as_mut().poll(cx).is_ready() {
                    this.timed_out = true;
                    return Poll::Ready(Some(Err(Box::new(BodyTimedOut(this.limit)))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.timed_out || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that keeps its request counted as in flight until hyper has taken all of it (or dropped
/// it because the client left).
pub struct TrackedBody {
    inner: axum::body::Body,
    _in_flight: InFlight,
}

impl TrackedBody {
    pub(crate) fn new(inner: axum::body::Body, in_flight: InFlight) -> Self {
        TrackedBody {
            inner,
            _in_flight: in_flight,
        }
    }
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use http_body_util::{BodyExt, StreamBody};

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stops_short_times_out_and_a_complete_one_does_not() {
        let complete = http_body_util::Full::new(Bytes::from_static(b"a=1"));
        let body = DeadlineBody::new(complete, Duration::from_secs(5));
        assert_eq!(&body.collect().await.unwrap().to_bytes()[..], b"a=1");

        // One frame, then nothing: like a client whose Content-Length promised more.
        let frames =
            futures_util::stream::iter([Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(b"a=")))])
                .chain(futures_util::stream::pending());
        let started = Instant::now();
        let body = DeadlineBody::new(StreamBody::new(frames), Duration::from_secs(5));
        let err = body.collect().await.unwrap_err();
        assert!(BodyTimedOut::find(err.as_ref()).is_some(), "{err}");
        assert_eq!(started.elapsed().as_secs(), 5);
    }
}
