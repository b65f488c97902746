//! Market data and contract resources: `/iserver/marketdata/snapshot`, `/iserver/marketdata/history`,
//! `/iserver/contract/{conid}/info`, `/iserver/secdef/search`.

use super::num::{parse_marked, Conid, Mark, Num};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;

/// Snapshot field: last price.
pub const LAST: &str = "31";
/// Snapshot field: bid price.
pub const BID: &str = "84";
/// Snapshot field: ask size.
pub const ASK_SIZE: &str = "85";
/// Snapshot field: ask price.
pub const ASK: &str = "86";
/// Snapshot field: bid size.
pub const BID_SIZE: &str = "88";
/// The fields the bridge asks a snapshot for.
pub const QUOTE_FIELDS: &str = "31,84,85,86,88";

/// One conid's row of a snapshot: field number -> value (strings, as IBKR formats them).
#[derive(Debug, Clone, Default)]
pub struct SnapshotRow {
    pub conid: Conid,
    pub fields: HashMap<String, String>,
}

impl<'de> Deserialize<'de> for SnapshotRow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: HashMap<String, serde_json::Value> = HashMap::deserialize(d)?;
        let conid = raw
            .get("conid")
            .cloned()
            .ok_or_else(|| serde::de::Error::custom("snapshot row without conid"))?;
        let conid: Conid = serde_json::from_value(conid).map_err(serde::de::Error::custom)?;
        let fields = raw
            .into_iter()
            .filter(|(k, _)| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k, s)),
                serde_json::Value::Number(n) => Some((k, n.to_string())),
                _ => None,
            })
            .collect();
        Ok(SnapshotRow { conid, fields })
    }
}

impl SnapshotRow {
    /// Field `field` as a number with its mark; `None` when absent, `Err` with the text when present but
    /// not a number.
    pub fn value(&self, field: &str) -> Result<Option<(Decimal, Mark)>, String> {
        match self.fields.get(field) {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => parse_marked(s).map(Some).ok_or_else(|| {
                format!(
                    "field {field} is not a number: {:?}",
                    s.chars().take(32).collect::<String>()
                )
            }),
        }
    }
}

/// One bar of `/iserver/marketdata/history`.
#[derive(Debug, Clone, Deserialize)]
pub struct HistoryBar {
    /// Start, unix milliseconds.
    pub t: i64,
    pub o: Num,
    pub h: Num,
    pub l: Num,
    pub c: Num,
    #[serde(default)]
    pub v: Option<Num>,
}

/// `GET /iserver/marketdata/history`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct History {
    #[serde(default)]
    pub data: Vec<HistoryBar>,
    #[serde(default)]
    pub symbol: Option<String>,
}

/// `GET /iserver/contract/{conid}/info-and-rules`: `ContractInfo` with its `rules`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContractInfo {
    #[serde(default)]
    pub con_id: Option<Conid>,
    #[serde(default)]
    pub symbol: Option<String>,
    #[serde(default)]
    pub local_symbol: Option<String>,
    /// `STK`, `CASH`, `FUT`, `CFD`...
    #[serde(default)]
    pub instrument_type: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub exchange: Option<String>,
    #[serde(default)]
    pub multiplier: Option<String>,
    /// Whether the contract trades outside regular hours.
    #[serde(default)]
    pub r_t_h: Option<bool>,
    #[serde(default)]
    pub rules: Option<ContractRules>,
}

/// The trading rules of a contract (`ContractRules`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractRules {
    /// The smallest price step.
    #[serde(default)]
    pub increment: Option<Num>,
    #[serde(default)]
    pub increment_rules: Vec<IncrementRule>,
    /// The quantity step.
    #[serde(default)]
    pub size_increment: Option<Num>,
    #[serde(default)]
    pub order_types: Vec<String>,
    #[serde(default)]
    pub tif_types: Vec<String>,
}

/// A price step that applies from `lowerEdge` up.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncrementRule {
    pub lower_edge: Num,
    pub increment: Num,
}

/// One result of `GET /iserver/secdef/search`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    #[serde(default)]
    pub conid: Option<Conid>,
    #[serde(default)]
    pub symbol: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    /// The primary exchange.
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub sections: Vec<SearchSection>,
}

/// A security type offered for a search result.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchSection {
    #[serde(default)]
    pub sec_type: Option<String>,
    #[serde(default)]
    pub exchange: Option<String>,
}
