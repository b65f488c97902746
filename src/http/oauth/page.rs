//! The server-rendered HTML pages of the OAuth login: the login form and the error page.
//!
//! Templates live in `templates/oauth/` and are compiled into the binary by askama, which checks them at
//! build time and HTML-escapes every value (`&`, `<`, `>`, `"`, `'`), so a client name or login can
//! never become markup. The pages need no JavaScript: the form is a plain POST. The stylesheet is
//! inlined and allowed by its SHA-256 in the Content-Security-Policy, so nothing else may run or load.

use super::locale::{Locale, Words};
use askama::Template;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The pages' stylesheet, inlined in a `<style>` element.
const CSS: &str = include_str!("../../../templates/oauth/style.css");

/// `'sha256-…'` of [`CSS`], the one style the Content-Security-Policy allows.
static CSS_HASH: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(CSS.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
});

/// What the login page shows; see [`login_page`].
#[derive(Debug, Clone)]
pub struct LoginPage<'a> {
    pub locale: Locale,
    /// The OAuth client's display name ("Log in to continue to {client_name}").
    pub client_name: &'a str,
    /// The URL the form POSTs to (same origin as the page: the CSP's `form-action` allows only `'self'`
    /// plus the origins given to [`login_response`]).
    pub action: &'a str,
    /// The hidden field `request`: the pending authorization request.
    pub request_id: &'a str,
    /// The hidden field `csrf`.
    pub csrf: &'a str,
    /// The login typed before an error, shown again (never the password).
    pub login: &'a str,
    pub error: Option<LoginError>,
    /// A "Log in with <upstream>" link-button under the form.
    pub federated: Option<FederatedButton<'a>>,
    /// The upstream a first login continues at (federated backends): named under the form, so that the
    /// user expects the broker's page.
    pub upstream: Option<&'a str>,
}

/// A link-button to log in through an upstream instead of a password.
#[derive(Debug, Clone, Copy)]
pub struct FederatedButton<'a> {
    /// `https://…`, `http://…` or a path starting with `/`; anything else (a `javascript:` URL) is not
    /// rendered.
    pub url: &'a str,
    /// The whole label, e.g. "Log in with Capital.com".
    pub label: &'a str,
}

/// Why the login form is shown again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    /// Login or password is wrong (never says which). Marks both fields `aria-invalid`.
    WrongPassword,
    /// Too many attempts; the text is how long to wait, already worded for the page's language
    /// ("30 seconds"). Empty says "try again later".
    Throttled(String),
    /// The authorization request is too old: start again from TradingView.
    Expired,
    /// The user store or the upstream is down.
    Unavailable,
}

impl LoginError {
    fn message(&self, words: &Words) -> String {
        match self {
            LoginError::WrongPassword => words.wrong_password.to_owned(),
            LoginError::Throttled(wait) if wait.trim().is_empty() => words.throttled_later.to_owned(),
            LoginError::Throttled(wait) => {
                format!(
                    "{}{}{}",
                    words.throttled_before,
                    wait.trim(),
                    words.throttled_after
                )
            }
            LoginError::Expired => words.expired.to_owned(),
            LoginError::Unavailable => words.unavailable.to_owned(),
        }
    }
}

/// What went wrong on a request the bridge must not redirect back (an unknown `client_id`, an unlisted
/// `redirect_uri`): the page's title. The detail says the specifics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A required parameter is missing or malformed.
    BadRequest,
    /// `client_id` is not a configured client.
    UnknownClient,
    /// `redirect_uri` is not one of the client's registered URIs.
    BadRedirectUri,
    /// The bridge failed (a bug).
    Server,
    /// A login form that is stale, used, or was not shown to this browser.
    FormRefused,
    /// The state store or the upstream is down: try again.
    Unavailable,
    /// Not an error: the sign-out is done and there is nowhere to send the browser.
    SignedOut,
    /// The user did not grant the bridge access at the upstream (federated login).
    NotGranted,
    /// The password was right but the login cannot end in a session (no trading account yet, the
    /// upstream refused): the detail says why.
    LoginRefused,
}

