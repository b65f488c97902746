//! The invariant checker: what the client was answered, what the upstream's ledger holds and what the
//! streams showed, compared after a campaign. Pure data in, violations out (so a unit test can feed it a
//! doubled order, a silent order or a regressing status and see each reported).
//!
//! Orders are matched to the client's attempts by quantity: attempt `n` of a run buys `step * (K + n)`
//! units (n < K, `step` the instrument's quantity step), every placed order is a buy, and closing a
//! position sells, so a buy of that quantity in the ledger is that attempt's order and nothing else's
//! (a sum of two attempts is at least `2 * K * step`, more than any one).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How one placement ended for the client (after its resends).
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// `s: ok` with this `orderId`.
    Acked(String),
    /// An error answer the client took as final (`errmsg`).
    Failed(String),
    /// An answer saying the outcome is not known (the user is to check before placing again), or no
    /// final answer by the end of the run (timeouts, "still being placed"). Allowed whether or not the
    /// order exists upstream; never twice.
    Unknown(String),
}

/// One order placement by the client (one `requestId`).
#[derive(Clone, Debug)]
pub struct Attempt {
    pub request_id: String,
    /// The ledger key: the quantity this attempt alone bought.
    pub qty: u64,
    pub kind: &'static str,
    /// Sends of the same `requestId` after the first (client timeouts, broken connections).
    pub resends: u32,
    pub outcome: Outcome,
}

/// One buy order in the upstream's ledger.
#[derive(Clone, Debug)]
pub struct UpstreamOrder {
    /// The upstream's id (deal id, order id).
    pub id: String,
    pub qty: u64,
    /// What the ledger says about it (status, type), for the evidence.
    pub detail: String,
    /// The upstream recorded the order and cancelled it at once without a fill: how OANDA keeps a market
    /// order it could not fill (not enough margin, no price). Nothing reached the market, so an answer
    /// that the order failed is the truth, not a silent order.
    pub refused: bool,
}

/// One order status read on a stream.
#[derive(Clone, Debug)]
pub struct StreamStatus {
    /// Since the campaign began.
    pub at: Duration,
    /// Which client stream (tab) read it.
    pub stream: usize,
    pub order_id: String,
    pub status: String,
}

/// A measured stream recovery: after what, how long.
#[derive(Clone, Debug)]
pub struct Recovery {
    pub after: String,
    pub took: Duration,
    /// When the measured window began and ended (to ask the fake what it answered meanwhile).
    pub window: Option<(std::time::Instant, std::time::Instant)>,
    /// Error answers (401, 429, 5xx) the upstream gave within the window. A stream cannot be expected
    /// back within the limit while the upstream refuses the bridge: such a recovery is a figure only.
    pub upstream_errors: usize,
}

/// The most a stream may take to recover (see the module doc of `main.rs` for what is measured).
pub const RECOVERY_LIMIT: Duration = Duration::from_secs(2);

/// Everything the checker compares.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    pub attempts: Vec<Attempt>,
    pub upstream: Vec<UpstreamOrder>,
    pub statuses: Vec<StreamStatus>,
    pub recoveries: Vec<Recovery>,
}

/// One broken invariant with its evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// `a` to `e`, as in the task: acked-exactly-once, no-silent-order, no-double-request,
    /// no-status-regression, stream-recovery.
    pub invariant: char,
    pub evidence: String,
}

const FINAL: [&str; 3] = ["filled", "canceled", "rejected"];
const TRANSITIONAL: [&str; 3] = ["working", "placing", "inactive"];

