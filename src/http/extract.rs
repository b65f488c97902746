//! Request extractors that answer bad input with TradingView's envelope: the caller's session, form bodies
//! and query strings, each with typed accessors whose errors name the offending field.

use crate::auth::Session;
use crate::auth::{Lookup, TokenError};
use crate::broker::BrokerAccount;
use crate::error::{ApiError, ApiResult};
use crate::http::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use rust_decimal::Decimal;
use std::str::FromStr;

/// The caller's live session, from `Authorization: Bearer <token>`; anything else is a 401.
pub struct Authed(pub Session);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = authenticate(parts, state).await?;
        if session.grant.datafeed_only {
            return Err(ApiError::Unauthorized(
                "this access token is for the data feed only (ServerOAuth2Bearer); log in to trade".into(),
            ));
        }
        Ok(Authed(session))
    }
}

/// The caller of a data-feed endpoint (`/groups`, `/permissions`, `/symbol_info`, `/history`,
/// `/streaming`): a logged-in user, or TradingView's servers with a ServerOAuth2Bearer token.
pub struct FeedAuthed(pub Session);

impl FromRequestParts<AppState> for FeedAuthed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await.map(FeedAuthed)
    }
}

/// The live session of the bearer token in `parts`, or the 401 that says why not.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Session, ApiError> {
    let session = authenticated(parts, state).await?;
    // Federated backends end the session when the upstream drops the user's grant (upstream_logout.rs).
    if let Some(slot) = parts
        .extensions
        .get::<crate::http::upstream_logout::SessionSlot>()
    {
        slot.set(&session.ctx.session_id);
    }
    Ok(session)
}

async fn authenticated(parts: &Parts, state: &AppState) -> Result<Session, ApiError> {
    let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized("an access token is required (Authorization: Bearer <token>)".into())
    })?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not readable text".into()))?;
    // The scheme name is case-insensitive (RFC 9110 section 11.1).
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be 'Bearer <token>'".into()))?;
    let claims = state
        .tokens()
        .verify(token)
        .map_err(|e: TokenError| ApiError::Unauthorized(e.to_string()))?;
    let gone = || ApiError::Unauthorized("the session has ended; please log in again".into());
    let now = state.now();
    let session = match state
        .sessions()
        .lookup_generation(&claims.sid, claims.gen, now)
        .await
    {
        Ok(Lookup::Live(session)) => session,
        Ok(Lookup::Elsewhere(record)) if record.user == claims.sub && record.grant.datafeed_only => {
            // No upstream session behind a data-feed grant: serving it here is caching its record.
            let session = Session {
                ctx: crate::broker::SessionCtx {
                    session_id: claims.sid.clone(),
                    user: record.user,
                },
                display_name: record.display_name,
                accounts: Vec::new(),
                expires_at: record.expires_at,
                grant: record.grant,
            };
            state.sessions().attach(session.clone(), now);
            session
        }
        Ok(Lookup::Elsewhere(record)) if record.user == claims.sub => {
            crate::http::session::resume(state, &claims.sid, record).await?
        }
        Ok(_) => return Err(gone()),
        Err(e) => {
            tracing::warn!(error = %e, "the state store is unavailable: cannot check a session");
            return Err(ApiError::bad(
                "The bridge cannot reach its state store right now; please try again in a moment.",
            ));
        }
    };
    if session.ctx.user != claims.sub {
        return Err(ApiError::Unauthorized(
            "the access token is not valid; please log in again".into(),
        ));
    }
    if !session.grant.accepts(claims.gen, now) {
        return Err(ApiError::Unauthorized(
            "this access token was replaced by a refreshed one; use the new access token".into(),
        ));
    }
    Ok(session)
}

impl Authed {
    /// The account `id` of this session, or a clear refusal. Ownership is checked here once, so no handler
    /// can reach an account of another user.
    pub fn account(&self, id: &str) -> ApiResult<&BrokerAccount> {
        self.0.accounts.iter().find(|a| a.id == id).ok_or_else(|| {
            ApiError::bad(format!(
                "Unknown account '{id}': it is not one of this login's accounts"
            ))
        })
    }
}

