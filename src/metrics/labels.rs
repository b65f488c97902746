//! Bounded label values. A label value taken from traffic (an upstream path, a client's transactionType)
//! is normalised and then interned in a [`LabelSet`] with a hard cap: past the cap every new value is
//! [`OTHER`], so no input can grow the number of series without bound.

use crate::sync::MutexExt;
use std::collections::HashMap;
use std::sync::Mutex;

/// The value every label set answers once it is full.
pub const OTHER: &str = "other";

/// Distinct values interned per set at most.
pub const MAX_VALUES: usize = 200;

/// Interned label values, at most `cap` of them (each leaked once: they live as long as the series).
pub struct LabelSet {
    cap: usize,
    values: Mutex<Option<HashMap<Box<str>, &'static str>>>,
}

impl LabelSet {
    /// An empty set of at most `cap` values.
    pub const fn new(cap: usize) -> LabelSet {
        LabelSet {
            cap,
            values: Mutex::new(None),
        }
    }

    /// `value` as a `'static` label, or [`OTHER`] when the set is full.
    pub fn intern(&self, value: &str) -> &'static str {
        let mut values = self.values.locked();
        let values = values.get_or_insert_with(HashMap::new);
        if let Some(v) = values.get(value) {
            return v;
        }
        if values.len() >= self.cap {
            return OTHER;
        }
        let leaked: &'static str = Box::leak(value.to_owned().into_boxed_str());
        values.insert(value.into(), leaked);
        leaked
    }

    /// How many values are interned.
    pub fn len(&self) -> usize {
        self.values.locked().as_ref().map_or(0, HashMap::len)
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Upstream endpoints over every backend.
static UPSTREAM_ENDPOINTS: LabelSet = LabelSet::new(MAX_VALUES);

/// The label of an upstream call: the method and the path with every segment that may be an id, a
/// symbol or user input replaced by `{id}`, interned ([`OTHER`] past the cap).
pub fn upstream_endpoint(method: &str, path: &str) -> &'static str {
    UPSTREAM_ENDPOINTS.intern(&normalise(method, path))
}

/// `GET /v3/accounts/{id}/orders` from `GET /v3/accounts/101-004-1/orders?x=1`.
pub fn normalise(method: &str, path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut out = String::with_capacity(method.len() + path.len() + 1);
    out.push_str(method);
    out.push(' ');
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if segment.is_empty() || is_word(segment) {
            out.push_str(segment);
        } else {
            out.push_str("{id}");
        }
    }
    out
}

/// A path segment kept as it is: a lowercase word of the API's own (`accounts`, `workingorders`,
/// `iserver`), or a short versioned one (`v3`, `oauth2`). Anything with upper case (symbols such as
/// `EUR_USD`), more than two digits, percent-encoding or other characters is an id.
fn is_word(segment: &str) -> bool {
    if segment.len() > 32 {
        return false;
    }
    let digits = segment.bytes().filter(u8::is_ascii_digit).count();
    let letters_first = segment.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    let allowed = segment
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-' || b == b'.');
    // Digits only at the end (`v3`, `oauth2`), never inside (`a1b2c3`).
    let digits_at_end = segment
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .bytes()
        .all(|b| !b.is_ascii_digit());
    allowed && letters_first && digits <= 2 && digits_at_end
}

/// A value a client sent, as a label: a short word of letters and `_` kept (lower-cased), anything else
/// [`OTHER`]; interned in `set`.
pub fn client_word(set: &LabelSet, value: &str) -> &'static str {
    let ok =
        !value.is_empty() && value.len() <= 32 && value.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_');
    if !ok {
        return OTHER;
    }
    set.intern(&value.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_symbols_and_input_become_placeholders() {
        assert_eq!(
            normalise("GET", "/v3/accounts/101-004-1234567-001/orders?state=ALL"),
            "GET /v3/accounts/{id}/orders"
        );
        assert_eq!(
            normalise("GET", "/v3/instruments/EUR_USD/candles"),
            "GET /v3/instruments/{id}/candles"
        );
        assert_eq!(
            normalise("DELETE", "/positions/006011e7-0055-311e-0000-000080507631"),
            "DELETE /positions/{id}"
        );
        assert_eq!(normalise("GET", "/confirms/o_98f2ebe0"), "GET /confirms/{id}");
        assert_eq!(normalise("GET", "/markets/EURUSD"), "GET /markets/{id}");
        assert_eq!(normalise("GET", "/markets/US500"), "GET /markets/{id}");
        assert_eq!(
            normalise("GET", "/iserver/account/U1234567/order/987654"),
            "GET /iserver/account/{id}/order/{id}"
        );
        assert_eq!(
            normalise("POST", "/oauth2/api/v1/token"),
            "POST /oauth2/api/v1/token"
        );
        assert_eq!(normalise("GET", "/a%2Fb/x"), "GET /{id}/x");
        assert_eq!(normalise("GET", "/abc123/x"), "GET /{id}/x");
        assert_eq!(normalise("GET", "/a1b/x"), "GET /{id}/x");
    }

    #[test]
    fn a_label_set_never_grows_past_its_cap() {
        let set = LabelSet::new(5);
        for i in 0..1000 {
            let v = set.intern(&format!("value{i}"));
            assert!(i < 5 || v == OTHER);
        }
        assert_eq!(set.len(), 5);
        assert_eq!(set.intern("value0"), "value0", "known values stay");
    }

    #[test]
    fn upstream_endpoints_are_bounded_whatever_the_paths() {
        // Ten thousand distinct ids and symbols fold into one label each.
        let mut labels = std::collections::HashSet::new();
        for i in 0..10_000 {
            labels.insert(upstream_endpoint(
                "GET",
                &format!("/v3/accounts/{i}-{i}/orders/{i}"),
            ));
            labels.insert(upstream_endpoint("GET", &format!("/markets/SYM{i}")));
            labels.insert(upstream_endpoint(
                "GET",
                &format!("/x/{}", "q".repeat(40 + i % 7)),
            ));
        }
        assert!(labels.contains("GET /v3/accounts/{id}/orders/{id}"));
        assert!(labels.contains("GET /markets/{id}"));
        assert!(labels.len() <= 3 + 1, "{labels:?}");
        // Even words that look like API words cannot exceed the cap.
        for i in 0..(2 * MAX_VALUES) {
            upstream_endpoint("GET", &format!("/{}", word(i)));
        }
        assert!(UPSTREAM_ENDPOINTS.len() <= MAX_VALUES);
    }

    fn word(mut i: usize) -> String {
        let mut s = String::new();
        loop {
            s.push((b'a' + (i % 26) as u8) as char);
            i /= 26;
            if i == 0 {
                return s;
            }
        }
    }

    #[test]
    fn client_words_are_bounded() {
        let set = LabelSet::new(3);
        assert_eq!(client_word(&set, "place_order"), "place_order");
        assert_eq!(client_word(&set, "Modify"), "modify");
        assert_eq!(client_word(&set, "x1"), OTHER);
        assert_eq!(client_word(&set, &"a".repeat(40)), OTHER);
        client_word(&set, "c");
        assert_eq!(client_word(&set, "d"), OTHER);
    }
}