impl ErrorKind {
    /// The status the page goes out with.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadRequest | ErrorKind::UnknownClient | ErrorKind::BadRedirectUri => {
                StatusCode::BAD_REQUEST
            }
            ErrorKind::Server => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::FormRefused | ErrorKind::NotGranted | ErrorKind::LoginRefused => StatusCode::FORBIDDEN,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::SignedOut => StatusCode::OK,
        }
    }

    fn title(self, words: &Words) -> &'static str {
        match self {
            ErrorKind::BadRequest => words.error_bad_request,
            ErrorKind::UnknownClient => words.error_unknown_client,
            ErrorKind::BadRedirectUri => words.error_bad_redirect,
            ErrorKind::Server => words.error_server,
            ErrorKind::FormRefused => words.error_form_refused,
            ErrorKind::Unavailable => words.error_unavailable,
            ErrorKind::SignedOut => words.signed_out,
            ErrorKind::NotGranted => words.error_not_granted,
            ErrorKind::LoginRefused => words.error_login_refused,
        }
    }
}

/// What the error page shows; see [`error_page`].
#[derive(Debug, Clone)]
pub struct ErrorPage<'a> {
    pub locale: Locale,
    pub kind: ErrorKind,
    /// One or two sentences for the user, e.g. "The redirect_uri https://… is not registered for this
    /// application." Never a secret: it is shown as is (escaped).
    pub detail: &'a str,
}

#[derive(Template)]
#[template(path = "oauth/login.html")]
struct LoginTemplate<'a> {
    words: &'static Words,
    css: &'static str,
    client_name: &'a str,
    action: &'a str,
    request_id: &'a str,
    csrf: &'a str,
    login: &'a str,
    error: Option<String>,
    /// Both fields `aria-invalid` (a wrong password, not a throttle or an outage).
    invalid: bool,
    /// Autofocus on the login field, else on the password (the login is already filled in).
    focus_login: bool,
    federated: Option<FederatedButton<'a>>,
    upstream: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "oauth/error.html")]
struct ErrorTemplate<'a> {
    words: &'static Words,
    css: &'static str,
    title: &'static str,
    detail: &'a str,
}

/// The login page's HTML.
pub fn login_page(page: &LoginPage) -> String {
    let words = page.locale.words();
    let template = LoginTemplate {
        words,
        css: CSS,
        client_name: page.client_name,
        action: page.action,
        request_id: page.request_id,
        csrf: page.csrf,
        login: page.login,
        error: page.error.as_ref().map(|e| e.message(words)),
        invalid: page.error == Some(LoginError::WrongPassword),
        focus_login: page.login.is_empty(),
        federated: page.federated.filter(|b| safe_link(b.url)),
        upstream: page.upstream,
    };
    render(&template)
}

/// The error page's HTML.
pub fn error_page(page: &ErrorPage) -> String {
    let words = page.locale.words();
    render(&ErrorTemplate {
        words,
        css: CSS,
        title: page.kind.title(words),
        detail: page.detail,
    })
}

/// Renders `template`. Only a failing `Display` could make askama fail, and every value here is a
/// string, so the fallback is for completeness: a bare page rather than a panic.
fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "an OAuth page failed to render");
        "<!doctype html><title>tvbridge</title><p>Something went wrong.</p>".to_owned()
    })
}

/// Whether a link target is a web URL or a same-site path (not `javascript:`, `data:`, `//host`).
fn safe_link(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || (lower.starts_with('/') && !lower.starts_with("//"))
}

/// An HTML page with the security headers of every OAuth page; the form may post only to the page's own
/// origin.
pub fn html_response(status: StatusCode, body: String) -> Response {
    login_response(status, body, &[])
}

