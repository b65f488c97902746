//! A minimal Client Portal client for the fake's own tests: JSON calls below `/v1/api`, the session
//! priming IBKR requires, and order helpers.

use fakes::ibkr::{FakeIbkr, FakeIbkrOptions};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

pub const ACCT: &str = "DU1234567";
pub const AAPL: i64 = 265_598;
pub const MSFT: i64 = 272_093;
pub const EURUSD: i64 = 12_087_792;
pub const ES: i64 = 495_512_563;
pub const CFD: i64 = 143_916_318;

/// A decimal from a literal.
pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("test decimal")
}

/// A fake with no pacing and no questions.
pub async fn start() -> FakeIbkr {
    FakeIbkr::start(FakeIbkrOptions::relaxed()).await
}

/// Calls below the fake's base URL.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(fake: &FakeIbkr) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: fake.base_url.clone(),
        }
    }

    /// A client that already called `GET /iserver/accounts` (as IBKR requires before orders).
    pub async fn ready(fake: &FakeIbkr) -> Api {
        let api = Api::new(fake);
        let (status, body) = api.get("/iserver/accounts").await;
        assert_eq!(status, 200, "accounts: {body}");
        api
    }

    /// (status, JSON body or Null).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request to the fake");
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Submits tickets to the account's orders endpoint.
    pub async fn place(&self, tickets: Value) -> (u16, Value) {
        self.post(
            &format!("/iserver/account/{ACCT}/orders"),
            json!({ "orders": tickets }),
        )
        .await
    }

    /// Places one ticket that raises no question; returns its order id.
    pub async fn place_one(&self, ticket: Value) -> i64 {
        let (status, body) = self.place(json!([ticket])).await;
        assert_eq!(status, 200, "place: {body}");
        order_id(&body[0])
    }

    /// The live order rows of the selected account.
    pub async fn live_orders(&self) -> Vec<Value> {
        let (status, body) = self.get("/iserver/account/orders").await;
        assert_eq!(status, 200, "orders: {body}");
        body["orders"].as_array().cloned().unwrap_or_default()
    }

    /// The live row of one order.
    pub async fn live_order(&self, id: i64) -> Value {
        self.live_orders()
            .await
            .into_iter()
            .find(|o| o["orderId"].as_i64() == Some(id))
            .unwrap_or(Value::Null)
    }
}

/// The `order_id` (a numeric string) of a submission answer element.
pub fn order_id(v: &Value) -> i64 {
    v["order_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no order_id in {v}"))
}

/// A market ticket.
pub fn mkt(conid: i64, side: &str, qty: u32) -> Value {
    json!({ "conid": conid, "orderType": "MKT", "side": side, "quantity": qty, "tif": "DAY" })
}

/// A limit ticket.
pub fn lmt(conid: i64, side: &str, qty: u32, price: f64) -> Value {
    json!({ "conid": conid, "orderType": "LMT", "side": side, "quantity": qty, "price": price, "tif": "GTC" })
}
