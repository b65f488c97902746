//! Tests of session.
use super::*;
