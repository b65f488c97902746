//! A deterministic moving market for the fake upstreams: one tick per open second, a pure function of
//! (seed, instrument, second), and bars of any span that are the exact aggregation of those ticks.
//! A day opens a few ticks away from the previous day's close, as markets do.
//!
//! Built top-down so that a bar costs a few dozen hashes, never a walk over its ticks: a UTC day opens
//! and closes on a slow path (a sum of waves through the starting price), its high and low are a hashed
//! excursion beyond them; the day's open hours are a bridge from its open to its close inside its range
//! (see [`split`]), one hour reaching the high and one the low; hours split into minutes and minutes into
//! sixty one-second ticks the same way. Every level is the aggregation of the one below by construction,
//! so a week, a day, a five-minute bar and the ticks a stream sends always agree.
//!
//! Shared by both fakes (`crate::capital`, `crate::oanda`).

mod calendar;
mod split;

pub use calendar::{new_york, new_york_offset, Hours};
pub use split::Ohlc;

use split::{mix, unit};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// Wave periods (seconds) and relative amplitudes of the slow path, days to a year.
const WAVES: [(f64, f64); 5] = [
    (97_231.0, 0.25),
    (786_433.0, 0.6),
    (2_592_001.0, 1.0),
    (9_270_400.0, 1.6),
    (34_560_000.0, 3.0),
];

/// What one instrument's path is made of.
#[derive(Clone, Debug)]
pub struct PathSpec {
    /// The fake's seed; mixed with the instrument's name.
    pub seed: u64,
    pub name: String,
    /// The price at `anchor`, in ticks: the path is shifted so that it trades there then.
    pub start: i64,
    /// Unix second where the path meets `start` (the fake's start).
    pub anchor: i64,
    /// Typical daily range as a fraction of the price (0.006 for a major FX pair).
    pub daily_range: f64,
    /// Mean traded volume of one open minute.
    pub volume_per_minute: u64,
    pub hours: Hours,
    /// Nothing trades before this second (rounded up to a whole minute).
    pub data_start: i64,
}

/// One instrument's market: ticks and bars in integer ticks of its price step.
#[derive(Clone, Debug)]
pub struct PricePath {
    spec: PathSpec,
    seed: u64,
    /// Added to every raw price so that the path meets `spec.start` at `spec.anchor`.
    shift: i64,
    /// Nodes already cut (a pure function, so remembering them changes nothing but the cost).
    memo: Arc<Mutex<Memo>>,
}

/// Days and the parts of nodes computed so far, forgotten all at once past [`MEMO_CAP`] entries.
#[derive(Debug, Default)]
struct Memo {
    days: HashMap<i64, Option<Node>>,
    parts: HashMap<(i64, Level), Arc<[Node]>>,
}

/// Entries the memo keeps at most.
const MEMO_CAP: usize = 50_000;

/// The level of a bar in the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Level {
    Day,
    Hour,
    Minute,
    Tick,
}

impl Level {
    fn len(self) -> i64 {
        match self {
            Level::Day => DAY,
            Level::Hour => HOUR,
            Level::Minute => MINUTE,
            Level::Tick => 1,
        }
    }

    fn below(self) -> Level {
        match self {
            Level::Day => Level::Hour,
            Level::Hour => Level::Minute,
            Level::Minute | Level::Tick => Level::Tick,
        }
    }
}

/// A bar of the tree: `[start, start + level length)`, raw prices (no shift).
#[derive(Clone, Copy, Debug)]
struct Node {
    start: i64,
    level: Level,
    bar: Ohlc,
}

