//! The bridge on the IBKR backend against the fake IBKR Web API (`fakes::ibkr`), in one test binary.

#[path = "../support/mod.rs"]
mod support;

mod oauth;
