//! The pool's shared table: which connection slot carries which key, and the receivers of each key.
//!
//! One `std::sync::Mutex` guards the whole table and is never held across an `.await`: every operation is
//! a few map lookups and non-blocking `try_send`s. Keeping receivers and slot assignments under the same
//! lock is what makes placement race-free: a slot only closes after checking, under the lock, that no key
//! was assigned to it in the meantime.

use super::connection::Slot;
use super::{PoolOptions, PoolStats, Protocol};
use crate::broker::BrokerError;
use crate::sync::MutexExt;
use crate::upstream::fanout::Listeners;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, watch, Notify};

/// Identifies a connection slot of the pool.
pub(super) type SlotId = u64;

/// State shared by the [`super::StreamPool`] handle and every connection task.
pub(super) struct Shared<P: Protocol> {
    pub protocol: Arc<P>,
    /// Sanitized options.
    pub options: PoolOptions,
    /// Reconnection attempts so far.
    pub reconnects: AtomicU64,
    /// Connections opened so far.
    pub opened: AtomicU64,
    table: Mutex<Table<P::Event>>,
    shutdown: watch::Sender<bool>,
}

struct Table<E> {
    keys: HashMap<String, KeyEntry<E>>,
    /// Ordered so that new keys fill the oldest slot with room first.
    slots: BTreeMap<SlotId, SlotEntry>,
    next_slot: SlotId,
    closed: bool,
}

impl<E> Default for Table<E> {
    fn default() -> Self {
        Table {
            keys: HashMap::new(),
            slots: BTreeMap::new(),
            next_slot: 0,
            closed: false,
        }
    }
}

struct KeyEntry<E> {
    slot: SlotId,
    receivers: Listeners<E>,
    /// The latest event, handed to a receiver that joins a key already streaming (if the pool replays).
    last: Option<E>,
}

struct SlotEntry {
    keys: BTreeSet<String>,
    /// Wakes the slot's task when its set of keys grows.
    wake: Arc<Notify>,
}

impl<P: Protocol> Shared<P> {
    /// An empty pool.
    pub fn new(protocol: Arc<P>, options: PoolOptions) -> Arc<Self> {
        Arc::new(Shared {
            protocol,
            options,
            reconnects: AtomicU64::new(0),
            opened: AtomicU64::new(0),
            table: Mutex::new(Table::default()),
            shutdown: watch::Sender::new(false),
        })
    }

    fn table(&self) -> MutexGuard<'_, Table<P::Event>> {
        // A panic elsewhere while holding the lock leaves the table consistent enough to keep serving.
        self.table.locked()
    }

    /// A receiver of `key`'s events; opens a connection slot when every slot is full.
    pub fn subscribe(self: &Arc<Self>, key: &str) -> Result<mpsc::Receiver<P::Event>, BrokerError> {
        self.protocol.check_key(key)?;
        let (tx, rx) = mpsc::channel(self.options.channel_capacity);
        let mut table = self.table();
        if table.closed {
            return Err(BrokerError::Unavailable(format!(
                "the {} is shut down",
                self.protocol.name()
            )));
        }
        if let Some(entry) = table.keys.get_mut(key) {
            if let Some(last) = entry.last.as_ref().filter(|_| self.options.replay_last) {
                // A fresh channel has room: this cannot fail except by a dropped receiver, which is fine.
                let _ = tx.try_send(last.clone());
            }
            entry.receivers.add(tx);
            return Ok(rx);
        }
        let max = self.options.per_connection;
        let free = table
            .slots
            .iter()
            .find(|(_, s)| s.keys.len() < max)
            .map(|(id, _)| *id);
        let id = match free {
            Some(id) => id,
            None => self.open_slot(&mut table),
        };
        if let Some(slot) = table.slots.get_mut(&id) {
            slot.keys.insert(key.to_string());
            slot.wake.notify_one();
        }
        table.keys.insert(
            key.to_string(),
            KeyEntry {
                slot: id,
                receivers: Listeners::new(tx),
                last: None,
            },
        );
        Ok(rx)
    }

    /// Adds a slot to the table and starts its task.
    fn open_slot(self: &Arc<Self>, table: &mut Table<P::Event>) -> SlotId {
        table.next_slot += 1;
        let id = table.next_slot;
        let wake = Arc::new(Notify::new());
        table.slots.insert(
            id,
            SlotEntry {
                keys: BTreeSet::new(),
                wake: wake.clone(),
            },
        );
        tokio::spawn(Slot::new(id, self.clone(), wake).run());
        id
    }

    /// Hands `event` to the receivers of `key` if slot `id` carries it. A full receiver misses this event
    /// (the next one supersedes it); the connection task never waits. Returns whether the key lost its
    /// last receiver, so the connection should unsubscribe it.
    pub fn deliver(&self, id: SlotId, key: &str, event: P::Event) -> bool {
        let mut table = self.table();
        let Some(entry) = table.keys.get_mut(key).filter(|e| e.slot == id) else {
            return false;
        };
        if !entry.receivers.send(&event) {
            table.remove_key(key);
            return true;
        }
        if self.options.replay_last {
            entry.last = Some(event);
        }
        false
    }

    /// Drops the closed receivers of slot `id`'s keys and the keys left without one. Returns whether any
    /// key was dropped.
    pub fn prune(&self, id: SlotId) -> bool {
        let mut table = self.table();
        let Some(slot) = table.slots.get(&id) else {
            return false;
        };
        let keys: Vec<String> = slot.keys.iter().cloned().collect();
        let mut dropped = false;
        for key in keys {
            let unused = table.keys.get_mut(&key).is_some_and(|e| !e.receivers.prune());
            if unused {
                table.remove_key(&key);
                dropped = true;
            }
        }
        dropped
    }

    /// Drops `key` from slot `id` because the upstream refused it; its receivers are closed.
    pub fn fail(&self, id: SlotId, key: &str) -> bool {
        let mut table = self.table();
        if table.keys.get(key).is_some_and(|e| e.slot == id) {
            table.remove_key(key);
            return true;
        }
        false
    }

    /// The keys slot `id` should carry; `None` once the slot is no longer in the pool.
    pub fn keys_of(&self, id: SlotId) -> Option<BTreeSet<String>> {
        self.table().slots.get(&id).map(|s| s.keys.clone())
    }

    /// Removes slot `id` from the pool if it carries no key (or is already gone). Returns whether the
    /// slot may close.
    pub fn release_if_empty(&self, id: SlotId) -> bool {
        let mut table = self.table();
        match table.slots.get(&id) {
            Some(s) if !s.keys.is_empty() => false,
            _ => {
                table.slots.remove(&id);
                true
            }
        }
    }

    /// A receiver that sees `true` once the pool is shut down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Closes every receiver and tells every connection task to stop.
    pub fn shutdown(&self) {
        {
            let mut table = self.table();
            table.closed = true;
            table.keys.clear();
            table.slots.clear();
        }
        self.shutdown.send_replace(true);
    }

    /// Counts of the table.
    pub fn stats(&self) -> PoolStats {
        let table = self.table();
        PoolStats {
            connections: table.slots.len(),
            keys: table.keys.len(),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            opened: self.opened.load(Ordering::Relaxed),
        }
    }
}

impl<E> Table<E> {
    /// Forgets `key` (closing its receivers) and frees its slot's place.
    fn remove_key(&mut self, key: &str) {
        if let Some(entry) = self.keys.remove(key) {
            if let Some(slot) = self.slots.get_mut(&entry.slot) {
                slot.keys.remove(key);
            }
        }
    }
}
