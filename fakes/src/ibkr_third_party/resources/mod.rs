//! The FIX-style resources of the Third-Party Web API, one file per group: accounts (list, positions,
//! summary), orders (list, place, get, cancel, modify, impact), trades, and market data (secdef,
//! snapshot, exchange components). The gate has verified the caller and the account's owner already.

pub(super) mod accounts;
pub(super) mod market;
pub(super) mod orders;
pub(super) mod trades;