/// Every violation in `e`, each with its evidence.
pub fn check(e: &Evidence) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut by_qty: BTreeMap<u64, Vec<&UpstreamOrder>> = BTreeMap::new();
    for o in &e.upstream {
        by_qty.entry(o.qty).or_default().push(o);
    }
    let attempts: BTreeMap<u64, &Attempt> = e.attempts.iter().map(|a| (a.qty, a)).collect();
    // (a) every acknowledged order exists upstream exactly once.
    for a in &e.attempts {
        if let Outcome::Acked(id) = &a.outcome {
            let n = by_qty.get(&a.qty).map_or(0, Vec::len);
            if n != 1 {
                out.push(Violation {
                    invariant: 'a',
                    evidence: format!(
                        "requestId {} acknowledged as order {id} ({} qty {}) but found {n} times upstream: {:?}",
                        a.request_id,
                        a.kind,
                        a.qty,
                        by_qty.get(&a.qty).map(|v| v.iter().map(|o| &o.detail).collect::<Vec<_>>())
                    ),
                });
            }
        }
    }
    // Two acknowledged requests must not name one order either.
    let mut ids: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for a in &e.attempts {
        if let Outcome::Acked(id) = &a.outcome {
            ids.entry(id).or_default().push(&a.request_id);
        }
    }
    for (id, requests) in ids.into_iter().filter(|(_, r)| r.len() > 1) {
        out.push(Violation {
            invariant: 'a',
            evidence: format!("order {id} acknowledged for several requests: {requests:?}"),
        });
    }
    // (b) no silent order: every upstream buy belongs to an attempt the client was answered about:
    // acknowledged, or reported failed or unknown. A definite failure for an order that exists is silent too.
    for (qty, orders) in &by_qty {
        match attempts.get(qty) {
            None => out.push(Violation {
                invariant: 'b',
                evidence: format!(
                    "upstream order(s) {:?} of qty {qty} that no request placed: {:?}",
                    orders.iter().map(|o| &o.id).collect::<Vec<_>>(),
                    orders.iter().map(|o| &o.detail).collect::<Vec<_>>()
                ),
            }),
            Some(a) => {
                if let Outcome::Failed(msg) = &a.outcome {
                    if !reads_as_unknown(msg) && !orders.iter().all(|o| o.refused) {
                        out.push(Violation {
                            invariant: 'b',
                            evidence: format!(
                                "requestId {} answered as failed ({msg:?}) but placed upstream: {:?}",
                                a.request_id,
                                orders.iter().map(|o| &o.detail).collect::<Vec<_>>()
                            ),
                        });
                    }
                }
            }
        }
    }
    // (c) no requestId placed twice upstream.
    for (qty, orders) in by_qty.iter().filter(|(_, o)| o.len() > 1) {
        let who = attempts.get(qty).map_or("(none)", |a| a.request_id.as_str());
        out.push(Violation {
            invariant: 'c',
            evidence: format!(
                "requestId {who} placed {} times upstream: {:?}",
                orders.len(),
                orders.iter().map(|o| &o.detail).collect::<Vec<_>>()
            ),
        });
    }
    // (d) no final status followed by a transitional one, on any stream.
    let mut statuses: Vec<&StreamStatus> = e.statuses.iter().collect();
    statuses.sort_by_key(|s| s.at);
    let mut finals: BTreeMap<&str, &StreamStatus> = BTreeMap::new();
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for s in statuses {
        if FINAL.contains(&s.status.as_str()) {
            finals.entry(&s.order_id).or_insert(s);
        } else if TRANSITIONAL.contains(&s.status.as_str()) {
            if let Some(f) = finals.get(s.order_id.as_str()) {
                if reported.insert(&s.order_id) {
                    out.push(Violation {
                        invariant: 'd',
                        evidence: format!(
                            "order {} was {} on stream {} at {:?}, then {} on stream {} at {:?}",
                            s.order_id, f.status, f.stream, f.at, s.status, s.stream, s.at
                        ),
                    });
                }
            }
        }
    }
    // (e) streams recovered in time.
    for r in e
        .recoveries
        .iter()
        .filter(|r| r.took > RECOVERY_LIMIT && r.upstream_errors == 0)
    {
        out.push(Violation {
            invariant: 'e',
            evidence: format!(
                "a stream took {:?} to recover after {} (limit {RECOVERY_LIMIT:?})",
                r.took, r.after
            ),
        });
    }
    out
}

