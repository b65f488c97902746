//! `[telemetry]`: where (and whether) the bridge exports its traces over OpenTelemetry's OTLP/HTTP.

use serde::{Deserialize, Serialize};

/// `[telemetry]`: optional OpenTelemetry trace export (builds with the `otel` feature only).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// The OTLP/HTTP collector's base URL (`http://collector:4318`; `/v1/traces` is appended unless it is
    /// there already). Empty: no export.
    pub otlp_endpoint: String,
    /// The `service.name` resource attribute of every exported span.
    pub service_name: String,
    /// The share of new traces recorded, 0.0..=1.0; a trace whose caller sampled it stays sampled.
    pub sample_ratio: f64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            otlp_endpoint: String::new(),
            service_name: "tvbridge".into(),
            sample_ratio: 1.0,
        }
    }
}

impl TelemetryConfig {
    /// Whether traces are to be exported.
    pub fn enabled(&self) -> bool {
        !self.otlp_endpoint.trim().is_empty()
    }

    /// The URL spans are posted to.
    pub fn traces_url(&self) -> String {
        let base = self.otlp_endpoint.trim().trim_end_matches('/');
        if base.ends_with("/v1/traces") {
            base.to_owned()
        } else {
            format!("{base}/v1/traces")
        }
    }

    /// Problems of the section, each naming its key. An endpoint in a build without OpenTelemetry is one:
    /// the operator asked for traces, and silently sending none would hide it.
    pub fn problems(&self) -> Vec<String> {
        self.problems_in(cfg!(feature = "otel"))
    }

    fn problems_in(&self, built_with_otel: bool) -> Vec<String> {
        let mut out = Vec::new();
        if !(0.0..=1.0).contains(&self.sample_ratio) {
            out.push(format!(
                "telemetry.sample_ratio must be 0.0..=1.0, got {}",
                self.sample_ratio
            ));
        }
        if self.service_name.trim().is_empty() {
            out.push("telemetry.service_name must not be empty".into());
        }
        if !self.enabled() {
            return out;
        }
        let endpoint = self.otlp_endpoint.trim();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            out.push(
                "telemetry.otlp_endpoint must start with http:// or https:// (or be empty for no export)"
                    .into(),
            );
        } else if self.traces_url().parse::<axum::http::Uri>().is_err() {
            out.push("telemetry.otlp_endpoint is not a valid URL".into());
        }
        if !built_with_otel {
            out.push(
                "telemetry.otlp_endpoint is set, but this build of tvbridge has no OpenTelemetry: rebuild with \
                 `cargo build --release --features otel`, or leave telemetry.otlp_endpoint empty"
                    .into(),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_valid() {
        let c = TelemetryConfig::default();
        assert!(!c.enabled());
        assert!(c.problems_in(false).is_empty());
        assert!(c.problems_in(true).is_empty());
    }

    #[test]
    fn an_endpoint_without_the_feature_is_refused_with_the_way_out() {
        let c = TelemetryConfig {
            otlp_endpoint: "http://collector:4318".into(),
            ..TelemetryConfig::default()
        };
        assert!(c.problems_in(true).is_empty());
        let problems = c.problems_in(false).join("; ");
        assert!(
            problems.contains("telemetry.otlp_endpoint") && problems.contains("--features otel"),
            "{problems}"
        );
    }

    #[test]
    fn the_traces_path_is_added_once() {
        for (given, url) in [
            ("http://c:4318", "http://c:4318/v1/traces"),
            ("http://c:4318/", "http://c:4318/v1/traces"),
            ("http://c:4318/v1/traces", "http://c:4318/v1/traces"),
        ] {
            let c = TelemetryConfig {
                otlp_endpoint: given.into(),
                ..TelemetryConfig::default()
            };
            assert_eq!(c.traces_url(), url);
        }
    }

    #[test]
    fn bad_values_are_named() {
        let c = TelemetryConfig {
            otlp_endpoint: "collector:4318".into(),
            service_name: " ".into(),
            sample_ratio: 1.5,
        };
        let all = c.problems_in(true).join("; ");
        for key in [
            "telemetry.otlp_endpoint",
            "telemetry.service_name",
            "telemetry.sample_ratio",
        ] {
            assert!(all.contains(key), "{key} missing from {all}");
        }
    }
}
