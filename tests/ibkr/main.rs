//! The bridge on the Interactive Brokers backend (Client Portal gateway transport) against the fake IBKR
//! gateway (`fakes::ibkr`), driven as TradingView drives it, asserting on both what TradingView sees and
//! what the fake holds: the gateway session, orders with the reply loop, positions and the account state,
//! ambiguous failures, pacing and the cost of a refresh.

#[path = "../support/mod.rs"]
mod support;

mod ambiguous;
mod orders;
mod pacing;
mod positions;
mod refresh;
mod session;
