//! OANDA's push streams: one pricing stream carrying every instrument the data feed needs
//! ([`prices::PriceStreams`]) and one transaction stream per traded account ([`transactions::Watchers`]),
//! both NDJSON over chunked HTTP, watched for silence (OANDA sends a heartbeat every 5 s) and reopened with
//! back-off by the shared stream pool ([`crate::upstream::stream`]).

pub mod prices;
pub mod transactions;

use crate::upstream::stream::PoolOptions;
use std::time::Duration;

/// Longest line accepted; OANDA's lines are a few hundred bytes, so anything this long is a broken stream.
const MAX_LINE: usize = 1 << 20;

/// Timing of stream upkeep.
#[derive(Debug, Clone, Copy)]
pub struct StreamOptions {
    /// Silence after which a stream is considered dead.
    pub silence: Duration,
    /// First and longest wait before reopening a failed stream.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// A stream that lived this long resets the back-off.
    pub healthy_after: Duration,
    /// Wait after a new instrument is asked for, so that a burst of subscriptions reopens the stream once.
    pub debounce: Duration,
}

impl StreamOptions {
    pub fn new(silence: Duration) -> StreamOptions {
        StreamOptions {
            silence,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            healthy_after: Duration::from_secs(30),
            debounce: Duration::from_millis(150),
        }
    }
}

impl StreamOptions {
    /// The pool's options: back-off from `min_backoff` doubling to `max_backoff` without jitter, reset by a
    /// stream that lived `healthy_after`; no keep-alive frame (OANDA sends heartbeats); a stream nobody
    /// listens to any more closes at once.
    fn pool(&self) -> PoolOptions {
        PoolOptions {
            silence: self.silence,
            reconnect_min: self.min_backoff,
            reconnect_max: self.max_backoff,
            jitter: false,
            healthy_after: self.healthy_after,
            debounce: self.debounce,
            ..PoolOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_back_off_from_half_a_second_to_thirty_and_start_again_after_a_healthy_one() {
        let options = StreamOptions::new(Duration::from_secs(20)).pool();
        let mut b = options.backoff();
        let waits: Vec<u64> = (0..8)
            .map(|_| b.after_failure(false).as_millis() as u64)
            .collect();
        assert_eq!(waits, vec![500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        let lived = |secs| Duration::from_secs(secs) >= options.healthy_after;
        assert_eq!(b.after_failure(lived(31)), Duration::from_millis(500));
        assert_eq!(b.after_failure(lived(1)), Duration::from_millis(1000));
    }
}