/// Named string fields from a form body or a query string, with typed accessors.
#[derive(Debug, Default, Clone)]
pub struct Fields {
    pairs: Vec<(String, String)>,
    /// `form field` or `query parameter`, for messages.
    what: &'static str,
}

impl Fields {
    /// Parses `application/x-www-form-urlencoded` text. A field given twice is refused: which value was
    /// meant cannot be known, and guessing could trade the wrong quantity.
    pub fn parse(text: &[u8], what: &'static str) -> ApiResult<Fields> {
        let pairs: Vec<(String, String)> = form_urlencoded_pairs(text)?;
        for (i, (k, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(other, _)| other == k) {
                return Err(ApiError::bad(format!("{what} '{k}' is given more than once")));
            }
        }
        Ok(Fields { pairs, what })
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A present, non-empty field exactly as sent, not trimmed (OAuth parameters are compared and echoed
    /// byte for byte).
    pub fn exact_opt(&self, name: &str) -> Option<&str> {
        self.raw(name).filter(|v| !v.is_empty())
    }

    /// A present, non-empty text field.
    pub fn str_opt(&self, name: &str) -> Option<&str> {
        self.raw(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// A required field exactly as sent, not trimmed (passwords: a space is part of them). Empty is missing.
    pub fn str_exact_req(&self, name: &str) -> ApiResult<&str> {
        self.raw(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::bad(format!("{} '{name}' is required", self.what)))
    }

    /// A required text field.
    pub fn str_req(&self, name: &str) -> ApiResult<&str> {
        self.str_opt(name)
            .ok_or_else(|| ApiError::bad(format!("{} '{name}' is required", self.what)))
    }

    /// An optional number, written as a plain decimal ([`parse_decimal`]) and at most [`MAX_MAGNITUDE`] in
    /// size: no quantity, price or amount a broker trades is larger, and bounding it here keeps every later
    /// multiplication far from overflow.
    pub fn decimal_opt(&self, name: &str) -> ApiResult<Option<Decimal>> {
        let Some(v) = self.str_opt(name) else {
            return Ok(None);
        };
        match parse_decimal(v) {
            Ok(number) if number.abs() <= Decimal::from(MAX_MAGNITUDE) => Ok(Some(number)),
            Ok(_) | Err(NumberError::Range) => Err(self.out_of_range(name, v)),
            Err(NumberError::Syntax) => Err(ApiError::bad(format!(
                "{} '{name}' must be a plain decimal number, got '{}'",
                self.what,
                clip(v)
            ))),
        }
    }

    fn out_of_range(&self, name: &str, v: &str) -> ApiError {
        ApiError::bad(format!(
            "{} '{name}' is out of range, got '{}'",
            self.what,
            clip(v)
        ))
    }

    /// A required number.
    pub fn decimal_req(&self, name: &str) -> ApiResult<Decimal> {
        self.decimal_opt(name)?
            .ok_or_else(|| ApiError::bad(format!("{} '{name}' is required", self.what)))
    }

    /// An optional price. TradingView sends `0` for a price that is not set (its own samples do), so zero
    /// means absent; a negative price is an error.
    pub fn price_opt(&self, name: &str) -> ApiResult<Option<Decimal>> {
        match self.decimal_opt(name)? {
            Some(p) if p.is_zero() => Ok(None),
            Some(p) if p.is_sign_negative() => Err(ApiError::bad(format!(
                "{} '{name}' must be positive, got {p}",
                self.what
            ))),
            other => Ok(other),
        }
    }

    /// An optional integer (unix time, counts): digits with an optional sign, at most [`MAX_MAGNITUDE`].
    pub fn int_opt(&self, name: &str) -> ApiResult<Option<i64>> {
        let Some(v) = self.str_opt(name) else {
            return Ok(None);
        };
        match parse_int(v) {
            Ok(n) if n.unsigned_abs() <= MAX_MAGNITUDE as u64 => Ok(Some(n)),
            Ok(_) | Err(NumberError::Range) => Err(self.out_of_range(name, v)),
            Err(NumberError::Syntax) => Err(ApiError::bad(format!(
                "{} '{name}' must be an integer, got '{}'",
                self.what,
                clip(v)
            ))),
        }
    }

    /// A required field that must be one of `allowed`, parsed by `parse`.
    pub fn choice_req<T>(
        &self,
        name: &str,
        allowed: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> ApiResult<T> {
        let v = self.str_req(name)?;
        parse(v).ok_or_else(|| {
            ApiError::bad(format!(
                "{} '{name}' must be one of {allowed}, got '{}'",
                self.what,
                clip(v)
            ))
        })
    }
}

/// The largest number accepted in any numeric field.
pub const MAX_MAGNITUDE: i64 = 1_000_000_000_000_000;

/// The longest number text accepted (sign, digits and point): 16 integer digits plus 23 decimals.
pub const MAX_NUMBER_LEN: usize = 40;

/// Why a text is not an acceptable number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    /// Not a plain decimal (or integer) at all.
    Syntax,
    /// Well formed, but too large to represent or longer than [`MAX_NUMBER_LEN`].
    Range,
}

/// Whether `text` is a plain decimal: an optional sign, one or more digits, optionally a point and one or
/// more digits; `Some(true)` when it has a fraction. Nothing else: no exponent (TradingView writes plain
/// decimals), no `_` separators, hex, inner spaces, `NaN` or infinities, which a lenient parser would turn
/// into a number the user did not see.
fn plain_number(text: &str) -> Option<bool> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(int) && frac.is_none_or(digits)).then_some(frac.is_some())
}

/// Parses a plain decimal (see [`plain_number`]); the result is normalized (`1.50` is `1.5`).
pub fn parse_decimal(text: &str) -> Result<Decimal, NumberError> {
    let t = text.trim();
    plain_number(t).ok_or(NumberError::Syntax)?;
    if t.len() > MAX_NUMBER_LEN {
        return Err(NumberError::Range);
    }
    Decimal::from_str(t)
        .map(|d| d.normalize())
        .map_err(|_| NumberError::Range)
}

/// Parses a plain integer: an optional sign and digits.
pub fn parse_int(text: &str) -> Result<i64, NumberError> {
    let t = text.trim();
    if plain_number(t) != Some(false) {
        return Err(NumberError::Syntax);
    }
    if t.len() > MAX_NUMBER_LEN {
        return Err(NumberError::Range);
    }
    t.parse::<i64>().map_err(|_| NumberError::Range)
}

/// Keeps user input in messages short.
fn clip(v: &str) -> String {
    if v.chars().count() > 40 {
        format!("{}…", v.chars().take(40).collect::<String>())
    } else {
        v.to_owned()
    }
}

fn form_urlencoded_pairs(text: &[u8]) -> ApiResult<Vec<(String, String)>> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(text)
        .map_err(|e| ApiError::bad(format!("the request is not valid form data: {e}")))
}

/// A form body (`application/x-www-form-urlencoded`), size-limited; bad bodies get the error envelope.
pub struct TvForm(pub Fields);

impl FromRequest<AppState> for TvForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.config().server.max_body_bytes;
        if let Some(ct) = req.headers().get(axum::http::header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default();
            if !ct.is_empty() && !ct.starts_with("application/x-www-form-urlencoded") {
                return Err(ApiError::bad(format!(
                    "the request body must be application/x-www-form-urlencoded, got '{}'",
                    clip(ct)
                )));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            match crate::server::body::BodyTimedOut::find(&rejection) {
                Some(late) => ApiError::RequestTimeout(late.to_string()),
                None => ApiError::PayloadTooLarge { limit },
            }
        })?;
        Ok(TvForm(Fields::parse(&bytes, "form field")?))
    }
}

