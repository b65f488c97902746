//! Client-side pacing of upstream requests: at most N requests in any sliding window, so that no burst of
//! TradingView traffic can get an upstream key throttled (Capital.com: 10 requests/s per session; OANDA: 120/s).

use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// A sliding-window limiter: `acquire` returns once sending now keeps at most `limit` sends inside any window of
/// `window`. Waiters are served in arrival order (the mutex is fair), so no caller starves.
#[derive(Debug)]
pub struct SlidingWindow {
    limit: usize,
    window: Duration,
    sent: Mutex<VecDeque<Instant>>,
}

impl SlidingWindow {
    /// `limit` sends per `window`. The window should carry a safety margin over the upstream's own (network
    /// jitter can bring two requests closer together on arrival than they were on departure).
    pub fn new(limit: u32, window: Duration) -> Self {
        SlidingWindow {
            limit: limit.max(1) as usize,
            window,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// Per-second limiter with a 15% margin on the window.
    pub fn per_second(limit: u32) -> Self {
        Self::new(limit, Duration::from_millis(1150))
    }

    /// Waits for a free slot and takes it.
    pub async fn acquire(&self) {
        let mut sent = self.sent.lock().await;
        loop {
            let now = Instant::now();
            while sent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.window)
            {
                sent.pop_front();
            }
            if sent.len() < self.limit {
                sent.push_back(now);
                return;
            }
            // Holding the lock while sleeping keeps later callers queued behind this one.
            let oldest = *sent.front().expect("window is full, so not empty");
            tokio::time::sleep_until(oldest + self.window).await;
        }
    }

    /// Sends counted in the current window (diagnostics and tests).
    pub async fn in_window(&self) -> usize {
        let sent = self.sent.lock().await;
        let now = Instant::now();
        sent.iter()
            .filter(|t| now.duration_since(**t) < self.window)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_limit_in_any_window() {
        let limiter = Arc::new(SlidingWindow::new(10, Duration::from_secs(1)));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..35 {
            let l = limiter.clone();
            tasks.push(tokio::spawn(async move {
                l.acquire().await;
                Instant::now().duration_since(start)
            }));
        }
        let mut at = Vec::new();
        for t in tasks {
            at.push(t.await.unwrap());
        }
        at.sort();
        for (i, t) in at.iter().enumerate() {
            let in_window = at[i..]
                .iter()
                .take_while(|u| **u - *t < Duration::from_secs(1))
                .count();
            assert!(in_window <= 10, "{in_window} sends within a second of {t:?}");
        }
        // 35 sends at 10/s need three full windows after the first.
        assert_eq!(at.last().copied(), Some(Duration::from_secs(3)));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_limiter_does_not_wait() {
        let limiter = SlidingWindow::per_second(1);
        let start = Instant::now();
        limiter.acquire().await;
        assert_eq!(Instant::now(), start);
        limiter.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_millis(1150));
        assert_eq!(limiter.in_window().await, 1);
    }
}
