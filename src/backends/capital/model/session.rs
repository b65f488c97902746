//! Capital.com wire types: Error bodies and session requests and responses.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

/// Error body of every failed call: `{"errorCode": "error.invalid.details"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub error_code: String,
    #[serde(default)]
    pub message: Option<String>,
}

// ---------------------------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------------------------

/// `POST /session` body. `Debug` masks the password.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionRequest<'a> {
    pub identifier: &'a str,
    pub password: &'a str,
    pub encrypted_password: bool,
}

impl fmt::Debug for CreateSessionRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateSessionRequest")
            .field("identifier", &self.identifier)
            .field("password", &crate::secret::MASK)
            .field("encrypted_password", &self.encrypted_password)
            .finish()
    }
}

/// `GET /session/encryptionKey` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionKey {
    pub encryption_key: String,
    pub time_stamp: i64,
}

/// Account balance block (`accountInfo` of the session, `balance` of `/accounts`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    pub balance: Decimal,
    pub deposit: Decimal,
    pub profit_loss: Decimal,
    pub available: Decimal,
}

/// One account as listed in the `POST /session` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAccount {
    pub account_id: String,
    #[serde(default)]
    pub account_name: Option<String>,
    #[serde(default)]
    pub preferred: bool,
    #[serde(default)]
    pub account_type: Option<AccountType>,
}

/// `POST /session` answer body (the tokens come in the `CST` and `X-SECURITY-TOKEN` headers).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionCreated {
    #[serde(default)]
    pub account_type: Option<AccountType>,
    #[serde(default)]
    pub account_info: Option<Balance>,
    #[serde(default)]
    pub currency_iso_code: Option<String>,
    #[serde(default)]
    pub currency_symbol: Option<String>,
    pub current_account_id: String,
    #[serde(default)]
    pub streaming_host: Option<String>,
    #[serde(default)]
    pub accounts: Vec<SessionAccount>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub timezone_offset: Option<i32>,
    #[serde(default)]
    pub has_active_demo_accounts: Option<bool>,
    #[serde(default)]
    pub has_active_live_accounts: Option<bool>,
    #[serde(default)]
    pub trailing_stops_enabled: Option<bool>,
}

/// `GET /session` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionDetails {
    #[serde(default)]
    pub client_id: Option<String>,
    pub account_id: String,
    #[serde(default)]
    pub timezone_offset: Option<i32>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub stream_endpoint: Option<String>,
}

/// `PUT /session` body (switch account).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SwitchAccountRequest<'a> {
    pub account_id: &'a str,
}

/// `PUT /session` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwitchAccountResponse {
    #[serde(default)]
    pub trailing_stops_enabled: Option<bool>,
    #[serde(default)]
    pub dealing_enabled: Option<bool>,
    #[serde(default)]
    pub has_active_demo_accounts: Option<bool>,
    #[serde(default)]
    pub has_active_live_accounts: Option<bool>,
}

/// `{"status": "SUCCESS"}` answer of `DELETE /session` and `PUT /accounts/preferences`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StatusResponse {
    pub status: String,
}