impl PricePath {
    pub fn new(spec: PathSpec) -> PricePath {
        let name_hash = spec.name.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
        });
        let mut spec = spec;
        spec.data_start = spec.data_start.div_euclid(MINUTE) * MINUTE
            + if spec.data_start.rem_euclid(MINUTE) == 0 {
                0
            } else {
                MINUTE
            };
        let mut path = PricePath {
            seed: mix(spec.seed ^ mix(name_hash)),
            spec,
            shift: 0,
            memo: Arc::default(),
        };
        let raw = match path.last_tick_raw(path.spec.anchor) {
            Some((_, price)) => price,
            None => path.slow(path.spec.anchor),
        };
        path.shift = path.spec.start - raw;
        path
    }

    pub fn spec(&self) -> &PathSpec {
        &self.spec
    }

    /// Whether second `t` has a tick.
    pub fn is_open(&self, t: i64) -> bool {
        t >= self.spec.data_start && self.spec.hours.is_open(t)
    }

    /// The open parts of `[from, to)`.
    fn open(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        self.spec.hours.open_intervals(from.max(self.spec.data_start), to)
    }

    /// The slow path at instant `t`, in raw ticks.
    fn slow(&self, t: i64) -> i64 {
        let tf = t as f64;
        let mut v = 0.0;
        for (k, (period, amp)) in WAVES.iter().enumerate() {
            let phase = unit(self.seed, 1000 + k as u64) * std::f64::consts::TAU;
            v += amp * (std::f64::consts::TAU * tf / period + phase).sin();
        }
        let base = self.spec.start as f64;
        (base * (1.0 + self.spec.daily_range * 0.5 * v)).round().max(1.0) as i64
    }

    fn node_seed(&self, start: i64, level: Level) -> u64 {
        mix(self.seed ^ mix(start as u64) ^ (level as u64 + 1).wrapping_mul(0x1000_0001))
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, Memo> {
        let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
        if memo.days.len() + memo.parts.len() > MEMO_CAP {
            *memo = Memo::default();
        }
        memo
    }

    /// The UTC day starting at `start`, if anything trades in it.
    fn day(&self, start: i64) -> Option<Node> {
        if let Some(day) = self.memo().days.get(&start) {
            return *day;
        }
        let day = self.cut_day(start);
        self.memo().days.insert(start, day);
        day
    }

    /// The parts of `node` that trade, oldest first (hours of a day, minutes of an hour, ticks of a minute).
    fn children(&self, node: &Node) -> Arc<[Node]> {
        let key = (node.start, node.level);
        if let Some(parts) = self.memo().parts.get(&key) {
            return parts.clone();
        }
        let parts: Arc<[Node]> = self.cut(node).into();
        self.memo().parts.insert(key, parts.clone());
        parts
    }

    fn cut_day(&self, start: i64) -> Option<Node> {
        let open = self.open(start, start + DAY);
        let (first, last) = (open.first()?.0, open.last()?.1);
        let seconds: i64 = open.iter().map(|(a, b)| b - a).sum();
        let seed = self.node_seed(start, Level::Day);
        // The first tick of a day is a new price: a small hashed gap from where the path stood.
        let minute = self.spec.start as f64 * self.spec.daily_range * (MINUTE as f64 / DAY as f64).sqrt();
        let gap = ((unit(seed, 4) - 0.5) * 2.0 * minute).round() as i64;
        let (o, c) = ((self.slow(first) + gap).max(1), self.slow(last));
        let sigma =
            self.spec.start as f64 * self.spec.daily_range * (seconds as f64 / DAY as f64).sqrt() * 0.6;
        let up = (unit(seed, 1) * sigma) as i64 + 1;
        let down = (unit(seed, 2) * sigma) as i64 + 1;
        let minutes = (seconds / MINUTE) as f64;
        let volume = (self.spec.volume_per_minute as f64 * minutes * (0.5 + unit(seed, 3))) as u64;
        Some(Node {
            start,
            level: Level::Day,
            bar: Ohlc {
                open: o,
                high: o.max(c) + up,
                low: (o.min(c) - down).max(1),
                close: c,
                volume,
                ticks: seconds as u64,
            },
        })
    }

    fn cut(&self, node: &Node) -> Vec<Node> {
        let seed = self.node_seed(node.start, node.level);
        let below = node.level.below();
        if node.level == Level::Minute {
            return split::ticks(node.bar, node.bar.ticks as usize, seed)
                .into_iter()
                .enumerate()
                .map(|(k, bar)| Node {
                    start: node.start + k as i64,
                    level: Level::Tick,
                    bar,
                })
                .collect();
        }
        let len = below.len();
        // One look at the calendar per node: each part's open seconds are its overlap with these.
        let open = self.open(node.start, node.start + node.level.len());
        let mut starts = Vec::new();
        let mut seconds = Vec::new();
        for (a, b) in open {
            let mut s = a.div_euclid(len) * len;
            while s < b {
                let overlap = b.min(s + len) - a.max(s);
                match starts.last() {
                    Some(last) if *last == s => {
                        if let Some(n) = seconds.last_mut() {
                            *n += overlap;
                        }
                    }
                    _ => {
                        starts.push(s);
                        seconds.push(overlap);
                    }
                }
                s += len;
            }
        }
        split::split(node.bar, &seconds, seed)
            .into_iter()
            .zip(starts)
            .map(|(bar, start)| Node {
                start,
                level: below,
                bar,
            })
            .collect()
    }

    /// Folds every tick in `[from, to)` of `node` into `acc`, in time order.
    fn fold(&self, node: &Node, from: i64, to: i64, acc: &mut Option<Ohlc>) {
        let end = node.start + node.level.len();
        if end <= from || node.start >= to {
            return;
        }
        if from <= node.start && end <= to {
            *acc = Some(match acc.take() {
                Some(a) => a.then(node.bar),
                None => node.bar,
            });
            return;
        }
        for child in self.children(node).iter() {
            self.fold(child, from, to, acc);
        }
    }

    fn shifted(&self, bar: Ohlc) -> Ohlc {
        Ohlc {
            open: bar.open + self.shift,
            high: bar.high + self.shift,
            low: bar.low + self.shift,
            close: bar.close + self.shift,
            ..bar
        }
    }

    /// The aggregation of every tick in `[from, to)`; `None` when nothing traded then.
    pub fn bar(&self, from: i64, to: i64) -> Option<Ohlc> {
        let from = from.max(self.spec.data_start);
        if from >= to {
            return None;
        }
        let mut acc = None;
        let mut day = from.div_euclid(DAY) * DAY;
        while day < to {
            if let Some(node) = self.day(day) {
                self.fold(&node, from, to, &mut acc);
            }
            day += DAY;
        }
        acc.map(|b| self.shifted(b))
    }

    /// Every tick in `[from, to)` with its second, oldest first (what a stream sends).
    pub fn ticks(&self, from: i64, to: i64) -> Vec<(i64, Ohlc)> {
        let from = from.max(self.spec.data_start);
        let mut out = Vec::new();
        let mut day = from.div_euclid(DAY) * DAY;
        while day < to {
            if let Some(node) = self.day(day) {
                self.leaves(&node, from, to, &mut out);
            }
            day += DAY;
        }
        out
    }

    fn leaves(&self, node: &Node, from: i64, to: i64, out: &mut Vec<(i64, Ohlc)>) {
        let end = node.start + node.level.len();
        if end <= from || node.start >= to {
            return;
        }
        if node.level == Level::Tick {
            out.push((node.start, self.shifted(node.bar)));
            return;
        }
        for child in self.children(node).iter() {
            self.leaves(child, from, to, out);
        }
    }

    /// The tick at second `t`, if the market is open then.
    pub fn tick(&self, t: i64) -> Option<Ohlc> {
        self.bar(t, t + 1)
    }

    /// The raw price of the last tick at or before `t` (looking back at most a week), with its time.
    fn last_tick_raw(&self, t: i64) -> Option<(i64, i64)> {
        let open = self.open(t - 7 * DAY, t + 1);
        let (_, end) = *open.last()?;
        let at = end - 1;
        let mut acc = None;
        if let Some(node) = self.day(at.div_euclid(DAY) * DAY) {
            self.fold(&node, at, at + 1, &mut acc);
        }
        acc.map(|b| (at, b.close))
    }

    /// The last tick at or before `t` (within a week) and its time: the quote of a closed market.
    pub fn last_tick(&self, t: i64) -> Option<(i64, Ohlc)> {
        let (at, _) = self.last_tick_raw(t)?;
        Some((at, self.tick(at)?))
    }
}
