//! One upstream call described once (method, path, query, headers, body, kind, signer, lane), so the
//! transport can build it afresh for every attempt.

use super::limits::Lane;
use super::retry::{CallKind, RetryWait};
use super::sign::Signer;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;
use serde::Serialize;

/// What goes in the request body.
#[derive(Debug, Clone)]
pub(super) enum Body {
    None,
    /// Serialised JSON.
    Json(Vec<u8>),
    /// `application/x-www-form-urlencoded` pairs.
    Form(Vec<(String, String)>),
    /// The body could not be serialised: the call fails as not sent.
    Unsendable(String),
}

/// One call, reusable across attempts.
pub struct Call<'a> {
    pub(super) kind: CallKind,
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) query: Vec<(String, String)>,
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
    pub(super) body: Body,
    pub(super) signer: Option<&'a dyn Signer>,
    pub(super) lane: Option<&'a Lane>,
    /// The key (an upstream session) per-key endpoint limits count this call under.
    pub(super) key: Option<&'a str>,
    /// Waits between attempts instead of sleeping.
    pub(super) waiter: Option<&'a dyn RetryWait>,
    /// Never retried, whatever its kind (a call paced by its caller, e.g. a login).
    pub(super) once: bool,
}

impl std::fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The query and body may carry credentials (a login): only the shape prints.
        f.debug_struct("Call")
            .field("kind", &self.kind)
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl<'a> Call<'a> {
    /// A call of `kind` to `method path` (`path` relative to the transport's base, ids already encoded).
    pub fn new(kind: CallKind, method: Method, path: impl Into<String>) -> Call<'a> {
        Call {
            kind,
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::None,
            signer: None,
            lane: None,
            key: None,
            waiter: None,
            once: false,
        }
    }

    /// A `GET`: a read.
    pub fn get(path: impl Into<String>) -> Call<'a> {
        Call::new(CallKind::Read, Method::GET, path)
    }

    /// A write with `method`.
    pub fn write(method: Method, path: impl Into<String>) -> Call<'a> {
        Call::new(CallKind::Write, method, path)
    }

    /// Makes the call at least as strict as `kind` (a caller may demand that a read not be retried).
    pub fn at_least(mut self, kind: CallKind) -> Self {
        self.kind = self.kind.max(kind);
        self
    }

    /// Sends the call once only: no retry of any kind (for calls whose caller paces or retries them).
    pub fn once(mut self) -> Self {
        self.once = true;
        self
    }

    /// Adds query parameters.
    pub fn query<K: Into<String>, V: Into<String>>(
        mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.query
            .extend(pairs.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Adds the fields of `q` (a struct) as query parameters, in the order of their names; absent
    /// (`null`) fields are left out, strings go as they are, other values as their JSON text.
    pub fn query_of(self, q: &impl Serialize) -> Self {
        let pairs = match serde_json::to_value(q) {
            Ok(serde_json::Value::Object(fields)) => fields
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect(),
            _ => Vec::new(),
        };
        self.query(pairs)
    }

    /// Adds a header that carries no secret (secrets go through a [`Signer`]).
    pub fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers
            .push((HeaderName::from_static(name), HeaderValue::from_static(value)));
        self
    }

    /// A JSON body. Serialised through `serde_json::Value`, so object keys go out in sorted order.
    pub fn json(mut self, body: &impl Serialize) -> Self {
        self.body = match serde_json::to_value(body).and_then(|v| serde_json::to_vec(&v)) {
            Ok(bytes) => Body::Json(bytes),
            Err(e) => Body::Unsendable(e.to_string()),
        };
        self
    }

    /// A form body.
    pub fn form<K: Into<String>, V: Into<String>>(mut self, pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        self.body = Body::Form(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect());
        self
    }

    /// Signs every attempt with `signer`.
    pub fn signed(mut self, signer: &'a dyn Signer) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Paces every attempt in `lane` (and holds one of its in-flight slots while waiting for the answer).
    pub fn on_lane(mut self, lane: Option<&'a Lane>) -> Self {
        self.lane = lane;
        self
    }

    /// Counts the call under `key` (an upstream session; never printed) for per-key endpoint limits
    /// ([`super::EndpointLimit::per_key`]).
    pub fn key(mut self, key: &'a str) -> Self {
        self.key = Some(key);
        self
    }

    /// Waits between attempts with `waiter` (which may also stop the retries) instead of sleeping.
    pub fn wait_with(mut self, waiter: &'a dyn RetryWait) -> Self {
        self.waiter = Some(waiter);
        self
    }

    /// Whether the call is a read or a write.
    pub fn kind(&self) -> CallKind {
        self.kind
    }

    /// The path, for messages.
    pub fn path(&self) -> &str {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_fields_go_in_name_order_without_absent_ones() {
        #[derive(Serialize)]
        struct Q {
            to: Option<String>,
            max: u32,
            from: Option<String>,
            detailed: bool,
        }
        let q = Q {
            to: None,
            max: 10,
            from: Some("2022-01-01T00:00:00".into()),
            detailed: true,
        };
        let call = Call::get("/x").query_of(&q).query([("epics", "A,B")]);
        let pairs: Vec<(&str, &str)> = call.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("detailed", "true"),
                ("from", "2022-01-01T00:00:00"),
                ("max", "10"),
                ("epics", "A,B")
            ]
        );
    }
}
