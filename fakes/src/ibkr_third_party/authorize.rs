//! The fake's authorization page (IBKR's `https://www.interactivebrokers.com/authorize` stand-in): `GET
//! /authorize?oauth_token=..` shows a login form (no JavaScript; labelled `username` and `password`, the
//! request token in a hidden field, buttons Allow and Deny); `POST /authorize` checks the password (a
//! wrong one shows the form again with an error) and sends the browser to the consumer's callback with
//! `oauth_token` and `oauth_verifier`, or `denied=1` on Deny. An `oob` callback shows the verifier.

use super::state::Shared;
use crate::ibkr_auth::three_legged::Decision;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// Where the page is served.
pub const AUTHORIZE_PATH: &str = "/authorize";

impl Shared {
    /// The user logs in and approves `request_token`: their password is checked, the grant recorded
    /// (the first one starts the wait for the nightly refresh).
    pub fn approve(&self, request_token: &str, username: &str, password: &str) -> Result<Decision, String> {
        self.auth
            .pending(request_token)
            .map_err(|r| r.message().to_string())?;
        if !self.check_password(username, password) {
            return Err("Invalid username or password".into());
        }
        let decision = self
            .auth
            .approve(request_token, username)
            .map_err(|r| r.message().to_string())?;
        let now = self.now();
        self.lock().authorized(username, now);
        Ok(decision)
    }
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// A whole page around `body`.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:sans-serif;background:#f4f5f7;margin:0}}\
         main{{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;\
         box-shadow:0 1px 4px rgba(0,0,0,.15)}}\
         label{{display:block;margin-top:1rem;font-weight:bold}}\
         input[type=text],input[type=password]{{width:100%;padding:.5rem;box-sizing:border-box}}\
         .buttons{{margin-top:1.5rem;display:flex;gap:1rem}}button{{padding:.5rem 1.5rem}}\
         .error{{color:#b00020}}</style></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>\n",
        title = esc(title)
    )
}

/// The login and consent form.
fn form(request_token: &str, username: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    page(
        "Authorize access",
        &format!(
            "<p>A third-party application asks to access your Interactive Brokers accounts \
             (fake IBKR, test only).</p>{error}\
             <form method=\"post\" action=\"{AUTHORIZE_PATH}\">\
             <input type=\"hidden\" name=\"oauth_token\" value=\"{token}\">\
             <label for=\"username\">Username</label>\
             <input type=\"text\" id=\"username\" name=\"username\" value=\"{user}\" autocomplete=\"username\">\
             <label for=\"password\">Password</label>\
             <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\">\
             <div class=\"buttons\">\
             <button type=\"submit\" name=\"action\" value=\"allow\">Allow</button>\
             <button type=\"submit\" name=\"action\" value=\"deny\">Deny</button>\
             </div></form>",
            token = esc(request_token),
            user = esc(username),
        ),
    )
}

/// An HTML answer with a status.
fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

/// A page that says the request cannot go on.
fn invalid(message: &str) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        page(
            "Authorization failed",
            &format!("<p class=\"error\">{}</p>", esc(message)),
        ),
    )
}

/// Where the browser goes after a decision.
fn decided(decision: Decision) -> Response {
    match decision {
        Decision::Redirect(url) => (StatusCode::FOUND, [(header::LOCATION, url)]).into_response(),
        Decision::OutOfBand(Some(verifier)) => html(
            StatusCode::OK,
            page(
                "Access granted",
                &format!(
                    "<p>Enter this verification code in the application:</p><p><code id=\"verifier\">{}</code></p>",
                    esc(&verifier)
                ),
            ),
        ),
        Decision::OutOfBand(None) => html(StatusCode::OK, page("Access denied", "<p>You denied access.</p>")),
    }
}

/// `GET /authorize?oauth_token=..`.
pub(super) async fn show(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(token) = q.get("oauth_token") else {
        return invalid("oauth_token missing");
    };
    match shared.auth.pending(token) {
        Ok(()) => html(StatusCode::OK, form(token, "", None)),
        Err(refusal) => invalid(refusal.message()),
    }
}

/// `POST /authorize` (form).
pub(super) async fn submit(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let fields: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |k: &str| fields.get(k).map(String::as_str).unwrap_or("");
    let token = field("oauth_token");
    if token.is_empty() {
        return invalid("oauth_token missing");
    }
    match field("action") {
        "deny" => match shared.auth.deny(token) {
            Ok(decision) => decided(decision),
            Err(refusal) => invalid(refusal.message()),
        },
        "allow" => {
            if let Err(refusal) = shared.auth.pending(token) {
                return invalid(refusal.message());
            }
            match shared.approve(token, field("username"), field("password")) {
                Ok(decision) => decided(decision),
                Err(message) => html(StatusCode::OK, form(token, field("username"), Some(&message))),
            }
        }
        _ => invalid("Choose Allow or Deny"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_escapes_what_it_echoes() {
        let f = form("tok\"en", "<b>", Some("a & b"));
        assert!(f.contains("value=\"tok&quot;en\""));
        assert!(f.contains("value=\"&lt;b&gt;\""));
        assert!(f.contains("a &amp; b"));
        assert!(!f.contains("<script"));
        assert!(f.contains("<label for=\"username\">") && f.contains("<label for=\"password\">"));
    }
}
