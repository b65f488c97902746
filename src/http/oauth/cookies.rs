//! The two cookies of the OAuth pages: the browser's login (`prompt=none`, logout) and the binding that
//! ties a login form to the browser it was shown to. Both `Secure`, `HttpOnly`, `SameSite=Lax`, scoped to
//! the bridge's base path.

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};

/// The browser's login (a secret naming a [`crate::auth::oauth::browser::BrowserLogin`]).
pub const LOGIN: &str = "tvbridge_login";
/// The random value a login form is bound to.
pub const BINDING: &str = "tvbridge_browser";

/// The value of cookie `name` in the request, if sent once (a duplicate is ignored: which one is meant
/// cannot be known).
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.trim());
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// `Set-Cookie` for `name=value`, living `max_age_secs` (0: a cookie of the browser session).
pub fn set(name: &str, value: &str, max_age_secs: u64, path: &str) -> HeaderValue {
    let age = if max_age_secs > 0 {
        format!("; Max-Age={max_age_secs}")
    } else {
        String::new()
    };
    let text = format!("{name}={value}; Path={path}; Secure; HttpOnly; SameSite=Lax{age}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// `Set-Cookie` that deletes `name`.
pub fn clear(name: &str, path: &str) -> HeaderValue {
    let text = format!("{name}=; Path={path}; Secure; HttpOnly; SameSite=Lax; Max-Age=0");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// The cookie path: the base path, or `/`.
pub fn path(base_path: &str) -> &str {
    if base_path.is_empty() {
        "/"
    } else {
        base_path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name_and_a_duplicate_is_not_trusted() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; tvbridge_login=abc"));
        assert_eq!(read(&headers, LOGIN), Some("abc"));
        assert_eq!(read(&headers, BINDING), None);
        headers.append(COOKIE, HeaderValue::from_static("tvbridge_login=def"));
        assert_eq!(read(&headers, LOGIN), None);
        let set = set(LOGIN, "v", 60, "/api");
        let text = set.to_str().unwrap();
        for part in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/api", "Max-Age=60"] {
            assert!(text.contains(part), "{text}");
        }
    }
}
