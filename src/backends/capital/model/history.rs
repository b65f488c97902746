//! Capital.com wire types: Activity and transaction history.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------------------

/// `details` of an activity (only with `detailed=true`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityDetails {
    #[serde(default)]
    pub deal_reference: Option<String>,
    #[serde(default)]
    pub market_name: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal_str_or_num")]
    pub size: Option<Decimal>,
    #[serde(default)]
    pub direction: Option<Direction>,
    #[serde(default)]
    pub level: Option<Decimal>,
    #[serde(default)]
    pub guaranteed_stop: Option<bool>,
    #[serde(default)]
    pub stop_level: Option<Decimal>,
    #[serde(default)]
    pub profit_level: Option<Decimal>,
}

/// One entry of `GET /history/activity`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    #[serde(default)]
    pub date: Option<String>,
    #[serde(rename = "dateUTC")]
    pub date_utc: String,
    #[serde(default)]
    pub epic: Option<String>,
    #[serde(default)]
    pub deal_id: Option<String>,
    #[serde(default)]
    pub source: Option<ActivitySource>,
    #[serde(rename = "type")]
    pub activity_type: ActivityType,
    pub status: ActivityStatus,
    #[serde(default)]
    pub details: Option<ActivityDetails>,
}

/// `GET /history/activity` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ActivityResponse {
    #[serde(default)]
    pub activities: Vec<Activity>,
}

/// One entry of `GET /history/transactions`. Note the upstream spells the UTC field `dateUtc` here.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    #[serde(default)]
    pub date: Option<String>,
    #[serde(alias = "dateUTC")]
    pub date_utc: String,
    #[serde(default)]
    pub instrument_name: Option<String>,
    pub transaction_type: TransactionType,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
    /// Amount of money, sent as a string (`"1.05"`).
    #[serde(deserialize_with = "decimal_str_or_num")]
    pub size: Decimal,
    pub currency: String,
}

/// `GET /history/transactions` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TransactionsResponse {
    #[serde(default)]
    pub transactions: Vec<Transaction>,
}
