//! `Readiness`: whether the bridge can reach its upstream, as `/readyz` reports it.

use serde::Serialize;

/// The answer of a readiness check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// Whether the upstream answered (or there is none to ask).
    pub ready: bool,
    /// The upstream URL asked, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// Why it is not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Readiness {
    /// Ready with no upstream to ask (the paper broker).
    pub fn local() -> Self {
        Readiness {
            ready: true,
            upstream: None,
            reason: None,
        }
    }
}
