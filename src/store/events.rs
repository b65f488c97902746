//! The in-process side of the broadcast channel: one `tokio::sync::broadcast` every subscriber of this
//! process listens on. The memory and embedded stores publish straight into it; the Redis store feeds it
//! from its subscription connection.

use super::Notice;
use bytes::Bytes;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Messages a slow subscriber may fall behind by before it is told of a gap.
const CAPACITY: usize = 4096;

/// The process's broadcast channel.
#[derive(Debug, Clone)]
pub struct Bus {
    sender: broadcast::Sender<Notice>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus {
            sender: broadcast::channel(CAPACITY).0,
        }
    }
}

impl Bus {
    /// Delivers a message to every subscriber (none listening is fine).
    pub fn send(&self, channel: &str, payload: &[u8]) {
        let _ = self.sender.send(Notice::Message {
            channel: Arc::from(channel),
            payload: Bytes::copy_from_slice(payload),
        });
    }

    /// Tells every subscriber that messages may have been lost.
    pub fn gap(&self) {
        let _ = self.sender.send(Notice::Gap);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.sender.subscribe()
    }
}

/// The next notice of `rx`, with falling behind reported as a [`Notice::Gap`]; `None` once the store is gone.
pub async fn next(rx: &mut broadcast::Receiver<Notice>) -> Option<Notice> {
    match rx.recv().await {
        Ok(notice) => Some(notice),
        Err(broadcast::error::RecvError::Lagged(_)) => Some(Notice::Gap),
        Err(broadcast::error::RecvError::Closed) => None,
    }
}
