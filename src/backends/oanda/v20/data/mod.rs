//! OANDA v20 market data: the account's instruments, price snapshots, candles, and the lines of the pricing
//! and transaction streams, turned into the version-neutral types of [`super::super::venue`].
//!
//! Upstream answers are read leniently: every field is optional on the wire, decimals arrive as strings (a
//! JSON number is tolerated), and an entry that lacks what the bridge needs is skipped and logged instead of
//! failing the whole answer.

use super::super::client::Http;
use super::super::errors::broker_error;
use super::super::venue::{
    Candle, CandleQuery, CandleSide, InstrumentSpec, Price, StreamLine, StreamRequest,
};
use super::convert::market::{candle, client_price, home_conversions, instrument_spec, Conversions};
use super::model::market::{CandlesBody, ClientPrice, InstrumentsBody, PricingBody};
use crate::broker::BrokerResult;
use crate::secret::Secret;
use crate::upstream::call::CallError;
use chrono::SecondsFormat;
use serde::Deserialize;
use serde_json::Value;

/// Instruments per `/pricing` request: keeps the URL short whatever the caller asks for.
const PRICES_PER_REQUEST: usize = 50;
/// Halvings of refused `/pricing` lists one call may make (one bad name among 50 takes 6).
const MAX_PRICE_SPLITS: u32 = 12;
/// OANDA's largest `count` of one candles request.
const MAX_CANDLES: u32 = 5000;
/// Bytes of an unreadable stream line shown in the debug log.
const LOG_PREVIEW: usize = 160;

/// `GET /v3/accounts/{id}/instruments`: every instrument the account may trade.
pub async fn instruments(http: &Http, token: &Secret, account: &str) -> BrokerResult<Vec<InstrumentSpec>> {
    let path = format!("/v3/accounts/{}/instruments", segment(account));
    let body: InstrumentsBody = http
        .get(token, &path, &[])
        .await
        .map_err(|e| broker_error(&e, &format!("the instruments of account {account}")))?;
    Ok(body.instruments.iter().filter_map(instrument_spec).collect())
}

/// `GET /v3/accounts/{id}/pricing`: current prices of `instruments` (OANDA names), with the factors that turn
/// the quote currency into the account currency. An instrument OANDA does not know is simply absent.
pub async fn prices(
    http: &Http,
    token: &Secret,
    account: &str,
    instruments: &[String],
) -> BrokerResult<Vec<Price>> {
    let mut wanted: Vec<&str> = Vec::with_capacity(instruments.len());
    for name in instruments.iter().map(|n| n.trim()) {
        if !name.is_empty() && !wanted.contains(&name) {
            wanted.push(name);
        }
    }
    let mut out = Vec::with_capacity(wanted.len());
    // A single unknown instrument makes OANDA refuse the whole list with a 400. Such a list is halved until
    // the culprit stands alone and is dropped, so the others still get prices at a cost of a few requests;
    // past a budget of halvings the refusal is not about one odd name and is reported as it is.
    let mut splits_left = MAX_PRICE_SPLITS;
    let mut pending: Vec<&[&str]> = wanted.chunks(PRICES_PER_REQUEST).rev().collect();
    while let Some(batch) = pending.pop() {
        match pricing(http, token, account, batch).await {
            Ok(prices) => out.extend(prices),
            Err(e) if e.status() == Some(400) && batch.len() > 1 && splits_left > 0 => {
                splits_left -= 1;
                let (left, right) = batch.split_at(batch.len() / 2);
                pending.push(right);
                pending.push(left);
            }
            Err(e) if e.status() == Some(400) && batch.len() == 1 => {
                let e = broker_error(&e, "prices");
                tracing::warn!(instrument = batch.join(","), error = %e, "OANDA refused prices of this instrument");
            }
            Err(e) => return Err(broker_error(&e, "prices")),
        }
    }
    Ok(out)
}

/// One `/pricing` request.
async fn pricing(
    http: &Http,
    token: &Secret,
    account: &str,
    batch: &[&str],
) -> Result<Vec<Price>, CallError> {
    let path = format!("/v3/accounts/{}/pricing", segment(account));
    let query = [
        ("instruments", batch.join(",")),
        ("includeHomeConversions", "true".to_string()),
    ];
    let body: PricingBody = http.get(token, &path, &query).await?;
    let conversions = home_conversions(&body.home_conversions);
    Ok(body
        .prices
        .iter()
        .filter_map(|p| client_price(p, &conversions))
        .collect())
}

/// `GET /v3/instruments/{instrument}/candles`: the newest `query.count` candles before `query.before`.
pub async fn candles(http: &Http, token: &Secret, query: &CandleQuery) -> BrokerResult<Vec<Candle>> {
    let path = format!("/v3/instruments/{}/candles", segment(&query.instrument));
    let body: CandlesBody = http
        .get(token, &path, &candle_params(query))
        .await
        .map_err(|e| broker_error(&e, &format!("candles of {}", query.instrument)))?;
    Ok(body
        .candles
        .iter()
        .filter_map(|c| candle(c, query.side))
        .collect())
}

