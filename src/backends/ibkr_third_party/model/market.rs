//! `/secdef` (contracts) and `/marketdata/snapshot` and `/marketdata/exchange_component`.

use super::{Conid, Num};
use serde::Deserialize;

/// `GET /secdef`: one contract.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Secdef {
    pub contract_id: Conid,
    #[serde(default)]
    pub ticker: Option<String>,
    /// `STK`, `CASH`...
    #[serde(default)]
    pub security_type: Option<String>,
    #[serde(default)]
    pub exchange: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
}

/// One side of a snapshot (`Trade`, `Bid`, `Offer`, `Closing`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Level {
    /// Bit set of the exchanges contributing (see [`ExchangeComponent`]).
    #[serde(default)]
    pub market: Option<u64>,
    #[serde(default)]
    pub price: Option<Num>,
    #[serde(default)]
    pub size: Option<Num>,
    /// Unix milliseconds (trades).
    #[serde(default)]
    pub time: Option<i64>,
}

/// One row of `GET /marketdata/snapshot`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapshotRow {
    pub conid: Conid,
    /// FIX-style code: `0` real time, `1` delayed (a number on the wire; a string is read too).
    #[serde(default)]
    pub temporality: Option<Num>,
    #[serde(default)]
    pub complete: Option<bool>,
    #[serde(default)]
    pub trade: Option<Level>,
    #[serde(default)]
    pub closing: Option<Level>,
    #[serde(default)]
    pub bid: Option<Level>,
    #[serde(default)]
    pub offer: Option<Level>,
}

/// One entry of an exchange-component mapping.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ComponentBit {
    pub bit: u32,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub exchange: Option<String>,
}

/// One row of `GET /marketdata/exchange_component`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExchangeComponent {
    #[serde(rename = "Conid")]
    pub conid: Conid,
    #[serde(default, rename = "Complete")]
    pub complete: Option<bool>,
    #[serde(default)]
    pub mapping: Vec<ComponentBit>,
}
