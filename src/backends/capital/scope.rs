//! Account-scoped calls: a sequence of calls made while the Capital.com session stays on one account, and
//! the waits inside it (a deal confirmation asked again, a 429 back-off) made without holding the account,
//! so another tab's account switch never waits for them.

use super::client::{CallResult, Client, Tokens};
use super::session::{Kind, SessionContext, Upstream, UpstreamError, UpstreamResult};
use crate::sync::MutexExt;
use crate::upstream::transport::RetryWait;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::Duration;
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

/// The shared hold on the account.
type Hold = Arc<OwnedRwLockReadGuard<String>>;

/// How often one call is made again from the start because another tab switched the session while the
/// call waited to retry (each time it switches back first). Past this, the call's failure is reported.
const MAX_RESTARTS: u32 = 2;

/// Account-scoped calls made while the upstream session stays on one account.
///
/// The scope holds the account lock shared, so no other tab can switch the session under its calls, but
/// lets go of it in [`AccountScope::pause`] (a deal confirmation asked again, a lookup after an ambiguous
/// write or the activity read for a reducing deal waits seconds in all) and while a call waits to be
/// retried (a 429 back-off): another tab's account switch must not wait with them. The next call takes the
/// lock again (switching back when another tab switched).
pub struct AccountScope<'a> {
    upstream: &'a Upstream,
    ctx: &'a SessionContext,
    /// The shared hold on the account, `None` after a pause. Each call keeps its own clone for as long as
    /// it runs, so a pause never lets a switch in under a call in flight.
    held: Arc<SyncMutex<Option<Hold>>>,
    account: String,
}

impl<'a> AccountScope<'a> {
    /// A scope on `account`, whose lock `hold` holds.
    pub(super) fn new(
        upstream: &'a Upstream,
        ctx: &'a SessionContext,
        hold: OwnedRwLockReadGuard<String>,
        account: &str,
    ) -> AccountScope<'a> {
        AccountScope {
            upstream,
            ctx,
            held: Arc::new(SyncMutex::new(Some(Arc::new(hold)))),
            account: account.to_string(),
        }
    }

    /// One call on this scope's account. Its retries wait without holding the account; when another tab
    /// switched the session meanwhile, the call starts again on this account (at most [`MAX_RESTARTS`]).
    pub async fn call<T, F, Fut>(&self, kind: Kind, f: F) -> UpstreamResult<T>
    where
        F: Fn(Client, Tokens) -> Fut,
        Fut: Future<Output = CallResult<T>>,
    {
        let mut restarts = 0;
        loop {
            let waiter = Arc::new(Unheld {
                mine: SyncMutex::new(Some(self.hold().await?)),
                scope: self.held.clone(),
                lock: self.upstream.account_lock(),
                account: self.account.clone(),
                switched: AtomicBool::new(false),
            });
            let result = self
                .upstream
                .exec(self.ctx, Some(&self.account), kind, Some(waiter.clone()), &f)
                .await;
            if result.is_err() && waiter.switched.load(Ordering::SeqCst) && restarts < MAX_RESTARTS {
                restarts += 1;
                tracing::info!(
                    "another tab switched the Capital.com session during a retry wait; switching back"
                );
                continue;
            }
            return result;
        }
    }

    /// The scope's hold, taken again after a pause.
    async fn hold(&self) -> Result<Hold, UpstreamError> {
        if let Some(hold) = self.held.locked().clone() {
            return Ok(hold);
        }
        let hold = Arc::new(self.upstream.hold(self.ctx, &self.account).await?);
        *self.held.locked() = Some(hold.clone());
        Ok(hold)
    }

    /// Waits `wait` without holding the account, so another tab may switch the session meanwhile.
    pub async fn pause(&self, wait: Duration) {
        self.held.locked().take();
        tokio::time::sleep(wait).await;
    }

    pub fn account(&self) -> &str {
        &self.account
    }
}

/// A call's wait between attempts: lets go of the account (its own hold and the scope's), sleeps, and
/// takes the account again if the session is still on it. When another tab switched it meanwhile, the
/// retry is not made here (it would go to the other account): the scope starts the call again, switching
/// back first.
struct Unheld {
    mine: SyncMutex<Option<Hold>>,
    scope: Arc<SyncMutex<Option<Hold>>>,
    lock: Arc<RwLock<String>>,
    account: String,
    switched: AtomicBool,
}

#[async_trait::async_trait]
impl RetryWait for Unheld {
    async fn wait(&self, wait: Duration) -> bool {
        self.mine.locked().take();
        self.scope.locked().take();
        tokio::time::sleep(wait).await;
        let guard = self.lock.clone().read_owned().await;
        if *guard != self.account {
            self.switched.store(true, Ordering::SeqCst);
            return false;
        }
        let hold = Arc::new(guard);
        *self.mine.locked() = Some(hold.clone());
        self.scope.locked().get_or_insert(hold);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    fn unheld(lock: &Arc<RwLock<String>>, hold: Hold) -> Arc<Unheld> {
        Arc::new(Unheld {
            mine: SyncMutex::new(Some(hold.clone())),
            scope: Arc::new(SyncMutex::new(Some(hold))),
            lock: lock.clone(),
            account: "A".into(),
            switched: AtomicBool::new(false),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn an_account_switch_proceeds_during_a_retry_wait_and_the_retry_is_not_made_on_the_other_account() {
        let lock = Arc::new(RwLock::new("A".to_string()));
        let waiter = unheld(&lock, Arc::new(lock.clone().read_owned().await));
        let start = Instant::now();
        let waiting = tokio::spawn({
            let waiter = waiter.clone();
            async move { waiter.wait(Duration::from_secs(10)).await }
        });
        tokio::time::sleep(Duration::from_millis(1)).await;
        // Another tab switches the session while the call waits out its 429.
        let switch = tokio::time::timeout(Duration::from_secs(1), lock.write()).await;
        *switch.expect("the switch waited for the retry wait") = "B".into();
        assert!(
            Instant::now() - start < Duration::from_secs(1),
            "the switch waited"
        );
        assert!(!waiting.await.unwrap(), "the retry would go to account B");
        assert!(waiter.switched.load(Ordering::SeqCst));
        assert!(
            Instant::now() - start >= Duration::from_secs(10),
            "the wait was cut short"
        );
        assert!(waiter.mine.locked().is_none() && waiter.scope.locked().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_switch_the_retry_goes_on_holding_the_account_again() {
        let lock = Arc::new(RwLock::new("A".to_string()));
        let waiter = unheld(&lock, Arc::new(lock.clone().read_owned().await));
        assert!(waiter.wait(Duration::from_secs(1)).await);
        assert!(!waiter.switched.load(Ordering::SeqCst));
        assert!(waiter.mine.locked().is_some() && waiter.scope.locked().is_some());
        assert!(
            lock.try_write().is_err(),
            "the account is not held again for the retry"
        );
    }
}
