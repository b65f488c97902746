//! Raw OANDA v20 REST client: one method per endpoint the trading venue uses, paths built with
//! [`segment`] so that no id taken from a request can alter a path. No policy here: pacing and read
//! retries are [`Http`]'s, lookups after an ambiguous write are the venue's.

use super::model::{
    AccountResponse, AccountSummaryResponse, AccountsResponse, CancelOrderResponse, ClientExtensionsBody,
    ClosePositionBody, ClosePositionResponse, CloseTradeBody, CloseTradeResponse, DependentOrdersBody,
    DependentOrdersResponse, OrderBody, OrderResponse, OrderWriteResponse, OrdersResponse,
    TransactionResponse, TransactionsResponse,
};
use crate::backends::oanda::client::Http;
use crate::secret::Secret;
use crate::upstream::call::{segment, CallResult};
use reqwest::Method;

/// How an order is named in a path: OANDA's id, or the client id (`@<clientID>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSpecifier<'a> {
    Id(&'a str),
    ClientId(&'a str),
}

impl OrderSpecifier<'_> {
    /// The path segment: `1234` or `@my-id` (the id itself percent-encoded, the `@` kept: it is how
    /// OANDA tells a client id from its own).
    pub fn path(&self) -> String {
        match self {
            OrderSpecifier::Id(id) => segment(id),
            OrderSpecifier::ClientId(id) => format!("@{}", segment(id)),
        }
    }
}

/// The v20 client of one token. Cheap to make per call.
#[derive(Clone, Copy)]
pub struct Client<'a> {
    http: &'a Http,
    token: &'a Secret,
}

impl std::fmt::Debug for Client<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("http", self.http)
            .finish_non_exhaustive()
    }
}

fn account_path(account: &str) -> String {
    format!("/v3/accounts/{}", segment(account))
}

