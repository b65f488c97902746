//! Raw Capital.com REST client: one method per upstream endpoint, the documented headers, no policy.
//!
//! Retries, pacing, re-login and account switching live in [`super::session`]; this module only sends one
//! request and reports precisely how it failed, because whether a failed write may be retried depends on
//! whether it can have reached the upstream ([`CallError::is_ambiguous`]).

use super::model;
use crate::secret::Secret;
use crate::upstream::call::{classify, retry_after, segment};
pub use crate::upstream::call::{CallError, CallResult};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::time::Duration;

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

/// The raw client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    api_key: Secret,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Empty JSON answers (`{"status":"SUCCESS"}` and the like) whose content does not matter.
#[derive(Debug, Deserialize)]
pub struct Ignored {}

impl Client {
    /// A client of `base` (e.g. `https://demo-api-capital.backend-capital.com/api/v1`) with a per-request timeout.
    pub fn new(base: &str, api_key: Secret, timeout: Duration) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("tvbridge/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_string(),
            api_key,
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: Option<&(dyn erased::Query + Sync)>,
        body: Option<serde_json::Value>,
        tokens: Option<&Tokens>,
    ) -> CallResult<(T, reqwest::header::HeaderMap)> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(q) = query {
            req = req.query(&q.pairs());
        }
        match tokens {
            Some(t) => {
                req = req
                    .header("CST", t.cst.expose())
                    .header("X-SECURITY-TOKEN", t.security_token.expose());
            }
            None => req = req.header("X-CAP-API-KEY", self.api_key.expose()),
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response = req.send().await.map_err(classify)?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .map_err(|e| CallError::NoAnswer(format!("reading the answer: {}", e.without_url())))?;
        if !status.is_success() {
            return Err(CallError::Status {
                status: status.as_u16(),
                retry_after: retry_after(&headers, status),
                body: text,
            });
        }
        // Some documented answers are empty on success; treat them as `{}`.
        let text = if text.trim().is_empty() {
            "{}"
        } else {
            text.as_str()
        };
        let value = serde_json::from_str(text).map_err(|e| CallError::Decode(format!("{path}: {e}")))?;
        Ok((value, headers))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, tokens: &Tokens) -> CallResult<T> {
        Ok(self.call(Method::GET, path, None, None, Some(tokens)).await?.0)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: impl Serialize,
        tokens: &Tokens,
    ) -> CallResult<T> {
        let body = serde_json::to_value(body).map_err(|e| CallError::NotSent(e.to_string()))?;
        Ok(self.call(method, path, None, Some(body), Some(tokens)).await?.0)
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
        let body = serde_json::to_value(&body).map_err(|e| CallError::NotSent(e.to_string()))?;
        let (created, headers): (model::SessionCreated, _) = self
            .call(Method::POST, "/session", None, Some(body), None)
            .await?;
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
        Ok(self
            .call(Method::DELETE, "/session", None, None, Some(t))
            .await?
            .0)
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
        Ok(self
            .call(Method::GET, "/history/activity", Some(q), None, Some(t))
            .await?
            .0)
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
        Ok(self.call(Method::DELETE, &path, None, None, Some(t)).await?.0)
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
        Ok(self.call(Method::DELETE, &path, None, None, Some(t)).await?.0)
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
        let q = [("epics", epics.join(","))];
        Ok(self
            .call(Method::GET, "/markets", Some(&q), None, Some(t))
            .await?
            .0)
    }

    pub async fn navigation(&self, t: &Tokens, node: Option<&str>) -> CallResult<NavigationNode> {
        match node {
            Some(id) => self.get(&format!("/marketnavigation/{}", segment(id)), t).await,
            None => self.get("/marketnavigation", t).await,
        }
    }

    pub async fn prices(&self, t: &Tokens, epic: &str, q: &PricesQuery) -> CallResult<model::PricesResponse> {
        let path = format!("/prices/{}", segment(epic));
        Ok(self.call(Method::GET, &path, Some(q), None, Some(t)).await?.0)
    }
}

/// Query parameters of any shape, without making `call` generic over them.
mod erased {
    use serde::Serialize;

    pub trait Query {
        fn pairs(&self) -> Vec<(String, String)>;
    }

    impl<T: Serialize> Query for T {
        fn pairs(&self) -> Vec<(String, String)> {
            let value = serde_json::to_value(self).unwrap_or_default();
            match value {
                serde_json::Value::Object(map) => map
                    .into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k, plain(v)))
                    .collect(),
                serde_json::Value::Array(items) => items
                    .into_iter()
                    .filter_map(|item| match item {
                        serde_json::Value::Array(kv) if kv.len() == 2 => {
                            let mut it = kv.into_iter();
                            let k = it.next().map(plain)?;
                            let v = it.next().map(plain)?;
                            Some((k, v))
                        }
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            }
        }
    }

    fn plain(v: serde_json::Value) -> String {
        match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_skip_absent_values() {
        use erased::Query;
        let q = ActivityQuery {
            from: Some("2022-01-01T00:00:00".into()),
            detailed: true,
            ..Default::default()
        };
        let pairs = q.pairs();
        assert!(pairs.contains(&("from".into(), "2022-01-01T00:00:00".into())));
        assert!(pairs.contains(&("detailed".into(), "true".into())));
        assert!(!pairs.iter().any(|(k, _)| k == "to"));
        let list = [("epics", "A,B".to_string())];
        assert_eq!(list.pairs(), vec![("epics".to_string(), "A,B".to_string())]);
    }

    #[test]
    fn tokens_never_print() {
        let t = Tokens {
            cst: Secret::new("cst-value"),
            security_token: Secret::new("xst-value"),
        };
        assert!(!format!("{t:?}").contains("value"));
    }
}
