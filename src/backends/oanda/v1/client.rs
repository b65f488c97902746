//! The raw v1 client: one method per endpoint, answers as wire types, failures as [`CallError`]s. Reads go
//! through [`Http::get`] (retried), writes through [`Http::send_form`] (form bodies, never resent once they
//! may have arrived). Every id and instrument put into a path goes through [`segment`].
//!
//! [`Http::get`]: super::super::client::Http::get
//! [`Http::send_form`]: super::super::client::Http::send_form

use super::super::venue::{CandleQuery, CandleSide, Conn};
use super::model;
use crate::upstream::call::{segment, CallResult};
use chrono::SecondsFormat;
use reqwest::Method;
use serde::de::IgnoredAny;

/// The most items one list request may ask for (v1 `count` maximum).
pub const MAX_COUNT: u32 = 500;
/// Pages read at most when listing every order or trade (5000 of each is far beyond any real account).
const MAX_PAGES: usize = 10;
/// The instrument fields the bridge needs (the default is only instrument, displayName, pip and
/// maxTradeUnits).
const INSTRUMENT_FIELDS: &str =
    "instrument,displayName,pip,maxTradeUnits,precision,maxTrailingStop,minTrailingStop,marginRate,halted";

/// A window of the transaction history (`minId`/`maxId` inclusive, newest first, at most `count`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TxQuery {
    pub min_id: Option<u64>,
    pub max_id: Option<u64>,
    pub count: Option<u32>,
    pub instrument: Option<String>,
}

/// The v1 client of one connection (shared HTTP client + the caller's token).
#[derive(Clone, Copy)]
pub struct Client<'a> {
    conn: &'a Conn,
}

fn account_path(account: &str, rest: &str) -> String {
    format!("/v1/accounts/{}{rest}", segment(account))
}

