//! Session resources: `/iserver/auth/status`, `/tickle`, `/iserver/auth/ssodh/init`, `/iserver/accounts`
//! and `/portfolio/accounts`.

use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// `POST /iserver/auth/status` (and `ssodh/init`'s answer): the brokerage session's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AuthStatus {
    #[serde(default)]
    pub authenticated: bool,
    #[serde(default)]
    pub connected: bool,
    /// Another brokerage session of the same user took over.
    #[serde(default)]
    pub competing: bool,
    #[serde(default)]
    pub message: Option<String>,
}

/// `POST /tickle`: keeps the session alive; its `iserver.authStatus` tells the brokerage state.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Tickle {
    /// The session id the WebSocket expects (`{"session": ...}`); a secret, never shown.
    #[serde(default)]
    pub session: Option<Secret>,
    #[serde(default)]
    pub iserver: Option<TickleIserver>,
}

/// The `iserver` part of a tickle answer.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TickleIserver {
    #[serde(rename = "authStatus", default)]
    pub auth_status: Option<AuthStatus>,
}

/// `POST /iserver/auth/ssodh/init` body.
#[derive(Debug, Clone, Serialize)]
pub struct SsodhInit {
    pub publish: bool,
    pub compete: bool,
}

/// `GET /iserver/accounts`: the accounts the user may trade.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Accounts {
    #[serde(default)]
    pub accounts: Vec<String>,
    #[serde(default)]
    pub aliases: HashMap<String, String>,
    #[serde(rename = "selectedAccount", default)]
    pub selected_account: Option<String>,
    #[serde(rename = "isPaper", default)]
    pub is_paper: Option<bool>,
}

/// One element of `GET /portfolio/accounts`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PortfolioAccount {
    /// The account id.
    pub id: String,
    #[serde(rename = "accountTitle", default)]
    pub account_title: Option<String>,
    #[serde(rename = "displayName", default)]
    pub display_name: Option<String>,
    #[serde(rename = "accountAlias", default)]
    pub account_alias: Option<String>,
    /// Base currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// `INDIVIDUAL`, `DEMO`...
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// `POST /iserver/account` body: switch the selected account.
#[derive(Debug, Clone, Serialize)]
pub struct SwitchAccount<'a> {
    #[serde(rename = "acctId")]
    pub acct_id: &'a str,
}
