//! JSON Schema checks of TradingView response bodies against `tests/schemas/tradingview.schema.json`.
//!
//! The schema is embedded at compile time, so tests never depend on the working directory. Each definition in
//! `$defs` is compiled once (on first use) into its own validator and cached for the rest of the test binary.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::Validator;
use serde_json::Value;

/// The schema document, embedded so tests never read files at run time.
const SCHEMA_SOURCE: &str = include_str!("../schemas/tradingview.schema.json");

/// The parsed schema document.
fn root() -> &'static Value {
    static ROOT: OnceLock<Value> = OnceLock::new();
    ROOT.get_or_init(|| {
        serde_json::from_str(SCHEMA_SOURCE)
            .unwrap_or_else(|e| panic!("tests/schemas/tradingview.schema.json is not valid JSON: {e}"))
    })
}

/// The names of every definition in the schema's `$defs`, sorted.
pub fn def_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = root()["$defs"]
        .as_object()
        .map(|defs| defs.keys().map(String::as_str).collect())
        .unwrap_or_default();
    names.sort_unstable();
    names
}

/// The compiled validator for one definition, built on first use and cached per name.
fn validator(def: &str) -> Arc<Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();

    // Checked before taking the lock so a bad name never poisons the cache for other tests.
    if root()["$defs"].get(def).is_none() {
        panic!(
            "no definition `{def}` in tests/schemas/tradingview.schema.json; known definitions: {}",
            def_names().join(", ")
        );
    }
    let cache = CACHE.get_or_init(Mutex::default);
    let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = cache.get(def) {
        return Arc::clone(found);
    }
    // A copy of the whole document (so every `#/$defs/...` reference resolves) whose root points at `def`.
    let mut schema = root().clone();
    schema["$ref"] = Value::String(format!("#/$defs/{def}"));
    let compiled = jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("schema definition `{def}` does not compile: {e}"));
    let compiled = Arc::new(compiled);
    cache.insert(def.to_owned(), Arc::clone(&compiled));
    compiled
}

/// Every way `value` breaks definition `def`, one line each: JSON path in the value, the problem, and the
/// schema keyword that failed. Empty when the value is valid. Panics when `def` is not in the schema.
pub fn schema_errors(def: &str, value: &Value) -> Vec<String> {
    let validator = validator(def);
    validator
        .iter_errors(value)
        .map(|error| {
            let at = error.instance_path.to_string();
            let at = if at.is_empty() { "(root)".to_owned() } else { at };
            format!("at {at}: {error} [schema: {}]", error.schema_path)
        })
        .collect()
}

/// Panics with every validation error (and the pretty-printed value) unless `value` matches definition `def`.
#[track_caller]
pub fn assert_schema(def: &str, value: &Value) {
    let errors = schema_errors(def, value);
    if !errors.is_empty() {
        let pretty = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
        panic!(
            "value does not match schema definition `{def}` ({} error(s)):\n  - {}\nvalue:\n{pretty}",
            errors.len(),
            errors.join("\n  - ")
        );
    }
}
