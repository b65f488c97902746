//! The listeners of one streamed symbol, as every upstream stream pool keeps them: each listener has a
//! bounded channel, a quote is handed to all of them without waiting (a listener that fell behind misses
//! it, the next quote supersedes it, and no listener can hold the stream up), and a listener that went
//! away is forgotten, so the pool can drop the symbol upstream when the last one has left.

use tokio::sync::mpsc::{self, error::TrySendError};

/// The live listeners of one symbol.
#[derive(Debug)]
pub struct Listeners<T> {
    senders: Vec<mpsc::Sender<T>>,
}

impl<T> Default for Listeners<T> {
    fn default() -> Self {
        Listeners { senders: Vec::new() }
    }
}

impl<T: Clone> Listeners<T> {
    /// The listeners, starting with `first`.
    pub fn new(first: mpsc::Sender<T>) -> Listeners<T> {
        Listeners { senders: vec![first] }
    }

    pub fn add(&mut self, listener: mpsc::Sender<T>) {
        self.senders.push(listener);
    }

    /// Hands `item` to every listener without waiting and forgets those that went away; returns whether
    /// any listener is left.
    pub fn send(&mut self, item: &T) -> bool {
        self.senders.retain(|tx| match tx.try_send(item.clone()) {
            Ok(()) | Err(TrySendError::Full(_)) => true,
            Err(TrySendError::Closed(_)) => false,
        });
        !self.senders.is_empty()
    }

    /// Forgets the listeners that went away; returns whether any is left.
    pub fn prune(&mut self) -> bool {
        self.senders.retain(|tx| !tx.is_closed());
        !self.senders.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.senders.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_listener_misses_quotes_and_a_gone_one_is_forgotten() {
        let (fast_tx, mut fast) = mpsc::channel(8);
        let (slow_tx, mut slow) = mpsc::channel(1);
        let mut listeners = Listeners::new(fast_tx);
        listeners.add(slow_tx);
        assert!(listeners.send(&1) && listeners.send(&2));
        assert_eq!((fast.try_recv(), fast.try_recv()), (Ok(1), Ok(2)));
        // The slow one's channel was full: it kept the first quote and missed the second.
        assert_eq!((slow.try_recv().ok(), slow.try_recv().ok()), (Some(1), None));
        drop(slow);
        assert!(listeners.send(&3), "the fast listener is still there");
        assert_eq!(listeners.senders.len(), 1);
        drop(fast);
        assert!(!listeners.send(&4), "nobody is left");
        assert!(listeners.is_empty());
    }

    #[test]
    fn prune_forgets_listeners_that_left_without_a_quote() {
        let (a_tx, a) = mpsc::channel::<u8>(1);
        let (b_tx, _b) = mpsc::channel::<u8>(1);
        let mut listeners = Listeners::new(a_tx);
        listeners.add(b_tx);
        drop(a);
        assert!(listeners.prune());
        assert_eq!(listeners.senders.len(), 1);
        drop(_b);
        assert!(!listeners.prune());
    }
}