/// Whether an error answer tells the user the outcome is not known (which the user must check), rather
/// than that the order was refused.
pub fn reads_as_unknown(errmsg: &str) -> bool {
    let m = errmsg.to_ascii_lowercase();
    // Not a bare "unknown": "Unknown account" or "unknown order" is a refusal, not an outcome.
    [
        "outcome is unknown",
        "outcome unknown",
        "unknown outcome",
        "did not confirm",
        "not known",
        "may have",
        "might have",
        "check",
        "still being placed",
        "timed out",
        "timeout",
    ]
    .iter()
    .any(|w| m.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(n: u64, outcome: Outcome) -> Attempt {
        Attempt {
            request_id: format!("r{n}"),
            qty: 1000 + n,
            kind: "limit",
            resends: 0,
            outcome,
        }
    }

    fn upstream(id: &str, n: u64) -> UpstreamOrder {
        UpstreamOrder {
            id: id.into(),
            qty: 1000 + n,
            detail: format!("{id} qty {}", 1000 + n),
            refused: false,
        }
    }

    fn status(at_ms: u64, id: &str, status: &str) -> StreamStatus {
        StreamStatus {
            at: Duration::from_millis(at_ms),
            stream: 1,
            order_id: id.into(),
            status: status.into(),
        }
    }

    fn invariants(e: &Evidence) -> Vec<char> {
        check(e).into_iter().map(|v| v.invariant).collect()
    }

    #[test]
    fn a_clean_ledger_passes() {
        let e = Evidence {
            attempts: vec![
                attempt(0, Outcome::Acked("A".into())),
                attempt(1, Outcome::Failed("Insufficient margin".into())),
                attempt(2, Outcome::Unknown("timed out".into())),
                attempt(3, Outcome::Unknown("timed out".into())),
            ],
            upstream: vec![upstream("A", 0), upstream("B", 2)],
            statuses: vec![status(1, "A", "working"), status(2, "A", "canceled")],
            recoveries: vec![Recovery {
                after: "restart".into(),
                took: Duration::from_millis(300),
                window: None,
                upstream_errors: 0,
            }],
        };
        assert_eq!(check(&e), Vec::new());
    }

    #[test]
    fn a_doubled_order_is_reported() {
        let e = Evidence {
            attempts: vec![attempt(0, Outcome::Acked("A".into()))],
            upstream: vec![upstream("A", 0), upstream("A2", 0)],
            ..Evidence::default()
        };
        let found = invariants(&e);
        assert!(found.contains(&'a') && found.contains(&'c'), "{:?}", check(&e));
    }

    #[test]
    fn a_lost_acknowledged_order_is_reported() {
        let e = Evidence {
            attempts: vec![attempt(0, Outcome::Acked("A".into()))],
            ..Evidence::default()
        };
        assert_eq!(invariants(&e), vec!['a']);
    }

    #[test]
    fn one_order_acknowledged_for_two_requests_is_reported() {
        let e = Evidence {
            attempts: vec![
                attempt(0, Outcome::Acked("A".into())),
                attempt(1, Outcome::Acked("A".into())),
            ],
            upstream: vec![upstream("A", 0), upstream("B", 1)],
            ..Evidence::default()
        };
        assert_eq!(invariants(&e), vec!['a']);
    }

    #[test]
    fn a_silent_order_is_reported() {
        // An order nobody asked for, and one whose request was answered as refused.
        let e = Evidence {
            attempts: vec![attempt(1, Outcome::Failed("Market closed".into()))],
            upstream: vec![upstream("X", 7), upstream("Y", 1)],
            ..Evidence::default()
        };
        let v = check(&e);
        assert_eq!(v.iter().filter(|v| v.invariant == 'b').count(), 2, "{v:?}");
    }

    #[test]
    fn an_order_the_upstream_refused_at_once_may_be_answered_as_failed() {
        let refused = UpstreamOrder {
            refused: true,
            ..upstream("R", 1)
        };
        let e = Evidence {
            attempts: vec![attempt(1, Outcome::Failed("Insufficient margin".into()))],
            upstream: vec![refused.clone()],
            ..Evidence::default()
        };
        assert_eq!(check(&e), Vec::new());
        // Refused or not, two upstream orders for one request are still a doubled placement.
        let e = Evidence {
            upstream: vec![refused.clone(), refused],
            ..e
        };
        assert_eq!(invariants(&e), vec!['c']);
    }

    #[test]
    fn a_regressing_status_is_reported() {
        let e = Evidence {
            statuses: vec![
                status(1, "A", "working"),
                status(5, "A", "filled"),
                StreamStatus {
                    stream: 2,
                    ..status(9, "A", "working")
                },
            ],
            ..Evidence::default()
        };
        let v = check(&e);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].invariant, 'd');
        assert!(v[0].evidence.contains("filled on stream 1"), "{}", v[0].evidence);
    }

    #[test]
    fn a_slow_recovery_is_reported() {
        let e = Evidence {
            recoveries: vec![Recovery {
                after: "restart 1".into(),
                took: Duration::from_millis(2500),
                window: None,
                upstream_errors: 0,
            }],
            ..Evidence::default()
        };
        assert_eq!(invariants(&e), vec!['e']);
        // The same while the upstream was refusing the bridge: a figure, not a violation.
        let mut e = e;
        e.recoveries[0].upstream_errors = 2;
        assert_eq!(invariants(&e), Vec::<char>::new());
    }
}
