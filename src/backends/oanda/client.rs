//! OANDA's configuration of the shared [`Transport`]: bearer auth, the datetime-format header, pacing
//! (requests per second on the REST host, 2 new stream connections per second on the stream host) and
//! OANDA's retry policy. Reads are retried; writes are sent again only when they certainly never left.

use super::errors::OandaError;
use crate::secret::Secret;
use crate::upstream::call::CallResult;
use crate::upstream::limiter::SlidingWindow;
use crate::upstream::transport::{Bearer, Call, CallKind, RetryPolicy, Transport};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// OANDA allows 2 new connections per second; stream connections are paced below that.
const NEW_STREAMS_PER_SECOND: u32 = 2;

/// Three attempts of a read after a transport failure, a 5xx or a 429 (waiting its `Retry-After`, else
/// 200 ms times the attempt).
const RETRY: RetryPolicy = RetryPolicy {
    read_attempts: 3,
    throttled_attempts: 3,
    backoff: Duration::from_millis(200),
    throttled_wait: None,
    max_total_wait: Duration::from_secs(10),
};

/// The shared HTTP client of one OANDA backend. Cheap to share behind an `Arc`.
pub struct Http {
    rest: Transport,
    stream: Transport,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("rest", &self.rest.base())
            .field("stream", &self.stream.base())
            .finish_non_exhaustive()
    }
}

impl Http {
    /// A client of the `rest` and `stream` hosts (no trailing `/`), at most `requests_per_second` requests.
    pub fn new(
        rest: &str,
        stream: &str,
        requests_per_second: u32,
        timeout: Duration,
    ) -> anyhow::Result<Http> {
        let connect = timeout.min(Duration::from_secs(5));
        let rest = Transport::builder(rest)
            .backend("oanda")
            .request_timeout(Some(timeout))
            .connect_timeout(connect)
            .pool_idle_timeout(Duration::from_secs(60))
            .retry(RETRY)
            .pace_all(SlidingWindow::per_second(requests_per_second))
            .error_body::<OandaError>()
            .build()?;
        // Streams live for hours: only connecting is bounded; silence is watched by the stream reader.
        let stream = Transport::builder(stream)
            .backend("oanda")
            .connect_timeout(connect)
            .pace_all(SlidingWindow::per_second(NEW_STREAMS_PER_SECOND))
            .error_body::<OandaError>()
            .build()?;
        Ok(Http { rest, stream })
    }

    /// `GET` on the REST host, retried on failures that leave nothing changed (a read changes nothing).
    pub async fn get<T: DeserializeOwned>(
        &self,
        token: &Secret,
        path: &str,
        query: &[(&str, String)],
    ) -> CallResult<T> {
        let bearer = Bearer(token);
        let call = call(CallKind::Read, Method::GET, path, &bearer).query(query.iter().cloned());
        self.rest.json(&call).await
    }

    /// A JSON write (v20). Sent again only when it certainly never left (`NotSent`).
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        token: &Secret,
        method: Method,
        path: &str,
        body: &impl Serialize,
    ) -> CallResult<T> {
        let bearer = Bearer(token);
        let call = call(CallKind::Write, method, path, &bearer).json(body);
        self.rest.json(&call).await
    }

    /// A form write (v1). Sent again only when it certainly never left (`NotSent`).
    pub async fn send_form<T: DeserializeOwned>(
        &self,
        token: &Secret,
        method: Method,
        path: &str,
        form: &[(&str, String)],
    ) -> CallResult<T> {
        let bearer = Bearer(token);
        let call = call(CallKind::Write, method, path, &bearer).form(form.iter().cloned());
        self.rest.json(&call).await
    }

    /// Opens a stream on the stream host and returns its response once the status is a success. New stream
    /// connections are paced (OANDA allows 2 per second); a failed opening is not retried here.
    pub async fn open_stream(
        &self,
        token: &Secret,
        path: &str,
        query: &[(&str, String)],
    ) -> CallResult<reqwest::Response> {
        let bearer = Bearer(token);
        let call = call(CallKind::Read, Method::GET, path, &bearer).query(query.iter().cloned());
        self.stream.open(&call).await
    }
}

/// A call with OANDA's headers, signed with the caller's token.
fn call<'a>(kind: CallKind, method: Method, path: &str, bearer: &'a Bearer<'_>) -> Call<'a> {
    let call = Call::new(kind, method, path).signed(bearer);
    // Both versions default to RFC 3339 already; saying so keeps a changed account default from breaking us.
    if path.starts_with("/v1/") {
        call.header("x-accept-datetime-format", "RFC3339")
    } else {
        call.header("accept-datetime-format", "RFC3339")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_hosts_only() {
        let http = Http::new("https://a", "https://b/", 10, Duration::from_secs(1)).unwrap();
        let printed = format!("{http:?}");
        assert!(printed.contains("https://a") && printed.contains("\"https://b\""));
    }
}
