//! The one way every upstream backend sends HTTP: a [`Transport`] (base URL, timeouts, user agent, default
//! headers) sends a [`Call`] through the limits ([`Lane`] per key, [`EndpointLimit`]s for all keys or per
//! key, a pace for all),
//! signs each attempt ([`Signer`]), classifies failures as [`CallError`]s, decodes JSON and retries by
//! call kind ([`RetryPolicy`]): reads after failures that changed nothing, writes only when they never left.

mod answer;
mod endpoint;
mod error_body;
mod limits;
mod request;
mod retry;
mod sign;
#[cfg(test)]
mod tests;

pub use answer::Answer;
pub use endpoint::{EndpointLimit, EndpointPermit, KeyLimit};
pub use error_body::{ErrorBody, ParsedBody};
pub use limits::{Lane, LanePermit, Lanes};
pub use request::Call;
pub use retry::{CallKind, RetryPolicy, RetryWait};
pub use sign::{Bearer, SecretHeaders, SignError, Signer};

use crate::upstream::call::{classify, CallError, CallResult};
use crate::upstream::limiter::SlidingWindow;
use request::Body;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// The user agent of every upstream call.
pub const USER_AGENT: &str = concat!("tvbridge/", env!("CARGO_PKG_VERSION"));

/// The HTTP client of one upstream host. Cheap to share behind an `Arc`.
pub struct Transport {
    client: reqwest::Client,
    base: String,
    retry: RetryPolicy,
    /// Paces every call through this transport (an upstream limit per application or per host).
    all: Option<AllPace>,
    endpoints: Vec<EndpointLimit>,
    errors: Option<error_body::Parser>,
    /// The backend's name in metrics and in each call's trace span (`oanda`, `capital`...).
    backend: &'static str,
}

/// The pace of a whole transport: this process's own, or one shared with every replica through the state
/// store (an upstream's limit per application or login is the upstream's, whatever the number of replicas).
enum AllPace {
    Local(SlidingWindow),
    Shared(crate::upstream::shared_window::SharedWindow),
}

impl AllPace {
    async fn acquire(&self) {
        match self {
            AllPace::Local(window) => window.acquire().await,
            AllPace::Shared(window) => window.acquire().await,
        }
    }
}

