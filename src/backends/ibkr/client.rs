//! One method per IBKR Web API endpoint the bridge uses, each one [`Call`] through the toolkit
//! [`Transport`] (pacing for the whole transport and per endpoint as IBKR documents it, retries by call
//! kind, the error body parsed into [`IbkrError`]), signed with the transport's [`Credentials`] (nothing
//! through the gateway, the live session token or the OAuth 2.0 bearer). [`Api`] is the same surface as a
//! trait, so the session and order logic can be tested against a double.

use super::config::ResolvedConfig;
use super::credentials::{Credentials, SocketPass};
use super::errors::IbkrError;
use super::model::market::{ContractInfo, History, SearchResult, SnapshotRow};
use super::model::orders::{
    parse_submit, CancelAnswer, LiveOrders, OrderTicket, OrdersBody, Reply, SubmitItem, Trade, WhatIf,
};
use super::model::portfolio::{Ledger, Position, Summary};
use super::model::schedule::TradingSchedule;
use super::model::session::{Accounts, AuthStatus, PortfolioAccount, SsodhInit, SwitchAccount, Tickle};
use crate::upstream::call::{segment, CallError, CallResult};
use crate::upstream::limiter::SlidingWindow;
use crate::upstream::shared_window::SharedWindow;
use crate::upstream::transport::{Answer, Call, EndpointLimit, Lane, RetryPolicy, Tls, Transport};
use async_trait::async_trait;
use reqwest::Method;
use std::sync::Arc;
use std::time::Duration;

/// Most concurrent `/iserver/marketdata/history` requests IBKR allows.
pub const HISTORY_CONCURRENCY: usize = 5;

/// The IBKR Web API as the backend uses it.
#[async_trait]
pub trait Api: Send + Sync + 'static {
    /// Drops the OAuth credential the calls are signed with, so the next call obtains a fresh one (the
    /// session is re-opened); nothing through the gateway.
    fn forget_credentials(&self) {}
    /// What the WebSocket upgrade must carry, from the credential held now (obtained or renewed first
    /// when due), returned once the upgrade has a send slot in the pace of every call: IBKR counts the
    /// upgrade among its requests per second. Nothing through the gateway (a double paces nothing).
    async fn socket_pass(&self) -> CallResult<SocketPass> {
        Ok(SocketPass::default())
    }
    /// `POST /iserver/auth/status`.
    async fn auth_status(&self) -> CallResult<AuthStatus>;
    /// `POST /iserver/auth/ssodh/init`.
    async fn ssodh_init(&self) -> CallResult<AuthStatus>;
    /// `POST /tickle`.
    async fn tickle(&self) -> CallResult<Tickle>;
    /// `GET /iserver/accounts` (required before orders and market data).
    async fn accounts(&self) -> CallResult<Accounts>;
    /// `GET /portfolio/accounts`.
    async fn portfolio_accounts(&self) -> CallResult<Vec<PortfolioAccount>>;
    /// `POST /iserver/account`: selects the account later calls without one in the path refer to.
    async fn switch_account(&self, account: &str) -> CallResult<()>;
    /// `POST /iserver/account/{acct}/orders`.
    async fn place(&self, account: &str, body: &OrdersBody) -> CallResult<Vec<SubmitItem>>;
    /// `POST /iserver/reply/{id}`.
    async fn reply(&self, id: &str, confirmed: bool) -> CallResult<Vec<SubmitItem>>;
    /// `POST /iserver/account/{acct}/order/{id}`.
    async fn modify(
        &self,
        account: &str,
        order_id: &str,
        ticket: &OrderTicket,
    ) -> CallResult<Vec<SubmitItem>>;
    /// `DELETE /iserver/account/{acct}/order/{id}`.
    async fn cancel(&self, account: &str, order_id: &str) -> CallResult<CancelAnswer>;
    /// `POST /iserver/account/{acct}/orders/whatif`.
    async fn whatif(&self, account: &str, body: &OrdersBody) -> CallResult<WhatIf>;
    /// `GET /iserver/account/orders`.
    async fn live_orders(&self, account: &str) -> CallResult<LiveOrders>;
    /// `GET /iserver/account/trades`.
    async fn trades(&self, account: &str) -> CallResult<Vec<Trade>>;
    /// `GET /portfolio/{acct}/positions/{page}`.
    async fn positions(&self, account: &str, page: usize) -> CallResult<Vec<Position>>;
    /// `GET /portfolio/{acct}/summary`.
    async fn summary(&self, account: &str) -> CallResult<Summary>;
    /// `GET /portfolio/{acct}/ledger`.
    async fn ledger(&self, account: &str) -> CallResult<Ledger>;
    /// `GET /iserver/marketdata/snapshot`.
    async fn snapshot(&self, conids: &[i64], fields: &str) -> CallResult<Vec<SnapshotRow>>;
    /// `GET /iserver/marketdata/history`.
    async fn history(&self, query: &HistoryQuery) -> CallResult<History>;
    /// `GET /iserver/contract/{conid}/info-and-rules`.
    async fn contract(&self, conid: i64) -> CallResult<ContractInfo>;
    /// `GET /iserver/secdef/search`.
    async fn search(&self, symbol: &str) -> CallResult<Vec<SearchResult>>;
    /// `GET /trsrv/secdef/schedule`.
    async fn schedule(&self, query: &ScheduleQuery) -> CallResult<Vec<TradingSchedule>>;
}

