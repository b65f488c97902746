//! The accept loop: one connection slot (a semaphore permit) per accepted socket, so at most
//! `server.max_connections` are open and the rest wait in the listen backlog; accept errors never spin.
//!
//! An accept that fails because descriptors or memory ran out (EMFILE, ENFILE, ENOBUFS, ENOMEM) would fail
//! again at once: the loop backs off (100 ms doubling to 1 s) and logs once per episode, not per failure.
//! Errors that concern only the one connection being accepted (aborted, reset) are skipped at once.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// Something that accepts connections (a `TcpListener`; tests inject errors).
pub trait Acceptor: Send {
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    fn accept(&mut self) -> impl Future<Output = io::Result<(Self::Io, SocketAddr)>> + Send;
}

impl Acceptor for tokio::net::TcpListener {
    type Io = tokio::net::TcpStream;

    async fn accept(&mut self) -> io::Result<(Self::Io, SocketAddr)> {
        let (stream, addr) = tokio::net::TcpListener::accept(self).await?;
        // Stream lines and small answers go out at once rather than waiting for more to send.
        let _ = stream.set_nodelay(true);
        Ok((stream, addr))
    }
}

/// The first and the longest pause after a failed accept.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
pub const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// What the loop does after accept errors.
#[derive(Debug, Default)]
pub struct Backoff {
    /// The pause after the next failure; `None` outside an episode.
    next: Option<Duration>,
    /// Failures in the current episode.
    failures: u64,
    /// Episodes logged so far (one warning each).
    pub episodes: u64,
}

impl Backoff {
    /// An accept failed with `error`: how long to wait before the next one (`None`: at once).
    pub fn on_error(&mut self, error: &io::Error) -> Option<Duration> {
        if only_this_connection(error) {
            tracing::debug!(%error, "accept failed for one connection");
            return None;
        }
        let pause = self.next.unwrap_or(FIRST_BACKOFF);
        if self.failures == 0 {
            self.episodes += 1;
            tracing::warn!(%error, "cannot accept connections (file descriptors or memory exhausted?); \
                retrying with back-off up to {} ms, logged once until accepting works again",
                MAX_BACKOFF.as_millis());
        }
        self.failures += 1;
        self.next = Some((pause * 2).min(MAX_BACKOFF));
        Some(pause)
    }

    /// An accept succeeded: the episode, if any, is over.
    pub fn on_success(&mut self) {
        if self.failures > 0 {
            tracing::info!(failures = self.failures, "accepting connections again");
        }
        self.failures = 0;
        self.next = None;
    }
}

/// Errors that concern only the connection being accepted; the next accept may well succeed.
fn only_this_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// Accepts until `stop`, handing each connection with its slot to `on_conn`. Returns the back-off state
/// (for tests).
pub async fn accept_loop<A: Acceptor>(
    mut acceptor: A,
    slots: Arc<Semaphore>,
    stop: CancellationToken,
    mut on_conn: impl FnMut(A::Io, SocketAddr, OwnedSemaphorePermit),
) -> Backoff {
    let mut backoff = Backoff::default();
    let mut full = false;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                full = false;
                slot
            }
            Err(_) => {
                if !full {
                    full = true;
                    tracing::warn!(
                        "connection limit (server.max_connections) reached; new clients wait \
                        until a connection closes (logged once per episode)"
                    );
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => return backoff,
                    },
                    _ = stop.cancelled() => return backoff,
                }
            }
        };
        let accepted = tokio::select! {
            biased;
            _ = stop.cancelled() => return backoff,
            accepted = acceptor.accept() => accepted,
        };
        match accepted {
            Ok((io, addr)) => {
                backoff.on_success();
                on_conn(io, addr, slot);
            }
            Err(e) => {
                drop(slot);
                if let Some(pause) = backoff.on_error(&e) {
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.cancelled() => return backoff,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use tokio::time::Instant;

    /// Answers scripted results, then waits forever.
    struct Scripted(VecDeque<io::Result<tokio::io::DuplexStream>>);

    impl Acceptor for Scripted {
        type Io = tokio::io::DuplexStream;
        async fn accept(&mut self) -> io::Result<(Self::Io, SocketAddr)> {
            match self.0.pop_front() {
                Some(r) => r.map(|io| (io, SocketAddr::from(([127, 0, 0, 1], 1)))),
                None => std::future::pending().await,
            }
        }
    }

    fn emfile() -> io::Result<tokio::io::DuplexStream> {
        Err(io::Error::from_raw_os_error(24))
    }

    fn conn() -> io::Result<tokio::io::DuplexStream> {
        Ok(tokio::io::duplex(64).0)
    }

    /// Descriptors running out make accept fail at once, again and again: the loop must pause (100 ms
    /// doubling to 1 s), not spin, log once per episode, and accept again when descriptors are back.
    #[tokio::test(start_paused = true)]
    async fn running_out_of_descriptors_backs_off_and_recovers() {
        let script = [
            emfile(),
            emfile(),
            emfile(),
            emfile(),
            emfile(),
            emfile(),
            conn(),
            Err(io::ErrorKind::ConnectionAborted.into()),
            conn(),
            emfile(),
            conn(),
        ];
        let stop = CancellationToken::new();
        let started = Instant::now();
        let accepted = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = accepted.clone();
        let task = tokio::spawn(accept_loop(
            Scripted(script.into_iter().collect()),
            Arc::new(Semaphore::new(10)),
            stop.clone(),
            move |_, _, _| seen.lock().unwrap().push(started.elapsed()),
        ));
        tokio::time::sleep(Duration::from_secs(30)).await;
        stop.cancel();
        let backoff = task.await.unwrap();
        let at = accepted.lock().unwrap().clone();
        let ms: Vec<u128> = at.iter().map(|d| d.as_millis()).collect();
        // 100 + 200 + 400 + 800 + 1000 + 1000 ms of pauses, then two at once (the aborted one skipped
        // without a pause), then one pause of 100 ms: a new episode starts from the first step again.
        assert_eq!(ms, vec![3500, 3500, 3600], "accept times");
        assert_eq!(backoff.episodes, 2, "one warning per episode, not per failure");
    }

    /// At the limit no further connection is accepted until a slot frees.
    #[tokio::test(start_paused = true)]
    async fn no_accept_beyond_the_connection_limit() {
        let stop = CancellationToken::new();
        let slots = Arc::new(Semaphore::new(2));
        let held = Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = held.clone();
        let task = tokio::spawn(accept_loop(
            Scripted([conn(), conn(), conn()].into_iter().collect()),
            slots,
            stop.clone(),
            move |_, _, slot| keep.lock().unwrap().push(Some(slot)),
        ));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(held.lock().unwrap().len(), 2, "two slots, two connections");
        held.lock().unwrap()[0] = None;
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(
            held.lock().unwrap().len(),
            3,
            "the third is accepted once a slot frees"
        );
        stop.cancel();
        task.await.unwrap();
    }
}
