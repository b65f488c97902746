//! Poison-tolerant std locks. A panic while a std lock is held only poisons it; every structure the bridge
//! keeps behind one is sound between statements (no invariant is half-updated across a call that can
//! panic), so the data is used as it is rather than spreading one request's panic to every later caller.
//!
//! Lock order. Std locks guard a few statements each, take no other lock while held and never span an
//! `.await` (clippy's `await_holding_lock`, an error in CI). The async locks that do span awaits: the account
//! hub's refresh lock (one per account) is taken before anything of the backend's; in a Capital.com session
//! the account lock (a tokio read-write lock: shared for calls on the current account, exclusive to switch)
//! is taken before the token mutex (`live`), never after it, and is let go of between a deal's
//! confirmation attempts (`AccountScope::pause`) and while a call waits to be retried (a 429 back-off).

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// `lock()` that takes a poisoned mutex as it is.
pub trait MutexExt<T: ?Sized> {
    fn locked(&self) -> MutexGuard<'_, T>;
}

impl<T: ?Sized> MutexExt<T> for Mutex<T> {
    fn locked(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `read()` and `write()` that take a poisoned lock as it is.
pub trait RwLockExt<T: ?Sized> {
    fn read_locked(&self) -> RwLockReadGuard<'_, T>;
    fn write_locked(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T: ?Sized> RwLockExt<T> for RwLock<T> {
    fn read_locked(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_locked(&self) -> RwLockWriteGuard<'_, T> {
        self.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_lock_poisoned_by_a_panic_is_still_usable() {
        let m = Arc::new(Mutex::new(1));
        let r = Arc::new(RwLock::new(1));
        let (m2, r2) = (m.clone(), r.clone());
        let _ = std::thread::spawn(move || {
            let _g = m2.lock().unwrap();
            let _w = r2.write().unwrap();
            panic!("poison both");
        })
        .join();
        assert!(m.is_poisoned() && r.is_poisoned());
        *m.locked() += 1;
        *r.write_locked() += 1;
        assert_eq!((*m.locked(), *r.read_locked()), (2, 2));
    }
}
