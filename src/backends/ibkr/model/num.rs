//! IBKR's numbers as they arrive: JSON numbers, or strings that may carry thousands separators and, in
//! market data, a `C` (previous close) or `H` (halted) prefix. Parsed leniently in form, never defaulted:
//! a value that is not a number is an error naming it.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use std::str::FromStr;

/// A number IBKR sent as a JSON number or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Num(pub Decimal);

/// What a market-data value's prefix says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A live value.
    Live,
    /// `C`: the previous close, shown while the market has no last price today.
    Close,
    /// `H`: the instrument is halted.
    Halted,
}

/// Parses an IBKR number string: optional `C`/`H` prefix, thousands separators, an optional sign and
/// exponent. `None` when it is not a number (an empty string included).
pub fn parse_marked(text: &str) -> Option<(Decimal, Mark)> {
    let t = text.trim();
    let (mark, rest) = match t.chars().next()? {
        'C' => (Mark::Close, &t[1..]),
        'H' => (Mark::Halted, &t[1..]),
        _ => (Mark::Live, t),
    };
    let cleaned: String = rest.chars().filter(|c| *c != ',').collect();
    if cleaned.is_empty() {
        return None;
    }
    let value = Decimal::from_str(&cleaned)
        .or_else(|_| Decimal::from_scientific(&cleaned))
        .ok()?;
    Some((value, mark))
}

/// [`parse_marked`] without the mark: plain numbers (positions, orders) carry no prefix, so one there is
/// refused rather than silently read.
pub fn parse(text: &str) -> Option<Decimal> {
    match parse_marked(text)? {
        (v, Mark::Live) => Some(v),
        _ => None,
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(serde_json::Number),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => {
                let s = n.to_string();
                Decimal::from_str(&s)
                    .or_else(|_| Decimal::from_scientific(&s))
                    .map(Num)
                    .map_err(|_| serde::de::Error::custom(format!("number out of range: {s}")))
            }
            Raw::S(s) => parse(&s).map(Num).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "not a number: {:?}",
                    s.chars().take(32).collect::<String>()
                ))
            }),
        }
    }
}

impl From<Num> for Decimal {
    fn from(n: Num) -> Decimal {
        n.0
    }
}

/// A conid, which IBKR sends as a number in some answers and a string in others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Conid(pub i64);

impl<'de> Deserialize<'de> for Conid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(i64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(Conid(n)),
            Raw::S(s) => s.trim().parse().map(Conid).map_err(|_| {
                serde::de::Error::custom(format!(
                    "not a conid: {:?}",
                    s.chars().take(32).collect::<String>()
                ))
            }),
        }
    }
}

impl std::fmt::Display for Conid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn strings_with_separators_and_prefixes_are_read_with_their_mark() {
        assert_eq!(parse_marked("1,234.50"), Some((dec!(1234.50), Mark::Live)));
        assert_eq!(parse_marked("C182.81"), Some((dec!(182.81), Mark::Close)));
        assert_eq!(parse_marked("H12.5"), Some((dec!(12.5), Mark::Halted)));
        assert_eq!(parse_marked("-0.25"), Some((dec!(-0.25), Mark::Live)));
        assert_eq!(parse_marked("1.2E3"), Some((dec!(1200), Mark::Live)));
        for bad in ["", "C", "abc", "1.2.3", "N/A"] {
            assert_eq!(parse_marked(bad), None, "{bad}");
        }
        // Plain numbers never carry a prefix.
        assert_eq!(parse("C182.81"), None);
    }

    #[test]
    fn numbers_and_strings_deserialize_and_garbage_is_an_error() {
        let v: Vec<Num> = serde_json::from_str(r#"[1.5, "2,000", "3", 4]"#).unwrap();
        assert_eq!(
            v,
            vec![Num(dec!(1.5)), Num(dec!(2000)), Num(dec!(3)), Num(dec!(4))]
        );
        let e = serde_json::from_str::<Num>(r#""lots""#).unwrap_err();
        assert!(e.to_string().contains("not a number"), "{e}");
        let c: Vec<Conid> = serde_json::from_str(r#"[265598, "8314"]"#).unwrap();
        assert_eq!(c, vec![Conid(265598), Conid(8314)]);
        assert!(serde_json::from_str::<Conid>(r#""AAPL""#).is_err());
    }
}
