//! The fault schedule: which faults, how often, in which order. Faults come one at a time, every
//! `every`, cycling through the backend's list from a seeded random start, so a run is repeatable in its
//! sequence (timings are real time).

use std::collections::BTreeMap;
use std::time::Duration;

/// A fault the campaign can cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// A few upstream requests answer 500.
    Burst5xx,
    /// The upstream carries out the next write (the order is placed) and then withholds the answer.
    AcceptThenHang,
    /// The upstream carries out the next write and then answers 500.
    AcceptThen500,
    /// The upstream's streams (WebSocket, HTTP stream) end abruptly.
    DropStreams,
    /// The upstream forgets its sessions.
    ExpireSession,
    /// Many upstream requests answer 429.
    Storm429,
    /// The next upstream requests wait 1.5 s before doing anything.
    Slow,
    /// A few account reads answer 423 (IBKR's "resource locked": polled too often).
    Locked423,
    /// A few account reads answer 202 (IBKR's "accepted, not yet available").
    Accepted202,
    /// The bridge is killed with SIGKILL and started again on the same store.
    Restart,
}

impl FaultKind {
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Burst5xx => "5xx burst",
            FaultKind::AcceptThenHang => "accept then hang",
            FaultKind::AcceptThen500 => "accept then 500",
            FaultKind::DropStreams => "dropped upstream streams",
            FaultKind::ExpireSession => "expired upstream session",
            FaultKind::Storm429 => "429 storm",
            FaultKind::Slow => "slow upstream",
            FaultKind::Locked423 => "423 locked",
            FaultKind::Accepted202 => "202 not yet",
            FaultKind::Restart => "bridge kill -9 + restart",
        }
    }
}

/// The faults of one campaign.
pub struct Schedule {
    kinds: Vec<FaultKind>,
    next: usize,
    pub every: Duration,
    pub injected: BTreeMap<FaultKind, u32>,
}

impl Schedule {
    pub fn new(kinds: Vec<FaultKind>, every: Duration, seed: u64) -> Schedule {
        let next = if kinds.is_empty() {
            0
        } else {
            (seed as usize) % kinds.len()
        };
        Schedule {
            kinds,
            next,
            every,
            injected: BTreeMap::new(),
        }
    }

    /// The next fault, counted as injected.
    pub fn pop(&mut self) -> Option<(FaultKind, u32)> {
        let kind = *self.kinds.get(self.next % self.kinds.len().max(1))?;
        self.next += 1;
        let n = self.injected.entry(kind).or_default();
        *n += 1;
        Some((kind, *n))
    }
}
