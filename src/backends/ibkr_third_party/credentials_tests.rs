//! Tests of credentials.
use super::*;