/// The parameters of one trading-schedule request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleQuery {
    /// `STK`, `FUT`, `CFD`, `SWP` (forex)...
    pub asset_class: String,
    /// The underlying symbol (`AAPL`, `EUR`, `ES`).
    pub symbol: String,
    /// The listing exchange, when known.
    pub exchange: Option<String>,
}

/// The parameters of one history request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    pub conid: i64,
    /// `30min`, `2d`, `1w`...
    pub period: String,
    /// `1min`, `1h`, `1d`...
    pub bar: String,
    /// `YYYYMMDD-hh:mm:ss` UTC.
    pub start_time: Option<String>,
    pub outside_rth: bool,
}

/// The HTTP client of the IBKR Web API.
pub struct IbkrClient {
    transport: Transport,
    /// What every call is signed with.
    credentials: Credentials,
    /// `/iserver/marketdata/history`: at most five at a time.
    history: Lane,
}

impl IbkrClient {
    /// The client of `config`'s base URL with IBKR's documented pacing, in this process.
    pub fn new(config: &ResolvedConfig) -> anyhow::Result<IbkrClient> {
        Self::with_store(config, None)
    }

    /// [`IbkrClient::new`] whose overall request rate is shared, through `store`, by every replica on it:
    /// they all speak for the one IBKR login, and IBKR counts its requests, not the bridge's processes.
    pub fn with_store(
        config: &ResolvedConfig,
        store: Option<Arc<dyn crate::store::Store>>,
    ) -> anyhow::Result<IbkrClient> {
        // IBKR allows one call per 5 s on these; a small margin keeps clock skew on our side.
        let every_5s = || SlidingWindow::new(1, Duration::from_millis(5_200));
        let builder = |base: &str| {
            Transport::builder(base)
                .backend("ibkr")
                .request_timeout(Some(config.request_timeout))
                .tls(Tls {
                    extra_roots_pem: config.ca_pem.clone(),
                    accept_invalid_certs: config.insecure_tls,
                })
        };
        // With a shared store, IBKR's limits on one login hold for every replica speaking for it.
        let limit = |path: &str, window: SlidingWindow, shared: Option<(u32, Duration)>| {
            let local = EndpointLimit::new(Some(Method::GET), path, window);
            match (&store, shared) {
                // A store nobody else uses adds nothing to this process's own pace.
                (Some(store), Some((n, w))) if store.shared() => local.shared(SharedWindow::new(
                    n,
                    w,
                    store.clone(),
                    "ibkr-endpoint",
                    &[&config.base_url, path],
                )),
                _ => local,
            }
        };
        let five_s = Some((1, Duration::from_millis(5_200)));
        let paced = builder(&config.base_url)
            .retry(RetryPolicy {
                throttled_wait: Some(Duration::from_secs(1)),
                ..RetryPolicy::default()
            })
            .pace_endpoint(limit("/iserver/account/orders", every_5s(), five_s))
            .pace_endpoint(limit("/iserver/account/trades", every_5s(), five_s))
            .pace_endpoint(limit("/portfolio/accounts", every_5s(), five_s))
            .pace_endpoint(limit(
                "/iserver/marketdata/snapshot",
                SlidingWindow::per_second(10),
                Some((10, Duration::from_millis(1_150))),
            ))
            .error_body::<IbkrError>();
        let rps = config.requests_per_second;
        let transport = match store {
            Some(store) => paced.pace_all_shared(SharedWindow::per_second(
                rps,
                store.clone(),
                "ibkr-requests",
                &[&config.base_url],
            )),
            None => paced.pace_all(SlidingWindow::per_second(rps)),
        }
        .build()?;
        let credentials = Credentials::new(&config.auth, builder)?;
        Ok(IbkrClient {
            transport,
            credentials,
            history: Lane::new(1000, Duration::from_secs(1), Some(HISTORY_CONCURRENCY)),
        })
    }

