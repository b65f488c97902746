//! The built `tvbridge` binary, run as a child process: its commands and `serve` end to end (`commands`),
//! its configuration as an operator meets it (`config`), restarts (`restart`), and several processes on one
//! Redis (`replicas`, and what they cost a fake upstream: `upstream_counts`). Every test starts its own
//! process with its own environment, so the former binaries share one.

mod commands;
mod config;
mod oauth;
mod replicas;
mod restart;
mod upstream_counts;
