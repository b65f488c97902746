//! The HTTP layer both OANDA API versions share: bearer auth, the datetime-format header, client-side pacing
//! (requests per second and new stream connections per second), read retries, and failures classified as
//! [`CallError`]s. Writes are never retried once they may have been sent.

use crate::secret::Secret;
use crate::upstream::call::{classify, retry_after, CallError, CallResult};
use crate::upstream::limiter::SlidingWindow;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// Attempts of a read (the first included) before its failure is reported.
const READ_ATTEMPTS: u32 = 3;
/// OANDA allows 2 new connections per second; stream connections are paced below that.
const NEW_STREAMS_PER_SECOND: u32 = 2;

/// The shared HTTP client of one OANDA backend. Cheap to share behind an `Arc`.
pub struct Http {
    client: reqwest::Client,
    streams: reqwest::Client,
    rest: String,
    stream: String,
    limiter: SlidingWindow,
    connects: SlidingWindow,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("rest", &self.rest)
            .field("stream", &self.stream)
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
        let agent = concat!("tvbridge/", env!("CARGO_PKG_VERSION"));
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(agent)
            .build()?;
        // Streams live for hours: only connecting is bounded; silence is watched by the stream reader.
        let streams = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(agent)
            .build()?;
        Ok(Http {
            client,
            streams,
            rest: rest.trim_end_matches('/').to_string(),
            stream: stream.trim_end_matches('/').to_string(),
            limiter: SlidingWindow::per_second(requests_per_second),
            connects: SlidingWindow::per_second(NEW_STREAMS_PER_SECOND),
        })
    }

    fn request(
        &self,
        client: &reqwest::Client,
        base: &str,
        method: Method,
        path: &str,
        token: &Secret,
    ) -> reqwest::RequestBuilder {
        let req = client
            .request(method, format!("{base}{path}"))
            .bearer_auth(token.expose());
        // Both versions default to RFC 3339 already; saying so keeps a changed account default from breaking us.
        if path.starts_with("/v1/") {
            req.header("X-Accept-Datetime-Format", "RFC3339")
        } else {
            req.header("Accept-Datetime-Format", "RFC3339")
        }
    }

    async fn execute<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder, path: &str) -> CallResult<T> {
        self.limiter.acquire().await;
        let response = req.send().await.map_err(classify)?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .map_err(|e| CallError::NoAnswer(format!("reading the answer: {}", e.without_url())))?;
        if !status.is_success() {
            return Err(CallError::Status {
                status: status.as_u16(),
                retry_after: retry_after(&headers, status),
                body: text,
            });
        }
        let text = if text.trim().is_empty() {
            "{}"
        } else {
            text.as_str()
        };
        serde_json::from_str(text).map_err(|e| CallError::Decode(format!("{}: {e}", path_only(path))))
    }

    /// `GET` on the REST host, retried on failures that leave nothing changed (a read changes nothing).
    pub async fn get<T: DeserializeOwned>(
        &self,
        token: &Secret,
        path: &str,
        query: &[(&str, String)],
    ) -> CallResult<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let req = self
                .request(&self.client, &self.rest, Method::GET, path, token)
                .query(query);
            match self.execute(req, path).await {
                Err(e) if attempt < READ_ATTEMPTS && retryable_read(&e) => {
                    let wait = match &e {
                        CallError::Status {
                            retry_after: Some(d), ..
                        } => *d,
                        _ => Duration::from_millis(200 * u64::from(attempt)),
                    };
                    tracing::debug!(path = path_only(path), error = %e, "retrying an OANDA read");
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    /// A JSON write (v20). Sent again only when it certainly never left (`NotSent`).
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        token: &Secret,
        method: Method,
        path: &str,
        body: &impl Serialize,
    ) -> CallResult<T> {
        let body = serde_json::to_value(body).map_err(|e| CallError::NotSent(e.to_string()))?;
        self.write(method, path, token, |req| req.json(&body)).await
    }

    /// A form write (v1). Sent again only when it certainly never left (`NotSent`).
    pub async fn send_form<T: DeserializeOwned>(
        &self,
        token: &Secret,
        method: Method,
        path: &str,
        form: &[(&str, String)],
    ) -> CallResult<T> {
        self.write(method, path, token, |req| req.form(form)).await
    }

    async fn write<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: &Secret,
        body: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> CallResult<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let req = body(self.request(&self.client, &self.rest, method.clone(), path, token));
            match self.execute(req, path).await {
                Err(CallError::NotSent(e)) if attempt < 2 => {
                    tracing::debug!(path = path_only(path), error = %e, "an OANDA write was not sent; sending it once more");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => return other,
            }
        }
    }

    /// Opens a stream on the stream host and returns its response once the status is a success. New stream
    /// connections are paced (OANDA allows 2 per second).
    pub async fn open_stream(
        &self,
        token: &Secret,
        path: &str,
        query: &[(&str, String)],
    ) -> CallResult<reqwest::Response> {
        self.connects.acquire().await;
        let response = self
            .request(&self.streams, &self.stream, Method::GET, path, token)
            .query(query)
            .send()
            .await
            .map_err(classify)?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Err(CallError::Status {
            status: status.as_u16(),
            retry_after: retry_after(&headers, status),
            body,
        })
    }
}

/// Whether a failed read is worth trying again: transport failures, throttling and server errors.
fn retryable_read(e: &CallError) -> bool {
    match e {
        CallError::NotSent(_) | CallError::NoAnswer(_) => true,
        CallError::Status { status, .. } => *status == 429 || *status >= 500,
        CallError::Decode(_) => false,
    }
}

/// The path without ids worth hiding? Paths hold account ids, which are not secrets; only the query is
/// dropped (it never reaches this function anyway).
fn path_only(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_retry_only_what_changed_nothing() {
        assert!(retryable_read(&CallError::NoAnswer("t".into())));
        let status = |s| CallError::Status {
            status: s,
            body: String::new(),
            retry_after: None,
        };
        assert!(retryable_read(&status(503)) && retryable_read(&status(429)));
        assert!(!retryable_read(&status(400)) && !retryable_read(&status(401)));
        assert!(!retryable_read(&CallError::Decode("x".into())));
    }

    #[test]
    fn debug_shows_hosts_only() {
        let http = Http::new("https://a", "https://b/", 10, Duration::from_secs(1)).unwrap();
        let printed = format!("{http:?}");
        assert!(printed.contains("https://a") && printed.contains("\"https://b\""));
    }
}
