//! Tests of federation.
use super::*;