/// The query of a candles request (kept apart so tests can read it).
pub(super) fn candle_params(query: &CandleQuery) -> Vec<(&'static str, String)> {
    let price = match query.side {
        CandleSide::Mid => "M",
        CandleSide::Bid => "B",
        CandleSide::Ask => "A",
    };
    let (daily, zone) = query.alignment();
    let mut params = vec![
        ("price", price.to_string()),
        ("granularity", query.granularity.as_str().to_string()),
        ("count", query.count.clamp(1, MAX_CANDLES).to_string()),
    ];
    // Without `to` OANDA answers the newest candles: the bridge leaves it out for "up to now", so that a
    // clock running ahead of OANDA's never asks for a `to` in OANDA's future (which it refuses).
    if let Some(to) = query.to() {
        params.push(("to", to.to_rfc3339_opts(SecondsFormat::AutoSi, true)));
    }
    // TradingView's intraday bars start on UTC multiples and its weeks on Monday; the FX day is OANDA's
    // own (17:00 New York), the default alignment.
    params.push(("dailyAlignment", daily.to_string()));
    params.push(("alignmentTimezone", zone.to_string()));
    params.push(("weeklyAlignment", "Monday".to_string()));
    params
}

/// The pricing stream of `instruments` on the stream host, starting with a snapshot of each price.
pub fn price_stream(account: &str, instruments: &[String]) -> StreamRequest {
    let names: Vec<&str> = instruments
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .collect();
    StreamRequest {
        path: format!("/v3/accounts/{}/pricing/stream", segment(account)),
        query: vec![("instruments", names.join(",")), ("snapshot", "true".to_string())],
    }
}

/// One line of the pricing stream: a `PRICE`, a `HEARTBEAT`, or something else.
pub fn parse_price_line(line: &[u8]) -> StreamLine<Price> {
    let Some(value) = json_line(line, "pricing") else {
        return StreamLine::Other;
    };
    // The OpenAPI file describes stream objects wrapped as `{"price":{..}}`/`{"heartbeat":{..}}`; the
    // service sends them bare with a `type`. Both are read.
    let value = unwrap_envelope(&value, &["price", "heartbeat"]);
    match type_of(value) {
        Some("HEARTBEAT") => StreamLine::Heartbeat,
        Some("PRICE") => {
            let price = ClientPrice::deserialize(value)
                .ok()
                .and_then(|p| client_price(&p, &Conversions::new()));
            match price {
                Some(price) => StreamLine::Item(price),
                None => {
                    tracing::debug!(line = %preview(line), "unusable OANDA stream price");
                    StreamLine::Other
                }
            }
        }
        _ => {
            tracing::debug!(line = %preview(line), "unexpected OANDA pricing stream line");
            StreamLine::Other
        }
    }
}

/// The stream of the account's transactions on the stream host.
pub fn transaction_stream(account: &str) -> StreamRequest {
    StreamRequest {
        path: format!("/v3/accounts/{}/transactions/stream", segment(account)),
        query: Vec::new(),
    }
}

/// One line of the transaction stream: a transaction yields its `accountID`.
pub fn parse_transaction_line(line: &[u8]) -> StreamLine<String> {
    let Some(value) = json_line(line, "transaction") else {
        return StreamLine::Other;
    };
    let value = unwrap_envelope(&value, &["transaction", "heartbeat"]);
    let account = value.get("accountID").and_then(Value::as_str).map(str::trim);
    match (type_of(value), account) {
        (Some("HEARTBEAT"), _) => StreamLine::Heartbeat,
        (Some(_), Some(account)) if !account.is_empty() => StreamLine::Item(account.to_string()),
        _ => {
            tracing::debug!(line = %preview(line), "unexpected OANDA transaction stream line");
            StreamLine::Other
        }
    }
}

/// A stream line as JSON; blank keep-alive lines and garbage give `None` (garbage is logged).
fn json_line(line: &[u8], stream: &str) -> Option<Value> {
    let line = line.trim_ascii();
    if line.is_empty() {
        return None;
    }
    match serde_json::from_slice::<Value>(line) {
        Ok(value) if value.is_object() => Some(value),
        _ => {
            tracing::debug!(stream, line = %preview(line), "unreadable OANDA stream line");
            None
        }
    }
}

/// The object inside a one-key envelope named in `keys`, or `value` itself.
fn unwrap_envelope<'a>(value: &'a Value, keys: &[&str]) -> &'a Value {
    if value.get("type").is_none() {
        for key in keys {
            if let Some(inner) = value.get(*key).filter(|v| v.is_object()) {
                return inner;
            }
        }
    }
    value
}

fn type_of(value: &Value) -> Option<&str> {
    value
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
}

/// The start of a line, printable, for a log.
fn preview(line: &[u8]) -> String {
    String::from_utf8_lossy(&line[..line.len().min(LOG_PREVIEW)])
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

/// A path segment with everything but unreserved characters percent-encoded, so an id can never change the
/// path (`EUR_USD` and `101-004-1234567-001` pass unchanged).
pub(super) fn segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_client;
