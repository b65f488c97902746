//! Raw Capital.com REST client: one method per upstream endpoint, the documented headers, sent through the
//! shared [`Transport`].
//!
//! Re-login and account switching live in [`super::session`]. A client handed out by a session
//! ([`Client::bound`]) paces each attempt in the session's [`Lane`] and retries by call kind (reads after
//! failures that changed nothing, writes only when they never left: whether a failed write may be repeated
//! depends on whether it can have reached the upstream, [`CallError::is_ambiguous`]). A client paced in a
//! session's lane without retries ([`Client::paced`]) serves the session layer's own calls (ping, account
//! switch, logout); the unbound client sends each call once, unpaced (login, paced per API key).

use super::model;
use crate::secret::Secret;
use crate::upstream::call::segment;
pub use crate::upstream::call::{CallError, CallResult};
use crate::upstream::transport::{
    Call, CallKind, Lane, RetryPolicy, RetryWait, SecretHeaders, SignError, Signer, Transport,
};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// Capital.com's retries: a read once more after a lost answer or a 5xx (300 ms later), up to three more
/// times while it is answered 429 (after the advised delay, else 1 s).
const RETRY: RetryPolicy = RetryPolicy {
    read_attempts: 2,
    throttled_attempts: 4,
    backoff: Duration::from_millis(300),
    throttled_wait: Some(Duration::from_secs(1)),
    max_total_wait: Duration::from_secs(10),
};

/// The two session tokens Capital.com sends back on `POST /session`. `Debug` masks both.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub cst: Secret,
    pub security_token: Secret,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(********)")
    }
}

/// `GET /marketnavigation[/{nodeId}]` answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NavigationNode {
    #[serde(default)]
    pub nodes: Vec<NavigationChild>,
    #[serde(default)]
    pub markets: Vec<model::MarketSummary>,
}

/// A sub-node of a navigation node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NavigationChild {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// Query of `GET /history/activity`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_period: Option<u64>,
    pub detailed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deal_id: Option<String>,
}

/// Query of `GET /prices/{epic}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PricesQuery {
    pub resolution: &'static str,
    pub max: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// The session tokens sign every call made with them.
impl Signer for Tokens {
    fn sign(&self, req: &mut reqwest::Request) -> Result<(), SignError> {
        SecretHeaders(&[("CST", &self.cst), ("X-SECURITY-TOKEN", &self.security_token)]).sign(req)
    }
}

/// The raw client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    transport: Arc<Transport>,
    api_key: Secret,
    /// Set on a client bound to a session: its pace, and the least strict kind its calls may have (`None`:
    /// each call is sent once).
    bound: Option<(Arc<Lane>, Option<CallKind>)>,
    /// Waits between a call's attempts instead of sleeping (an account scope lets go of the account).
    waiter: Option<Arc<dyn RetryWait>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.transport.base())
            .finish_non_exhaustive()
    }
}

/// Empty JSON answers (`{"status":"SUCCESS"}` and the like) whose content does not matter.
#[derive(Debug, Deserialize)]
pub struct Ignored {}

