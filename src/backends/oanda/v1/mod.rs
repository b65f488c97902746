//! OANDA v1 REST (`/v1`, legacy accounts whose id is all digits) behind [`super::venue::Venue`].
//!
//! Layers: `client` calls one endpoint and returns `model` wire types; `convert` maps them to venue and
//! TradingView types without I/O; `cache` keeps account reads for a few hundred milliseconds (single
//! flight, forgotten after writes); `journal` builds finished orders from the transaction history;
//! `reads`, `trading` and `positions` put these together for each [`Venue`] method.
//!
//! What v1 cannot do, and how the bridge answers: no client order id (an order whose placement may have
//! reached OANDA is looked up in the transaction history, never sent again); no stop-limit orders and
//! no guaranteed stops (refused with a reason); pending orders always expire (GTC is sent as the furthest
//! expiry OANDA takes); no partial close of a trade (done with an opposite market order when the trade is
//! the oldest of its instrument, as v1 reduces trades first in, first out); no unrealized P/L per trade
//! (computed from current prices).

mod cache;
mod client;
pub mod convert;
mod errors;
mod journal;
pub mod model;
mod num;
mod positions;
mod reads;
mod trading;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;

use super::catalog::AccountCatalog;
use super::venue::{
    AccountHead, Candle, CandleQuery, Conn, Ctx, InstrumentSpec, Price, StreamLine, StreamRequest, Venue,
};
use crate::broker::BrokerResult;
use crate::tv;
use async_trait::async_trait;
use cache::Caches;
use chrono::Utc;
use rust_decimal::Decimal;

/// The v1 API.
#[derive(Debug, Default)]
pub struct V1Venue {
    caches: Caches,
}

impl V1Venue {
    /// A venue with empty caches (one is shared by every account and token the backend serves).
    pub fn new() -> V1Venue {
        V1Venue::default()
    }
}

/// The TradingView symbol of an instrument, for the mapping functions.
fn symbols(catalog: &AccountCatalog) -> impl Fn(&str) -> String + '_ {
    move |instrument: &str| catalog.symbol(instrument)
}

#[async_trait]
impl Venue for V1Venue {
    async fn accounts(&self, conn: &Conn) -> BrokerResult<Vec<AccountHead>> {
        reads::accounts(conn).await
    }

    async fn instruments(&self, conn: &Conn, account: &str) -> BrokerResult<Vec<InstrumentSpec>> {
        reads::instruments(conn, account).await
    }

    async fn state(&self, cx: Ctx<'_>) -> BrokerResult<tv::AccountState> {
        let cache = self.caches.of(cx.conn, cx.account);
        let account = reads::account(&cache, cx.conn, cx.account).await?;
        Ok(convert::account_state(&account))
    }

    async fn prices(&self, cx: Ctx<'_>, instruments: &[String]) -> BrokerResult<Vec<Price>> {
        reads::prices(cx, instruments).await
    }

    async fn orders(&self, cx: Ctx<'_>) -> BrokerResult<Vec<tv::Order>> {
        let cache = self.caches.of(cx.conn, cx.account);
        reads::orders(&cache, cx).await
    }

    async fn place_order(
        &self,
        cx: Ctx<'_>,
        spec: &InstrumentSpec,
        order: &tv::PlaceOrder,
        _client_id: &str,
    ) -> BrokerResult<String> {
        // v1 has no client order id: placement is made safe by looking the order up in the history.
        let cache = self.caches.of(cx.conn, cx.account);
        let form = convert::place_form(spec, order, Utc::now())?;
        trading::submit(&cache, cx, &form).await
    }

    async fn modify_order(&self, cx: Ctx<'_>, order_id: &str, change: &tv::ModifyOrder) -> BrokerResult<()> {
        let cache = self.caches.of(cx.conn, cx.account);
        trading::modify(&cache, cx, order_id, change).await
    }

    async fn cancel_order(&self, cx: Ctx<'_>, order_id: &str) -> BrokerResult<()> {
        let cache = self.caches.of(cx.conn, cx.account);
        trading::cancel(&cache, cx, order_id).await
    }

    async fn individual_positions(&self, cx: Ctx<'_>) -> BrokerResult<Vec<tv::IndividualPosition>> {
        let cache = self.caches.of(cx.conn, cx.account);
        positions::individual(&cache, cx).await
    }

    async fn net_positions(&self, cx: Ctx<'_>) -> BrokerResult<Vec<tv::NetPosition>> {
        let cache = self.caches.of(cx.conn, cx.account);
        positions::net(&cache, cx).await
    }

    async fn close_trade(&self, cx: Ctx<'_>, trade_id: &str, units: Option<Decimal>) -> BrokerResult<()> {
        let cache = self.caches.of(cx.conn, cx.account);
        positions::close_trade(&cache, cx, trade_id, units).await
    }

    async fn set_trade_brackets(
        &self,
        cx: Ctx<'_>,
        trade_id: &str,
        brackets: &tv::Brackets,
    ) -> BrokerResult<()> {
        let cache = self.caches.of(cx.conn, cx.account);
        positions::set_brackets(&cache, cx, trade_id, brackets).await
    }

    async fn close_position(&self, cx: Ctx<'_>, instrument: &str) -> BrokerResult<()> {
        let cache = self.caches.of(cx.conn, cx.account);
        positions::close_position(&cache, cx, instrument).await
    }

    async fn executions(
        &self,
        cx: Ctx<'_>,
        instrument: Option<&str>,
        max: usize,
    ) -> BrokerResult<Vec<tv::Execution>> {
        let cache = self.caches.of(cx.conn, cx.account);
        reads::executions(&cache, cx, instrument, max).await
    }

    async fn orders_history(&self, cx: Ctx<'_>, max: usize) -> BrokerResult<Vec<tv::Order>> {
        let cache = self.caches.of(cx.conn, cx.account);
        reads::orders_history(&cache, cx, max).await
    }

    async fn candles(&self, conn: &Conn, _account: &str, query: &CandleQuery) -> BrokerResult<Vec<Candle>> {
        // v1 candles are not account-scoped.
        reads::candles(conn, query).await
    }

    fn price_stream(&self, account: &str, instruments: &[String]) -> StreamRequest {
        StreamRequest {
            path: "/v1/prices".into(),
            query: vec![
                ("accountId", account.to_owned()),
                ("instruments", instruments.join(",")),
            ],
        }
    }

    fn parse_price_line(&self, line: &[u8]) -> StreamLine<Price> {
        convert::price_line(line, Utc::now()).unwrap_or_else(|e| {
            tracing::debug!(error = %e, "unreadable OANDA v1 price stream line");
            StreamLine::Other
        })
    }

    fn transaction_stream(&self, account: &str) -> StreamRequest {
        StreamRequest {
            path: "/v1/events".into(),
            query: vec![("accountIds", account.to_owned())],
        }
    }

    fn account_changed(&self, account: &str) {
        self.caches.changed_upstream(account);
    }

    fn parse_transaction_line(&self, line: &[u8]) -> StreamLine<String> {
        convert::event_line(line).unwrap_or_else(|e| {
            tracing::debug!(error = %e, "unreadable OANDA v1 event stream line");
            StreamLine::Other
        })
    }
}
