//! A scripted double of [`Api`] for unit tests: each method answers the texts (or failures) queued for
//! it, in order, parsed as the real client parses them, and every call is recorded.

use super::client::{Api, HistoryQuery, ScheduleQuery};
use super::errors::IbkrError;
use super::model::market::{ContractInfo, History, SearchResult, SnapshotRow};
use super::model::orders::{
    parse_submit, CancelAnswer, LiveOrders, OrderTicket, OrdersBody, SubmitItem, Trade, WhatIf,
};
use super::model::portfolio::{Ledger, Position, Summary};
use super::model::schedule::TradingSchedule;
use super::model::session::{Accounts, AuthStatus, PortfolioAccount, Tickle};
use crate::sync::MutexExt;
use crate::upstream::call::{CallError, CallResult};
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

pub use super::model::tests::fixture;

/// A symbol table of `(symbol, conid)` pairs, each its own TradingView symbol.
pub fn symbols(pairs: &[(&str, i64)]) -> super::catalog::Table {
    let entries = pairs
        .iter()
        .map(|(s, c)| super::catalog::Entry {
            symbol: s.to_string(),
            conid: *c,
            tradingview: s.to_string(),
            source: super::catalog::Source::Configured,
        })
        .collect();
    super::catalog::Table { entries }
}

/// The double.
#[derive(Default)]
pub struct ScriptedApi {
    answers: Mutex<HashMap<&'static str, VecDeque<CallResult<String>>>>,
    calls: Mutex<Vec<String>>,
    /// Bodies sent to `place`, `modify` and `whatif`, as JSON.
    pub bodies: Mutex<Vec<serde_json::Value>>,
}

impl ScriptedApi {
    /// Queues `text` as the next answer of `method`.
    pub fn ok(&self, method: &'static str, text: &str) -> &Self {
        self.answers
            .locked()
            .entry(method)
            .or_default()
            .push_back(Ok(text.to_string()));
        self
    }

    /// Queues a failure as the next answer of `method`.
    pub fn fail(&self, method: &'static str, e: CallError) -> &Self {
        self.answers.locked().entry(method).or_default().push_back(Err(e));
        self
    }

    /// Queues an HTTP `status` with IBKR's error body `body`.
    pub fn status(&self, method: &'static str, status: u16, body: &str) -> &Self {
        self.fail(method, CallError::status_of::<IbkrError>(status, body))
    }

    /// The calls made so far (`method` or `method:argument`).
    pub fn calls(&self) -> Vec<String> {
        self.calls.locked().clone()
    }

    /// How many calls of `method` were made.
    pub fn count(&self, method: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.split(':').next() == Some(method))
            .count()
    }

    /// A gateway session that opens at once with the fixtures' two accounts.
    pub fn open_session(&self) -> &Self {
        self.ok("auth_status", &fixture("auth_status.json"))
            .ok("accounts", &fixture("iserver_accounts.json"))
            .ok("portfolio_accounts", &fixture("portfolio_accounts.json"))
    }

    fn next(&self, method: &'static str, arg: &str) -> CallResult<String> {
        self.calls.locked().push(if arg.is_empty() {
            method.to_string()
        } else {
            format!("{method}:{arg}")
        });
        self.answers
            .locked()
            .get_mut(method)
            .and_then(VecDeque::pop_front)
            .unwrap_or_else(|| Err(CallError::Decode(format!("{method} not scripted"))))
    }

    fn json<T: DeserializeOwned>(&self, method: &'static str, arg: &str) -> CallResult<T> {
        let text = self.next(method, arg)?;
        serde_json::from_str(&text).map_err(|e| CallError::Decode(format!("{method}: {e}")))
    }

    fn submit(&self, method: &'static str, arg: &str) -> CallResult<Vec<SubmitItem>> {
        parse_submit(&self.next(method, arg)?).map_err(CallError::Decode)
    }

    fn body(&self, body: &impl serde::Serialize) {
        self.bodies
            .locked()
            .push(serde_json::to_value(body).expect("serialisable"));
    }
}

#[async_trait]
impl Api for ScriptedApi {
    async fn auth_status(&self) -> CallResult<AuthStatus> {
        self.json("auth_status", "")
    }
    async fn ssodh_init(&self) -> CallResult<AuthStatus> {
        self.json("ssodh_init", "")
    }
    async fn tickle(&self) -> CallResult<Tickle> {
        self.json("tickle", "")
    }
    async fn accounts(&self) -> CallResult<Accounts> {
        self.json("accounts", "")
    }
    async fn portfolio_accounts(&self) -> CallResult<Vec<PortfolioAccount>> {
        self.json("portfolio_accounts", "")
    }
    async fn switch_account(&self, account: &str) -> CallResult<()> {
        self.next("switch_account", account).map(drop)
    }
    async fn place(&self, account: &str, body: &OrdersBody) -> CallResult<Vec<SubmitItem>> {
        self.body(body);
        self.submit("place", account)
    }
    async fn reply(&self, id: &str, confirmed: bool) -> CallResult<Vec<SubmitItem>> {
        self.submit("reply", &format!("{id}={confirmed}"))
    }
    async fn modify(
        &self,
        account: &str,
        order_id: &str,
        ticket: &OrderTicket,
    ) -> CallResult<Vec<SubmitItem>> {
        self.body(ticket);
        self.submit("modify", &format!("{account}/{order_id}"))
    }
    async fn cancel(&self, account: &str, order_id: &str) -> CallResult<CancelAnswer> {
        self.json("cancel", &format!("{account}/{order_id}"))
    }
    async fn whatif(&self, account: &str, body: &OrdersBody) -> CallResult<WhatIf> {
        self.body(body);
        self.json("whatif", account)
    }
    async fn live_orders(&self, account: &str) -> CallResult<LiveOrders> {
        self.json("live_orders", account)
    }
    async fn trades(&self, account: &str) -> CallResult<Vec<Trade>> {
        self.json("trades", account)
    }
    async fn positions(&self, account: &str, page: usize) -> CallResult<Vec<Position>> {
        self.json("positions", &format!("{account}/{page}"))
    }
    async fn summary(&self, account: &str) -> CallResult<Summary> {
        self.json("summary", account)
    }
    async fn ledger(&self, account: &str) -> CallResult<Ledger> {
        self.json("ledger", account)
    }
    async fn snapshot(&self, conids: &[i64], _fields: &str) -> CallResult<Vec<SnapshotRow>> {
        let list = conids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        self.json("snapshot", &list)
    }
    async fn history(&self, q: &HistoryQuery) -> CallResult<History> {
        let arg = format!(
            "{}/{}/{}/{}",
            q.conid,
            q.period,
            q.bar,
            q.start_time.clone().unwrap_or_default()
        );
        self.json("history", &arg)
    }
    async fn contract(&self, conid: i64) -> CallResult<ContractInfo> {
        self.json("contract", &conid.to_string())
    }
    async fn search(&self, symbol: &str) -> CallResult<Vec<SearchResult>> {
        self.json("search", symbol)
    }
    async fn schedule(&self, q: &ScheduleQuery) -> CallResult<Vec<TradingSchedule>> {
        let exchange = q.exchange.as_deref().unwrap_or_default();
        self.json("schedule", &format!("{}/{}/{exchange}", q.asset_class, q.symbol))
    }
}
