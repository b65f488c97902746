//! v1 wire values: every number is a JSON number (v20 uses strings), ids are integers and times RFC 3339.
//!
//! Decimals are read from the number's own text so that `1.31513` stays exactly `1.31513`: serde_json
//! (without `arbitrary_precision`) hands floats over as `f64`, whose `Display` is the shortest text that
//! reads back to the same `f64`, which for any price OANDA sends is the text OANDA wrote. Strings are
//! accepted too (the instrument list sends `pip` and `precision` as strings), so a field that changes
//! representation does not break a whole answer.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

pub use super::super::model::{parse_decimal, parse_time};

struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::custom("a number that is not finite"));
        }
        // `{}` on f64 prints the shortest round-tripping text and never an exponent.
        parse_decimal(&format!("{v}")).ok_or_else(|| E::custom(format!("number {v} out of range")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_decimal(v).ok_or_else(|| E::custom("a string that is not a number"))
    }
}

/// `deserialize_with` for a required decimal.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecimalVisitor)
}

/// `deserialize_with` (with `#[serde(default)]`) for an optional decimal; `null` is `None`.
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    struct Opt;
    impl<'de> Visitor<'de> for Opt {
        type Value = Option<Decimal>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            decimal(d).map(Some)
        }
    }
    d.deserialize_option(Opt)
}

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer id")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom("a negative id"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        // An id written as `175517237.0` is still that id; anything fractional is not an id.
        if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1.8e19 {
            Ok(v as u64)
        } else {
            Err(E::custom("an id that is not a whole number"))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::custom("an id that is not a number"))
    }
}

/// `deserialize_with` for a required integer id (a number, or a string of digits).
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(IdVisitor)
}

/// `deserialize_with` (with `#[serde(default)]`) for an optional id; `null` is `None`.
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct Opt;
    impl<'de> Visitor<'de> for Opt {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an id or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            id(d).map(Some)
        }
    }
    d.deserialize_option(Opt)
}

/// `deserialize_with` (with `#[serde(default)]`) for an optional time. A time that cannot be read is
/// `None` rather than an error: one odd timestamp must not hide a whole list of orders or trades.
pub fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let value: Option<serde_json::Value> = serde::Deserialize::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::String(s)) => parse_time(&s),
        Some(serde_json::Value::Number(n)) => parse_time(&n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(deserialize_with = "decimal")]
        price: Decimal,
        #[serde(default, deserialize_with = "opt_decimal")]
        stop: Option<Decimal>,
        #[serde(deserialize_with = "id")]
        id: u64,
        #[serde(default, deserialize_with = "opt_time")]
        time: Option<DateTime<Utc>>,
    }

    fn probe(json: &str) -> Probe {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn json_numbers_keep_their_written_digits() {
        for (text, want) in [
            ("1.31513", dec!(1.31513)),
            ("97.618", dec!(97.618)),
            ("1.368125", dec!(1.368125)),
            ("100000", dec!(100000)),
            ("0.1", dec!(0.1)),
            ("0.00001", dec!(0.00001)),
            ("-12.5", dec!(-12.5)),
            ("1e-5", dec!(0.00001)),
            ("\"0.0001\"", dec!(0.0001)),
        ] {
            let p = probe(&format!(r#"{{"price":{text},"id":1}}"#));
            assert_eq!(p.price, want, "{text}");
            assert_eq!(p.price.to_string(), want.to_string(), "{text}: same scale");
        }
    }

    #[test]
    fn optional_values_and_ids() {
        let p = probe(r#"{"price":1,"stop":null,"id":175517237,"time":"2013-12-06T20:36:06Z"}"#);
        assert_eq!((p.stop, p.id), (None, 175517237));
        assert_eq!(p.time.map(|t| t.timestamp()), Some(1_386_362_166));
        let p = probe(r#"{"price":1,"stop":1.2,"id":"42","time":"yesterday"}"#);
        assert_eq!((p.stop, p.id, p.time), (Some(dec!(1.2)), 42, None));
        assert!(serde_json::from_str::<Probe>(r#"{"price":1,"id":-3}"#).is_err());
        assert!(serde_json::from_str::<Probe>(r#"{"price":"abc","id":3}"#).is_err());
    }

    #[test]
    fn times_in_either_format() {
        let t = parse_time("2014-03-07T20:58:07.461445Z").unwrap();
        assert_eq!(t.timestamp_micros(), 1_394_225_887_461_445);
        assert_eq!(parse_time("1394225887.461445"), Some(t));
        assert_eq!(parse_time("not a time"), None);
    }
}
