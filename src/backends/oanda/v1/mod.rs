//! OANDA v1 REST (`/v1`, legacy accounts whose id is all digits) behind [`super::venue::Venue`].
//!
//! Layers: `client` calls one endpoint and returns `model` wire types; `convert` maps them to venue and
//! TradingView types without I/O; `books` keeps per account what outlives a call (the journal, and
//! whether the history must be read); `journal` builds finished orders from the transaction history;
//! `reads`, `trading` and `positions` put these together for each [`Venue`] method.
//!
//! What v1 cannot do, and how the bridge answers: no client order id (an order whose placement may have
//! reached OANDA is looked up in the transaction history, never sent again); no stop-limit orders and
//! no guaranteed stops (refused with a reason); pending orders always expire (GTC is sent as the furthest
//! expiry OANDA takes); no partial close of a trade (done with an opposite market order when the trade is
//! the oldest of its instrument, as v1 reduces trades first in, first out); no unrealized P/L per trade
//! (computed from current prices).

mod books;
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
mod tests;

use super::catalog::AccountCatalog;
use super::venue::{
    AccountHead, Candle, CandleQuery, ClientRef, Conn, Ctx, InstrumentSpec, Price, StreamLine, StreamRequest,
    Venue,
};
use crate::broker::BrokerResult;
use crate::tv;
use async_trait::async_trait;
use books::Books;
use chrono::Utc;
use rust_decimal::Decimal;

/// The v1 API.
#[derive(Debug, Default)]
pub struct V1Venue {
    books: Books,
}

impl V1Venue {
    /// A venue with empty books (one venue serves every account and token of the backend).
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
        let account = reads::account(cx.conn, cx.account).await?;
        Ok(convert::account_state(&account))
    }

    async fn prices(&self, cx: Ctx<'_>, instruments: &[String]) -> BrokerResult<Vec<Price>> {
        reads::prices(cx, instruments).await
    }

    async fn orders(&self, cx: Ctx<'_>) -> BrokerResult<Vec<tv::Order>> {
        let books = self.books.of(cx.conn, cx.account);
        reads::orders(&books, cx).await
    }

    /// The pending orders, trades, positions and account once each, then the prices that value the trades
    /// (and the transaction history when a write or an upstream change makes it due).
    async fn snapshot(&self, cx: Ctx<'_>) -> BrokerResult<crate::broker::AccountSnapshot> {
        let (pending, trades, listed, account) = tokio::try_join!(
            reads::pending(cx.conn, cx.account),
            reads::trades(cx.conn, cx.account),
            reads::positions(cx.conn, cx.account),
            reads::account(cx.conn, cx.account)
        )?;
        let books = self.books.of(cx.conn, cx.account);
        let (orders, individual_positions) = tokio::try_join!(
            reads::orders_of(&books, cx, &pending, &trades),
            positions::individual_of(cx, &trades, &account)
        )?;
        Ok(crate::broker::AccountSnapshot {
            orders,
            positions: Vec::new(),
            net_positions: positions::net_of(cx, &listed),
            individual_positions,
            state: convert::account_state(&account),
        })
    }

    async fn place_order(
        &self,
        cx: Ctx<'_>,
        spec: &InstrumentSpec,
        order: &tv::PlaceOrder,
        _client: ClientRef<'_>,
    ) -> BrokerResult<String> {
        // v1 has no client order id: placement is made safe by looking the order up in the history.
        let books = self.books.of(cx.conn, cx.account);
        let form = convert::place_form(spec, order, Utc::now())?;
        trading::submit(&books, cx, &form).await
    }

    async fn modify_order(&self, cx: Ctx<'_>, order_id: &str, change: &tv::ModifyOrder) -> BrokerResult<()> {
        let books = self.books.of(cx.conn, cx.account);
        trading::modify(&books, cx, order_id, change).await
    }

    async fn cancel_order(&self, cx: Ctx<'_>, order_id: &str) -> BrokerResult<()> {
        let books = self.books.of(cx.conn, cx.account);
        trading::cancel(&books, cx, order_id).await
    }

    async fn individual_positions(&self, cx: Ctx<'_>) -> BrokerResult<Vec<tv::IndividualPosition>> {
        positions::individual(cx).await
    }

    async fn net_positions(&self, cx: Ctx<'_>) -> BrokerResult<Vec<tv::NetPosition>> {
        positions::net(cx).await
    }

    async fn close_trade(&self, cx: Ctx<'_>, trade_id: &str, units: Option<Decimal>) -> BrokerResult<()> {
        let books = self.books.of(cx.conn, cx.account);
        positions::close_trade(&books, cx, trade_id, units).await
    }

    async fn set_trade_brackets(
        &self,
        cx: Ctx<'_>,
        trade_id: &str,
        brackets: &tv::Brackets,
    ) -> BrokerResult<()> {
        let books = self.books.of(cx.conn, cx.account);
        positions::set_brackets(&books, cx, trade_id, brackets).await
    }

    async fn close_position(&self, cx: Ctx<'_>, instrument: &str) -> BrokerResult<()> {
        let books = self.books.of(cx.conn, cx.account);
        positions::close_position(&books, cx, instrument).await
    }

    async fn executions(
        &self,
        cx: Ctx<'_>,
        instrument: Option<&str>,
        max: usize,
    ) -> BrokerResult<Vec<tv::Execution>> {
        let books = self.books.of(cx.conn, cx.account);
        reads::executions(&books, cx, instrument, max).await
    }

    async fn orders_history(&self, cx: Ctx<'_>, max: usize) -> BrokerResult<Vec<tv::Order>> {
        let books = self.books.of(cx.conn, cx.account);
        reads::orders_history(&books, cx, max).await
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
        self.books.changed_upstream(account);
    }

    fn parse_transaction_line(&self, line: &[u8]) -> StreamLine<String> {
        convert::event_line(line).unwrap_or_else(|e| {
            tracing::debug!(error = %e, "unreadable OANDA v1 event stream line");
            StreamLine::Other
        })
    }
}