/// [`html_response`] for a page whose form POST is answered by a redirect to another origin (the
/// client's `redirect_uri`): Chromium checks CSP `form-action` on every redirect of a form submission
/// too, so each such origin (`https://host[:port]`, no path) must be listed here or the browser stops at
/// the bridge. Values that are not a bare origin are left out.
pub fn login_response(status: StatusCode, body: String, form_targets: &[&str]) -> Response {
    let mut form_action = String::from("'self'");
    for origin in form_targets.iter().filter(|o| is_origin(o)) {
        form_action.push(' ');
        form_action.push_str(origin);
    }
    let csp = format!(
        "default-src 'none'; style-src {}; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'",
        *CSS_HASH
    );
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // Every origin passed `is_origin` (visible ASCII, no `;` or `,`), so the header value is valid; the
    // fallback drops the extra origins rather than the header.
    let csp = HeaderValue::from_str(&csp).unwrap_or_else(|_| {
        HeaderValue::from_str(&format!(
            "default-src 'none'; style-src {}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            *CSS_HASH
        ))
        .unwrap_or(HeaderValue::from_static(
            "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
    });
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// `scheme://host[:port]` with nothing a CSP source list could misread.
fn is_origin(value: &str) -> bool {
    let Some(rest) = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> LoginPage<'static> {
        LoginPage {
            locale: Locale::En,
            client_name: "TradingView",
            action: "/oauth/login",
            request_id: "req-1",
            csrf: "csrf-1",
            login: "",
            error: None,
            federated: None,
            upstream: None,
        }
    }

    /// The opening tag of the element with `id`.
    fn tag<'a>(html: &'a str, id: &str) -> &'a str {
        let at = html.find(&format!("id=\"{id}\"")).expect("the element is there");
        let start = html[..at].rfind('<').expect("a tag start");
        let end = at + html[at..].find('>').expect("a tag end");
        &html[start..=end]
    }

    #[test]
    fn the_form_has_its_fields_and_names_the_client() {
        let html = login_page(&page());
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("<html lang=\"en\" dir=\"ltr\">"));
        assert!(html.contains("tvbridge"));
        assert!(html.contains("Log in to continue to <strong>TradingView</strong>"));
        assert!(html.contains("<form method=\"post\" action=\"/oauth/login\""));
        assert!(html.contains("<input type=\"hidden\" name=\"request\" value=\"req-1\">"));
        assert!(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"csrf-1\">"));
        let login = tag(&html, "login");
        assert!(login.contains("name=\"login\"") && login.contains("autocomplete=\"username\""));
        assert!(login.contains(" autofocus"), "{login}");
        let password = tag(&html, "password");
        assert!(
            password.contains("type=\"password\"") && password.contains("autocomplete=\"current-password\"")
        );
        assert!(!password.contains("autofocus") && !password.contains("value="));
        assert!(!html.contains("role=\"alert\"") && !html.contains("aria-invalid=\"true\""));
        assert!(!html.contains("<script"), "no JavaScript at all");
        assert!(
            !html.contains("class=\"divider\""),
            "no federated button unless asked"
        );
    }

    #[test]
    fn every_value_is_escaped() {
        let evil = "<script>alert(\"x\")</script>' onmouseover='a&b";
        let html = login_page(&LoginPage {
            client_name: evil,
            action: evil,
            request_id: evil,
            csrf: evil,
            login: evil,
            federated: Some(FederatedButton {
                url: "https://up.example/?a=1&b=\"2\"",
                label: evil,
            }),
            upstream: None,
            ..page()
        });
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("' onmouseover='"));
        assert!(!html.contains("alert(\"x\")"));
        assert!(
            html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
            "{html}"
        );
        assert!(html.contains("a&#38;b") || html.contains("a&amp;b"));
        let error = error_page(&ErrorPage {
            locale: Locale::En,
            kind: ErrorKind::BadRedirectUri,
            detail: evil,
        });
        assert!(
            !error.contains("<script") && !error.contains("' onmouseover='"),
            "{error}"
        );
    }

    #[test]
    fn a_script_link_is_not_rendered_as_the_federated_button() {
        for url in [
            "javascript:alert(1)",
            " JAVASCRIPT:x",
            "data:text/html,x",
            "//evil.example/",
        ] {
            let html = login_page(&LoginPage {
                federated: Some(FederatedButton {
                    url,
                    label: "Log in with X",
                }),
                ..page()
            });
            assert!(!html.contains("Log in with X"), "{url}");
        }
        let html = login_page(&LoginPage {
            federated: Some(FederatedButton {
                url: "/oauth/upstream/capital?request=r",
                label: "Log in with Capital.com",
            }),
            upstream: None,
            ..page()
        });
        assert!(html.contains("<a class=\"button secondary\" href=\"/oauth/upstream/capital?request=r\">Log in with Capital.com</a>"));
    }

    #[test]
    fn a_wrong_password_is_announced_and_marks_both_fields() {
        let html = login_page(&LoginPage {
            login: "alice",
            error: Some(LoginError::WrongPassword),
            ..page()
        });
        assert!(html.contains("role=\"alert\" id=\"login-error\""));
        assert!(html.contains("Wrong login or password."));
        let login = tag(&html, "login");
        assert!(login.contains("value=\"alice\""));
        for field in [login, tag(&html, "password")] {
            assert!(field.contains("aria-describedby=\"login-error\""), "{field}");
            assert!(field.contains("aria-invalid=\"true\""), "{field}");
        }
        assert!(
            !login.contains("autofocus"),
            "the login is filled in: the password has the focus"
        );
        assert!(tag(&html, "password").contains(" autofocus"));
    }

    #[test]
    fn other_errors_are_announced_without_blaming_the_fields() {
        for (error, text) in [
            (
                LoginError::Throttled("30 seconds".into()),
                "Too many attempts. Try again in 30 seconds.",
            ),
            (
                LoginError::Throttled(" ".into()),
                "Too many attempts. Try again later.",
            ),
            (
                LoginError::Expired,
                "This login request has expired. Go back to TradingView and start again.",
            ),
            (LoginError::Unavailable, "Login is unavailable right now."),
        ] {
            let html = login_page(&LoginPage {
                error: Some(error.clone()),
                ..page()
            });
            assert!(html.contains(text), "{error:?}");
            assert!(html.contains("role=\"alert\""));
            assert!(tag(&html, "login").contains("aria-describedby=\"login-error\""));
            assert!(!html.contains("aria-invalid=\"true\""), "{error:?}");
        }
    }

    #[test]
    fn the_error_page_has_a_title_the_detail_and_no_form() {
        let html = error_page(&ErrorPage {
            locale: Locale::from_lang(Some("zz")),
            kind: ErrorKind::UnknownClient,
            detail: "client_id \"x\" is not configured.",
        });
        assert!(html.contains("<title>Unknown application · tvbridge</title>"));
        assert!(html.contains("<h1>Unknown application</h1>"));
        assert!(
            html.contains("client_id &#34;x&#34; is not configured.")
                || html.contains("client_id &quot;x&quot;")
        );
        assert!(html.contains("role=\"alert\""));
        assert!(!html.contains("<form"));
        assert_eq!(ErrorKind::UnknownClient.status(), StatusCode::BAD_REQUEST);
        assert_eq!(ErrorKind::Server.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn responses_carry_the_security_headers() {
        let response = html_response(StatusCode::OK, login_page(&page()));
        assert_eq!(response.status(), StatusCode::OK);
        let h = response.headers();
        let get = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(get("content-type"), "text/html; charset=utf-8");
        assert_eq!(get("cache-control"), "no-store");
        assert_eq!(get("pragma"), "no-cache");
        assert_eq!(get("x-frame-options"), "DENY");
        assert_eq!(get("x-content-type-options"), "nosniff");
        assert_eq!(get("referrer-policy"), "no-referrer");
        let csp = get("content-security-policy");
        for part in [
            "default-src 'none'",
            "form-action 'self';",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(part), "{csp}");
        }
        // The inline stylesheet is allowed by its hash, and nothing else is.
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
        assert!(csp.contains(&format!("style-src 'sha256-{hash}';")), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("script-src"));
    }

    #[test]
    fn the_inline_style_is_exactly_the_hashed_stylesheet() {
        let html = login_page(&page());
        assert!(
            html.contains(&format!("<style>{CSS}</style>")),
            "the hash covers the bytes between the tags"
        );
        let error = error_page(&ErrorPage {
            locale: Locale::En,
            kind: ErrorKind::Server,
            detail: "x",
        });
        assert!(error.contains(&format!("<style>{CSS}</style>")));
    }

    #[test]
    fn form_targets_are_added_to_form_action_only_when_they_are_origins() {
        let response = login_response(
            StatusCode::OK,
            String::new(),
            &[
                "https://www.tradingview.com",
                "http://127.0.0.1:8080",
                "https://x.example/path",
                "https://a; script-src *",
                "javascript:x",
            ],
        );
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            csp.contains("form-action 'self' https://www.tradingview.com http://127.0.0.1:8080;"),
            "{csp}"
        );
        assert!(!csp.contains("/path") && !csp.contains("script-src") && !csp.contains("javascript"));
    }
}