/// The query string as [`Fields`].
pub struct TvQuery(pub Fields);

impl FromRequestParts<AppState> for TvQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        Ok(TvQuery(Fields::parse(query.as_bytes(), "query parameter")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_strictly() {
        assert_eq!(parse_decimal("1.50"), Ok(Decimal::new(15, 1)));
        assert_eq!(parse_decimal("-2"), Ok(Decimal::from(-2)));
        assert_eq!(parse_decimal("+0.25"), Ok(Decimal::new(25, 2)));
        assert_eq!(
            parse_decimal(" 7 "),
            Ok(Decimal::from(7)),
            "outer spaces are trimmed"
        );
        for bad in [
            "", "abc", "NaN", "inf", "1.2.3", "0x10", "1,5", "1_000", "1e-5", "1E5", "1e16", ".5", "5.",
            "1 000", "+-1", "--1", "٣", "1.5f", "0b1",
        ] {
            assert_eq!(parse_decimal(bad), Err(NumberError::Syntax), "{bad}");
        }
        let long = format!("0.{}", "1".repeat(MAX_NUMBER_LEN));
        assert_eq!(parse_decimal(&long), Err(NumberError::Range));
        assert_eq!(
            parse_decimal(&"9".repeat(35)),
            Err(NumberError::Range),
            "beyond Decimal"
        );
    }

    #[test]
    fn integers_are_digits_only() {
        assert_eq!(parse_int("1767700000"), Ok(1_767_700_000));
        assert_eq!(parse_int("-5364662400"), Ok(-5_364_662_400));
        for bad in ["1e16", "1767700000.0", "1.5", "0x10", "1_000", "", "-"] {
            assert_eq!(parse_int(bad), Err(NumberError::Syntax), "{bad}");
        }
        assert_eq!(parse_int(&"9".repeat(20)), Err(NumberError::Range));
        let f = Fields::parse(b"a=1e16&b=10000000000000000&c=1000000000000000", "form field").unwrap();
        assert_eq!(
            f.int_opt("a").unwrap_err().to_string(),
            "form field 'a' must be an integer, got '1e16'"
        );
        assert_eq!(
            f.int_opt("b").unwrap_err().to_string(),
            "form field 'b' is out of range, got '10000000000000000'"
        );
        assert_eq!(f.int_opt("c").unwrap(), Some(MAX_MAGNITUDE));
    }

    #[test]
    fn fields_name_the_problem() {
        let f = Fields::parse(b"qty=abc&side=up&stopLoss=0&limitPrice=-1", "form field").unwrap();
        assert_eq!(
            f.decimal_req("qty").unwrap_err().to_string(),
            "form field 'qty' must be a plain decimal number, got 'abc'"
        );
        assert_eq!(
            f.decimal_req("price").unwrap_err().to_string(),
            "form field 'price' is required"
        );
        assert!(f
            .choice_req("side", "buy, sell", crate::tv::Side::parse)
            .unwrap_err()
            .to_string()
            .contains("'up'"));
        assert_eq!(f.price_opt("stopLoss").unwrap(), None);
        assert!(f
            .price_opt("limitPrice")
            .unwrap_err()
            .to_string()
            .contains("positive"));
        assert!(Fields::parse(b"a=1&a=2", "form field")
            .unwrap_err()
            .to_string()
            .contains("more than once"));
    }

    #[test]
    fn numbers_are_bounded_so_later_arithmetic_cannot_overflow() {
        let huge = Fields::parse(
            b"limitPrice=1000000000000000000000000000&qty=-200000000000000000000&ok=999999999",
            "form field",
        )
        .unwrap();
        assert_eq!(
            huge.price_opt("limitPrice").unwrap_err().to_string(),
            "form field 'limitPrice' is out of range, got '1000000000000000000000000000'"
        );
        assert!(huge
            .decimal_opt("qty")
            .unwrap_err()
            .to_string()
            .contains("out of range"));
        assert_eq!(huge.decimal_opt("ok").unwrap(), Some(Decimal::from(999_999_999)));
    }
}
