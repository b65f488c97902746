//! Placeholder of the v20 market data module (instruments, prices, candles, streams), written in
//! parallel on another branch; this file only holds its agreed signatures until that branch is merged.

use crate::backends::oanda::http::Http;
use crate::backends::oanda::venue::{Candle, CandleQuery, InstrumentSpec, Price, StreamLine, StreamRequest};
use crate::broker::{BrokerError, BrokerResult};
use crate::secret::Secret;

/// The instruments the account may trade.
pub async fn instruments(_http: &Http, _token: &Secret, _account: &str) -> BrokerResult<Vec<InstrumentSpec>> {
    Err(BrokerError::Unsupported("OANDA v20 instruments"))
}

/// Current prices of `instruments`.
pub async fn prices(
    _http: &Http,
    _token: &Secret,
    _account: &str,
    _instruments: &[String],
) -> BrokerResult<Vec<Price>> {
    Err(BrokerError::Unsupported("OANDA v20 prices"))
}

/// One page of candles.
pub async fn candles(_http: &Http, _token: &Secret, _query: &CandleQuery) -> BrokerResult<Vec<Candle>> {
    Err(BrokerError::Unsupported("OANDA v20 candles"))
}

/// The pricing stream of `instruments`.
pub fn price_stream(account: &str, _instruments: &[String]) -> StreamRequest {
    StreamRequest {
        path: format!(
            "/v3/accounts/{}/pricing/stream",
            crate::upstream::call::segment(account)
        ),
        query: Vec::new(),
    }
}

/// One line of the pricing stream.
pub fn parse_price_line(_line: &[u8]) -> StreamLine<Price> {
    StreamLine::Other
}

/// The transaction stream of the account.
pub fn transaction_stream(account: &str) -> StreamRequest {
    StreamRequest {
        path: format!(
            "/v3/accounts/{}/transactions/stream",
            crate::upstream::call::segment(account)
        ),
        query: Vec::new(),
    }
}

/// One line of the transaction stream.
pub fn parse_transaction_line(_line: &[u8]) -> StreamLine<String> {
    StreamLine::Other
}
