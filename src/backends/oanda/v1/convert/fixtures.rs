//! Payloads of the OANDA v1 documentation (the v1 seed for instruments, prices and candles; the v1 REST
//! reference for accounts, trading, transactions and streams), shared by the model and mapping tests. The
//! payloads are JSON files in `testdata/oanda/v1/`, compiled in as they are (no final newline: a stream
//! line is one of them).

pub const ACCOUNTS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/accounts.json"
));

pub const ACCOUNT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/account.json"
));

/// The seed's instrument example (default fields only).
pub const INSTRUMENTS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/instruments.json"
));

/// Every field the bridge asks for, as the seed describes them (pip and precision as strings, trailing
/// stops in pips, margin rate as a fraction).
pub const INSTRUMENTS_FULL: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/instruments_full.json"
));

/// The seed's price example (EUR_CAD halted).
pub const PRICES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/prices.json"
));

/// The seed's midpoint candles example.
pub const CANDLES_MID: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/candles_mid.json"
));

/// The seed's bid/ask candles example.
pub const CANDLES_BIDASK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/candles_bidask.json"
));

pub const MARKET_ANSWER: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/market_answer.json"
));

/// A market order that only closed and reduced trades (no trade opened).
pub const MARKET_CLOSING_ANSWER: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/market_closing_answer.json"
));

pub const PENDING_ANSWER: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/pending_answer.json"
));

pub const ORDERS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/orders.json"
));

pub const TRADES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/trades.json"
));

pub const POSITIONS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/positions.json"
));

pub const TRANSACTION: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/transaction.json"
));

pub const ERROR_NOT_FOUND: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/error_not_found.json"
));

pub const PRICE_TICK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/price_tick.json"
));

pub const HEARTBEAT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/oanda/v1/heartbeat.json"
));
