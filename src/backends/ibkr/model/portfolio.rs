//! Portfolio resources: positions (`/portfolio/{acct}/positions/{page}`), the account summary
//! (`/portfolio/{acct}/summary`) and the ledger (`/portfolio/{acct}/ledger`).

use super::num::{Conid, Num};
use serde::Deserialize;
use std::collections::HashMap;

/// Positions IBKR returns per page of `/portfolio/{acct}/positions/{page}`; a shorter page is the last.
pub const POSITIONS_PAGE_SIZE: usize = 100;

/// One position (net per contract).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    #[serde(default)]
    pub acct_id: Option<String>,
    pub conid: Conid,
    #[serde(default)]
    pub contract_desc: Option<String>,
    /// Signed: negative is short.
    pub position: Num,
    #[serde(default)]
    pub mkt_price: Option<Num>,
    #[serde(default)]
    pub avg_cost: Option<Num>,
    #[serde(default)]
    pub avg_price: Option<Num>,
    #[serde(default)]
    pub unrealized_pnl: Option<Num>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub asset_class: Option<String>,
    #[serde(default)]
    pub ticker: Option<String>,
}

/// One value of the account summary (`{amount, currency, isNull, ...}`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryValue {
    #[serde(default)]
    pub amount: Option<Num>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub is_null: Option<bool>,
}

/// `GET /portfolio/{acct}/summary`: values by lower-case key (`netliquidation`, `totalcashvalue`,
/// `availablefunds`...). Keys whose value is not a summary value (text fields) are skipped.
#[derive(Debug, Clone, Default)]
pub struct Summary(pub HashMap<String, SummaryValue>);

impl<'de> Deserialize<'de> for Summary {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: HashMap<String, serde_json::Value> = HashMap::deserialize(d)?;
        let mut out = HashMap::new();
        for (key, value) in raw {
            if !value.is_object() {
                continue;
            }
            let v: SummaryValue = serde_json::from_value(value)
                .map_err(|e| serde::de::Error::custom(format!("summary {key}: {e}")))?;
            out.insert(key, v);
        }
        Ok(Summary(out))
    }
}

impl Summary {
    /// The amount of `key`, when IBKR gave one.
    pub fn amount(&self, key: &str) -> Option<rust_decimal::Decimal> {
        let v = self.0.get(key)?;
        if v.is_null == Some(true) {
            return None;
        }
        v.amount.map(|n| n.0)
    }
}

/// One currency's ledger (`BASE` is the account's base currency).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LedgerEntry {
    #[serde(default)]
    pub cashbalance: Option<Num>,
    #[serde(default)]
    pub netliquidationvalue: Option<Num>,
    #[serde(default)]
    pub unrealizedpnl: Option<Num>,
    #[serde(default)]
    pub realizedpnl: Option<Num>,
    #[serde(default)]
    pub currency: Option<String>,
}

/// `GET /portfolio/{acct}/ledger`: entries by currency code and `BASE`.
pub type Ledger = HashMap<String, LedgerEntry>;
