//! The Third-Party Web API's wire types, field names exactly as sent (PascalCase, FIX codes as strings).
//! Numbers may come as JSON numbers or strings ([`Num`]), and so may a `CustomerOrderId` ([`Coid`]);
//! every other field a resource may leave out is optional, so a missing one is reported where it is
//! needed, never defaulted to a value that would mean something.

pub mod account;
pub mod market;
pub mod orders;
pub mod trades;

pub use crate::backends::ibkr::model::num::{Conid, Num};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest `CustomerOrderId` plus one: IBKR takes integers below 2^53 (exact in a JSON double).
pub const COID_LIMIT: u64 = 1 << 53;

/// A `CustomerOrderId`: sent as a JSON integer, received as an integer or a string (`DELETE` and `PUT`
/// answers quote it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Coid(pub u64);

impl std::fmt::Display for Coid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Coid {
    /// Parses the decimal text of an id (TradingView's order id, a path segment): `None` for anything
    /// that is not an integer below 2^53.
    pub fn parse(text: &str) -> Option<Coid> {
        let n: u64 = text.trim().parse().ok()?;
        (n < COID_LIMIT).then_some(Coid(n))
    }
}

impl Serialize for Coid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for Coid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) if n < COID_LIMIT => Ok(Coid(n)),
            Raw::N(n) => Err(serde::de::Error::custom(format!(
                "CustomerOrderId {n} is not below 2^53"
            ))),
            Raw::S(s) => Coid::parse(&s).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "not a CustomerOrderId: {:?}",
                    s.chars().take(24).collect::<String>()
                ))
            }),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
