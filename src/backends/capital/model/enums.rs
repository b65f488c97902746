//! Capital.com wire types: Upstream enums, each with an `Unknown` catch-all for values added later.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------------------------------------

/// Deal direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    Buy,
    Sell,
    #[serde(other)]
    Unknown,
}

/// Outcome of a deal in a confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DealStatus {
    Accepted,
    Rejected,
    #[serde(other)]
    Unknown,
}

/// Status of the position or order a confirmation is about (only `OPEN` is shown in the official examples;
/// the others are the usual lifecycle names and are not confirmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConfirmStatus {
    Open,
    Amended,
    PartiallyClosed,
    Closed,
    Deleted,
    #[serde(other)]
    Unknown,
}

/// Status of one affected deal in a confirmation (only `OPENED` is shown in the official examples).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AffectedDealStatus {
    Opened,
    Amended,
    PartiallyClosed,
    FullyClosed,
    Deleted,
    #[serde(other)]
    Unknown,
}

/// Working order type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderType {
    Limit,
    Stop,
    #[serde(other)]
    Unknown,
}

/// Working order time in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimeInForce {
    GoodTillCancelled,
    GoodTillDate,
    #[serde(other)]
    Unknown,
}

/// Market trading status (`TRADEABLE` and `CLOSED` appear in the official examples).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MarketStatus {
    Tradeable,
    Closed,
    EditsOnly,
    Offline,
    Suspended,
    #[serde(other)]
    Unknown,
}

/// Instrument type; also the leverage groups of the account preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InstrumentType {
    Shares,
    Currencies,
    Indices,
    Cryptocurrencies,
    Commodities,
    #[serde(other)]
    Unknown,
}

/// Account type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountType {
    Cfd,
    #[serde(other)]
    Unknown,
}

/// Account status (`ENABLED` is the only value shown in the official examples).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    Enabled,
    #[serde(other)]
    Unknown,
}

/// Price resolution of `GET /prices/{epic}` and of the OHLC stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Resolution {
    Minute,
    #[serde(rename = "MINUTE_5")]
    Minute5,
    #[serde(rename = "MINUTE_15")]
    Minute15,
    #[serde(rename = "MINUTE_30")]
    Minute30,
    Hour,
    #[serde(rename = "HOUR_4")]
    Hour4,
    Day,
    Week,
    #[serde(other)]
    Unknown,
}

impl Resolution {
    /// The query-parameter spelling (`MINUTE_5`...); `None` for `Unknown`.
    pub fn as_str(self) -> Option<&'static str> {
        Some(match self {
            Resolution::Minute => "MINUTE",
            Resolution::Minute5 => "MINUTE_5",
            Resolution::Minute15 => "MINUTE_15",
            Resolution::Minute30 => "MINUTE_30",
            Resolution::Hour => "HOUR",
            Resolution::Hour4 => "HOUR_4",
            Resolution::Day => "DAY",
            Resolution::Week => "WEEK",
            Resolution::Unknown => return None,
        })
    }
}

/// Unit of a dealing rule or of a margin factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleUnit {
    Points,
    Percentage,
    #[serde(other)]
    Unknown,
}

/// Whether market orders are offered for an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MarketOrderPreference {
    AvailableDefaultOn,
    AvailableDefaultOff,
    NotAvailable,
    #[serde(other)]
    Unknown,
}

/// Whether trailing stops are offered for an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrailingStopsPreference {
    Available,
    NotAvailable,
    #[serde(other)]
    Unknown,
}

/// Who caused an activity (documented FIQL values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivitySource {
    CloseOut,
    Dealer,
    Sl,
    System,
    Tp,
    User,
    #[serde(other)]
    Unknown,
}

/// Kind of activity (documented FIQL values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivityType {
    Position,
    WorkingOrder,
    EditStopAndLimit,
    Swap,
    System,
    #[serde(other)]
    Unknown,
}

/// Status of an activity (documented FIQL values; the upstream's own `UNKNOWN` lands in `Unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivityStatus {
    Accepted,
    Created,
    Executed,
    Expired,
    Rejected,
    Modified,
    ModifyReject,
    Cancelled,
    CancelReject,
    #[serde(other)]
    Unknown,
}

/// Transaction type of `/history/transactions` (documented values of the `type` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransactionType {
    InactivityFee,
    Reserve,
    Void,
    Unreserve,
    WriteOffOrCredit,
    CreditFacility,
    FxCommission,
    ComplaintSettlement,
    Deposit,
    Withdrawal,
    Refund,
    WithdrawalMoneyBack,
    Trade,
    Swap,
    TradeCommission,
    TradeCommissionGsl,
    NegativeBalanceProtection,
    TradeCorrection,
    Chargeback,
    Adjustment,
    Bonus,
    Transfer,
    CorporateAction,
    Conversion,
    Rebate,
    TradeSlippageProtection,
    #[serde(other)]
    Unknown,
}

/// Destination of a streaming message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StreamDestination {
    #[serde(rename = "marketData.subscribe")]
    MarketDataSubscribe,
    #[serde(rename = "marketData.unsubscribe")]
    MarketDataUnsubscribe,
    #[serde(rename = "OHLCMarketData.subscribe")]
    OhlcSubscribe,
    #[serde(rename = "OHLCMarketData.unsubscribe")]
    OhlcUnsubscribe,
    #[serde(rename = "ping")]
    Ping,
    #[serde(rename = "quote")]
    Quote,
    #[serde(rename = "ohlc.event")]
    OhlcEvent,
    #[serde(other)]
    Unknown,
}