    /// The base URL (for the readiness probe).
    pub fn base(&self) -> &str {
        self.transport.base()
    }

    /// The authentication scheme (for logs and messages).
    pub fn scheme(&self) -> &'static str {
        self.credentials.scheme()
    }

    /// Sends `call` signed with the current credential (obtained or renewed first when due); a 401 forgets
    /// that credential, so the session's one re-login renews it.
    async fn execute(&self, call: Call<'_>) -> CallResult<Answer> {
        let held = self.credentials.current(&self.transport).await?;
        let result = self.transport.execute(&call.signed(&held)).await;
        if matches!(&result, Err(e) if e.status() == Some(401)) {
            self.credentials.refused(&held);
        }
        result
    }

    /// [`Self::execute`], the answer decoded as `T`.
    async fn json<T: serde::de::DeserializeOwned>(&self, call: Call<'_>) -> CallResult<T> {
        let path = call.path().to_string();
        self.execute(call).await?.json(&path)
    }

    async fn submit(&self, call: Call<'_>) -> CallResult<Vec<SubmitItem>> {
        let answer = self.execute(call).await?;
        parse_submit(&answer.text).map_err(CallError::Decode)
    }
}

#[async_trait]
impl Api for IbkrClient {
    fn forget_credentials(&self) {
        self.credentials.forget();
    }

    async fn socket_pass(&self) -> CallResult<SocketPass> {
        let held = self.credentials.current(&self.transport).await?;
        // Taken last, nearest to the upgrade it stands for.
        self.transport.pace_outside().await;
        Ok(held.socket_pass())
    }

    async fn auth_status(&self) -> CallResult<AuthStatus> {
        // A POST with no side effect: safe to retry.
        let call = Call::new(
            crate::upstream::transport::CallKind::Read,
            Method::POST,
            "/iserver/auth/status",
        );
        self.json(call).await
    }

    async fn ssodh_init(&self) -> CallResult<AuthStatus> {
        let body = SsodhInit {
            publish: true,
            compete: true,
        };
        let call = Call::write(Method::POST, "/iserver/auth/ssodh/init").json(&body);
        self.json(call).await
    }

    async fn tickle(&self) -> CallResult<Tickle> {
        let call = Call::new(
            crate::upstream::transport::CallKind::Read,
            Method::POST,
            "/tickle",
        );
        self.json(call).await
    }

    async fn accounts(&self) -> CallResult<Accounts> {
        self.json(Call::get("/iserver/accounts")).await
    }

    async fn portfolio_accounts(&self) -> CallResult<Vec<PortfolioAccount>> {
        self.json(Call::get("/portfolio/accounts")).await
    }

    async fn switch_account(&self, account: &str) -> CallResult<()> {
        let call = Call::write(Method::POST, "/iserver/account").json(&SwitchAccount { acct_id: account });
        self.execute(call).await.map(drop)
    }

