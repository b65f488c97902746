//! The bridge on the Interactive Brokers backend against the fake IBKR Web API (`fakes::ibkr`), driven as
//! TradingView drives it, asserting on both what TradingView sees and what the fake holds: over the Client
//! Portal gateway the session, orders with the reply loop, brackets on orders and positions (`brackets`),
//! positions and the account state, ambiguous failures, pacing and the cost of a refresh; over OAuth 1.0a
//! and OAuth 2.0 (`oauth`) a whole trading session, renewal after expiry and refusal after revocation; on
//! every transport the WebSocket's order and quote streams (`streams`); the data-feed suite (`datafeed`);
//! depth of book (`market`).

#[path = "../datafeed_suite/mod.rs"]
mod suite;
#[path = "../support/mod.rs"]
mod support;

mod ambiguous;
mod brackets;
mod datafeed;
mod market;
mod oauth;
mod orders;
mod outcome;
mod pacing;
mod positions;
mod refresh;
mod session;
mod streams;
