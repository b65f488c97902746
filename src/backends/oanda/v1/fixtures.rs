//! Payloads of the OANDA v1 documentation (the v1 seed for instruments, prices and candles; the v1 REST
//! reference for accounts, trading, transactions and streams), shared by the model and mapping tests.

pub const ACCOUNTS: &str = r#"{"accounts":[{"accountId":8954947,"accountName":"Primary","accountCurrency":"USD","marginRate":0.05}]}"#;

pub const ACCOUNT: &str = r#"{"accountId":8954947,"accountName":"Primary","balance":100000,"unrealizedPl":0,"realizedPl":0,"marginUsed":0,"marginAvail":100000,"openTrades":0,"openOrders":0,"marginRate":0.05,"accountCurrency":"USD"}"#;

/// The seed's instrument example (default fields only).
pub const INSTRUMENTS: &str = r#"{
  "instruments" : [
    { "instrument" : "AUD_CAD", "displayName" : "AUD\/CAD", "pip" : "0.0001", "maxTradeUnits" : 10000000 },
    { "instrument" : "AUD_CHF", "displayName" : "AUD\/CHF", "pip" : "0.0001", "maxTradeUnits" : 10000000 }
  ]
}"#;

/// Every field the bridge asks for, as the seed describes them (pip and precision as strings, trailing
/// stops in pips, margin rate as a fraction).
pub const INSTRUMENTS_FULL: &str = r#"{"instruments":[
  {"instrument":"EUR_USD","displayName":"EUR\/USD","pip":"0.0001","maxTradeUnits":10000000,"precision":"0.00001","maxTrailingStop":10000,"minTrailingStop":5,"marginRate":0.05,"halted":false},
  {"instrument":"USD_JPY","displayName":"USD\/JPY","pip":"0.01","maxTradeUnits":10000000,"precision":"0.001","maxTrailingStop":10000,"minTrailingStop":5,"marginRate":0.04,"halted":false},
  {"instrument":"XAU_USD","displayName":"Gold","pip":"0.01","maxTradeUnits":1000,"precision":"0.001","maxTrailingStop":10000,"minTrailingStop":5,"marginRate":0.05,"halted":true},
  {"instrument":"SPX500_USD","displayName":"US SPX 500","pip":"1","maxTradeUnits":2500,"precision":"0.1","maxTrailingStop":10000,"minTrailingStop":5,"marginRate":0.05,"halted":false},
  {"instrument":"BCO_USD","displayName":"Brent Crude Oil","pip":"0.01","maxTradeUnits":10000,"precision":"0.001","marginRate":0.05}
]}"#;

/// The seed's price example (EUR_CAD halted).
pub const PRICES: &str = r#"{
  "prices": [
    { "instrument":"EUR_USD", "time":"2013-06-21T17:41:04.648747Z", "bid":1.31513, "ask":1.31528 },
    { "instrument":"USD_JPY", "time":"2013-06-21T17:49:02.475381Z", "bid":97.618, "ask":97.633 },
    { "instrument":"EUR_CAD", "time":"2013-06-21T17:51:38.063560Z", "bid":1.37489, "ask":1.37517, "status": "halted" }
  ]
}"#;

/// The seed's midpoint candles example.
pub const CANDLES_MID: &str = r#"{
    "instrument" : "EUR_USD",
    "granularity" : "D",
    "candles" : [
        { "time" : "2014-07-02T04:00:00.000000Z", "openMid" : 1.36803, "highMid" : 1.368125, "lowMid" : 1.364275, "closeMid" : 1.365315, "volume" : 28242, "complete" : true },
        { "time" : "2014-07-03T04:00:00.000000Z", "openMid" : 1.36532, "highMid" : 1.366445, "lowMid" : 1.35963, "closeMid" : 1.3613, "volume" : 30487, "complete" : false }
    ]
}"#;

/// The seed's bid/ask candles example.
pub const CANDLES_BIDASK: &str = r#"{
    "instrument" : "EUR_USD",
    "granularity" : "S5",
    "candles" : [
        { "time" : "2014-06-19T15:47:40.000000Z", "openBid" : 1.25682, "openAsk" : 1.25691, "highBid" : 1.25682, "highAsk" : 1.25691, "lowBid" : 1.25642, "lowAsk" : 1.25651, "closeBid" : 1.25642, "closeAsk" : 1.25651, "volume" : 9, "complete" : true },
        { "time" : "2014-06-19T15:47:45.000000Z", "openBid" : 1.25644, "openAsk" : 1.25653, "highBid" : 1.25644, "highAsk" : 1.25653, "lowBid" : 1.25634, "lowAsk" : 1.25643, "closeBid" : 1.25634, "closeAsk" : 1.25643, "volume" : 4, "complete" : true }
    ]
}"#;

