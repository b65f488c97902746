//! IBKR Client Portal Web API wire types, as IBKR's own API reference gives them (field names as sent);
//! every upstream enum has an `Unknown` catch-all, and numbers that IBKR sends as strings are read with
//! [`num::Num`].

pub mod market;
pub mod num;
pub mod orders;
pub mod portfolio;
pub mod schedule;
pub mod session;

pub use num::{Conid, Num};

#[cfg(test)]
pub(crate) mod tests;
