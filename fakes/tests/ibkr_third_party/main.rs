//! Tests of the fake IBKR Third-Party Web API (`fakes::ibkr_third_party`), driven over HTTP with
//! `reqwest` by a consumer written here from IBKR's OAuth guide (not the bridge's code): the three-legged
//! grant through the authorization page, the live session token, signed resource calls, the status rules
//! (204, 423, 202, 401, 429), faults and the order engine.

mod client;

mod browser;
mod flow;
mod orders;
mod rules;
