//! The pool's shared table: which socket carries which epic, and the receivers of each epic.
//!
//! One `std::sync::Mutex` guards the whole table and is never held across an `.await`: every operation is
//! a few map lookups and non-blocking `try_send`s. Keeping receivers and socket assignments under the same
//! lock is what makes placement race-free: a socket only closes after checking, under the lock, that no
//! epic was assigned to it in the meantime.

use super::model::StreamQuote;
use super::socket::Socket;
use super::{StreamOptions, StreamStats, TokenSource};
use crate::broker::BrokerError;
use crate::sync::MutexExt;
use crate::upstream::fanout::Listeners;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, watch, Notify};

/// Longest epic accepted (upstream epics are short identifiers such as `OIL_CRUDE`).
const MAX_EPIC_LEN: usize = 100;

/// Identifies a socket of the pool.
pub(super) type SocketId = u64;

/// State shared by the [`super::QuoteStreams`] handle and every socket task.
pub(super) struct Shared {
    /// The streaming endpoint.
    pub url: String,
    /// Where sockets get session tokens.
    pub tokens: Arc<dyn TokenSource>,
    /// Sanitized options.
    pub options: StreamOptions,
    /// How long an empty socket stays open.
    pub idle_grace: Duration,
    /// Reconnection attempts so far.
    pub reconnects: AtomicU64,
    table: Mutex<Table>,
    shutdown: watch::Sender<bool>,
}

#[derive(Default)]
struct Table {
    epics: HashMap<String, EpicEntry>,
    /// Ordered so that new epics fill the oldest socket with room first.
    sockets: BTreeMap<SocketId, SocketEntry>,
    next_socket: SocketId,
    closed: bool,
}

struct EpicEntry {
    socket: SocketId,
    receivers: Listeners<StreamQuote>,
    /// The latest quote, handed to a receiver that joins an epic already streaming.
    last: Option<StreamQuote>,
}

struct SocketEntry {
    epics: BTreeSet<String>,
    /// Wakes the socket task when its set of epics grows.
    wake: Arc<Notify>,
}

impl Shared {
    /// An empty pool.
    pub fn new(
        url: String,
        tokens: Arc<dyn TokenSource>,
        options: StreamOptions,
        idle_grace: Duration,
    ) -> Arc<Self> {
        Arc::new(Shared {
            url,
            tokens,
            options,
            idle_grace,
            reconnects: AtomicU64::new(0),
            table: Mutex::new(Table::default()),
            shutdown: watch::Sender::new(false),
        })
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // A panic elsewhere while holding the lock leaves the table consistent enough to keep serving.
        self.table.locked()
    }

    /// A receiver of `epic`'s quotes; opens a socket when every socket is full.
    pub fn subscribe(self: &Arc<Self>, epic: &str) -> Result<mpsc::Receiver<StreamQuote>, BrokerError> {
        validate(epic)?;
        let (tx, rx) = mpsc::channel(self.options.channel_capacity);
        let mut table = self.table();
        if table.closed {
            return Err(BrokerError::Unavailable(
                "the quote stream is shut down".to_string(),
            ));
        }
        if let Some(entry) = table.epics.get_mut(epic) {
            if let Some(last) = &entry.last {
                // A fresh channel has room: this cannot fail except by a dropped receiver, which is fine.
                let _ = tx.try_send(last.clone());
            }
            entry.receivers.add(tx);
            return Ok(rx);
        }
        let max = self.options.max_epics_per_socket;
        let free = table
            .sockets
            .iter()
            .find(|(_, s)| s.epics.len() < max)
            .map(|(id, _)| *id);
        let id = match free {
            Some(id) => id,
            None => self.open_socket(&mut table),
        };
        if let Some(socket) = table.sockets.get_mut(&id) {
            socket.epics.insert(epic.to_string());
            socket.wake.notify_one();
        }
        table.epics.insert(
            epic.to_string(),
            EpicEntry {
                socket: id,
                receivers: Listeners::new(tx),
                last: None,
            },
        );
        Ok(rx)
    }

