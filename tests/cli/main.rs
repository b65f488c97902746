//! The built `tvbridge` binary, run as a child process: its commands and `serve` end to end (`commands`),
//! and its configuration as an operator meets it (`config`). Every test starts its own process with its
//! own environment, so the two former binaries share one.

mod commands;
mod config;
mod oauth;
mod replicas;
mod restart;
