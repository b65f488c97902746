//! Pure mapping between IBKR's wire types and TradingView's: order tickets from TradingView orders,
//! statuses, orders, executions, positions, account state, quotes, bars and instrument rows. Tested on the
//! payloads of `testdata/ibkr/`.

pub mod account;
pub mod market;
pub mod orders;

#[cfg(test)]
mod tests_market;
#[cfg(test)]
mod tests_orders;
