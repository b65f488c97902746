//! An upstream's answer: a success kept as status, headers and text for decoding, a failure classified as a
//! [`CallError`] (with the advised delay of a 429 or 503).

use super::error_body::Parser;
use crate::upstream::call::{retry_after, CallError, CallResult};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as `T`; an empty body counts as `{}` (some documented answers are empty on success).
    /// `what` names the call in the error (a path: never a query, which may carry ids of no use in logs).
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> CallResult<T> {
        let text = if self.text.trim().is_empty() {
            "{}"
        } else {
            self.text.as_str()
        };
        serde_json::from_str(text).map_err(|e| CallError::Decode(format!("{what}: {e}")))
    }
}

/// A failed answer, its body parsed by the backend's hook if the transport has one.
fn failure(status: StatusCode, headers: &HeaderMap, body: String, parser: Option<Parser>) -> CallError {
    CallError::Status {
        status: status.as_u16(),
        retry_after: retry_after(headers, status),
        parsed: parser.map(|parse| parse(&body)).unwrap_or_default(),
        body,
    }
}

/// Reads a whole answer: a success as an [`Answer`], anything else as [`CallError::Status`].
pub async fn read(response: reqwest::Response, parser: Option<Parser>) -> CallResult<Answer> {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response
        .text()
        .await
        .map_err(|e| CallError::NoAnswer(format!("reading the answer: {}", e.without_url())))?;
    if !status.is_success() {
        return Err(failure(status, &headers, text, parser));
    }
    Ok(Answer {
        status,
        headers,
        text,
    })
}

/// Keeps a response whose status is a success open (a stream), else reads it as a failure.
pub async fn open(response: reqwest::Response, parser: Option<Parser>) -> CallResult<reqwest::Response> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Err(failure(status, &headers, body, parser))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> Answer {
        Answer {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            text: text.into(),
        }
    }

    #[test]
    fn empty_answers_decode_as_an_empty_object_and_bad_ones_name_the_call() {
        #[derive(serde::Deserialize, Debug)]
        struct Empty {}
        assert!(answer("  ").json::<Empty>("/ping").is_ok());
        let e = answer("<html>").json::<Empty>("/ping").unwrap_err();
        assert!(
            matches!(&e, CallError::Decode(m) if m.starts_with("/ping: ")),
            "{e:?}"
        );
    }
}