impl std::fmt::Debug for AllPace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AllPace::Local(_) => "Local",
            AllPace::Shared(_) => "Shared",
        })
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Transport`].
#[derive(Debug)]
pub struct TransportBuilder {
    base: String,
    request_timeout: Option<Duration>,
    connect_timeout: Duration,
    pool_idle_timeout: Option<Duration>,
    headers: HeaderMap,
    retry: RetryPolicy,
    all: Option<AllPace>,
    endpoints: Vec<EndpointLimit>,
    errors: Option<error_body::Parser>,
    tls: Tls,
    backend: &'static str,
}

/// Which server certificates a transport accepts beyond the public roots (a local gateway's own).
#[derive(Debug, Clone, Default)]
pub struct Tls {
    /// Also trust these PEM certificates (a self-signed gateway's, given as a CA file).
    pub extra_roots_pem: Option<Vec<u8>>,
    /// Accept any certificate: only for a gateway on the operator's own machine, by explicit opt-in.
    pub accept_invalid_certs: bool,
}

impl TransportBuilder {
    /// Bounds each attempt, from sending to the last byte of the answer (`None`: no bound, for streams,
    /// whose silence their reader watches).
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Bounds making the connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Closes pooled connections idle for this long.
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = Some(timeout);
        self
    }

    /// A header sent with every call.
    pub fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers
            .insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        self
    }

    /// How failed calls are retried.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Paces every call through the transport.
    pub fn pace_all(mut self, window: SlidingWindow) -> Self {
        self.all = Some(AllPace::Local(window));
        self
    }

    /// Paces every call through this transport in a window shared by every process on the state store.
    pub fn pace_all_shared(mut self, window: crate::upstream::shared_window::SharedWindow) -> Self {
        self.all = Some(AllPace::Shared(window));
        self
    }

    /// Paces the calls one endpoint limit matches.
    pub fn pace_endpoint(mut self, limit: EndpointLimit) -> Self {
        self.endpoints.push(limit);
        self
    }

    /// Parses the body of every failed answer as `E`, once ([`CallError::upstream`]).
    pub fn error_body<E: ErrorBody>(mut self) -> Self {
        self.errors = Some(error_body::parser::<E>());
        self
    }

    /// The backend's name in the metrics and trace span of every call (default `upstream`).
    pub fn backend(mut self, name: &'static str) -> Self {
        self.backend = name;
        self
    }

    /// Which server certificates are accepted (default: the public roots only).
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = tls;
        self
    }

    /// The transport.
    pub fn build(self) -> anyhow::Result<Transport> {
        let mut client = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .user_agent(USER_AGENT)
            .default_headers(self.headers)
            .danger_accept_invalid_certs(self.tls.accept_invalid_certs);
        if let Some(pem) = &self.tls.extra_roots_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem)? {
                client = client.add_root_certificate(cert);
            }
        }
        if let Some(t) = self.request_timeout {
            client = client.timeout(t);
        }
        if let Some(t) = self.pool_idle_timeout {
            client = client.pool_idle_timeout(t);
        }
        crate::metrics::record::upstream_backend(self.backend);
        Ok(Transport {
            client: client.build()?,
            base: self.base,
            retry: self.retry,
            all: self.all,
            endpoints: self.endpoints,
            errors: self.errors,
            backend: self.backend,
        })
    }
}

impl Transport {
    /// A transport of `base` (e.g. `https://api-fxtrade.oanda.com`; a trailing `/` is dropped), with a
    /// connect timeout of 5 s, the default [`RetryPolicy`] and no pacing until configured.
    pub fn builder(base: &str) -> TransportBuilder {
        TransportBuilder {
            base: base.trim_end_matches('/').to_string(),
            request_timeout: None,
            connect_timeout: Duration::from_secs(5),
            pool_idle_timeout: None,
            headers: HeaderMap::new(),
            retry: RetryPolicy::default(),
            all: None,
            endpoints: Vec::new(),
            errors: None,
            tls: Tls::default(),
            backend: "upstream",
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends `call`, retried as its kind and the policy allow, and decodes the answer as `T`.
    pub async fn json<T: DeserializeOwned>(&self, call: &Call<'_>) -> CallResult<T> {
        let (answer, timer) = self.run(call).await?;
        let decoded = answer.json(call.path());
        // An answer that is not what the upstream documents is the attempt's outcome, not a success.
        timer.done(crate::metrics::record::upstream_outcome(&decoded));
        decoded
    }

    /// Sends `call`, retried as its kind and the policy allow, and returns the whole successful answer.
    pub async fn execute(&self, call: &Call<'_>) -> CallResult<Answer> {
        use tracing::Instrument;
        let span = crate::telemetry::upstream_span(self.backend, &call.method, call.path());
        let (answer, timer) = self.run(call).instrument(span).await?;
        timer.done("ok");
        Ok(answer)
    }

    /// The retry loop: every failed attempt is recorded here, the successful one by the caller once it
    /// knows whether the answer decodes.
    async fn run(&self, call: &Call<'_>) -> CallResult<(Answer, AttemptTimer)> {
        let mut attempt = 0;
        let mut waited = Duration::ZERO;
        loop {
            attempt += 1;
            let (sent, timer) = self.attempt(call).await;
            let error = match sent {
                Ok(response) => match answer::read(response, self.errors).await {
                    Ok(answer) => return Ok((answer, timer)),
                    Err(e) => e,
                },
                Err(e) => e,
            };
            timer.done(crate::metrics::record::call_error_outcome(&error));
            let wait = match self.retry.retry_after(call.kind, &error, attempt) {
                Some(wait) if !call.once && waited + wait <= self.retry.max_total_wait => wait,
                _ => return Err(error),
            };
            tracing::info!(
                path = call.path(),
                attempt,
                wait_ms = wait.as_millis() as u64,
                error = %error,
                "upstream call failed; trying again"
            );
            match call.waiter {
                Some(waiter) => {
                    if !waiter.wait(wait).await {
                        tracing::debug!(path = call.path(), "the caller stopped the retries");
                        return Err(error);
                    }
                }
                None => tokio::time::sleep(wait).await,
            }
            waited += wait;
        }
    }

    /// Waits for a send slot of the pace of the whole transport and takes it, for a request to the same
    /// upstream that the transport does not send itself (a WebSocket upgrade): the upstream counts it
    /// among the transport's requests, so it must count in the transport's pace too. Nothing to wait
    /// for without a pace.
    pub async fn pace_outside(&self) {
        if let Some(all) = &self.all {
            all.acquire().await;
        }
    }

    /// Opens a long answer (a stream) once, never retried: a success is returned unread, anything else as
    /// a failure.
    pub async fn open(&self, call: &Call<'_>) -> CallResult<reqwest::Response> {
        use tracing::Instrument;
        let span = crate::telemetry::upstream_span(self.backend, &call.method, call.path());
        async {
            let (sent, timer) = self.attempt(call).await;
            let opened = match sent {
                Ok(response) => answer::open(response, self.errors).await,
                Err(e) => Err(e),
            };
            timer.done(crate::metrics::record::upstream_outcome(&opened));
            opened
        }
        .instrument(span)
        .await
    }

    /// One attempt, with the timer that records it: the wait for the limits is recorded at once, the
    /// call itself by whoever learns its outcome.
    async fn attempt(&self, call: &Call<'_>) -> (CallResult<reqwest::Response>, AttemptTimer) {
        let queued = std::time::Instant::now();
        let sent = self.limited(call, queued).await;
        let timer = AttemptTimer {
            backend: self.backend,
            endpoint: crate::metrics::labels::upstream_endpoint(call.method.as_str(), &call.path),
            started: sent.1,
        };
        (sent.0, timer)
    }

    /// Limits, then build, sign and send; also when the limits let the call go.
    async fn limited(
        &self,
        call: &Call<'_>,
        queued: std::time::Instant,
    ) -> (CallResult<reqwest::Response>, std::time::Instant) {
        // The in-flight slots first (waiting for one must not hold a send time), then the endpoint and shared
        // paces, and the key's own pace last, nearest to sending: the per-key limit is the one upstreams
        // enforce most. The slots are held until the response headers are in; reading the body is quick.
        // An endpoint's send slot is taken only after the shared pace let the call through: taken before,
        // it would be stamped up to the shared wait earlier than the send, and the next call on that
        // endpoint could reach the upstream inside its interval (IBKR's once per 5 s answered 429 so). A
        // call that loses its endpoint slot to another while waiting goes round again; the shared slot it
        // took counts as a send, which only errs on the safe side.
        let _permit = match call.lane {
            Some(lane) => Some(lane.enter().await),
            None => None,
        };
        let mut admitted = Vec::new();
        for limit in &self.endpoints {
            if limit.applies(&call.method, &call.path) {
                admitted.push(limit.enter(call.key).await);
            }
        }
        loop {
            for permit in &admitted {
                permit.ready().await;
            }
            if let Some(all) = &self.all {
                all.acquire().await;
            }
            if admitted.iter().all(EndpointPermit::try_pace) {
                break;
            }
        }
        for permit in &admitted {
            permit.pace_shared().await;
        }
        if let Some(lane) = call.lane {
            lane.pace().await;
        }
        let started = std::time::Instant::now();
        crate::metrics::record::upstream_limit_wait(self.backend, started - queued);
        (self.send(call).await, started)
    }

    async fn send(&self, call: &Call<'_>) -> CallResult<reqwest::Response> {
        let mut req = self.build(call)?;
        // The trace of this call (`otel` feature; nothing otherwise), before signing: a signer may cover
        // the headers.
        crate::telemetry::inject(req.headers_mut());
        // Signed last, just before sending, so nonces and timestamps are fresh on every attempt.
        if let Some(signer) = call.signer {
            signer
                .sign(&mut req)
                .map_err(|e| CallError::NotSent(format!("signing: {e}")))?;
        }
        self.client.execute(req).await.map_err(classify)
    }

    fn build(&self, call: &Call<'_>) -> CallResult<reqwest::Request> {
        let mut req = self
            .client
            .request(call.method.clone(), format!("{}{}", self.base, call.path));
        if !call.query.is_empty() {
            req = req.query(&call.query);
        }
        for (name, value) in &call.headers {
            req = req.header(name, value);
        }
        req = match &call.body {
            Body::None => req,
            Body::Json(bytes) => req.header(CONTENT_TYPE, "application/json").body(bytes.clone()),
            Body::Form(pairs) => req.form(pairs),
            Body::Raw(content_type, bytes) => req.header(CONTENT_TYPE, *content_type).body(bytes.clone()),
            Body::Unsendable(e) => return Err(CallError::NotSent(format!("the request body: {e}"))),
        };
        req.build().map_err(classify)
    }
}

/// One upstream attempt on its way: recorded with its outcome when that is known.
struct AttemptTimer {
    backend: &'static str,
    endpoint: &'static str,
    started: std::time::Instant,
}

impl AttemptTimer {
    fn done(self, outcome: &'static str) {
        crate::metrics::record::upstream_call(self.backend, self.endpoint, outcome, self.started.elapsed());
    }
}
