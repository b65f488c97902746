//! `sor` (live orders) and `spl` (P&L) pushes turned into account changes for the account hub. IBKR
//! pushes only what changed; the hub then reads the account again, never more often than the backend's
//! refresh minimum (`/iserver/account/orders` is allowed once per 5 s), so a burst of pushes costs one
//! listing.

use super::frames::{ORDERS, PNL};
use super::{Inner, Push};
use std::sync::atomic::Ordering;
use std::sync::Weak;
use tokio::sync::mpsc;

/// Forwards pushes while the backend exists and someone listens. When the socket refuses the topics for
/// good (their receivers close), asks again after `resubscribe_after`.
pub(super) async fn run(inner: Weak<Inner>) {
    loop {
        let Some(streams) = inner.upgrade() else { return };
        let subscribed = (streams.pool.subscribe(ORDERS), streams.pool.subscribe(PNL));
        let wait = streams.options.resubscribe_after;
        drop(streams);
        let (Ok(orders), Ok(pnl)) = subscribed else {
            // The pool is shut down: the backend is going away.
            return;
        };
        if !forward(&inner, orders, pnl).await {
            return;
        }
        tokio::time::sleep(wait).await;
    }
}

/// Announces every push until both topics end (true: try again) or nobody listens any more (false).
async fn forward(
    inner: &Weak<Inner>,
    mut orders: mpsc::Receiver<Push>,
    mut pnl: mpsc::Receiver<Push>,
) -> bool {
    let (mut orders_open, mut pnl_open) = (true, true);
    while orders_open || pnl_open {
        let push = tokio::select! {
            p = orders.recv(), if orders_open => p.or_else(|| { orders_open = false; None }),
            p = pnl.recv(), if pnl_open => p.or_else(|| { pnl_open = false; None }),
        };
        let Some(inner) = inner.upgrade() else {
            return false;
        };
        if inner.changes.receiver_count() == 0 {
            // Nobody listens: stop, and let the next listener start the watch again.
            inner.watching.store(false, Ordering::SeqCst);
            // A listener that came in between found the watch running: keep it running for them.
            if inner.changes.receiver_count() > 0 && !inner.watching.swap(true, Ordering::SeqCst) {
                continue;
            }
            return false;
        }
        let accounts = match push {
            Some(Push::Orders(a) | Push::Pnl(a)) => a,
            Some(Push::Quote(_)) | None => continue,
        };
        announce(&inner, accounts).await;
    }
    true
}

/// Sends one change per account; a push naming none concerns every account of the session.
async fn announce(inner: &Inner, accounts: Vec<String>) {
    let accounts = if accounts.is_empty() {
        match inner.gateway.accounts().await {
            Ok(all) => all.iter().map(|a| a.id.clone()).collect(),
            Err(_) => return,
        }
    } else {
        accounts
    };
    for id in accounts {
        tracing::debug!(account = %id, "IBKR pushed an account change");
        let _ = inner.changes.send(id);
    }
}
