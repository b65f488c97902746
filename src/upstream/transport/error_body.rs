//! The hook that turns an upstream's error body into the backend's own type, once, when a call fails with
//! a status: callers match on that typed value ([`CallError::upstream`]) instead of parsing the body text
//! again wherever they look at it.
//!
//! [`CallError::upstream`]: crate::upstream::call::CallError::upstream

use std::any::Any;
use std::sync::Arc;

/// An upstream's documented error body (Capital.com's `{"errorCode":...}`, OANDA's
/// `{"errorCode","errorMessage"}`...), implemented by each backend for its own type.
pub trait ErrorBody: Send + Sync + 'static {
    /// The body's meaning, or `None` when it is not the documented shape (an HTML page from a proxy).
    fn parse(body: &str) -> Option<Self>
    where
        Self: Sized;

    /// The upstream's error code, printable and bounded, for log lines.
    fn code(&self) -> Option<String>;
}

/// A parser of one backend's error body, as a transport keeps it.
pub(super) type Parser = fn(&str) -> ParsedBody;

/// The parser of `E`.
pub(super) fn parser<E: ErrorBody>() -> Parser {
    |body| ParsedBody(E::parse(body).map(|e| Arc::new(e) as Arc<dyn Erased>))
}

/// An error body as parsed by the backend's hook (empty when the body was not the documented shape or
/// the transport has no hook). Equal to any other: it is a function of the body, which is compared.
#[derive(Clone, Default)]
pub struct ParsedBody(Option<Arc<dyn Erased>>);

/// [`ErrorBody`] without its type, so one [`CallError`](crate::upstream::call::CallError) serves every
/// backend.
trait Erased: Send + Sync {
    fn code(&self) -> Option<String>;
    fn as_any(&self) -> &dyn Any;
}

impl<E: ErrorBody> Erased for E {
    fn code(&self) -> Option<String> {
        ErrorBody::code(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl ParsedBody {
    /// Parses `body` with `E`'s hook (tests, and errors made outside a transport).
    pub fn of<E: ErrorBody>(body: &str) -> ParsedBody {
        parser::<E>()(body)
    }

    /// The body as `E`, if it was parsed as one.
    pub fn get<E: ErrorBody>(&self) -> Option<&E> {
        self.0.as_deref()?.as_any().downcast_ref()
    }

    /// The upstream's error code.
    pub fn code(&self) -> Option<String> {
        self.0.as_deref()?.code()
    }
}

impl PartialEq for ParsedBody {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ParsedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code() {
            Some(code) => write!(f, "ParsedBody({code:?})"),
            None => write!(
                f,
                "ParsedBody({})",
                if self.0.is_some() { "no code" } else { "-" }
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Mine(String);

    impl ErrorBody for Mine {
        fn parse(body: &str) -> Option<Self> {
            body.strip_prefix("code=").map(|c| Mine(c.to_string()))
        }
        fn code(&self) -> Option<String> {
            Some(self.0.clone())
        }
    }

    struct Other;

    impl ErrorBody for Other {
        fn parse(_: &str) -> Option<Self> {
            Some(Other)
        }
        fn code(&self) -> Option<String> {
            None
        }
    }

    #[test]
    fn a_body_is_parsed_into_the_backends_type_and_only_that_type() {
        let parsed = ParsedBody::of::<Mine>("code=E42");
        assert_eq!(parsed.get::<Mine>(), Some(&Mine("E42".into())));
        assert!(parsed.get::<Other>().is_none());
        assert_eq!(parsed.code().as_deref(), Some("E42"));
        assert_eq!(format!("{parsed:?}"), "ParsedBody(\"E42\")");
        let not_documented = ParsedBody::of::<Mine>("<html>");
        assert!(not_documented.get::<Mine>().is_none() && not_documented.code().is_none());
        assert_eq!(format!("{not_documented:?}"), "ParsedBody(-)");
    }
}
