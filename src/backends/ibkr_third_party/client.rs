//! The Third-Party Web API as the backend uses it: the [`Api`] trait (one method per resource, the bridge
//! user every call is made for first) and its implementation over the toolkit transport, each call signed
//! with that user's live session ([`Sessions::signer`]).
//!
//! Outcomes the API gives by status are typed here ([`ApiError`]), so the layers above decide on them:
//! 202 (accepted, no answer yet), 204 (no content: accounts before IBKR's nightly refresh), 423
//! (resource locked). A 401 drops the user's live session and the call is made once more with a fresh
//! one; a second 401 means the grant itself is gone (log in again). Writes are never retried here beyond
//! what the transport knows never left.

use super::errors::{to_broker, LOG_IN_AGAIN};
use super::model::account::{Accounts, Position, Summary};
use super::model::market::{ExchangeComponent, Secdef, SnapshotRow};
use super::model::orders::{CancelAnswer, Impact, ModifyAnswer, Order, OrderRequest};
use super::model::trades::Trade;
use super::model::Coid;
use super::session::{Sessions, UserSigner};
use crate::broker::{BrokerError, BrokerResult};
use crate::upstream::call::{segment, CallError};
use crate::upstream::transport::{Answer, Call, CallKind, Signer, Transport};
use async_trait::async_trait;
use reqwest::Method;
use std::sync::Arc;
use std::time::Duration;

/// How a call failed, the API's own statuses typed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// A failure as the transport classified it (4xx with IBKR's text, 5xx, timeouts...).
    Call(CallError),
    /// 202: accepted, the result is not available yet. On a write the order may exist.
    Accepted,
    /// 204: no content (the `/accounts*` resources before IBKR's nightly refresh).
    NoContent,
    /// 423: the resource is locked because it was asked for too often.
    Locked,
    /// No usable live session for the user (no grant, or a grant IBKR refused): what the user is told.
    Session(BrokerError),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// Whether a write that failed this way may have been carried out: timeouts and lost answers, 5xx,
    /// 408, 202 and 423 (the contract lists 423 on writes and says nothing of their effect). Such a
    /// write is looked up by its `CustomerOrderId`, never sent again with another.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            ApiError::Call(e) => e.is_ambiguous() || e.status() == Some(408),
            ApiError::Accepted | ApiError::Locked => true,
            ApiError::NoContent | ApiError::Session(_) => false,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Call(e) => write!(f, "{e}"),
            ApiError::Accepted => f.write_str("HTTP 202 (accepted, no answer yet)"),
            ApiError::NoContent => f.write_str("HTTP 204 (no content)"),
            ApiError::Locked => f.write_str("HTTP 423 (resource locked)"),
            ApiError::Session(e) => write!(f, "no session: {e}"),
        }
    }
}

/// Which contract `/secdef` is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecdefQuery {
    Conid(i64),
    /// `ticker` + `exchange` + `instrumentType=STK`.
    Stock {
        ticker: String,
        exchange: String,
    },
    /// `ticker` + `currency` + `instrumentType=CASH`.
    Cash {
        ticker: String,
        currency: String,
    },
}

/// The Third-Party Web API. `user` is the bridge user the call is made for, with their own grant.
#[async_trait]
pub trait Api: Send + Sync + 'static {
    /// `GET /accounts`.
    async fn accounts(&self, user: &str) -> ApiResult<Accounts>;
    /// `GET /accounts/{acct}/positions`.
    async fn positions(&self, user: &str, account: &str) -> ApiResult<Vec<Position>>;
    /// `GET /accounts/{acct}/summary`.
    async fn summary(&self, user: &str, account: &str) -> ApiResult<Summary>;
    /// `GET /accounts/{acct}/orders`.
    async fn orders(&self, user: &str, account: &str) -> ApiResult<Vec<Order>>;
    /// `GET /accounts/{acct}/orders/{id}` (`[]` for an id never used).
    async fn order(&self, user: &str, account: &str, id: Coid) -> ApiResult<Vec<Order>>;
    /// `POST /accounts/{acct}/orders`.
    async fn place(&self, user: &str, account: &str, body: &OrderRequest) -> ApiResult<Vec<Order>>;
    /// `PUT /accounts/{acct}/orders/{id}`: the body carries the replacement's new id.
    async fn modify(
        &self,
        user: &str,
        account: &str,
        id: Coid,
        body: &OrderRequest,
    ) -> ApiResult<Vec<ModifyAnswer>>;
    /// `DELETE /accounts/{acct}/orders/{id}`.
    async fn cancel(&self, user: &str, account: &str, id: Coid) -> ApiResult<Vec<CancelAnswer>>;
    /// `POST /accounts/{acct}/order_impact`.
    async fn impact(&self, user: &str, account: &str, body: &OrderRequest) -> ApiResult<Impact>;
    /// `GET /accounts/{acct}/trades?since=YYYYMMDD-HH:MM:SS` (`None`: the past 24 hours).
    async fn trades(&self, user: &str, account: &str, since: Option<&str>) -> ApiResult<Vec<Trade>>;
    /// `GET /secdef`.
    async fn secdef(&self, user: &str, query: &SecdefQuery) -> ApiResult<Secdef>;
    /// `GET /marketdata/snapshot?conids=`.
    async fn snapshot(&self, user: &str, conids: &[i64]) -> ApiResult<Vec<SnapshotRow>>;
    /// `GET /marketdata/exchange_component?conids=`.
    async fn exchange_component(&self, user: &str, conids: &[i64]) -> ApiResult<Vec<ExchangeComponent>>;
}

