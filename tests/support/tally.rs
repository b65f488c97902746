//! Tallies of the requests a fake upstream logged, for tests that count what one bridge action costs upstream.

use std::collections::BTreeMap;

/// (method, path) -> count, leaving out the keep-alive pings that run on their own clock.
pub fn tally<'a>(requests: impl Iterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (method, path) in requests {
        if path != "/ping" {
            *out.entry(format!("{method} {path}")).or_insert(0) += 1;
        }
    }
    out
}

/// One of each listed request.
pub fn expected(rows: &[&str]) -> BTreeMap<String, usize> {
    rows.iter().map(|r| (r.to_string(), 1)).collect()
}
