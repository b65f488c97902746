//! The process's one Prometheus recorder: installed once (every in-process server of the test suite
//! shares it), every series described, `_seconds` histograms with buckets for HTTP (sub-millisecond to
//! tens of seconds), and kept tidy by a background upkeep.

use super::names::{self, Kind};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// Upper bounds of every `_seconds` histogram: a cached poll answers in well under a millisecond, an
/// upstream call in tens to hundreds, a slow one in seconds.
pub const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often recorded histogram samples are folded into their buckets between scrapes, so memory stays
/// bounded when nobody scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder, once per process; later calls do nothing. `None` when another recorder was
/// installed first (an embedding program's): then the bridge records into that one and serves nothing.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .ok()?;
            let handle = match builder.install_recorder() {
                Ok(handle) => handle,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics: a recorder was installed before the bridge's; /metrics serves nothing");
                    return None;
                }
            };
            describe();
            preregister();
            let upkeep = handle.clone();
            // A plain thread: the recorder outlives any one runtime (tests start many).
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(UPKEEP);
                    upkeep.run_upkeep();
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "metrics: the upkeep thread did not start; histograms are folded at each scrape only");
            }
            Some(handle)
        })
        .as_ref()
}

/// Whether the bridge's recorder is installed (the middleware records nothing before).
pub fn installed() -> bool {
    matches!(HANDLE.get(), Some(Some(_)))
}

/// The Prometheus text page (format 0.0.4), or `None` when no recorder of the bridge's is installed.
pub fn render() -> Option<String> {
    let handle = HANDLE.get()?.as_ref()?;
    handle.run_upkeep();
    Some(handle.render())
}

fn describe() {
    for s in names::ALL {
        match s.kind {
            Kind::Counter => ::metrics::describe_counter!(s.name, s.help),
            Kind::Gauge => ::metrics::describe_gauge!(s.name, s.help),
            Kind::Histogram => ::metrics::describe_histogram!(s.name, s.help),
        }
    }
}

/// Series whose labels are all known up front start at zero, so `rate()` and ratios have a baseline
/// before the first event.
fn preregister() {
    ::metrics::gauge!(names::BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    for outcome in super::record::LOGIN_OUTCOMES {
        ::metrics::counter!(names::LOGINS, "outcome" => *outcome).increment(0);
    }
    for outcome in super::record::IDEMPOTENCY_OUTCOMES {
        ::metrics::counter!(names::IDEMPOTENCY, "outcome" => *outcome).increment(0);
    }
    for event in super::record::HUB_LEASE_EVENTS {
        ::metrics::counter!(names::HUB_LEASES, "event" => *event).increment(0);
    }
    for source in super::record::HUB_SOURCES {
        ::metrics::counter!(names::HUB_SNAPSHOTS, "source" => *source).increment(0);
    }
}