/// How patiently a read waits while IBKR answers 202.
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    pub attempts: u32,
    pub wait: Duration,
}

/// Reads with `fetch` while IBKR answers 202, `patience.attempts` times at most, `patience.wait` apart;
/// then a clear `Unavailable`. Every other outcome is mapped with `what`.
pub async fn read<T, F, Fut>(what: &str, patience: Patience, mut fetch: F) -> BrokerResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ApiResult<T>>,
{
    read_raw(patience, &mut fetch).await.map_err(|e| match e {
        ApiError::Accepted => BrokerError::Unavailable(format!(
            "IBKR accepted the request {what} but had no answer after {} attempts; try again shortly",
            patience.attempts.max(1)
        )),
        other => to_broker(what, &other),
    })
}

/// [`read`] that keeps the outcome typed (the account reads back off on 423 themselves).
pub async fn read_raw<T, F, Fut>(patience: Patience, fetch: &mut F) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ApiResult<T>>,
{
    let attempts = patience.attempts.max(1);
    let mut attempt = 1;
    loop {
        match fetch().await {
            Err(ApiError::Accepted) if attempt < attempts => {
                tracing::debug!(attempt, "IBKR answered 202; asking again");
                tokio::time::sleep(patience.wait).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Where a user's signer comes from: their live sessions ([`Sessions`]; tests give a stub).
#[async_trait]
pub trait Signers: Send + Sync + 'static {
    type Held: Signer + 'static;
    /// The signer of `user`'s calls; `Err` with what the user is told when there is none.
    async fn signer(&self, user: &str) -> BrokerResult<Arc<Self::Held>>;
    /// IBKR refused calls signed with `stale` (401).
    fn invalidate(&self, user: &str, stale: &Arc<Self::Held>);
}

#[async_trait]
impl Signers for Sessions {
    type Held = UserSigner;
    async fn signer(&self, user: &str) -> BrokerResult<Arc<UserSigner>> {
        Sessions::signer(self, user).await
    }
    fn invalidate(&self, user: &str, stale: &Arc<UserSigner>) {
        Sessions::invalidate(self, user, stale)
    }
}

/// The HTTP client: the transport and every user's live session.
pub struct TpClient<S: Signers = Sessions> {
    transport: Arc<Transport>,
    sessions: Arc<S>,
}

impl<S: Signers> TpClient<S> {
    pub fn new(transport: Arc<Transport>, sessions: Arc<S>) -> TpClient<S> {
        TpClient { transport, sessions }
    }

    /// Sends the call `build` makes, signed for `user`; a 401 drops the live session and sends it once
    /// more with a fresh one (IBKR refused the signature: nothing was done, so a write may go again).
    async fn send(&self, user: &str, build: impl Fn() -> Call<'static>) -> ApiResult<Answer> {
        for attempt in 1..=2 {
            let signer = self.sessions.signer(user).await.map_err(ApiError::Session)?;
            let call = build().signed(&*signer);
            let outcome = self.transport.execute(&call).await;
            match outcome {
                Ok(answer) if answer.status.as_u16() == 202 => return Err(ApiError::Accepted),
                Ok(answer) if answer.status.as_u16() == 204 => return Err(ApiError::NoContent),
                Ok(answer) => return Ok(answer),
                Err(e) if e.status() == Some(401) => {
                    self.sessions.invalidate(user, &signer);
                    if attempt == 2 {
                        return Err(ApiError::Session(BrokerError::LogInAgain(LOG_IN_AGAIN.into())));
                    }
                    tracing::info!(
                        user,
                        path = call.path(),
                        "IBKR refused the live session; renewing it once"
                    );
                }
                Err(e) if e.status() == Some(423) => return Err(ApiError::Locked),
                Err(e) => return Err(ApiError::Call(e)),
            }
        }
        Err(ApiError::Session(BrokerError::LogInAgain(LOG_IN_AGAIN.into())))
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        user: &str,
        build: impl Fn() -> Call<'static>,
    ) -> ApiResult<T> {
        let path = build().path().to_string();
        self.send(user, build).await?.json(&path).map_err(ApiError::Call)
    }
}

fn account_path(account: &str, rest: &str) -> String {
    format!("/accounts/{}{rest}", segment(account))
}

fn list(conids: &[i64]) -> String {
    conids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

#[async_trait]
impl<S: Signers> Api for TpClient<S> {
    async fn accounts(&self, user: &str) -> ApiResult<Accounts> {
        self.json(user, || Call::get("/accounts")).await
    }

    async fn positions(&self, user: &str, account: &str) -> ApiResult<Vec<Position>> {
        let path = account_path(account, "/positions");
        self.json(user, || Call::get(path.clone())).await
    }

    async fn summary(&self, user: &str, account: &str) -> ApiResult<Summary> {
        let path = account_path(account, "/summary");
        self.json(user, || Call::get(path.clone())).await
    }

    async fn orders(&self, user: &str, account: &str) -> ApiResult<Vec<Order>> {
        let path = account_path(account, "/orders");
        self.json(user, || Call::get(path.clone())).await
    }

    async fn order(&self, user: &str, account: &str, id: Coid) -> ApiResult<Vec<Order>> {
        let path = account_path(account, &format!("/orders/{id}"));
        self.json(user, || Call::get(path.clone())).await
    }

    async fn place(&self, user: &str, account: &str, body: &OrderRequest) -> ApiResult<Vec<Order>> {
        let path = account_path(account, "/orders");
        self.json(user, || Call::write(Method::POST, path.clone()).json(body))
            .await
    }

    async fn modify(
        &self,
        user: &str,
        account: &str,
        id: Coid,
        body: &OrderRequest,
    ) -> ApiResult<Vec<ModifyAnswer>> {
        let path = account_path(account, &format!("/orders/{id}"));
        self.json(user, || Call::write(Method::PUT, path.clone()).json(body))
            .await
    }

    async fn cancel(&self, user: &str, account: &str, id: Coid) -> ApiResult<Vec<CancelAnswer>> {
        let path = account_path(account, &format!("/orders/{id}"));
        self.json(user, || Call::write(Method::DELETE, path.clone()))
            .await
    }

    async fn impact(&self, user: &str, account: &str, body: &OrderRequest) -> ApiResult<Impact> {
        // A preview changes nothing: a read, whatever its method.
        let path = account_path(account, "/order_impact");
        self.json(user, || {
            Call::new(CallKind::Read, Method::POST, path.clone()).json(body)
        })
        .await
    }

    async fn trades(&self, user: &str, account: &str, since: Option<&str>) -> ApiResult<Vec<Trade>> {
        let path = account_path(account, "/trades");
        self.json(user, || {
            let call = Call::get(path.clone());
            match since {
                Some(s) => call.query([("since", s)]),
                None => call,
            }
        })
        .await
    }

    async fn secdef(&self, user: &str, query: &SecdefQuery) -> ApiResult<Secdef> {
        let pairs: Vec<(&str, String)> = match query {
            SecdefQuery::Conid(c) => vec![("conid", c.to_string())],
            SecdefQuery::Stock { ticker, exchange } => vec![
                ("ticker", ticker.clone()),
                ("exchange", exchange.clone()),
                ("instrumentType", "STK".into()),
            ],
            SecdefQuery::Cash { ticker, currency } => vec![
                ("ticker", ticker.clone()),
                ("currency", currency.clone()),
                ("instrumentType", "CASH".into()),
            ],
        };
        self.json(user, || Call::get("/secdef").query(pairs.clone()))
            .await
    }

    async fn snapshot(&self, user: &str, conids: &[i64]) -> ApiResult<Vec<SnapshotRow>> {
        let conids = list(conids);
        self.json(user, || {
            Call::get("/marketdata/snapshot").query([("conids", conids.clone())])
        })
        .await
    }

    async fn exchange_component(&self, user: &str, conids: &[i64]) -> ApiResult<Vec<ExchangeComponent>> {
        let conids = list(conids);
        self.json(user, || {
            Call::get("/marketdata/exchange_component").query([("conids", conids.clone())])
        })
        .await
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
