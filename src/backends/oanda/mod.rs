//! OANDA backend: v20 REST and streams, and v1 REST for legacy accounts, behind the `Broker` trait.
//!
//! Layers: `http` sends one request (pacing, retries of reads, failure classification); `venue` is the
//! contract each API version (`v20`, `v1`) implements in version-neutral terms; `catalog` maps symbols.

pub mod catalog;
pub mod config;
pub mod convert;
pub mod errors;
pub mod history;
pub mod http;
pub mod registry;
pub mod stream;
pub mod v1;
pub mod v20;
pub mod venue;

pub use config::OandaConfig;