    /// Adds a socket to the table and starts its task.
    fn open_socket(self: &Arc<Self>, table: &mut Table) -> SocketId {
        table.next_socket += 1;
        let id = table.next_socket;
        let wake = Arc::new(Notify::new());
        table.sockets.insert(
            id,
            SocketEntry {
                epics: BTreeSet::new(),
                wake: wake.clone(),
            },
        );
        tokio::spawn(Socket::new(id, self.clone(), wake).run());
        id
    }

    /// Hands `quote` to the receivers of its epic if socket `id` carries it. A full receiver misses this
    /// quote (the next one supersedes it); the socket task never waits. Returns whether the epic lost its
    /// last receiver, so the socket should unsubscribe it.
    pub fn deliver(&self, id: SocketId, quote: StreamQuote) -> bool {
        let mut table = self.table();
        let Some(entry) = table.epics.get_mut(&quote.epic).filter(|e| e.socket == id) else {
            return false;
        };
        if !entry.receivers.send(&quote) {
            table.remove_epic(&quote.epic);
            return true;
        }
        entry.last = Some(quote);
        false
    }

    /// Drops the closed receivers of socket `id`'s epics and the epics left without one. Returns whether
    /// any epic was dropped.
    pub fn prune(&self, id: SocketId) -> bool {
        let mut table = self.table();
        let Some(socket) = table.sockets.get(&id) else {
            return false;
        };
        let epics: Vec<String> = socket.epics.iter().cloned().collect();
        let mut dropped = false;
        for epic in epics {
            let unused = table.epics.get_mut(&epic).is_some_and(|e| !e.receivers.prune());
            if unused {
                table.remove_epic(&epic);
                dropped = true;
            }
        }
        dropped
    }

    /// Drops `epic` from socket `id` because the upstream refused it; its receivers are closed.
    pub fn fail(&self, id: SocketId, epic: &str) -> bool {
        let mut table = self.table();
        if table.epics.get(epic).is_some_and(|e| e.socket == id) {
            table.remove_epic(epic);
            return true;
        }
        false
    }

    /// The epics socket `id` should carry; `None` once the socket is no longer in the pool.
    pub fn epics_of(&self, id: SocketId) -> Option<Vec<String>> {
        self.table()
            .sockets
            .get(&id)
            .map(|s| s.epics.iter().cloned().collect())
    }

    /// Removes socket `id` from the pool if it carries no epic (or is already gone). Returns whether the
    /// socket may close.
    pub fn release_if_empty(&self, id: SocketId) -> bool {
        let mut table = self.table();
        match table.sockets.get(&id) {
            Some(s) if !s.epics.is_empty() => false,
            _ => {
                table.sockets.remove(&id);
                true
            }
        }
    }

    /// A receiver that sees `true` once the pool is shut down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Closes every receiver and tells every socket task to stop.
    pub fn shutdown(&self) {
        {
            let mut table = self.table();
            table.closed = true;
            table.epics.clear();
            table.sockets.clear();
        }
        self.shutdown.send_replace(true);
    }

    /// Counts of the table.
    pub fn stats(&self) -> StreamStats {
        let table = self.table();
        StreamStats {
            sockets: table.sockets.len(),
            epics: table.epics.len(),
            reconnects: self.reconnects.load(Ordering::Relaxed),
        }
    }
}

impl Table {
    /// Forgets `epic` (closing its receivers) and frees its socket slot.
    fn remove_epic(&mut self, epic: &str) {
        if let Some(entry) = self.epics.remove(epic) {
            if let Some(socket) = self.sockets.get_mut(&entry.socket) {
                socket.epics.remove(epic);
            }
        }
    }
}

/// Rejects epics that cannot be a Capital.com epic before they reach the upstream.
fn validate(epic: &str) -> Result<(), BrokerError> {
    if epic.trim().is_empty() {
        return Err(BrokerError::Rejected(
            "The instrument (epic) is missing.".to_string(),
        ));
    }
    if epic.len() > MAX_EPIC_LEN || epic.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(BrokerError::Rejected(
            "The instrument (epic) is not valid.".to_string(),
        ));
    }
    Ok(())
}
