//! The paper broker's actor: it owns the engine, runs one job (or market tick) at a time, and answers a
//! job only once its change is in the state store. A job that lost a race with another replica is run
//! again on the state that replica wrote, which is why jobs are re-runnable closures.

use super::books::{Books, Saved, CHANNEL};
use super::clock::Clock;
use super::engine::Engine;
use crate::broker::{BrokerError, BrokerResult};
use crate::store::Notice;
use std::any::Any;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Times one job is run again after losing a race before it is refused: more means the store is
/// overwhelmed by writers, and an error is better than spinning.
const MAX_ATTEMPTS: usize = 32;

pub type Output = Box<dyn Any + Send>;
type Run = Box<dyn FnMut(&mut Engine, i64) -> Output + Send>;
type Reply = Box<dyn FnOnce(BrokerResult<Output>) + Send>;

/// Work for the engine: `run` may run more than once (after a lost race), `reply` runs once with the
/// outcome of the run that was saved.
pub struct Job {
    pub run: Run,
    pub reply: Reply,
}

/// The actor's parts.
pub struct Actor {
    pub engine: Engine,
    pub books: Books,
    pub clock: Arc<dyn Clock>,
    pub tick: Duration,
    pub events: broadcast::Sender<String>,
}

impl Actor {
    /// Takes jobs until every handle is gone, ticks the market meanwhile, and follows other replicas'
    /// changes when the store is shared.
    pub async fn run(mut self, mut jobs: mpsc::Receiver<Job>) {
        let mut interval = tokio::time::interval(self.tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut notices = self.books.subscribe();
        let mut listening = self.books.shared();
        loop {
            tokio::select! {
                job = jobs.recv() => {
                    let Some(job) = job else { break };
                    // The jobs already waiting arrived before this job's look at the store begins, so that
                    // one look covers them too: under load, one store round trip per batch, not per job,
                    // and still no job is served books older than the moment it arrived.
                    let waiting = jobs.len();
                    self.handle(Some(job), true).await;
                    for _ in 0..waiting {
                        let Ok(job) = jobs.try_recv() else { break };
                        self.handle(Some(job), false).await;
                    }
                }
                _ = interval.tick() => self.handle(None, true).await,
                notice = notices.recv(), if listening => {
                    let news = match &notice {
                        Ok(Notice::Message { channel, payload }) => {
                            &**channel == CHANNEL && self.books.is_news(payload)
                        }
                        // Notices were missed: whatever they said, the record tells.
                        Ok(Notice::Gap) | Err(broadcast::error::RecvError::Lagged(_)) => true,
                        Err(broadcast::error::RecvError::Closed) => {
                            // The store is gone; jobs still read it (and report why they cannot).
                            listening = false;
                            false
                        }
                    };
                    if news {
                        self.follow().await;
                    }
                }
            }
            for account in self.engine.drain_changed() {
                let _ = self.events.send(account);
            }
        }
    }

    /// Re-reads the record after another replica's notice, so this one's streams hear of the change.
    async fn follow(&mut self) {
        let now = self.clock.now_ms();
        if let Err(e) = self.books.sync(&mut self.engine, now, true).await {
            tracing::warn!(error = %e, "could not read the paper books after another replica's change");
        }
    }

    /// Runs `job` (or just the market, for a tick) on the current books and saves what changed before
    /// answering.
    /// `look` asks the store whether another replica changed the books (on a shared store); without it
    /// only books known to be stale (after a conflict or a failure) are read again.
    async fn handle(&mut self, mut job: Option<Job>, look: bool) {
        for _ in 0..MAX_ATTEMPTS {
            let now = self.clock.now_ms();
            if let Err(e) = self.books.sync(&mut self.engine, now, look).await {
                tracing::warn!(error = %e, "could not read the paper books");
                answer(
                    job,
                    Err(BrokerError::Unavailable(format!("the paper broker's books: {e}"))),
                );
                return;
            }
            // A bug in one request must not take the broker down for everyone: a panicking job is logged,
            // its half-done change dropped (the books are read again), and its caller gets an internal
            // error (its reply is dropped).
            let engine = &mut self.engine;
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                engine.advance(now);
                job.as_mut().map(|j| (j.run)(engine, now))
            }));
            let Ok(output) = outcome else {
                tracing::error!("a paper broker request panicked; the broker carries on");
                self.discard();
                return;
            };
            // Ticks that fill nothing, and reads, write nothing.
            if !self.engine.dirty {
                answer_with(job, output);
                return;
            }
            match self.books.save(&mut self.engine).await {
                Ok(Saved::Written(version)) => {
                    self.engine.dirty = false;
                    answer_with(job, output);
                    self.books.announce(version).await;
                    return;
                }
                // Another replica changed the books first: run again on theirs.
                Ok(Saved::Conflict) => self.discard(),
                Err(e) => {
                    if job.is_none() {
                        tracing::error!(error = %e, "could not save the paper books after a market tick; will retry");
                    }
                    self.discard();
                    answer(job, Err(e));
                    return;
                }
            }
        }
        tracing::error!("the paper books changed under this replica {MAX_ATTEMPTS} times in a row");
        answer(
            job,
            Err(BrokerError::Unavailable(
                "the paper broker is too busy: try again".into(),
            )),
        );
    }

    /// Drops the engine's unsaved changes: it is read again from the store before the next job. The
    /// change events gathered so far are kept: an extra one costs a stream a re-read, a lost one would
    /// leave it stale.
    fn discard(&mut self) {
        self.books.stale = true;
        self.engine.dirty = false;
    }
}

fn answer(job: Option<Job>, outcome: BrokerResult<Output>) {
    if let Some(job) = job {
        (job.reply)(outcome);
    }
}

fn answer_with(job: Option<Job>, output: Option<Output>) {
    if let (Some(job), Some(output)) = (job, output) {
        (job.reply)(Ok(output));
    }
}
