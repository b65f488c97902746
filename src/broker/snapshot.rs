//! One refresh of an account as the backend answers it (`Broker::snapshot`), and how often the account hub
//! may ask for one (`Broker::refresh_policy`).

use super::{Broker, BrokerAccount, BrokerResult, SessionCtx};
use crate::tv;
use std::time::Duration;

/// Orders, positions and state of one account, read together.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSnapshot {
    pub orders: Vec<tv::Order>,
    /// Netting accounts; empty on hedging ones.
    pub positions: Vec<tv::Position>,
    /// Hedging accounts; empty on netting ones.
    pub net_positions: Vec<tv::NetPosition>,
    /// Hedging accounts; empty on netting ones.
    pub individual_positions: Vec<tv::IndividualPosition>,
    pub state: tv::AccountState,
}

/// How the account hub learns that an account changed while streams listen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshMode {
    /// The hub polls every interval (`None`: `hub.poll_interval_ms`).
    Poll(Option<Duration>),
    /// The backend announces changes on [`Broker::account_changes`] and the hub refreshes at once on each.
    /// The hub still polls every `hub.poll_interval_ms`: valuations (P/L, equity) move with prices without
    /// an announcement.
    Push,
}

/// What a backend allows the hub for one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    pub mode: RefreshMode,
    /// The shortest time between the starts of two snapshots of the account, whatever asks (polls of any
    /// number of tabs, streams, writes): an upstream that allows one listing per 5 s declares 5 s. Polls are
    /// served the last snapshot meanwhile; a write waits for the interval to pass before it refreshes.
    pub min_interval: Duration,
}

impl RefreshPolicy {
    /// Polling at the hub's own interval, no minimum (the trait's default).
    pub const POLL: RefreshPolicy = RefreshPolicy {
        mode: RefreshMode::Poll(None),
        min_interval: Duration::ZERO,
    };
    /// Pushed changes plus the hub's polling, no minimum.
    pub const PUSH: RefreshPolicy = RefreshPolicy {
        mode: RefreshMode::Push,
        min_interval: Duration::ZERO,
    };
}

/// The default [`Broker::snapshot`]: the separate trait calls, concurrently, as the account's hedging mode
/// calls for (net and individual positions on hedging accounts, positions on netting ones).
pub async fn joined_snapshot<B: Broker + ?Sized>(
    broker: &B,
    ctx: &SessionCtx,
    account: &BrokerAccount,
) -> BrokerResult<AccountSnapshot> {
    let id = account.id.as_str();
    if account.capabilities.hedging {
        let (orders, state, net_positions, individual_positions) = tokio::try_join!(
            broker.orders(ctx, id),
            broker.state(ctx, id),
            broker.net_positions(ctx, id),
            broker.individual_positions(ctx, id)
        )?;
        Ok(AccountSnapshot {
            orders,
            positions: Vec::new(),
            net_positions,
            individual_positions,
            state,
        })
    } else {
        let (orders, state, positions) = tokio::try_join!(
            broker.orders(ctx, id),
            broker.state(ctx, id),
            broker.positions(ctx, id)
        )?;
        Ok(AccountSnapshot {
            orders,
            positions,
            net_positions: Vec::new(),
            individual_positions: Vec::new(),
            state,
        })
    }
}