impl Client {
    /// A client of `base` (e.g. `https://demo-api-capital.backend-capital.com/api/v1`) with a per-request timeout.
    pub fn new(base: &str, api_key: Secret, timeout: Duration) -> anyhow::Result<Client> {
        let transport = Transport::builder(base)
            .backend("capital")
            .request_timeout(Some(timeout))
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(60))
            .retry(RETRY)
            .error_body::<model::ErrorBody>()
            .build()?;
        Ok(Client {
            transport: Arc::new(transport),
            api_key,
            bound: None,
            waiter: None,
        })
    }

    /// This client for one session: every attempt paced in `lane`, calls retried by their kind, which is
    /// at least `kind` (a caller may forbid retrying a read).
    pub fn bound(&self, lane: Arc<Lane>, kind: CallKind) -> Client {
        Client {
            bound: Some((lane, Some(kind))),
            ..self.clone()
        }
    }

    /// This client for one session's own calls: every call paced in `lane` and sent once (the session
    /// layer decides what follows a failure).
    pub fn paced(&self, lane: Arc<Lane>) -> Client {
        Client {
            bound: Some((lane, None)),
            ..self.clone()
        }
    }

    /// This client with its calls waiting between attempts with `waiter`.
    pub fn waiting_with(self, waiter: Arc<dyn RetryWait>) -> Client {
        Client {
            waiter: Some(waiter),
            ..self
        }
    }

    async fn call<T: DeserializeOwned>(&self, call: Call<'_>, tokens: &Tokens) -> CallResult<T> {
        let call = match &self.waiter {
            Some(waiter) => call.wait_with(&**waiter),
            None => call,
        };
        let call = match &self.bound {
            Some((lane, Some(kind))) => call.on_lane(Some(lane)).at_least(*kind),
            Some((lane, None)) => call.on_lane(Some(lane)).once(),
            None => call.once(),
        };
        self.transport.json(&call.signed(tokens)).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, tokens: &Tokens) -> CallResult<T> {
        self.call(Call::get(path), tokens).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: impl Serialize,
        tokens: &Tokens,
    ) -> CallResult<T> {
        self.call(Call::write(method, path).json(&body), tokens).await
    }

    // ---- session -------------------------------------------------------------------------------------

    /// `POST /session` with the API key; the tokens come from the `CST` and `X-SECURITY-TOKEN` headers.
    pub async fn create_session(
        &self,
        identifier: &Secret,
        password: &Secret,
    ) -> CallResult<(model::SessionCreated, Tokens)> {
        let body = model::CreateSessionRequest {
            identifier: identifier.expose(),
            password: password.expose(),
            encrypted_password: false,
        };
        // Paced per API key by the caller, so never repeated here.
        let api_key = SecretHeaders(&[("X-CAP-API-KEY", &self.api_key)]);
        let call = Call::write(Method::POST, "/session")
            .json(&body)
            .signed(&api_key)
            .once();
        let answer = self.transport.execute(&call).await?;
        let created: model::SessionCreated = answer.json("/session")?;
        let headers = answer.headers;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(|v| Secret::new(v.to_string()))
        };
        match (header("CST"), header("X-SECURITY-TOKEN")) {
            (Some(cst), Some(security_token)) => Ok((created, Tokens { cst, security_token })),
            _ => Err(CallError::Decode(
                "POST /session answered without CST and X-SECURITY-TOKEN headers".into(),
            )),
        }
    }

    pub async fn ping(&self, t: &Tokens) -> CallResult<Ignored> {
        self.get("/ping", t).await
    }

    /// `PUT /session {accountId}`.
    pub async fn switch_account(
        &self,
        t: &Tokens,
        account_id: &str,
    ) -> CallResult<model::SwitchAccountResponse> {
        let body = model::SwitchAccountRequest { account_id };
        self.send(Method::PUT, "/session", body, t).await
    }

    pub async fn delete_session(&self, t: &Tokens) -> CallResult<Ignored> {
        self.call(Call::write(Method::DELETE, "/session"), t).await
    }

    // ---- accounts ------------------------------------------------------------------------------------

    pub async fn accounts(&self, t: &Tokens) -> CallResult<model::AccountsResponse> {
        self.get("/accounts", t).await
    }

    pub async fn preferences(&self, t: &Tokens) -> CallResult<model::AccountPreferences> {
        self.get("/accounts/preferences", t).await
    }

    pub async fn set_preferences(
        &self,
        t: &Tokens,
        body: &model::UpdatePreferencesRequest,
    ) -> CallResult<Ignored> {
        self.send(Method::PUT, "/accounts/preferences", body, t).await
    }

    pub async fn activity(&self, t: &Tokens, q: &ActivityQuery) -> CallResult<model::ActivityResponse> {
        self.call(Call::get("/history/activity").query_of(q), t).await
    }

    // ---- trading -------------------------------------------------------------------------------------

    pub async fn positions(&self, t: &Tokens) -> CallResult<model::PositionsResponse> {
        self.get("/positions", t).await
    }

    pub async fn create_position(
        &self,
        t: &Tokens,
        body: &model::CreatePositionRequest,
    ) -> CallResult<model::DealReference> {
        self.send(Method::POST, "/positions", body, t).await
    }

    pub async fn update_position(
        &self,
        t: &Tokens,
        deal_id: &str,
        body: &model::UpdatePositionRequest,
    ) -> CallResult<model::DealReference> {
        self.send(Method::PUT, &format!("/positions/{}", segment(deal_id)), body, t)
            .await
    }

    pub async fn close_position(&self, t: &Tokens, deal_id: &str) -> CallResult<model::DealReference> {
        let path = format!("/positions/{}", segment(deal_id));
        self.call(Call::write(Method::DELETE, path), t).await
    }

    pub async fn working_orders(&self, t: &Tokens) -> CallResult<model::WorkingOrdersResponse> {
        self.get("/workingorders", t).await
    }

    pub async fn create_working_order(
        &self,
        t: &Tokens,
        body: &model::CreateWorkingOrderRequest,
    ) -> CallResult<model::DealReference> {
        self.send(Method::POST, "/workingorders", body, t).await
    }

    pub async fn update_working_order(
        &self,
        t: &Tokens,
        deal_id: &str,
        body: &model::UpdateWorkingOrderRequest,
    ) -> CallResult<model::DealReference> {
        self.send(
            Method::PUT,
            &format!("/workingorders/{}", segment(deal_id)),
            body,
            t,
        )
        .await
    }

    pub async fn delete_working_order(&self, t: &Tokens, deal_id: &str) -> CallResult<model::DealReference> {
        let path = format!("/workingorders/{}", segment(deal_id));
        self.call(Call::write(Method::DELETE, path), t).await
    }

    pub async fn confirm(&self, t: &Tokens, deal_reference: &str) -> CallResult<model::Confirmation> {
        self.get(&format!("/confirms/{}", segment(deal_reference)), t)
            .await
    }

    // ---- markets -------------------------------------------------------------------------------------

    pub async fn market(&self, t: &Tokens, epic: &str) -> CallResult<model::MarketDetails> {
        self.get(&format!("/markets/{}", segment(epic)), t).await
    }

    /// `GET /markets?epics=A,B` (at most 50 epics per call).
    pub async fn markets(&self, t: &Tokens, epics: &[String]) -> CallResult<model::MarketDetailsList> {
        self.call(Call::get("/markets").query([("epics", epics.join(","))]), t)
            .await
    }

    pub async fn navigation(&self, t: &Tokens, node: Option<&str>) -> CallResult<NavigationNode> {
        match node {
            Some(id) => self.get(&format!("/marketnavigation/{}", segment(id)), t).await,
            None => self.get("/marketnavigation", t).await,
        }
    }

    pub async fn prices(&self, t: &Tokens, epic: &str, q: &PricesQuery) -> CallResult<model::PricesResponse> {
        let path = format!("/prices/{}", segment(epic));
        self.call(Call::get(path).query_of(q), t).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_print() {
        let t = Tokens {
            cst: Secret::new("cst-value"),
            security_token: Secret::new("xst-value"),
        };
        assert!(!format!("{t:?}").contains("value"));
    }
}
