//! Pure mapping between IBKR's wire types and TradingView's: order tickets from TradingView orders,
//! statuses, orders, executions, positions, account state, quotes, bars, instrument rows and trading hours. Tested on the
//! payloads of `testdata/ibkr/`.

pub mod account;
pub mod market;
pub mod orders;
pub mod schedule;

#[cfg(test)]
mod tests_market;
#[cfg(test)]
mod tests_orders;
