//! Tests of config.
use super::*;
