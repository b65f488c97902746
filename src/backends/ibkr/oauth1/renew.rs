//! [`Renewing`]: holds a credential that expires (the live session token, an OAuth 2.0 bearer), renews it
//! a margin before it expires, one renewal at a time however many calls need it, and forgets it when the
//! upstream refuses it so that the next call renews once.

use crate::sync::MutexExt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// A credential with an expiry.
pub trait Expiring {
    /// When the upstream stops accepting it.
    fn expires_at(&self) -> Instant;
}

/// The held credential and when to renew it.
struct Held<T> {
    value: Arc<T>,
    renew_at: Instant,
}

/// A credential renewed before it expires, single-flight.
pub struct Renewing<T> {
    slot: Mutex<Option<Held<T>>>,
    /// Held while renewing, so concurrent callers wait for one renewal instead of each starting one.
    renewing: tokio::sync::Mutex<()>,
    margin: Duration,
}

impl<T> std::fmt::Debug for Renewing<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renewing")
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl<T: Expiring> Renewing<T> {
    /// Renews `margin` before expiry, or halfway through the credential's life when that is shorter (a
    /// credential that lives less than twice the margin would otherwise be renewed on every call).
    pub fn new(margin: Duration) -> Self {
        Renewing {
            slot: Mutex::new(None),
            renewing: tokio::sync::Mutex::new(()),
            margin,
        }
    }

    /// The held credential while it is not yet due for renewal.
    pub fn current(&self) -> Option<Arc<T>> {
        let slot = self.slot.locked();
        slot.as_ref()
            .filter(|h| Instant::now() < h.renew_at)
            .map(|h| h.value.clone())
    }

    /// The credential, renewed with `renew` first when none is held or it is due. Callers arriving during a
    /// renewal wait for it and share its result; a failed renewal is returned to the caller that ran it, and
    /// the next caller tries afresh.
    pub async fn get<F, Fut, E>(&self, renew: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.current() {
            return Ok(value);
        }
        let _renewing = self.renewing.lock().await;
        if let Some(value) = self.current() {
            return Ok(value);
        }
        let obtained = Instant::now();
        let value = Arc::new(renew().await?);
        let life = value.expires_at().saturating_duration_since(obtained);
        let renew_at = value.expires_at() - self.margin.min(life / 2);
        *self.slot.locked() = Some(Held {
            value: value.clone(),
            renew_at,
        });
        Ok(value)
    }

    /// Forgets the held credential whatever it is, so the next [`Renewing::get`] obtains a new one (the
    /// session it belonged to was closed).
    pub fn forget(&self) {
        *self.slot.locked() = None;
    }

    /// Forgets `stale` after the upstream refused it (a 401), so the next [`Renewing::get`] renews. A
    /// credential renewed meanwhile by another call is kept: many calls refused with the same stale one
    /// cause one renewal, not one each.
    pub fn invalidate(&self, stale: &Arc<T>) {
        let mut slot = self.slot.locked();
        if slot.as_ref().is_some_and(|h| Arc::ptr_eq(&h.value, stale)) {
            *slot = None;
        }
    }
}