pub const MARKET_ANSWER: &str = r#"{"instrument":"EUR_USD","time":"2013-12-06T20:36:06Z","price":1.37041,"tradeOpened":{"id":175517237,"units":2,"side":"buy","takeProfit":0,"stopLoss":0,"trailingStop":0},"tradesClosed":[],"tradeReduced":{}}"#;

/// A market order that only closed and reduced trades (no trade opened).
pub const MARKET_CLOSING_ANSWER: &str = r#"{"instrument":"EUR_USD","time":"2013-12-06T20:40:00Z","price":1.37,"tradeOpened":{},"tradesClosed":[{"id":175517237,"units":2,"side":"buy"}],"tradeReduced":{"id":175517240,"units":1,"pl":0.0003,"interest":0}}"#;

pub const PENDING_ANSWER: &str = r#"{"instrument":"EUR_USD","time":"2013-01-31T20:00:00Z","price":1.2,"orderOpened":{"id":175427639,"units":2,"side":"buy","takeProfit":0,"stopLoss":0,"expiry":"2013-02-01T00:00:00Z","upperBound":0,"lowerBound":0,"trailingStop":0}}"#;

pub const ORDERS: &str = r#"{"orders":[
  {"id":175427639,"instrument":"EUR_USD","units":20,"side":"buy","type":"marketIfTouched","time":"2014-02-11T16:22:07Z","price":1,"takeProfit":0,"stopLoss":0,"expiry":"2014-02-15T16:22:07Z","upperBound":0,"lowerBound":0,"trailingStop":0},
  {"id":175427700,"instrument":"USD_JPY","units":1000,"side":"sell","type":"limit","time":"2014-02-11T16:30:00Z","price":102.5,"takeProfit":101.25,"stopLoss":103.1,"expiry":"2014-03-01T00:00:00Z","upperBound":0,"lowerBound":0,"trailingStop":15.5},
  {"id":175427701,"instrument":"EUR_USD","units":5,"side":"buy","type":"stop","time":"2014-02-11T16:31:00Z","price":1.4,"takeProfit":0,"stopLoss":1.38,"expiry":"2014-03-01T00:00:00Z","upperBound":0,"lowerBound":0,"trailingStop":0}
]}"#;

pub const TRADES: &str = r#"{"trades":[
  {"id":175427743,"units":2,"side":"sell","instrument":"EUR_USD","time":"2014-02-13T17:47:47Z","price":1.36687,"takeProfit":0,"stopLoss":0,"trailingStop":0,"trailingAmount":0},
  {"id":175427800,"units":100,"side":"buy","instrument":"USD_JPY","time":"2014-02-13T18:00:00Z","price":102.1,"takeProfit":103.5,"stopLoss":101.2,"trailingStop":20,"trailingAmount":101.95}
]}"#;

pub const POSITIONS: &str = r#"{"positions":[{"instrument":"EUR_USD","units":4741,"side":"buy","avgPrice":1.3626},{"instrument":"USD_JPY","units":100,"side":"sell","avgPrice":102.1}]}"#;

pub const TRANSACTION: &str = r#"{"id":176403879,"accountId":6765103,"time":"2014-04-07T18:31:05Z","type":"MARKET_ORDER_CREATE","instrument":"EUR_USD","units":2,"side":"buy","price":1.25325,"pl":0,"interest":0,"accountBalance":100000,"tradeOpened":{"id":176403879,"units":2}}"#;

pub const ERROR_NOT_FOUND: &str = r#"{"code":43,"message":"Order not found","moreInfo":"http://developer.oanda.com/docs/v1/troubleshooting/#errors"}"#;

pub const PRICE_TICK: &str =
    r#"{"tick":{"instrument":"EUR_USD","time":"2014-03-07T20:58:07.461445Z","bid":1.38701,"ask":1.38712}}"#;

pub const HEARTBEAT: &str = r#"{"heartbeat":{"time":"2014-03-07T20:58:09.000000Z"}}"#;
