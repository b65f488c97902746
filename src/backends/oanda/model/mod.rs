//! Values both OANDA API versions send, read the same way: decimals from their text (v20 strings, v1
//! numbers; plain or scientific) and times as RFC 3339 or as the UNIX form an account may be set to.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::str::FromStr;

/// A decimal from its text: plain (`1.31513`) or scientific (`1e-5`); `None` when it is neither.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

/// A time as OANDA writes it: RFC 3339 (nanosecond fractions included), or unix seconds with a fraction
/// (`"1386362166.123456"`, the accounts' other datetime setting). `None` for anything else, including a
/// number too large to be a time.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let seconds = parse_decimal(text)?;
    let whole = i64::try_from(seconds.floor()).ok()?;
    let nanos = (seconds - seconds.floor())
        .checked_mul(Decimal::from(1_000_000_000))?
        .trunc();
    DateTime::from_timestamp(whole, u32::try_from(nanos).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_their_text() {
        assert_eq!(
            parse_decimal(" 1.31513 ").map(|d| d.to_string()).as_deref(),
            Some("1.31513")
        );
        assert_eq!(
            parse_decimal("0.00050").map(|d| d.to_string()).as_deref(),
            Some("0.00050")
        );
        assert_eq!(parse_decimal("1e-5"), Some(Decimal::new(1, 5)));
        assert_eq!(parse_decimal("abc"), None);
    }

    #[test]
    fn times_in_both_forms_and_garbage_refused_without_panic() {
        let t = parse_time("2016-06-22T18:41:36.201836422Z").unwrap();
        assert_eq!(
            (t.timestamp(), t.timestamp_subsec_micros()),
            (1_466_620_896, 201_836)
        );
        let u = parse_time("1466620896.201836").unwrap();
        assert_eq!(
            (u.timestamp(), u.timestamp_subsec_micros()),
            (1_466_620_896, 201_836)
        );
        assert_eq!(parse_time("79000000000000000000000000000"), None);
        assert_eq!(parse_time("1e300"), None);
        assert_eq!(parse_time("yesterday"), None);
    }
}
