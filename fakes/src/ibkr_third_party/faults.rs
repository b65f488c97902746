//! Faults a test schedules on the fake, matched by method and a path prefix below `/v1/api` (the same
//! style as the Client Portal fake's): answers without effect (5xx, 408, 429, 202), a delay before the
//! normal answer, and the ambiguous writes, carried out and then answered with an error or not in time.

use std::time::Duration;

/// One scheduled fault.
#[derive(Clone, Debug)]
pub enum Fault {
    /// The next `times` matching requests get `status` (`{"error": ...}`, empty for 202, `Retry-After`
    /// for 429) and have no effect.
    Status {
        method: Option<String>,
        path_prefix: String,
        status: u16,
        times: usize,
    },
    /// The next `times` matching requests are answered normally after `delay`.
    Delay {
        method: Option<String>,
        path_prefix: String,
        delay: Duration,
        times: usize,
    },
    /// The next matching request is carried out (an order IS placed) but answered with `status`
    /// (500, 408, 202...).
    AcceptThenStatus {
        method: Option<String>,
        path_prefix: String,
        status: u16,
    },
    /// The next matching request is carried out (an order IS placed) and its answer withheld for
    /// `delay` (past the client's timeout).
    AcceptThenHang {
        method: Option<String>,
        path_prefix: String,
        delay: Duration,
    },
}

impl Fault {
    fn target(&self) -> (&Option<String>, &str) {
        match self {
            Fault::Status {
                method, path_prefix, ..
            }
            | Fault::Delay {
                method, path_prefix, ..
            }
            | Fault::AcceptThenStatus {
                method, path_prefix, ..
            }
            | Fault::AcceptThenHang {
                method, path_prefix, ..
            } => (method, path_prefix),
        }
    }

    /// Whether the fault applies to a request (path below `/v1/api`, or `/authorize`).
    pub(super) fn matches(&self, req_method: &str, req_path: &str) -> bool {
        let (method, prefix) = self.target();
        method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(req_method))
            && req_path.starts_with(prefix)
    }

    /// How many requests it still applies to.
    fn times_mut(&mut self) -> Option<&mut usize> {
        match self {
            Fault::Status { times, .. } | Fault::Delay { times, .. } => Some(times),
            _ => None,
        }
    }
}

/// Takes the first pending fault that matches (one with requests left stays queued).
pub(super) fn take(faults: &mut Vec<Fault>, method: &str, path: &str) -> Option<Fault> {
    let i = faults.iter().position(|f| f.matches(method, path))?;
    if let Some(times) = faults[i].times_mut() {
        if *times > 1 {
            *times -= 1;
            return Some(faults[i].clone());
        }
    }
    Some(faults.remove(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_fault_applies_that_many_times_then_leaves() {
        let mut faults = vec![
            Fault::Status {
                method: Some("POST".into()),
                path_prefix: "/accounts/U1/orders".into(),
                status: 503,
                times: 2,
            },
            Fault::AcceptThenHang {
                method: None,
                path_prefix: "/accounts".into(),
                delay: Duration::from_secs(1),
            },
        ];
        assert!(matches!(
            take(&mut faults, "post", "/accounts/U1/orders"),
            Some(Fault::Status { .. })
        ));
        assert!(matches!(
            take(&mut faults, "POST", "/accounts/U1/orders"),
            Some(Fault::Status { .. })
        ));
        assert!(matches!(
            take(&mut faults, "POST", "/accounts/U1/orders"),
            Some(Fault::AcceptThenHang { .. })
        ));
        assert!(take(&mut faults, "POST", "/accounts/U1/orders").is_none());
    }
}