impl<'a> Client<'a> {
    /// A client sending with `token` through `http`.
    pub fn new(http: &'a Http, token: &'a Secret) -> Client<'a> {
        Client { http, token }
    }

    /// `GET /v3/accounts`.
    pub async fn accounts(&self) -> CallResult<AccountsResponse> {
        self.http.get(self.token, "/v3/accounts", &[]).await
    }

    /// `GET /v3/accounts/{id}/summary`.
    pub async fn summary(&self, account: &str) -> CallResult<AccountSummaryResponse> {
        let path = format!("{}/summary", account_path(account));
        self.http.get(self.token, &path, &[]).await
    }

    /// `GET /v3/accounts/{id}`: the full account with its pending orders, open trades and positions.
    pub async fn account(&self, account: &str) -> CallResult<AccountResponse> {
        self.http.get(self.token, &account_path(account), &[]).await
    }

    /// `GET /v3/accounts/{id}/orders?state=..&count=..`: the newest orders first.
    pub async fn orders(&self, account: &str, state: &str, count: u32) -> CallResult<OrdersResponse> {
        let path = format!("{}/orders", account_path(account));
        let query = [
            ("state", state.to_string()),
            ("count", count.clamp(1, 500).to_string()),
        ];
        self.http.get(self.token, &path, &query).await
    }

    /// `GET /v3/accounts/{id}/orders/{specifier}`.
    pub async fn order(&self, account: &str, order: OrderSpecifier<'_>) -> CallResult<OrderResponse> {
        let path = format!("{}/orders/{}", account_path(account), order.path());
        self.http.get(self.token, &path, &[]).await
    }

    /// `POST /v3/accounts/{id}/orders`. Never retried once it may have been sent.
    pub async fn create_order(&self, account: &str, body: &OrderBody) -> CallResult<OrderWriteResponse> {
        let path = format!("{}/orders", account_path(account));
        self.http.send_json(self.token, Method::POST, &path, body).await
    }

    /// `PUT /v3/accounts/{id}/orders/{orderID}`: cancels the order and creates its replacement.
    pub async fn replace_order(
        &self,
        account: &str,
        order_id: &str,
        body: &OrderBody,
    ) -> CallResult<OrderWriteResponse> {
        let path = format!("{}/orders/{}", account_path(account), segment(order_id));
        self.http.send_json(self.token, Method::PUT, &path, body).await
    }

    /// `PUT /v3/accounts/{id}/orders/{orderID}/cancel`.
    pub async fn cancel_order(&self, account: &str, order_id: &str) -> CallResult<CancelOrderResponse> {
        let path = format!("{}/orders/{}/cancel", account_path(account), segment(order_id));
        self.http
            .send_json(self.token, Method::PUT, &path, &serde_json::json!({}))
            .await
    }

    /// `PUT /v3/accounts/{id}/orders/{orderID}/clientExtensions`.
    pub async fn set_order_client_extensions(
        &self,
        account: &str,
        order_id: &str,
        body: &ClientExtensionsBody,
    ) -> CallResult<serde_json::Value> {
        let path = format!(
            "{}/orders/{}/clientExtensions",
            account_path(account),
            segment(order_id)
        );
        self.http.send_json(self.token, Method::PUT, &path, body).await
    }

    /// `PUT /v3/accounts/{id}/trades/{tradeID}/close`.
    pub async fn close_trade(
        &self,
        account: &str,
        trade_id: &str,
        body: &CloseTradeBody,
    ) -> CallResult<CloseTradeResponse> {
        let path = format!("{}/trades/{}/close", account_path(account), segment(trade_id));
        self.http.send_json(self.token, Method::PUT, &path, body).await
    }

    /// `PUT /v3/accounts/{id}/trades/{tradeID}/orders`: creates, replaces or cancels dependent orders.
    pub async fn set_dependent_orders(
        &self,
        account: &str,
        trade_id: &str,
        body: &DependentOrdersBody,
    ) -> CallResult<DependentOrdersResponse> {
        let path = format!("{}/trades/{}/orders", account_path(account), segment(trade_id));
        self.http.send_json(self.token, Method::PUT, &path, body).await
    }

    /// `PUT /v3/accounts/{id}/positions/{instrument}/close`.
    pub async fn close_position(
        &self,
        account: &str,
        instrument: &str,
        body: &ClosePositionBody,
    ) -> CallResult<ClosePositionResponse> {
        let path = format!(
            "{}/positions/{}/close",
            account_path(account),
            segment(instrument)
        );
        self.http.send_json(self.token, Method::PUT, &path, body).await
    }

    /// `GET /v3/accounts/{id}/transactions/{transactionID}`.
    pub async fn transaction(&self, account: &str, id: &str) -> CallResult<TransactionResponse> {
        let path = format!("{}/transactions/{}", account_path(account), segment(id));
        self.http.get(self.token, &path, &[]).await
    }

    /// `GET /v3/accounts/{id}/transactions/idrange?from=..&to=..&type=..` (both ends inclusive; `types`
    /// comma-separated, none: every type).
    pub async fn transactions_range(
        &self,
        account: &str,
        from: u64,
        to: u64,
        types: &[&str],
    ) -> CallResult<TransactionsResponse> {
        let path = format!("{}/transactions/idrange", account_path(account));
        let mut query = vec![("from", from.to_string()), ("to", to.to_string())];
        if !types.is_empty() {
            query.push(("type", types.join(",")));
        }
        self.http.get(self.token, &path, &query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_specifiers_keep_the_at_sign_and_encode_the_rest() {
        assert_eq!(OrderSpecifier::Id("1234").path(), "1234");
        assert_eq!(OrderSpecifier::ClientId("tv-7").path(), "@tv-7");
        assert_eq!(OrderSpecifier::ClientId("../x").path(), "@..%2Fx");
        assert_eq!(account_path("101-004-1-001"), "/v3/accounts/101-004-1-001");
        assert_eq!(account_path("a/b"), "/v3/accounts/a%2Fb");
    }
}
