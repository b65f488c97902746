//! The client against a local server answering from a script: statuses typed (202, 204, 423), a 401
//! renews the user's session once then asks the user to log in again, bodies and paths as the contract says.

use super::*;
use crate::sync::MutexExt;
use crate::upstream::transport::SignError;
use axum::http::{HeaderMap, Method as AxumMethod, StatusCode, Uri};
use axum::response::IntoResponse;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Signs with `Authorization: token-<generation>`; a refused one makes the next generation.
#[derive(Default)]
struct Stub {
    generation: AtomicUsize,
    invalidated: AtomicUsize,
}

struct Held(usize);

impl Signer for Held {
    fn sign(&self, req: &mut reqwest::Request) -> Result<(), SignError> {
        req.headers_mut().insert(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_str(&format!("token-{}", self.0)).unwrap(),
        );
        Ok(())
    }
}

#[async_trait]
impl Signers for Stub {
    type Held = Held;
    async fn signer(&self, user: &str) -> BrokerResult<Arc<Held>> {
        if user == "nobody" {
            return Err(BrokerError::LogInAgain("no grant".into()));
        }
        Ok(Arc::new(Held(self.generation.load(Ordering::SeqCst))))
    }
    fn invalidate(&self, _user: &str, stale: &Arc<Held>) {
        self.invalidated.fetch_add(1, Ordering::SeqCst);
        let _ = self
            .generation
            .compare_exchange(stale.0, stale.0 + 1, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Method, path with query, `Authorization`, body.
type Seen = (String, String, String, String);

#[derive(Clone, Default)]
struct Server {
    script: Arc<Mutex<VecDeque<(u16, &'static str)>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn start(script: &[(u16, &'static str)]) -> (Server, TpClient<Stub>, Arc<Stub>) {
    let server = Server::default();
    server.script.locked().extend(script.iter().copied());
    let s = server.clone();
    let app = axum::Router::new().fallback(move |m: AxumMethod, uri: Uri, h: HeaderMap, body: String| {
        let s = s.clone();
        async move {
            let auth = h
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            s.seen.locked().push((m.to_string(), uri.to_string(), auth, body));
            let (status, body) = s.script.locked().pop_front().unwrap_or((200, "{}"));
            (StatusCode::from_u16(status).unwrap(), body.to_string()).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let transport = Arc::new(
        Transport::builder(&base)
            .request_timeout(Some(Duration::from_secs(5)))
            .build()
            .unwrap(),
    );
    let stub = Arc::new(Stub::default());
    (server, TpClient::new(transport, stub.clone()), stub)
}

#[tokio::test]
async fn statuses_are_typed() {
    let (_, client, _) = start(&[
        (202, ""),
        (204, ""),
        (423, r#"{"error":"Resource locked"}"#),
        (400, r#"{"error":"No security definition found"}"#),
    ])
    .await;
    assert_eq!(client.accounts("u").await, Err(ApiError::Accepted));
    assert_eq!(client.accounts("u").await, Err(ApiError::NoContent));
    assert_eq!(client.orders("u", "U1").await, Err(ApiError::Locked));
    let e = client.secdef("u", &SecdefQuery::Conid(1)).await.unwrap_err();
    assert_eq!(
        super::super::errors::to_broker("x", &e),
        BrokerError::Rejected("No security definition found".into())
    );
    assert!(matches!(
        client.accounts("nobody").await,
        Err(ApiError::Session(BrokerError::LogInAgain(_)))
    ));
}

#[tokio::test]
async fn a_401_renews_the_session_once_then_asks_to_log_in_again() {
    let (server, client, stub) = start(&[(401, ""), (200, r#"{"accounts":["U1"]}"#)]).await;
    assert_eq!(client.accounts("u").await.unwrap().accounts, ["U1"]);
    let auths: Vec<String> = server.seen.locked().iter().map(|s| s.2.clone()).collect();
    assert_eq!(
        auths,
        ["token-0", "token-1"],
        "the second attempt carries a fresh session"
    );
    server.script.locked().extend([(401, ""), (401, "")]);
    assert!(matches!(
        client.accounts("u").await,
        Err(ApiError::Session(BrokerError::LogInAgain(_)))
    ));
    assert_eq!(stub.invalidated.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn writes_send_the_contracts_body_and_are_not_retried_after_a_server_error() {
    let (server, client, _) = start(&[(503, ""), (200, "[]")]).await;
    let body = OrderRequest {
        customer_order_id: Some(Coid(42)),
        contract_id: 265598,
        side: "1",
        order_type: "2",
        order_qty: rust_decimal::Decimal::from(3),
        price: Some(rust_decimal::Decimal::from(180)),
        stop_price: None,
        time_in_force: "0",
        outside_rth: "N",
    };
    let e = client.place("u", "U 1", &body).await.unwrap_err();
    assert!(e.is_ambiguous(), "{e:?}");
    assert_eq!(client.order("u", "U 1", Coid(42)).await.unwrap(), Vec::new());
    let seen = server.seen.locked().clone();
    assert_eq!(seen.len(), 2, "one POST, one look-up");
    assert_eq!(
        (seen[0].0.as_str(), seen[0].1.as_str()),
        ("POST", "/v1/api/accounts/U%201/orders")
    );
    let sent: serde_json::Value = serde_json::from_str(&seen[0].3).unwrap();
    assert_eq!(sent["CustomerOrderId"], 42);
    assert_eq!(sent["OrderType"], "2");
    assert_eq!(seen[1].1, "/v1/api/accounts/U%201/orders/42");
    let (server, client, _) = start(&[]).await;
    client
        .trades("u", "U1", Some("20261201-00:00:00"))
        .await
        .unwrap_err();
    client.snapshot("u", &[1, 2]).await.unwrap_err();
    let paths: Vec<String> = server.seen.locked().iter().map(|s| s.1.clone()).collect();
    assert_eq!(
        paths,
        [
            "/v1/api/accounts/U1/trades?since=20261201-00%3A00%3A00",
            "/v1/api/marketdata/snapshot?conids=1%2C2"
        ]
    );
}