    async fn place(&self, account: &str, body: &OrdersBody) -> CallResult<Vec<SubmitItem>> {
        let path = format!("/iserver/account/{}/orders", segment(account));
        self.submit(Call::write(Method::POST, path).json(body)).await
    }

    async fn reply(&self, id: &str, confirmed: bool) -> CallResult<Vec<SubmitItem>> {
        let path = format!("/iserver/reply/{}", segment(id));
        self.submit(Call::write(Method::POST, path).json(&Reply { confirmed }))
            .await
    }

    async fn modify(
        &self,
        account: &str,
        order_id: &str,
        ticket: &OrderTicket,
    ) -> CallResult<Vec<SubmitItem>> {
        let path = format!(
            "/iserver/account/{}/order/{}",
            segment(account),
            segment(order_id)
        );
        self.submit(Call::write(Method::POST, path).json(ticket)).await
    }

    async fn cancel(&self, account: &str, order_id: &str) -> CallResult<CancelAnswer> {
        let path = format!(
            "/iserver/account/{}/order/{}",
            segment(account),
            segment(order_id)
        );
        self.json(Call::write(Method::DELETE, path)).await
    }

    async fn whatif(&self, account: &str, body: &OrdersBody) -> CallResult<WhatIf> {
        // A preview changes nothing: a read, whatever its method.
        let path = format!("/iserver/account/{}/orders/whatif", segment(account));
        let call = Call::new(crate::upstream::transport::CallKind::Read, Method::POST, path).json(body);
        self.json(call).await
    }

    async fn live_orders(&self, account: &str) -> CallResult<LiveOrders> {
        let call = Call::get("/iserver/account/orders").query([("accountId", account)]);
        self.json(call).await
    }

    async fn trades(&self, account: &str) -> CallResult<Vec<Trade>> {
        let call = Call::get("/iserver/account/trades").query([("accountId", account)]);
        self.json(call).await
    }

    async fn positions(&self, account: &str, page: usize) -> CallResult<Vec<Position>> {
        let path = format!("/portfolio/{}/positions/{page}", segment(account));
        self.json(Call::get(path)).await
    }

    async fn summary(&self, account: &str) -> CallResult<Summary> {
        let path = format!("/portfolio/{}/summary", segment(account));
        self.json(Call::get(path)).await
    }

    async fn ledger(&self, account: &str) -> CallResult<Ledger> {
        let path = format!("/portfolio/{}/ledger", segment(account));
        self.json(Call::get(path)).await
    }

    async fn snapshot(&self, conids: &[i64], fields: &str) -> CallResult<Vec<SnapshotRow>> {
        let list = conids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let call =
            Call::get("/iserver/marketdata/snapshot").query([("conids", list.as_str()), ("fields", fields)]);
        self.json(call).await
    }

    async fn history(&self, q: &HistoryQuery) -> CallResult<History> {
        let mut call = Call::get("/iserver/marketdata/history")
            .query([
                ("conid", q.conid.to_string()),
                ("period", q.period.clone()),
                ("bar", q.bar.clone()),
                ("outsideRth", q.outside_rth.to_string()),
            ])
            .on_lane(Some(&self.history));
        if let Some(t) = &q.start_time {
            call = call.query([("startTime", t.clone())]);
        }
        self.json(call).await
    }

    async fn contract(&self, conid: i64) -> CallResult<ContractInfo> {
        let path = format!("/iserver/contract/{conid}/info-and-rules");
        self.json(Call::get(path)).await
    }

    async fn search(&self, symbol: &str) -> CallResult<Vec<SearchResult>> {
        let call = Call::get("/iserver/secdef/search").query([("symbol", symbol)]);
        self.json(call).await
    }

    async fn schedule(&self, q: &ScheduleQuery) -> CallResult<Vec<TradingSchedule>> {
        let mut pairs = vec![
            ("assetClass", q.asset_class.as_str()),
            ("symbol", q.symbol.as_str()),
        ];
        if let Some(x) = &q.exchange {
            pairs.push(("exchange", x.as_str()));
        }
        self.json(Call::get("/trsrv/secdef/schedule").query(pairs)).await
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
