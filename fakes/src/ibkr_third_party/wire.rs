//! The Third-Party API's JSON as the contract spells it: `{"error": ...}` answers, numbers, the Order and
//! Trade objects (PascalCase, FIX codes as strings, FIX UTCTimestamps), and the reading of a place /
//! modify / impact body into a checked [`OrderRequest`].

use super::clock::fix_time;
use super::engine::OrderRequest;
use super::state::{Order, State, Trade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// A JSON answer with any status (an invalid status becomes 500).
pub(super) fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

/// `{"error": message}` with a status.
pub(super) fn error(status: u16, message: impl Into<String>) -> Response {
    json_response(status, json!({ "error": message.into() }))
}

/// A 200 JSON answer.
pub(super) fn ok(body: Value) -> Response {
    json_response(200, body)
}

/// A body-less answer (204, 202).
pub(super) fn empty(status: u16) -> Response {
    StatusCode::from_u16(status)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response()
}

/// A decimal as a JSON number.
pub(super) fn num(d: Decimal) -> Value {
    let d = d.normalize();
    if d.scale() == 0 {
        if let Some(i) = d.to_i64() {
            return Value::from(i);
        }
    }
    d.to_f64()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// The largest CustomerOrderId (JSON numbers stay exact below 2^53).
const MAX_COID: i64 = (1 << 53) - 1;

/// A decimal field given as a JSON number (or a numeric string).
fn decimal(body: &Value, key: &str) -> Result<Option<Decimal>, String> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .to_string()
            .parse::<Decimal>()
            .map(Some)
            .or_else(|_| Decimal::try_from(n.as_f64().unwrap_or(f64::NAN)).map(Some))
            .map_err(|_| format!("{key} is not a number")),
        Some(Value::String(s)) => s
            .parse::<Decimal>()
            .map(Some)
            .map_err(|_| format!("{key} is not a number")),
        Some(_) => Err(format!("{key} is not a number")),
    }
}

/// A code field (`"1"`; a bare number is accepted too).
fn code(body: &Value, key: &str) -> Option<String> {
    match body.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads a CustomerOrderId: an integer in `1..2^53`.
pub(super) fn customer_order_id(v: &Value) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => match n.as_i64() {
            Some(id) if (1..=MAX_COID).contains(&id) => Ok(Some(id)),
            _ => Err("CustomerOrderId must be an integer from 1 to 2^53-1".into()),
        },
        _ => Err("CustomerOrderId must be an integer".into()),
    }
}

/// Reads and checks a place / modify / impact body against the catalogue.
pub(super) fn order_request(st: &State, body: &Value) -> Result<OrderRequest, String> {
    if !body.is_object() {
        return Err("The body must be a JSON object".into());
    }
    let coid = customer_order_id(body.get("CustomerOrderId").unwrap_or(&Value::Null))?;
    let conid = contract_of(st, body)?;
    let side = code(body, "Side").ok_or("Side missing")?;
    if !matches!(side.as_str(), "1" | "2") {
        return Err(format!("Invalid Side {side}"));
    }
    let order_type = code(body, "OrderType").ok_or("OrderType missing")?;
    if !matches!(order_type.as_str(), "1" | "2" | "3" | "4") {
        return Err(format!("Invalid OrderType {order_type}"));
    }
    let qty = decimal(body, "OrderQty")?.ok_or("OrderQty missing")?;
    if qty <= Decimal::ZERO {
        return Err("OrderQty must be positive".into());
    }
    let price = decimal(body, "Price")?;
    let stop = decimal(body, "StopPrice")?;
    let needs_price = matches!(order_type.as_str(), "2" | "4");
    let needs_stop = matches!(order_type.as_str(), "3" | "4");
    if needs_price && price.is_none_or(|p| p <= Decimal::ZERO) {
        return Err("Price is required for a limit order".into());
    }
    if needs_stop && stop.is_none_or(|p| p <= Decimal::ZERO) {
        return Err("StopPrice is required for a stop order".into());
    }
    let tif = code(body, "TimeInForce").unwrap_or_else(|| "0".into());
    if !matches!(tif.as_str(), "0" | "1" | "2" | "3" | "7") {
        return Err(format!("Invalid TimeInForce {tif}"));
    }
    let outside_rth = code(body, "OutsideRTH").unwrap_or_else(|| "N".into());
    if !matches!(outside_rth.as_str(), "Y" | "N") {
        return Err("OutsideRTH must be Y or N".into());
    }
    Ok(OrderRequest {
        coid,
        conid,
        side,
        order_type,
        qty,
        price: price.filter(|_| needs_price),
        stop: stop.filter(|_| needs_stop),
        tif,
        outside_rth,
    })
}

