//! Client-side pacing of upstream requests: at most N requests in any sliding window, so that no burst of
//! TradingView traffic can get an upstream key throttled (Capital.com: 10 requests/s per session; OANDA: 120/s),
//! and a variant that refuses a caller at once rather than queue it for long.

use crate::sync::MutexExt;
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
            self.forget_old(&mut sent, now);
            if sent.len() < self.limit {
                sent.push_back(now);
                return;
            }
            // Holding the lock while sleeping keeps later callers queued behind this one.
            let oldest = *sent.front().expect("window is full, so not empty");
            tokio::time::sleep_until(oldest + self.window).await;
        }
    }

    /// Waits until a slot is free, without taking it. With [`SlidingWindow::try_acquire`] this lets a caller
    /// that must also wait for other limits take its slot last, at the moment it sends: a slot taken first
    /// would be stamped earlier than the send it stands for, and the next caller could follow too closely.
    pub async fn ready(&self) {
        let mut sent = self.sent.lock().await;
        loop {
            let now = Instant::now();
            self.forget_old(&mut sent, now);
            if sent.len() < self.limit {
                return;
            }
            let oldest = *sent.front().expect("window is full, so not empty");
            tokio::time::sleep_until(oldest + self.window).await;
        }
    }

    /// Takes a slot now if one is free and nobody else is taking one; `false` otherwise (wait with
    /// [`SlidingWindow::ready`] and try again).
    pub fn try_acquire(&self) -> bool {
        let Ok(mut sent) = self.sent.try_lock() else {
            return false;
        };
        let now = Instant::now();
        self.forget_old(&mut sent, now);
        if sent.len() < self.limit {
            sent.push_back(now);
            return true;
        }
        false
    }

    /// Drops the sends that have left the window by `now`.
    fn forget_old(&self, sent: &mut VecDeque<Instant>, now: Instant) {
        while sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            sent.pop_front();
        }
    }

    /// Whether no send is counted in the current window and nobody is taking a slot: forgetting this
    /// limiter now could not let a send through early.
    pub fn is_idle(&self) -> bool {
        match self.sent.try_lock() {
            Ok(sent) => sent
                .back()
                .is_none_or(|t| Instant::now().duration_since(*t) >= self.window),
            Err(_) => false,
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

/// A sliding-window pacer that gives each caller a send time in arrival order, and can refuse at once a
/// caller whose time is further away than it may wait. For paced operations where a long queue is worse
/// than a quick "try again" (Capital.com logins: one per second per API key, so 15 bogus logins would
/// otherwise hold a good one back for 17 s).
#[derive(Debug)]
pub struct ReservingWindow {
    limit: usize,
    window: Duration,
    /// Send times handed out, ascending; those that can no longer constrain a new one are dropped.
    slots: std::sync::Mutex<VecDeque<Instant>>,
}

impl ReservingWindow {
    /// `limit` sends per `window` (carry a safety margin, as for [`SlidingWindow`]).
    pub fn new(limit: u32, window: Duration) -> Self {
        ReservingWindow {
            limit: limit.max(1) as usize,
            window,
            slots: std::sync::Mutex::new(VecDeque::new()),
        }
    }

    /// Per-second pacer with a 15% margin on the window.
    pub fn per_second(limit: u32) -> Self {
        Self::new(limit, Duration::from_millis(1150))
    }

    /// Waits for this caller's turn. With `max_wait`, a caller whose turn is further away than that is
    /// refused at once with the wait it would have had, and takes no turn. A caller that goes away while
    /// waiting gives its turn back.
    pub async fn acquire(&self, max_wait: Option<Duration>) -> Result<(), Duration> {
        let at = self.reserve(Instant::now(), max_wait)?;
        let mut turn = Turn {
            pacer: self,
            at,
            used: false,
        };
        tokio::time::sleep_until(at).await;
        turn.used = true;
        Ok(())
    }

    fn reserve(&self, now: Instant, max_wait: Option<Duration>) -> Result<Instant, Duration> {
        let mut slots = self.slots.locked();
        while slots.front().is_some_and(|t| *t + self.window <= now) {
            slots.pop_front();
        }
        // After everyone already waiting (first come, first served), and `limit` sends back a full window.
        let mut at = slots.back().copied().unwrap_or(now).max(now);
        if slots.len() >= self.limit {
            at = at.max(slots[slots.len() - self.limit] + self.window);
        }
        let wait = at - now;
        if max_wait.is_some_and(|max| wait > max) {
            return Err(wait);
        }
        slots.push_back(at);
        Ok(at)
    }

    fn release(&self, at: Instant) {
        let mut slots = self.slots.locked();
        // Later turns were computed with this one in place; leaving them as they are only errs on the
        // slow side.
        if let Some(i) = slots.iter().rposition(|t| *t == at) {
            slots.remove(i);
        }
    }
}

/// A reserved turn; given back when its caller leaves before using it.
struct Turn<'a> {
    pacer: &'a ReservingWindow,
    at: Instant,
    used: bool,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if !self.used {
            self.pacer.release(self.at);
        }
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
    async fn a_slot_taken_late_is_stamped_when_taken_not_when_it_became_free() {
        // One send per 5 s: a caller that saw the slot free, then waited 900 ms for another limit, stamps
        // its send at 900 ms; the next caller may go only 5 s after that, not 5 s after the slot freed.
        let limiter = SlidingWindow::new(1, Duration::from_secs(5));
        let start = Instant::now();
        limiter.ready().await;
        assert_eq!(Instant::now(), start, "a free slot is ready at once");
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert!(limiter.try_acquire());
        assert!(!limiter.try_acquire(), "the window holds one send");
        limiter.ready().await;
        assert_eq!(Instant::now() - start, Duration::from_millis(5_900));
        assert!(limiter.try_acquire());
        assert_eq!(limiter.in_window().await, 1);
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

    #[tokio::test(start_paused = true)]
    async fn reserving_window_paces_in_arrival_order_and_refuses_a_long_wait_at_once() {
        let pacer = Arc::new(ReservingWindow::new(1, Duration::from_secs(1)));
        let start = Instant::now();
        let max = Some(Duration::from_millis(2500));
        let mut admitted = Vec::new();
        for _ in 0..3 {
            let p = pacer.clone();
            admitted.push(tokio::spawn(async move {
                p.acquire(max)
                    .await
                    .map(|()| Instant::now().duration_since(start))
            }));
            tokio::task::yield_now().await;
        }
        // The fourth would wait 3 s: refused without waiting at all.
        assert_eq!(pacer.acquire(max).await, Err(Duration::from_secs(3)));
        assert_eq!(Instant::now(), start);
        let mut at = Vec::new();
        for t in admitted {
            at.push(t.await.unwrap().unwrap());
        }
        assert_eq!(at, [0, 1, 2].map(Duration::from_secs));
        // With no bound a caller always gets a turn.
        pacer.acquire(None).await.unwrap();
        assert_eq!(Instant::now() - start, Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_that_leaves_gives_its_turn_back() {
        let pacer = Arc::new(ReservingWindow::new(1, Duration::from_secs(1)));
        let start = Instant::now();
        pacer.acquire(None).await.unwrap();
        let p = pacer.clone();
        let leaving = tokio::spawn(async move { p.acquire(None).await });
        tokio::task::yield_now().await;
        leaving.abort();
        let _ = leaving.await;
        pacer.acquire(None).await.unwrap();
        assert_eq!(
            Instant::now() - start,
            Duration::from_secs(1),
            "the abandoned turn at 1 s was reused"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn reserving_window_never_exceeds_the_limit_in_any_window() {
        let pacer = Arc::new(ReservingWindow::new(3, Duration::from_secs(1)));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let p = pacer.clone();
            tasks.push(tokio::spawn(async move {
                p.acquire(None).await.unwrap();
                Instant::now().duration_since(start)
            }));
        }
        let mut at = Vec::new();
        for t in tasks {
            at.push(t.await.unwrap());
        }
        at.sort();
        for (i, t) in at.iter().enumerate() {
            let n = at[i..]
                .iter()
                .take_while(|u| **u - *t < Duration::from_secs(1))
                .count();
            assert!(n <= 3, "{n} sends within a second of {t:?}");
        }
        assert_eq!(at.last().copied(), Some(Duration::from_secs(3)));
    }
}
