//! Capital.com wire types: Accounts, balances and account preferences (hedging mode, leverages).

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------------------

/// One account of `GET /accounts`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub account_id: String,
    #[serde(default)]
    pub account_name: Option<String>,
    #[serde(default)]
    pub status: Option<AccountStatus>,
    #[serde(default)]
    pub account_type: Option<AccountType>,
    #[serde(default)]
    pub preferred: bool,
    pub balance: Balance,
    pub currency: String,
}

/// `GET /accounts` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AccountsResponse {
    #[serde(default)]
    pub accounts: Vec<Account>,
}

/// Leverage of one instrument group: the current value and the choices.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Leverage {
    pub current: Decimal,
    #[serde(default)]
    pub available: Vec<Decimal>,
}

/// Leverages per instrument group (groups the upstream may add are ignored).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct Leverages {
    #[serde(default)]
    pub shares: Option<Leverage>,
    #[serde(default)]
    pub currencies: Option<Leverage>,
    #[serde(default)]
    pub indices: Option<Leverage>,
    #[serde(default)]
    pub cryptocurrencies: Option<Leverage>,
    #[serde(default)]
    pub commodities: Option<Leverage>,
}

impl Leverages {
    /// The leverage of one instrument group, if the upstream sent it.
    pub fn get(&self, ty: InstrumentType) -> Option<&Leverage> {
        match ty {
            InstrumentType::Shares => self.shares.as_ref(),
            InstrumentType::Currencies => self.currencies.as_ref(),
            InstrumentType::Indices => self.indices.as_ref(),
            InstrumentType::Cryptocurrencies => self.cryptocurrencies.as_ref(),
            InstrumentType::Commodities => self.commodities.as_ref(),
            InstrumentType::Unknown => None,
        }
    }
}

/// `GET /accounts/preferences` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountPreferences {
    #[serde(default)]
    pub hedging_mode: bool,
    #[serde(default)]
    pub leverages: Leverages,
}

/// New leverage values of `PUT /accounts/preferences` (unset groups are left out).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct LeverageSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shares: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currencies: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indices: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cryptocurrencies: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commodities: Option<u32>,
}

/// `PUT /accounts/preferences` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePreferencesRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leverages: Option<LeverageSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hedging_mode: Option<bool>,
}
