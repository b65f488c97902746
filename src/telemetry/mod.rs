//! Optional OpenTelemetry trace export (feature `otel`, configured by `[telemetry]`): the tracing layer
//! that turns the bridge's spans into OTLP spans, one client span per upstream call, and the W3C
//! `traceparent` on upstream requests. Built without the feature every function here is a no-op and nothing
//! changes on the wire or in the logs.

mod config;
#[cfg(feature = "otel")]
mod otel;

pub use config::TelemetryConfig;

use tracing::Subscriber;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// A tracing layer, boxed so that the subscriber's type does not depend on the feature.
pub type BoxedLayer<S> = Box<dyn Layer<S> + Send + Sync + 'static>;

/// The exporter set up by [`layer`]; [`Telemetry::shutdown`] sends what is still queued.
#[derive(Default)]
pub struct Telemetry {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still queued and stops the exporter (at most a few seconds: a collector that is
    /// gone must not hold the exit). Call it while the tokio runtime still runs.
    pub fn shutdown(self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider {
            otel::shutdown(provider);
        }
    }
}

/// The OpenTelemetry layer for `config` (none when export is off). With the feature, it must be called
/// inside a tokio runtime: the batch exporter runs on it.
pub fn layer<S>(config: &TelemetryConfig) -> anyhow::Result<(Option<BoxedLayer<S>>, Telemetry)>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    if !config.enabled() {
        return Ok((None, Telemetry::default()));
    }
    #[cfg(feature = "otel")]
    {
        let (layer, provider) = otel::layer(config)?;
        Ok((
            Some(layer),
            Telemetry {
                provider: Some(provider),
            },
        ))
    }
    #[cfg(not(feature = "otel"))]
    {
        // `Config::problems` refuses this; kept as an error in case a caller skips validation.
        anyhow::bail!(
            "telemetry.otlp_endpoint is set, but this build of tvbridge has no OpenTelemetry: rebuild with \
             `--features otel`"
        )
    }
}

/// The span of one upstream call: `backend`, the method and the endpoint's bounded name (ids replaced by
/// `{id}`, no query: neither ids nor secrets become attributes). A disabled span without the feature.
pub fn upstream_span(backend: &'static str, method: &reqwest::Method, path: &str) -> tracing::Span {
    #[cfg(feature = "otel")]
    {
        // The same bounded name the metrics use (`GET /v3/accounts/{id}/orders`).
        let name = crate::metrics::labels::upstream_endpoint(method.as_str(), path);
        let template = name.split_once(' ').map_or(name, |(_, template)| template);
        tracing::info_span!(
            "upstream",
            otel.name = name,
            otel.kind = "client",
            http.request.method = %method,
            tvbridge.backend = backend,
            url.template = template,
        )
    }
    #[cfg(not(feature = "otel"))]
    {
        let _ = (backend, method, path);
        tracing::Span::none()
    }
}

/// Writes the current span's trace into `headers` as W3C `traceparent` (nothing when no trace is being
/// recorded, and always nothing without the feature).
pub fn inject(headers: &mut reqwest::header::HeaderMap) {
    #[cfg(feature = "otel")]
    otel::inject(headers);
    #[cfg(not(feature = "otel"))]
    let _ = headers;
}

#[cfg(test)]
mod tests {
    #[test]
    fn nothing_is_added_to_an_upstream_request_when_no_trace_is_exported() {
        // Without the feature, and with it but no exporter set up: the wire is unchanged.
        let mut headers = reqwest::header::HeaderMap::new();
        let span = super::upstream_span("oanda", &reqwest::Method::GET, "/v3/accounts/1");
        let _entered = span.enter();
        super::inject(&mut headers);
        assert!(headers.is_empty(), "{headers:?}");
    }
}
