//! The signing hook: a [`Signer`] adds the credentials to a request just before each attempt is sent, so a
//! scheme with nonces and timestamps (OAuth 1.0a) signs every retry afresh, and call sites never touch
//! credentials.

use crate::secret::Secret;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};

/// Why a request could not be signed. It was then never sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignError(pub String);

impl std::fmt::Display for SignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Adds credentials to a built request (headers, a signature over method, URL and body...).
pub trait Signer: Send + Sync {
    /// Signs `req` in place; called once per attempt, just before it is sent.
    fn sign(&self, req: &mut reqwest::Request) -> Result<(), SignError>;
}

/// A header value that never prints (reqwest leaves sensitive values out of `Debug`).
fn secret_value(name: &str, value: &str) -> Result<HeaderValue, SignError> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| SignError(format!("the {name} credential is not a valid header value")))?;
    value.set_sensitive(true);
    Ok(value)
}

/// `Authorization: Bearer <token>` (OAuth 2.0 bearer tokens, OANDA's personal access tokens).
#[derive(Clone, Copy)]
pub struct Bearer<'a>(pub &'a Secret);

impl std::fmt::Debug for Bearer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bearer(********)")
    }
}

impl Signer for Bearer<'_> {
    fn sign(&self, req: &mut reqwest::Request) -> Result<(), SignError> {
        let value = secret_value("bearer", &format!("Bearer {}", self.0.expose()))?;
        req.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }
}

/// Fixed secret headers, e.g. an API key header or a pair of session tokens.
#[derive(Clone, Copy)]
pub struct SecretHeaders<'a>(pub &'a [(&'static str, &'a Secret)]);

impl std::fmt::Debug for SecretHeaders<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

impl Signer for SecretHeaders<'_> {
    fn sign(&self, req: &mut reqwest::Request) -> Result<(), SignError> {
        for (name, value) in self.0 {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| SignError(format!("{name} is not a valid header name")))?;
            let value = secret_value(name, value.expose())?;
            req.headers_mut().insert(header, value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> reqwest::Request {
        reqwest::Request::new(reqwest::Method::GET, "http://127.0.0.1/x".parse().unwrap())
    }

    #[test]
    fn bearer_sets_authorization_and_never_prints() {
        let token = Secret::new("tok-123");
        let mut req = request();
        Bearer(&token).sign(&mut req).unwrap();
        assert_eq!(req.headers()[AUTHORIZATION], "Bearer tok-123");
        assert!(req.headers()[AUTHORIZATION].is_sensitive());
        assert!(!format!("{:?}", Bearer(&token)).contains("tok"));
        assert!(!format!("{req:?}").contains("tok-123"));
    }

    #[test]
    fn secret_headers_are_set_and_a_bad_value_is_refused() {
        let (a, b) = (Secret::new("one"), Secret::new("two\nlines"));
        let mut req = request();
        SecretHeaders(&[("X-Key", &a)]).sign(&mut req).unwrap();
        assert_eq!(req.headers()["x-key"], "one");
        let e = SecretHeaders(&[("x-key", &b)]).sign(&mut req).unwrap_err();
        assert!(!e.0.contains("two"), "the secret leaked into {e}");
        assert_eq!(format!("{:?}", SecretHeaders(&[("x-key", &a)])), "[\"x-key\"]");
    }
}