impl<'a> Client<'a> {
    /// A client of `conn` (its HTTP client and token).
    pub fn new(conn: &'a Conn) -> Client<'a> {
        Client { conn }
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> CallResult<T> {
        self.conn.http.get(&self.conn.token, path, query).await
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        form: &[(&str, String)],
    ) -> CallResult<T> {
        self.conn
            .http
            .send_form(&self.conn.token, method, path, form)
            .await
    }

    /// `GET /v1/accounts`.
    pub async fn accounts(&self) -> CallResult<model::Accounts> {
        self.get("/v1/accounts", &[]).await
    }

    /// `GET /v1/accounts/{id}`.
    pub async fn account(&self, account: &str) -> CallResult<model::Account> {
        self.get(&account_path(account, ""), &[]).await
    }

    /// `GET /v1/instruments?accountId=..&fields=..`.
    pub async fn instruments(&self, account: &str) -> CallResult<model::Instruments> {
        let query = [
            ("accountId", account.to_owned()),
            ("fields", INSTRUMENT_FIELDS.to_owned()),
        ];
        self.get("/v1/instruments", &query).await
    }

    /// `GET /v1/prices?instruments=A,B` (the comma is sent encoded, `%2C`, as documented).
    pub async fn prices(&self, instruments: &[String]) -> CallResult<model::Prices> {
        self.get("/v1/prices", &[("instruments", instruments.join(","))])
            .await
    }

    /// `GET /v1/candles`: the newest `query.count` candles before `query.before` (`end` + `count`, as the
    /// v1 documentation allows), aligned like the v20 requests.
    pub async fn candles(&self, query: &CandleQuery) -> CallResult<model::Candles> {
        let format = match query.side {
            CandleSide::Mid => "midpoint",
            CandleSide::Bid | CandleSide::Ask => "bidask",
        };
        let (daily, zone) = query.alignment();
        let mut q = vec![
            ("instrument", query.instrument.clone()),
            ("granularity", query.granularity.as_str().to_owned()),
            ("count", query.count.clamp(1, 5000).to_string()),
            ("candleFormat", format.to_owned()),
            ("dailyAlignment", daily.to_string()),
            ("alignmentTimezone", zone.to_owned()),
            ("weeklyAlignment", "Monday".to_owned()),
        ];
        if let Some(end) = query.to() {
            q.push(("end", end.to_rfc3339_opts(SecondsFormat::Secs, true)));
        }
        self.get("/v1/candles", &q).await
    }

    /// Every pending order, page by page (newest first).
    pub async fn orders(&self, account: &str) -> CallResult<Vec<model::Order>> {
        let path = account_path(account, "/orders");
        let mut all: Vec<model::Order> = Vec::new();
        let mut max_id = None;
        for _ in 0..MAX_PAGES {
            let page: model::Orders = self.get(&path, &page_query(max_id)).await?;
            let full = page.orders.len() >= MAX_COUNT as usize;
            max_id = page
                .orders
                .iter()
                .map(|o| o.id)
                .min()
                .and_then(|id| id.checked_sub(1));
            all.extend(page.orders);
            if !full || max_id.is_none() {
                break;
            }
        }
        Ok(all)
    }

    /// `GET /orders/{id}`.
    pub async fn order(&self, account: &str, id: &str) -> CallResult<model::Order> {
        self.get(&account_path(account, &format!("/orders/{}", segment(id))), &[])
            .await
    }

    /// `POST /orders` (form: instrument, units, side, type, price, expiry, brackets).
    pub async fn create_order(
        &self,
        account: &str,
        form: &[(&str, String)],
    ) -> CallResult<model::OrderAnswer> {
        self.send(Method::POST, &account_path(account, "/orders"), form)
            .await
    }

    /// `PATCH /orders/{id}`. The answer (the updated order) is not read: a success is all the bridge needs,
    /// and an answer of an unexpected shape must not pass for a failure that may have changed nothing.
    pub async fn patch_order(
        &self,
        account: &str,
        id: &str,
        form: &[(&str, String)],
    ) -> CallResult<IgnoredAny> {
        let path = account_path(account, &format!("/orders/{}", segment(id)));
        self.send(Method::PATCH, &path, form).await
    }

    /// `DELETE /orders/{id}`.
    pub async fn cancel_order(&self, account: &str, id: &str) -> CallResult<model::Closed> {
        let path = account_path(account, &format!("/orders/{}", segment(id)));
        self.send(Method::DELETE, &path, &[]).await
    }

    /// Every open trade, page by page (newest first).
    pub async fn trades(&self, account: &str) -> CallResult<Vec<model::Trade>> {
        let path = account_path(account, "/trades");
        let mut all: Vec<model::Trade> = Vec::new();
        let mut max_id = None;
        for _ in 0..MAX_PAGES {
            let page: model::Trades = self.get(&path, &page_query(max_id)).await?;
            let full = page.trades.len() >= MAX_COUNT as usize;
            max_id = page
                .trades
                .iter()
                .map(|t| t.id)
                .min()
                .and_then(|id| id.checked_sub(1));
            all.extend(page.trades);
            if !full || max_id.is_none() {
                break;
            }
        }
        Ok(all)
    }

    /// `GET /trades/{id}`.
    pub async fn trade(&self, account: &str, id: &str) -> CallResult<model::Trade> {
        self.get(&account_path(account, &format!("/trades/{}", segment(id))), &[])
            .await
    }

    /// `PATCH /trades/{id}` (stopLoss, takeProfit, trailingStop; `0` removes one). The answer (the updated
    /// trade) is not read, as for orders.
    pub async fn patch_trade(
        &self,
        account: &str,
        id: &str,
        form: &[(&str, String)],
    ) -> CallResult<IgnoredAny> {
        let path = account_path(account, &format!("/trades/{}", segment(id)));
        self.send(Method::PATCH, &path, form).await
    }

    /// `DELETE /trades/{id}`: closes the whole trade.
    pub async fn close_trade(&self, account: &str, id: &str) -> CallResult<model::Closed> {
        let path = account_path(account, &format!("/trades/{}", segment(id)));
        self.send(Method::DELETE, &path, &[]).await
    }

    /// `GET /positions`.
    pub async fn positions(&self, account: &str) -> CallResult<model::Positions> {
        self.get(&account_path(account, "/positions"), &[]).await
    }

    /// `GET /positions/{instrument}`.
    pub async fn position(&self, account: &str, instrument: &str) -> CallResult<model::Position> {
        let path = account_path(account, &format!("/positions/{}", segment(instrument)));
        self.get(&path, &[]).await
    }

    /// `DELETE /positions/{instrument}`: closes every trade of the instrument.
    pub async fn close_position(&self, account: &str, instrument: &str) -> CallResult<model::Closed> {
        let path = account_path(account, &format!("/positions/{}", segment(instrument)));
        self.send(Method::DELETE, &path, &[]).await
    }

    /// `GET /transactions` (newest first).
    pub async fn transactions(&self, account: &str, q: &TxQuery) -> CallResult<model::Transactions> {
        let mut query = Vec::new();
        if let Some(id) = q.min_id {
            query.push(("minId", id.to_string()));
        }
        if let Some(id) = q.max_id {
            query.push(("maxId", id.to_string()));
        }
        query.push((
            "count",
            q.count.unwrap_or(MAX_COUNT).clamp(1, MAX_COUNT).to_string(),
        ));
        if let Some(i) = &q.instrument {
            query.push(("instrument", i.clone()));
        }
        self.get(&account_path(account, "/transactions"), &query).await
    }

    /// The id of the newest transaction of the account (0 when it has none yet).
    pub async fn last_transaction_id(&self, account: &str) -> CallResult<u64> {
        let q = TxQuery {
            count: Some(1),
            ..Default::default()
        };
        let page = self.transactions(account, &q).await?;
        Ok(page.transactions.iter().map(|t| t.id).max().unwrap_or(0))
    }

    /// Every transaction with an id above `after`, newest first, reading back page by page until `after`
    /// is reached (at most `MAX_PAGES` pages; `complete` is false when older ones were left unread).
    pub async fn transactions_after(
        &self,
        account: &str,
        after: u64,
    ) -> CallResult<(Vec<model::Transaction>, bool)> {
        let mut all: Vec<model::Transaction> = Vec::new();
        let mut max_id = None;
        for _ in 0..MAX_PAGES {
            let q = TxQuery {
                min_id: Some(after.saturating_add(1)),
                max_id,
                count: Some(MAX_COUNT),
                instrument: None,
            };
            let page = self.transactions(account, &q).await?;
            let full = page.transactions.len() >= MAX_COUNT as usize;
            let oldest = page.transactions.iter().map(|t| t.id).min();
            all.extend(page.transactions.into_iter().filter(|t| t.id > after));
            match oldest.and_then(|id| id.checked_sub(1)) {
                Some(next) if full && next > after => max_id = Some(next),
                _ => return Ok((all, true)),
            }
        }
        Ok((all, false))
    }
}

fn page_query(max_id: Option<u64>) -> Vec<(&'static str, String)> {
    let mut q = vec![("count", MAX_COUNT.to_string())];
    if let Some(id) = max_id {
        q.push(("maxId", id.to_string()));
    }
    q
}
