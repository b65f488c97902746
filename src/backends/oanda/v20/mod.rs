//! OANDA v20 REST (`/v3`) behind [`super::venue::Venue`].
//!
//! Layers: `model` (wire types from the OpenAPI definitions), `client` (one method per endpoint), `convert`
//! (pure mapping to TradingView types), `errors` (reject and cancel reasons in words); `account` reads the
//! full account (one read per refresh); `placing`, `changes`, `positions` and `history` hold the flows
//! (`history` keeps what it reuses between calls in the toolkit's per-account journals); `data` is the
//! market data side (instruments, prices, candles, streams; its wire types in `model::market`, its mapping
//! in `convert::market`).

mod account;
mod changes;
pub mod client;
pub mod convert;
pub mod data;
pub mod errors;
mod history;
pub mod model;
mod placing;
mod positions;

use super::errors::broker_error;
use super::venue::{
    AccountHead, Candle, CandleQuery, ClientRef, Conn, Ctx, InstrumentSpec, Price, StreamLine, StreamRequest,
    Venue,
};
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use async_trait::async_trait;
use client::Client;
use futures_util::future::join_all;
use history::{FactsStore, Journals};
use rust_decimal::Decimal;

/// The v20 API. One per OANDA backend: it keeps the per-account journals of every token it serves.
#[derive(Debug, Default)]
pub struct V20Venue {
    journals: Journals,
    facts: FactsStore,
}

impl V20Venue {
    /// A venue with empty journals.
    pub fn new() -> V20Venue {
        V20Venue::default()
    }
}

#[async_trait]
impl Venue for V20Venue {
    /// `GET /accounts`, then each account's summary. An account whose summary cannot be read is left out
    /// (and logged) unless the token itself is refused or throttled, or no account can be read at all.
    async fn accounts(&self, conn: &Conn) -> BrokerResult<Vec<AccountHead>> {
        let client = Client::new(&conn.http, &conn.token);
        let list = client
            .accounts()
            .await
            .map_err(|e| broker_error(&e, "the account list"))?;
        let summaries = join_all(list.accounts.iter().map(|a| client.summary(&a.id))).await;
        let mut out = Vec::new();
        let mut first_error = None;
        for (props, answer) in list.accounts.iter().zip(summaries) {
            match answer {
                Ok(s) => out.push(convert::account_head(&s.account)),
                Err(e) => {
                    let e = broker_error(&e, &format!("account {}", props.id));
                    if matches!(e, BrokerError::Unauthorized(_) | BrokerError::RateLimited { .. }) {
                        return Err(e);
                    }
                    tracing::warn!(account = %props.id, error = %e, "an OANDA account summary cannot be read; leaving the account out");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if out.is_empty() => Err(e),
            _ => Ok(out),
        }
    }

    async fn instruments(&self, conn: &Conn, account: &str) -> BrokerResult<Vec<InstrumentSpec>> {
        data::instruments(&conn.http, &conn.token, account).await
    }

    async fn state(&self, cx: Ctx<'_>) -> BrokerResult<tv::AccountState> {
        let snapshot = account::read(cx.conn, cx.account).await?;
        Ok(convert::account_state(&snapshot.account.summary))
    }

    async fn prices(&self, cx: Ctx<'_>, instruments: &[String]) -> BrokerResult<Vec<Price>> {
        data::prices(&cx.conn.http, &cx.conn.token, cx.account, instruments).await
    }

    async fn orders(&self, cx: Ctx<'_>) -> BrokerResult<Vec<tv::Order>> {
        history::orders(&self.journals, &self.facts, cx).await
    }

    async fn place_order(
        &self,
        cx: Ctx<'_>,
        spec: &InstrumentSpec,
        order: &tv::PlaceOrder,
        client: ClientRef<'_>,
    ) -> BrokerResult<String> {
        placing::place(cx, spec, order, client).await
    }

    async fn find_order(&self, cx: Ctx<'_>, client: ClientRef<'_>) -> BrokerResult<Option<String>> {
        placing::find(cx, client).await
    }

    async fn modify_order(&self, cx: Ctx<'_>, order_id: &str, change: &tv::ModifyOrder) -> BrokerResult<()> {
        changes::modify(cx, order_id, change).await
    }

    async fn cancel_order(&self, cx: Ctx<'_>, order_id: &str) -> BrokerResult<()> {
        changes::cancel(cx, order_id).await
    }

    async fn individual_positions(&self, cx: Ctx<'_>) -> BrokerResult<Vec<tv::IndividualPosition>> {
        let snapshot = account::read(cx.conn, cx.account).await?;
        Ok(convert::individual_positions(&snapshot.account, cx.catalog))
    }

    async fn net_positions(&self, cx: Ctx<'_>) -> BrokerResult<Vec<tv::NetPosition>> {
        let snapshot = account::read(cx.conn, cx.account).await?;
        Ok(convert::net_positions(&snapshot.account, cx.catalog))
    }

    /// One `GET /accounts/{id}` for everything (plus what the final orders need, see `history`).
    async fn snapshot(&self, cx: Ctx<'_>) -> BrokerResult<crate::broker::AccountSnapshot> {
        let snapshot = account::read(cx.conn, cx.account).await?;
        Ok(crate::broker::AccountSnapshot {
            orders: history::orders_of(&self.journals, &self.facts, cx, &snapshot).await?,
            positions: Vec::new(),
            net_positions: convert::net_positions(&snapshot.account, cx.catalog),
            individual_positions: convert::individual_positions(&snapshot.account, cx.catalog),
            state: convert::account_state(&snapshot.account.summary),
        })
    }

    async fn close_trade(&self, cx: Ctx<'_>, trade_id: &str, units: Option<Decimal>) -> BrokerResult<()> {
        positions::close_trade(cx, trade_id, units).await
    }

    async fn set_trade_brackets(
        &self,
        cx: Ctx<'_>,
        trade_id: &str,
        brackets: &tv::Brackets,
    ) -> BrokerResult<()> {
        positions::set_trade_brackets(cx, trade_id, brackets).await
    }

    async fn close_position(&self, cx: Ctx<'_>, instrument: &str) -> BrokerResult<()> {
        positions::close_position(cx, instrument).await
    }

    async fn executions(
        &self,
        cx: Ctx<'_>,
        instrument: Option<&str>,
        max: usize,
    ) -> BrokerResult<Vec<tv::Execution>> {
        history::executions(&self.journals, cx, instrument, max).await
    }

    async fn orders_history(&self, cx: Ctx<'_>, max: usize) -> BrokerResult<Vec<tv::Order>> {
        history::orders_history(&self.journals, &self.facts, cx, max).await
    }

    async fn candles(&self, conn: &Conn, _account: &str, query: &CandleQuery) -> BrokerResult<Vec<Candle>> {
        data::candles(&conn.http, &conn.token, query).await
    }

    fn price_stream(&self, account: &str, instruments: &[String]) -> StreamRequest {
        data::price_stream(account, instruments)
    }

    fn parse_price_line(&self, line: &[u8]) -> StreamLine<Price> {
        data::parse_price_line(line)
    }

    fn transaction_stream(&self, account: &str) -> StreamRequest {
        data::transaction_stream(account)
    }

    fn parse_transaction_line(&self, line: &[u8]) -> StreamLine<String> {
        data::parse_transaction_line(line)
    }
}

#[cfg(test)]
mod tests;
