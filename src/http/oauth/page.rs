//! The server-rendered HTML pages of the OAuth login: the login form and the error page.
//! (Placeholder until the pages land.)

use super::locale::Locale;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub struct FederatedButton<'a> {
    pub url: &'a str,
    pub label: &'a str,
}

pub enum LoginError {
    WrongPassword,
    Throttled(String),
    Expired,
    Unavailable,
}

pub struct LoginPage<'a> {
    pub locale: Locale,
    pub client_name: &'a str,
    pub action: &'a str,
    pub request_id: &'a str,
    pub csrf: &'a str,
    pub login: &'a str,
    pub error: Option<LoginError>,
    pub federated: Option<FederatedButton<'a>>,
}

pub struct ErrorPage<'a> {
    pub locale: Locale,
    pub title: &'a str,
    pub detail: &'a str,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn login_page(p: &LoginPage) -> String {
    let error = match &p.error {
        Some(LoginError::WrongPassword) => "Invalid login or password".to_string(),
        Some(LoginError::Throttled(m)) => m.clone(),
        Some(LoginError::Expired) => "expired".to_string(),
        Some(LoginError::Unavailable) => "unavailable".to_string(),
        None => String::new(),
    };
    format!(
        "<!doctype html><html><body><p role=\"alert\">{}</p><p>{}</p><form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"request\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><input name=\"login\" value=\"{}\" autofocus><input type=\"password\" name=\"password\"><button>Log in</button></form></body></html>",
        esc(&error), esc(p.client_name), esc(p.action), esc(p.request_id), esc(p.csrf), esc(p.login)
    )
}

pub fn error_page(p: &ErrorPage) -> String {
    format!(
        "<!doctype html><html><body><h1>{}</h1><p>{}</p></body></html>",
        esc(p.title),
        esc(p.detail)
    )
}

pub fn html_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            ("content-type", "text/html; charset=utf-8"),
            ("cache-control", "no-store"),
            ("x-frame-options", "DENY"),
        ],
        body,
    )
        .into_response()
}
