//! Fake upstreams for tvbridge's tests and examples: Capital.com ([`capital`]), OANDA ([`oanda`]) and
//! Interactive Brokers' Client Portal gateway ([`ibkr`], with the server side of
//! its OAuth 1.0a and 2.0 in [`ibkr_auth`]) and IBKR's Third-Party Web API ([`ibkr_third_party`]: the
//! three-legged OAuth 1.0a grant with its authorization page, FIX-style resources),
//! each a real HTTP (and stream) server on `127.0.0.1` built from the upstream's official documents, with
//! the moving seeded prices both use ([`price_path`]). A fake follows the documents, never the bridge:
//! this crate does not depend on `tvbridge`, and is compiled once for every test binary and example.
//! [`redis_server`] runs a real `redis-server` (not a fake) for the Redis store's tests.

pub mod browser;
pub mod capital;
pub mod ibkr;
pub mod ibkr_auth;
pub mod ibkr_third_party;
pub mod oanda;
pub mod price_path;
pub mod redis_server;
