//! OANDA's push streams: one pricing stream carrying every instrument the data feed needs
//! ([`prices::PriceStreams`]) and one transaction stream per traded account ([`transactions::Watchers`]),
//! both NDJSON over chunked HTTP, watched for silence (OANDA sends a heartbeat every 5 s) and reopened with
//! back-off.

pub mod lines;
pub mod prices;
pub mod transactions;

use std::time::Duration;

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

/// Exponential back-off between reopenings.
#[derive(Debug)]
struct Backoff {
    next: Duration,
    options: StreamOptions,
}

impl Backoff {
    fn new(options: StreamOptions) -> Backoff {
        Backoff {
            next: options.min_backoff,
            options,
        }
    }

    /// The wait before the next attempt, after a stream that lived `lived` (`None`: it never opened).
    fn after(&mut self, lived: Option<Duration>) -> Duration {
        if lived.is_some_and(|l| l >= self.options.healthy_after) {
            self.next = self.options.min_backoff;
        }
        let wait = self.next;
        self.next = (self.next * 2).min(self.options.max_backoff);
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_and_resets_after_a_healthy_stream() {
        let mut b = Backoff::new(StreamOptions::new(Duration::from_secs(20)));
        let waits: Vec<u64> = (0..8).map(|_| b.after(None).as_millis() as u64).collect();
        assert_eq!(waits, vec![500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        assert_eq!(b.after(Some(Duration::from_secs(31))), Duration::from_millis(500));
        assert_eq!(b.after(Some(Duration::from_secs(1))), Duration::from_millis(1000));
    }
}