/// The contract a body names: `ContractId`, or `Ticker` + `ListingExchange` + `STK`, or `Ticker` +
/// `Currency` + `CASH`.
fn contract_of(st: &State, body: &Value) -> Result<i64, String> {
    if let Some(v) = body.get("ContractId") {
        let conid = v.as_i64().ok_or("ContractId must be an integer")?;
        return st
            .markets
            .contains_key(&conid)
            .then_some(conid)
            .ok_or_else(|| format!("Unknown ContractId {conid}"));
    }
    let ticker = body
        .get("Ticker")
        .and_then(Value::as_str)
        .ok_or("ContractId or Ticker missing")?;
    let kind = body
        .get("InstrumentType")
        .and_then(Value::as_str)
        .ok_or("InstrumentType missing")?;
    let (field, key) = match kind {
        "STK" => ("ListingExchange", "exchange"),
        "CASH" => ("Currency", "currency"),
        other => return Err(format!("Unsupported InstrumentType {other}")),
    };
    let other = body
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{field} missing"))?;
    st.find_contract(ticker, kind, key, other)
        .ok_or_else(|| "No security definition found".to_string())
}

impl State {
    /// A contract by ticker, type and exchange (`key` = `exchange`) or currency (`key` = `currency`).
    pub fn find_contract(&self, ticker: &str, sec_type: &str, key: &str, value: &str) -> Option<i64> {
        self.markets
            .values()
            .map(|m| &m.contract)
            .find(|c| {
                c.ticker.eq_ignore_ascii_case(ticker)
                    && c.sec_type == sec_type
                    && if key == "exchange" {
                        c.exchange.eq_ignore_ascii_case(value)
                    } else {
                        c.currency.eq_ignore_ascii_case(value)
                    }
            })
            .map(|c| c.conid)
    }

    /// The Order object.
    pub fn order_json(&self, o: &Order) -> Value {
        let (ticker, exchange) = self
            .markets
            .get(&o.conid)
            .map(|m| (m.contract.ticker.clone(), m.contract.exchange.clone()))
            .unwrap_or_default();
        let mut v = json!({
            "CustomerOrderId": o.coid,
            "ContractId": o.conid,
            "Ticker": ticker,
            "ListingExchange": exchange,
            "RemainingQuantity": num(if o.working() { o.qty - o.filled } else { Decimal::ZERO }),
            "FilledQuantity": num(o.filled),
            "OrderType": o.order_type,
            "TimeInForce": o.tif,
            "OutsideRTH": o.outside_rth,
            "Side": o.side,
            "Price": num(o.price.unwrap_or_default()),
            "AvgPrice": num(o.avg_price),
            "Status": o.status,
            "Warning": "",
            "TransactionTime": fix_time(o.updated),
        });
        if let Some(stop) = o.stop {
            v["StopPrice"] = num(stop);
        }
        v
    }

    /// The Trade object.
    pub fn trade_json(&self, t: &Trade) -> Value {
        let (ticker, exchange, currency) = self
            .markets
            .get(&t.conid)
            .map(|m| {
                (
                    m.contract.ticker.clone(),
                    m.contract.exchange.clone(),
                    m.contract.currency.clone(),
                )
            })
            .unwrap_or_default();
        json!({
            "CustomerOrderId": t.coid,
            "ContractId": t.conid,
            "OrderId": t.order_id,
            "Ticker": ticker,
            "ListingExchange": exchange,
            "Currency": currency,
            "Side": t.side,
            "OrderType": t.order_type,
            "FilledQuantity": num(t.filled_after),
            "RemainingQuantity": num(t.quantity - t.filled_after),
            "Quantity": num(t.quantity),
            "TradePrice": num(t.price),
            "TradeSize": num(t.size),
            "AvgPrice": num(t.avg_price),
            "ExecutionTime": fix_time(t.time),
            "ExecId": t.exec_id,
            "Commission": num(t.commission),
            "CommissionCurrency": "USD",
            "LastMarket": exchange,
        })
    }
}
