//! A cheap reachability probe of an upstream's REST base for `/readyz`: one plain GET with a short timeout,
//! whose answer (any HTTP status) proves the upstream reachable. Answers are cached for a few seconds and
//! probes are single-flight, so load balancers polling `/readyz` cost the upstream almost nothing; a change
//! between reachable and unreachable is logged once, with the URL and the cause.

use crate::broker::Readiness;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How long one probe may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long an answer is reused.
pub const PROBE_TTL: Duration = Duration::from_secs(5);

/// Probes one URL, cached and single-flight.
pub struct UpstreamProbe {
    url: String,
    client: reqwest::Client,
    ttl: Duration,
    /// The last answer and when it was taken; the lock makes concurrent checks wait for one probe.
    last: Mutex<Option<(Instant, Readiness)>>,
}

impl std::fmt::Debug for UpstreamProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamProbe")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl UpstreamProbe {
    /// A probe of `url` (a REST base without credentials).
    pub fn new(url: &str) -> Self {
        Self::with(url, PROBE_TIMEOUT, PROBE_TTL)
    }

    /// A probe with its own timeout and cache time (tests).
    pub fn with(url: &str, timeout: Duration, ttl: Duration) -> Self {
        Self::with_tls(url, timeout, ttl, &crate::upstream::transport::Tls::default())
    }

    /// A probe of `url` that trusts server certificates as `tls` says (a local gateway's own).
    pub fn with_tls(
        url: &str,
        timeout: Duration,
        ttl: Duration,
        tls: &crate::upstream::transport::Tls,
    ) -> Self {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect answer already proves the host answers.
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(tls.accept_invalid_certs);
        for cert in tls
            .extra_roots_pem
            .as_deref()
            .map(reqwest::Certificate::from_pem_bundle)
            .and_then(Result::ok)
            .unwrap_or_default()
        {
            builder = builder.add_root_certificate(cert);
        }
        let client = builder.build().unwrap_or_default();
        UpstreamProbe {
            url: url.to_owned(),
            client,
            ttl,
            last: Mutex::new(None),
        }
    }

    /// Whether the upstream answers, from cache when the last probe is recent.
    pub async fn check(&self) -> Readiness {
        let mut last = self.last.lock().await;
        if let Some((at, answer)) = last.as_ref() {
            if at.elapsed() < self.ttl {
                return answer.clone();
            }
        }
        let answer = self.probe().await;
        let changed = last.as_ref().map(|(_, a)| a.ready) != Some(answer.ready);
        if changed {
            match &answer.reason {
                None => tracing::info!(upstream = %self.url, "upstream reachable"),
                Some(reason) => tracing::warn!(upstream = %self.url, %reason, "upstream unreachable"),
            }
        }
        *last = Some((Instant::now(), answer.clone()));
        answer
    }

    async fn probe(&self) -> Readiness {
        let reason = match self.client.get(&self.url).send().await {
            Ok(_) => None,
            Err(e) if e.is_timeout() => Some(format!("no answer within {} ms", PROBE_TIMEOUT.as_millis())),
            Err(e) => Some(root_cause(&e)),
        };
        Readiness {
            ready: reason.is_none(),
            upstream: Some(self.url.clone()),
            reason,
        }
    }
}

/// The innermost cause of `e` ("Connection refused (os error 111)"), which says more than reqwest's
/// "error sending request".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn any_answer_is_ready_and_a_closed_port_is_not() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new(); // every path answers 404: still an answer
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let probe = UpstreamProbe::with(&format!("http://{addr}/api"), PROBE_TIMEOUT, Duration::ZERO);
        let up = probe.check().await;
        assert!(up.ready, "{up:?}");
        assert_eq!(
            up.upstream.as_deref(),
            Some(format!("http://{addr}/api").as_str())
        );
        server.abort();
        let _ = server.await;
        let down = probe.check().await;
        assert!(!down.ready);
        assert!(
            down.reason
                .as_deref()
                .unwrap_or("")
                .to_lowercase()
                .contains("refused"),
            "{down:?}"
        );
    }

    #[tokio::test]
    async fn answers_are_cached() {
        let probe = UpstreamProbe::with("http://127.0.0.1:9/", PROBE_TIMEOUT, Duration::from_secs(60));
        let first = probe.check().await;
        let started = Instant::now();
        for _ in 0..100 {
            assert_eq!(probe.check().await, first);
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "cached answers cost no probe"
        );
    }
}
