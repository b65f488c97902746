//! Accounts, account flags, `/config`, `/userInfo` and `/mapping` types.

use serde::{Deserialize, Serialize};

/// Live or demo account, as TradingView labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    Live,
    Demo,
}

/// One entry of `/accounts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AccountType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_sign: Option<String>,
    pub config: AccountFlags,
}

/// The `config` object of an account: every feature TradingView may offer for it.
///
/// Built only from a backend's declared [`crate::broker::Capabilities`], never written by hand, so the UI
/// never offers what the backend cannot do. Every flag is always sent (explicit `false` rather than the
/// spec's sometimes-`true` defaults).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountFlags {
    pub support_order_brackets: bool,
    pub support_add_brackets_to_existing_order: bool,
    pub support_market_brackets: bool,
    pub support_position_brackets: bool,
    pub support_individual_position_brackets: bool,
    pub support_positions: bool,
    pub support_multiposition: bool,
    pub support_position_netting: bool,
    pub support_close_position: bool,
    pub support_partial_close_position: bool,
    pub support_close_individual_position: bool,
    pub support_partial_close_individual_position: bool,
    pub support_reverse_position: bool,
    pub support_native_reverse_position: bool,
    pub support_market_orders: bool,
    pub support_limit_orders: bool,
    pub support_stop_orders: bool,
    pub support_stop_limit_orders: bool,
    pub support_stop_loss: bool,
    pub support_trailing_stop: bool,
    pub support_guaranteed_stop: bool,
    pub support_partial_order_execution: bool,
    pub support_modify_order_price: bool,
    pub support_edit_amount: bool,
    pub support_modify_brackets: bool,
    pub support_modify_duration: bool,
    pub support_place_order_preview: bool,
    pub support_modify_order_preview: bool,
    pub support_balances: bool,
    pub support_orders_history: bool,
    pub support_executions: bool,
    pub support_leverage: bool,
    pub support_leverage_button: bool,
    #[serde(rename = "supportDOM")]
    pub support_dom: bool,
    pub support_level2_data: bool,
    #[serde(rename = "supportPLUpdate")]
    pub support_pl_update: bool,
    pub support_logout: bool,
    pub support_track_latency: bool,
    pub support_custom_order_info: bool,
    pub support_custom_account_summary_row: bool,
    pub support_strict_checking_limit_order_price: bool,
}

/// A column of an account manager table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountManagerColumn {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tooltip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alignment: Option<String>,
}

/// An account manager table; its rows come from `/state`'s `amData`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountManagerTable {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub columns: Vec<AccountManagerColumn>,
}

/// An order duration offered in the order ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DurationConfig {
    pub id: String,
    pub title: String,
    pub has_date_picker: bool,
    pub has_time_picker: bool,
    pub default: bool,
    pub supported_order_types: Vec<super::OrderType>,
}

impl DurationConfig {
    /// The duration `id` shown as `title` for `types`; `dated` ones ask for a date and a time, `default`
    /// is preselected.
    pub fn new(id: &str, title: &str, dated: bool, default: bool, types: &[super::OrderType]) -> Self {
        DurationConfig {
            id: id.into(),
            title: title.into(),
            has_date_picker: dated,
            has_time_picker: dated,
            default,
            supported_order_types: types.to_vec(),
        }
    }
}

/// `/config` `pullingInterval`, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PullingInterval {
    pub quotes: u32,
    pub orders: u32,
    pub positions: u32,
    pub account_manager: u32,
    pub balances: u32,
}

/// `/config` `orderInfoConfig` (1.4.27): order ticket fields whose change triggers a new `/orderInfo`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderInfoConfig {
    pub dependencies: Vec<String>,
}

/// The `d` of `/config`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub account_manager: Vec<AccountManagerTable>,
    pub durations: Vec<DurationConfig>,
    pub pulling_interval: PullingInterval,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_info_config: Option<OrderInfoConfig>,
}

/// The `d` of `/userInfo` (1.4.26).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserInfo {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// One broker symbol and the TradingView symbol it maps to (`/mapping`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SymbolMapping {
    /// One-element array: the broker symbol.
    pub f: [String; 1],
    /// TradingView symbol with its exchange prefix, e.g. `FX:EURUSD`.
    pub s: String,
}

/// The whole `/mapping` response (not enveloped, per the spec).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MappingResponse {
    pub symbols: Vec<SymbolMapping>,
    pub fields: [&'static str; 1],
}

/// The usual sign of a currency, for `currencySign`.
pub fn currency_sign(code: &str) -> Option<&'static str> {
    Some(match code {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "CHF" => "₣",
        "AUD" => "A$",
        "CAD" => "C$",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dated_duration_asks_for_date_and_time() {
        let types = [super::super::OrderType::Limit];
        let d = DurationConfig::new("GTT", "Good till time", true, false, &types);
        assert_eq!((d.id.as_str(), d.title.as_str()), ("GTT", "Good till time"));
        assert!(d.has_date_picker && d.has_time_picker && !d.default);
        assert_eq!(d.supported_order_types, types);
        let d = DurationConfig::new("GTC", "Good till cancelled", false, true, &[]);
        assert!(!d.has_date_picker && !d.has_time_picker && d.default);
    }
}
