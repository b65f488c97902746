//! One subscription pool for every upstream push stream (Capital.com's WebSocket, OANDA's NDJSON pricing and
//! transaction streams, and the next backend's): the wanted keys with their receivers, the connections that
//! carry them (a cap of keys per connection where the upstream has one), back-off, resubscription of the
//! whole wanted set after every reconnection, keep-alive frames and a silence watch.
//!
//! Layout: [`StreamPool`] (this file) is the public face; `table` holds the keys, receivers and connection
//! slots under one lock; `connection` runs one slot (open, subscribe, keep alive, read, reconnect);
//! [`link`] is the transport trait with its two implementations, [`ws`] (WebSocket) and [`ndjson`]
//! (newline-delimited JSON over one long-lived HTTP GET). What differs per upstream (frames, decoding,
//! credentials) is the backend's [`Protocol`]; what differs in timing is its [`PoolOptions`].

mod connection;
pub mod link;
pub mod ndjson;
mod options;
mod protocol;
mod table;
mod tls;
pub mod ws;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_ndjson;

pub use link::{Frame, Link};
pub use options::PoolOptions;
pub use protocol::{Incoming, OpenError, Opened, Protocol};

use crate::broker::BrokerError;
use std::fmt;
use std::sync::Arc;
use table::Shared;
use tokio::sync::mpsc;

/// A snapshot of the pool, for tests and health diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connection slots in the pool, connected or reconnecting.
    pub connections: usize,
    /// Keys assigned to a connection (subscribed upstream, or about to be).
    pub keys: usize,
    /// Connection attempts made after a lost or failed connection, since the pool was created.
    pub reconnects: u64,
    /// Connections successfully opened, since the pool was created.
    pub opened: u64,
}

/// The subscriptions of one upstream stream. Cheap to clone; when the last clone is dropped every
/// connection closes, every connection task ends and every receiver ends.
pub struct StreamPool<P: Protocol> {
    owner: Arc<Owner<P>>,
}

impl<P: Protocol> Clone for StreamPool<P> {
    fn clone(&self) -> Self {
        StreamPool {
            owner: self.owner.clone(),
        }
    }
}

/// Shuts the pool down when the last [`StreamPool`] goes away: connection tasks hold the shared state, so
/// without this they would keep running for receivers nobody can ever add to.
struct Owner<P: Protocol> {
    shared: Arc<Shared<P>>,
}

impl<P: Protocol> Drop for Owner<P> {
    fn drop(&mut self) {
        self.shared.shutdown();
    }
}

impl<P: Protocol> StreamPool<P> {
    /// An empty pool speaking `protocol`. No connection is opened before the first `subscribe`.
    pub fn new(protocol: Arc<P>, options: PoolOptions) -> Self {
        // At zero from the start, so a dashboard has the stream before its first connection.
        for kind in ["first", "reconnect", "failed"] {
            crate::metrics::record::upstream_stream_registered(protocol.name(), kind);
        }
        StreamPool {
            owner: Arc::new(Owner {
                shared: Shared::new(protocol, options.sanitized()),
            }),
        }
    }

    /// Events of `key`, in arrival order. Dropping the receiver ends the subscription (the pool notices
    /// within about half a second, or at the next event of the key). Several receivers of one key share
    /// one upstream subscription. Returns before the upstream confirms the subscription: a refused key
    /// closes the receiver instead. Fails for a key the protocol rejects, or after the pool shut down.
    pub fn subscribe(&self, key: &str) -> Result<mpsc::Receiver<P::Event>, BrokerError> {
        self.owner.shared.subscribe(key)
    }

    /// Counts of the pool.
    pub fn stats(&self) -> PoolStats {
        self.owner.shared.stats()
    }

    /// The protocol the pool speaks.
    pub fn protocol(&self) -> &Arc<P> {
        &self.owner.shared.protocol
    }
}

impl<P: Protocol> fmt::Debug for StreamPool<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamPool")
            .field("stream", &self.owner.shared.protocol.name())
            .field("stats", &self.stats())
            .finish()
    }
}
