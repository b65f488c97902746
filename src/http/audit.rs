//! The audit trail: one structured line per trading action (place, modify, cancel, close, reverse,
//! brackets, leverage) and per login, on the log target `tvbridge::audit`, whatever the backend.
//!
//! Every line carries the request id the server set (`x-request-id`), the user, the account, what the
//! action was about (instrument, side, quantity), the outcome (`ok` or `refused` with the reason) and the
//! upstream id (the order or position the backend named). Never a password, token or upstream secret:
//! only identifiers, the user's own input (clipped, control characters replaced) and error messages,
//! which by `BrokerError`'s contract carry no secrets.

use crate::error::{ApiError, ApiResult};
use crate::http::extract::Fields;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::IpAddr;

/// The log target of every audit line (filter on it: `RUST_LOG=tvbridge::audit=info`).
pub const TARGET: &str = "tvbridge::audit";

/// Longest piece of user input written into an audit line.
const MAX_FIELD_CHARS: usize = 64;

/// The request id the server set on this request (`x-request-id`), for audit lines.
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(clean)
            .unwrap_or_else(|| "-".into());
        Ok(RequestId(id))
    }
}

/// Who acts, and in which request.
pub struct Actor<'a> {
    pub request_id: &'a str,
    pub user: &'a str,
    pub account: &'a str,
}

/// What a trading action is about. Texts are what the user sent or the account hub last saw.
#[derive(Debug, Default, Clone)]
pub struct Subject {
    pub instrument: Option<String>,
    pub side: Option<String>,
    pub qty: Option<String>,
    /// The order or position id the backend named (returned by a placement, or the one acted on).
    pub upstream_id: Option<String>,
    /// Action-specific details (`amount=4000`, `stopLoss=1.05`, `requestId=..`), space separated.
    pub detail: String,
}

impl Subject {
    /// Instrument, side and quantity as the form sent them (`qty_field` names the quantity).
    pub fn from_form(form: &Fields, qty_field: &str) -> Subject {
        Subject {
            instrument: form.str_opt("instrument").map(clean),
            side: form.str_opt("side").map(clean),
            qty: form.str_opt(qty_field).map(clean),
            ..Subject::default()
        }
    }

    /// Adds `name=value` to the details when the form has the field.
    pub fn with_fields(mut self, form: &Fields, names: &[&str]) -> Subject {
        for name in names {
            if let Some(v) = form.str_opt(name) {
                self.add(name, v);
            }
        }
        self
    }

    /// Adds `name=value` to the details.
    pub fn add(&mut self, name: &str, value: impl std::fmt::Display) {
        if !self.detail.is_empty() {
            self.detail.push(' ');
        }
        let _ = write!(self.detail, "{name}={}", clean(&value.to_string()));
    }
}

/// The trading actions the audit trail names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Place,
    Modify,
    Cancel,
    Close,
    Reverse,
    Brackets,
    Leverage,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Place => "place",
            Action::Modify => "modify",
            Action::Cancel => "cancel",
            Action::Close => "close",
            Action::Reverse => "reverse",
            Action::Brackets => "brackets",
            Action::Leverage => "leverage",
        }
    }
}

/// One line for a trading action and its outcome.
pub fn trade<T>(action: Action, actor: &Actor<'_>, subject: &Subject, outcome: &ApiResult<T>) {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let (result, reason) = match outcome {
        Ok(_) => ("ok", String::new()),
        Err(e) => ("refused", reason(e)),
    };
    crate::metrics::record::trading_action(action.as_str(), outcome.is_ok());
    tracing::info!(
        target: TARGET,
        action = action.as_str(),
        request_id = %actor.request_id,
        user = %clean(actor.user),
        account = %clean(actor.account),
        instrument = %dash(&subject.instrument),
        side = %dash(&subject.side),
        qty = %dash(&subject.qty),
        outcome = result,
        reason = %reason,
        upstream_id = %dash(&subject.upstream_id),
        detail = %subject.detail,
        "trading action"
    );
}

/// One line for a successful login.
pub fn login_ok(request_id: &str, user: &str, address: Option<IpAddr>) {
    crate::metrics::record::login(crate::metrics::record::Login::Ok);
    tracing::info!(
        target: TARGET,
        action = "login",
        request_id = %request_id,
        user = %clean(user),
        address = %address_text(address),
        outcome = "ok",
        "user logged in"
    );
}

/// One line for a refused login: who tried (the login as typed), from where, and why. Never the password.
pub fn login_failed(request_id: &str, login: &str, address: Option<IpAddr>, reason: &str) {
    crate::metrics::record::login(crate::metrics::record::Login::Failed);
    refused_line(request_id, login, address, reason);
}

/// One line for a login the throttle refused before the password was checked.
pub fn login_throttled(request_id: &str, login: &str, address: Option<IpAddr>, message: &str) {
    crate::metrics::record::login(crate::metrics::record::Login::Throttled);
    refused_line(request_id, login, address, &format!("throttled: {message}"));
}

fn refused_line(request_id: &str, login: &str, address: Option<IpAddr>, reason: &str) {
    tracing::warn!(
        target: TARGET,
        action = "login",
        request_id = %request_id,
        user = %clean(login),
        address = %address_text(address),
        outcome = "refused",
        reason = %clean_long(reason),
        "login refused"
    );
}

fn address_text(address: Option<IpAddr>) -> String {
    address.map_or_else(|| "-".into(), |a| a.to_string())
}

/// The reason of a refusal as the operator should read it.
fn reason(e: &ApiError) -> String {
    clean_long(&e.to_string())
}

/// User input made safe for a log line: clipped, control characters (line breaks) replaced.
pub fn clean(text: &str) -> String {
    clip_chars(text, MAX_FIELD_CHARS)
}

fn clean_long(text: &str) -> String {
    clip_chars(text, 4 * MAX_FIELD_CHARS)
}

fn clip_chars(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_input_is_clipped_and_cannot_forge_lines() {
        assert_eq!(clean("EURUSD"), "EURUSD");
        assert_eq!(clean("a\nfake line\r"), "a?fake line?");
        let long = "x".repeat(100);
        assert_eq!(clean(&long), format!("{}…", "x".repeat(MAX_FIELD_CHARS)));
    }

    #[test]
    fn details_name_their_fields() {
        let form = Fields::parse(b"instrument=EURUSD&side=buy&qty=1000&stopLoss=1.05", "form field").unwrap();
        let mut s = Subject::from_form(&form, "qty").with_fields(&form, &["stopLoss", "takeProfit"]);
        s.add("requestId", "R1");
        assert_eq!(s.instrument.as_deref(), Some("EURUSD"));
        assert_eq!(s.qty.as_deref(), Some("1000"));
        assert_eq!(s.detail, "stopLoss=1.05 requestId=R1");
    }
}
