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
        let endpoint = endpoint_name(path);
        tracing::info_span!(
            "upstream",
            otel.name = %format!("{method} {endpoint}"),
            otel.kind = "client",
            http.request.method = %method,
            tvbridge.backend = backend,
            url.template = %endpoint,
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

/// A bounded name of an upstream path: a segment with a digit (but for an API version such as `v3`), an
/// `@` or a `.` in it, or longer than 32 bytes, is an id (`/v3/accounts/101-004-1-001/orders` -> `/v3/accounts/{id}/orders`), and the name is cut
/// after 12 segments. The upstream's documented endpoints stay recognisable; account, order and deal ids,
/// e-mail logins and tokens never reach an attribute.
pub fn endpoint_name(path: &str) -> String {
    let mut out = String::new();
    for (i, segment) in path.split('/').filter(|s| !s.is_empty()).enumerate() {
        if i == 12 {
            out.push_str("/…");
            break;
        }
        out.push('/');
        // An API version (`v3`, `v20`) has digits but is no id.
        let version = segment.len() <= 3
            && segment.starts_with('v')
            && segment[1..].chars().all(|c| c.is_ascii_digit());
        let id = segment.len() > 32
            || (!version
                && segment
                    .chars()
                    .any(|c| c.is_ascii_digit() || c == '@' || c == '.' || c == '%' || !c.is_ascii()));
        out.push_str(if id { "{id}" } else { segment });
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::endpoint_name;

    #[test]
    fn endpoint_names_hold_no_ids() {
        for (path, name) in [
            (
                "/v3/accounts/101-004-1234567-001/orders",
                "/v3/accounts/{id}/orders",
            ),
            (
                "/iserver/account/DU1234567/orders",
                "/iserver/account/{id}/orders",
            ),
            ("/positions/DIAAAABBBCCC123", "/positions/{id}"),
            ("/session", "/session"),
            ("/v3/accounts", "/v3/accounts"),
            ("/v20/x/v123", "/v20/x/{id}"),
            ("", "/"),
            ("/markets/EURUSD", "/markets/EURUSD"),
            ("/users/a%40b", "/users/{id}"),
        ] {
            assert_eq!(endpoint_name(path), name, "{path}");
        }
        let long = "/a".repeat(40);
        assert!(
            endpoint_name(&long).len() < 40,
            "bounded: {}",
            endpoint_name(&long)
        );
    }

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
