//! Tests of NDJSON.
