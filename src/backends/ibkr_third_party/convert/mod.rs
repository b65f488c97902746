//! Wire types to TradingView's and back: [`fix`] is the one table of FIX codes; `orders`, `account` and
//! `market` build on it.

pub mod account;
pub mod fix;
pub mod market;
pub mod orders;

/// FIX UTCTimestamp (`YYYYMMDD-HH:MM:SS`, optionally with `.sss`) as unix seconds.
pub fn fix_time(text: &str) -> Option<i64> {
    let t = text.trim();
    let t = t.split('.').next()?;
    chrono::NaiveDateTime::parse_from_str(t, "%Y%m%d-%H:%M:%S")
        .ok()
        .map(|d| d.and_utc().timestamp())
}

/// Unix seconds as a FIX UTCTimestamp.
pub fn to_fix_time(secs: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(secs, 0).map(|d| d.format("%Y%m%d-%H:%M:%S").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_timestamps_read_and_write() {
        assert_eq!(fix_time("20261207-15:04:05"), Some(1_796_655_845));
        assert_eq!(fix_time("20261207-15:04:05.123"), Some(1_796_655_845));
        assert_eq!(to_fix_time(1_796_655_845).as_deref(), Some("20261207-15:04:05"));
        assert_eq!(fix_time("2026-12-07"), None);
        assert_eq!(fix_time(""), None);
    }
}

#[cfg(test)]
mod tests_orders;
