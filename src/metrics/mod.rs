//! Operator metrics in Prometheus text format: the process's one recorder ([`recorder`]), the series it
//! knows ([`names`]), bounded label values ([`labels`]), one-line recording functions for the call sites
//! ([`record`]), the HTTP middleware ([`http`]), the state-store wrapper ([`store`]), `[metrics]`
//! ([`config`]) and the page on the main or a separate listener ([`serve`]).

pub mod config;
pub mod http;
pub mod labels;
pub mod names;
pub mod record;
pub mod recorder;
pub mod serve;
pub mod store;

pub use config::MetricsConfig;
pub use recorder::{install, render};
