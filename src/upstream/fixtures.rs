//! Test helpers for the backends' fixtures: an upstream's example payload read as JSON and deserialised
//! into its wire types. A payload that does not read is a broken test, so these panic, naming what failed.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// An example payload (a `testdata/` file compiled in) as a JSON value.
pub fn load(text: &str) -> Value {
    serde_json::from_str(text).expect("testdata JSON parses")
}

/// Deserialises a fixture into a wire type.
pub fn parse<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture deserialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Pair {
        a: u32,
    }

    #[test]
    fn a_payload_reads_into_its_type() {
        assert_eq!(parse::<Pair>(load(r#"{"a": 7}"#)), Pair { a: 7 });
    }

    #[test]
    #[should_panic(expected = "testdata JSON parses")]
    fn broken_json_fails_the_test() {
        load("{");
    }

    #[test]
    #[should_panic(expected = "fixture deserialises")]
    fn a_payload_of_another_shape_fails_the_test() {
        parse::<Pair>(load(r#"{"b": 1}"#));
    }
}
