//! The OpenTelemetry side of [`super`]: an OTLP/HTTP (protobuf) batch exporter on the tokio runtime, the
//! `tracing-opentelemetry` layer on it, and the W3C trace-context propagation into upstream requests.

use super::{BoxedLayer, TelemetryConfig};
use opentelemetry::propagation::{Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::time::Duration;
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::registry::LookupSpan;

/// One export may take this long; a slow collector delays only the exporter, never a request.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn layer<S>(config: &TelemetryConfig) -> anyhow::Result<(BoxedLayer<S>, SdkTracerProvider)>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(config.traces_url())
        .with_timeout(EXPORT_TIMEOUT)
        .with_headers(Default::default())
        .build()
        .map_err(|e| anyhow::anyhow!("telemetry.otlp_endpoint: cannot build the OTLP exporter: {e}"))?;
    // On the process's tokio runtime: the exporter's HTTP client is reqwest's async one.
    let processor = BatchSpanProcessor::builder(exporter, opentelemetry_sdk::runtime::Tokio).build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            config.sample_ratio,
        ))))
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(config.service_name.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer("tvbridge");
    let layer = tracing_opentelemetry::layer().with_tracer(tracer);
    Ok((Box::new(layer), provider))
}

pub(super) fn shutdown(provider: SdkTracerProvider) {
    if let Err(e) = provider.shutdown_with_timeout(Duration::from_secs(5)) {
        eprintln!("tvbridge: the last traces were not exported: {e}");
    }
}

/// `traceparent` (and `tracestate`, when there is one) of the current span.
pub(super) fn inject(headers: &mut HeaderMap) {
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut Headers(headers));
}

struct Headers<'a>(&'a mut HeaderMap);

impl Injector for Headers<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}
