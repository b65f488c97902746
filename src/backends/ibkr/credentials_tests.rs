//! The client's signing over OAuth against a local stub of `api.ibkr.com` that checks every signature
//! with the fake IBKR's server side (`fakes::ibkr_auth`, independent code): a signed read, renewal before
//! expiry, an expired credential renewed once on the 401, and a revoked one refused after one renewal.

use super::super::client::{Api, IbkrClient};
use super::super::config::{IbkrConfig, ResolvedConfig, TransportKind};
use super::super::session::{Gateway, OAUTH1_REFUSED, OAUTH2_REFUSED};
use super::super::{oauth1, oauth2};
use crate::broker::BrokerError;
use crate::sync::MutexExt;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use fakes::ibkr_auth::oauth1::Oauth1Server;
use fakes::ibkr_auth::oauth2::Oauth2Server;
use fakes::ibkr_auth::{form_pairs, request_url, Refusal};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The stub: one of the fake's verifiers, a switch that refuses everything (the consumer or client
/// revoked), and the paths called.
#[derive(Default)]
struct Stub {
    oauth1: Option<Oauth1Server>,
    oauth2: Option<Oauth2Server>,
    revoked: AtomicBool,
    hits: Mutex<Vec<String>>,
}

impl Stub {
    fn hits(&self, path: &str) -> usize {
        self.hits.locked().iter().filter(|p| p.ends_with(path)).count()
    }

    fn answer(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: &str) -> Response {
        self.hits.locked().push(uri.path().to_string());
        if self.revoked.load(Ordering::SeqCst) {
            return Refusal::unauthorized("the access token was revoked").into_response();
        }
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
        let path = uri.path();
        let verified = match (&self.oauth1, &self.oauth2) {
            (Some(server), _) => {
                let (url, form) = (request_url(headers, uri), form_pairs(headers, body));
                if path.ends_with("/oauth/live_session_token") {
                    return answer(server.live_session_token(method.as_str(), &url, auth, &form));
                }
                server.verify(method.as_str(), &url, auth, &form)
            }
            (None, Some(server)) => match path {
                "/oauth2/api/v1/token" => {
                    let form = serde_urlencoded::from_str::<Vec<(String, String)>>(body).unwrap_or_default();
                    return answer(server.token(&form));
                }
                "/gw/api/v1/sso-sessions" => {
                    let kind = headers.get("content-type").and_then(|v| v.to_str().ok());
                    return answer(server.sso_session(auth, kind, body));
                }
                _ => server.verify(auth),
            },
            (None, None) => unreachable!("a stub verifies one scheme"),
        };
        answer(verified.map(|_| match path.trim_start_matches("/v1/api") {
            "/iserver/auth/ssodh/init" | "/iserver/auth/status" => {
                json!({ "authenticated": true, "connected": true, "competing": false })
            }
            "/iserver/accounts" => json!({ "accounts": ["DU1"], "selectedAccount": "DU1", "isPaper": true }),
            "/portfolio/accounts" => json!([{ "id": "DU1", "currency": "USD", "type": "DEMO" }]),
            _ => json!({}),
        }))
    }
}

fn answer(result: Result<serde_json::Value, Refusal>) -> Response {
    match result {
        Ok(body) => axum::Json(body).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// Serves `stub` on 127.0.0.1; the base URL of the host.
async fn serve(stub: Arc<Stub>) -> String {
    let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: String| {
        let stub = stub.clone();
        async move { stub.answer(&method, &uri, &headers, &body) }
    };
    let addr = crate::backends::ibkr::oauth1::tests::serve_app(axum::Router::new().fallback(handler)).await;
    format!("http://{addr}")
}

fn read(path: &str) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
}

/// An OAuth 1.0a client of a stub of the fake consumer.
async fn oauth1_client() -> (Arc<Stub>, Arc<IbkrClient>) {
    let (stub, resolved) = oauth1_config().await;
    (stub, Arc::new(IbkrClient::new(&resolved).unwrap()))
}

/// The configuration of an OAuth 1.0a bridge on a stub of the fake consumer.
async fn oauth1_config() -> (Arc<Stub>, ResolvedConfig) {
    let (consumer, table) = oauth1::tests::consumer();
    let server = Oauth1Server::new(consumer).unwrap();
    let env = oauth1::tests::env(&server.encrypted_secret());
    let stub = Arc::new(Stub {
        oauth1: Some(server),
        ..Stub::default()
    });
    let config = IbkrConfig {
        transport: TransportKind::Oauth1,
        base_url: Some(format!("{}/v1/api", serve(stub.clone()).await)),
        oauth1: Some(Box::new(table)),
        ..IbkrConfig::default()
    };
    (stub, config.resolve_with(&read, &env).unwrap())
}

/// An OAuth 2.0 client of a stub of the fake client registration.
async fn oauth2_client() -> (Arc<Stub>, Arc<IbkrClient>) {
    let server = Oauth2Server::new(oauth2::tests::fake_client(), oauth2::DEFAULT_AUDIENCE).unwrap();
    let stub = Arc::new(Stub {
        oauth2: Some(server),
        ..Stub::default()
    });
    let base = serve(stub.clone()).await;
    let config = IbkrConfig {
        transport: TransportKind::Oauth2,
        base_url: Some(format!("{base}/v1/api")),
        oauth2: Some(Box::new(oauth2::OAuth2Config {
            token_url: format!("{base}/oauth2/api/v1/token"),
            sso_session_url: format!("{base}/gw/api/v1/sso-sessions"),
            ..oauth2::tests::settings()
        })),
        ..IbkrConfig::default()
    };
    let resolved = config.resolve_with(&read, &oauth2::tests::env).unwrap();
    (stub, Arc::new(IbkrClient::new(&resolved).unwrap()))
}

/// The path of the call that obtains the credential, per scheme.
const LST: &str = "/oauth/live_session_token";
const TOKEN: &str = "/oauth2/api/v1/token";

#[tokio::test]
async fn oauth1_signs_every_read_with_one_live_session_token() {
    let (stub, client) = oauth1_client().await;
    assert_eq!(client.scheme(), "OAuth 1.0a");
    client.portfolio_accounts().await.unwrap();
    client.tickle().await.unwrap();
    let accounts = client.accounts().await.unwrap();
    assert_eq!(accounts.accounts, ["DU1"]);
    assert_eq!(
        stub.hits(LST),
        1,
        "one handshake for every call while the token lives"
    );
}

#[tokio::test]
async fn oauth2_signs_every_read_with_one_bearer() {
    let (stub, client) = oauth2_client().await;
    assert_eq!(client.scheme(), "OAuth 2.0");
    client.portfolio_accounts().await.unwrap();
    client.tickle().await.unwrap();
    assert_eq!((stub.hits(TOKEN), stub.hits("/sso-sessions")), (1, 1));
}

/// Moves tokio's clock (which the credential holder reads) by `by`, without touching the wall clock the
/// fake and the signatures use.
async fn skip(by: Duration) {
    tokio::time::pause();
    tokio::time::advance(by).await;
    tokio::time::resume();
}

#[tokio::test]
async fn the_live_session_token_is_renewed_before_it_expires() {
    let (stub, client) = oauth1_client().await;
    client.tickle().await.unwrap();
    // The fake's token lives 24 h; it is renewed ten minutes before.
    skip(Duration::from_secs(24 * 3600 - 11 * 60)).await;
    client.tickle().await.unwrap();
    assert_eq!(stub.hits(LST), 1, "not due yet");
    skip(Duration::from_secs(2 * 60)).await;
    client.tickle().await.unwrap();
    assert_eq!(
        stub.hits(LST),
        2,
        "renewed before it expired, and the call went through"
    );
}

#[tokio::test]
async fn the_bearer_is_renewed_before_it_expires() {
    let (stub, client) = oauth2_client().await;
    client.tickle().await.unwrap();
    // The fake's token answer says `expires_in` 3600.
    let life = Duration::from_secs(3600);
    skip(life - oauth2::RENEW_MARGIN - Duration::from_secs(60)).await;
    client.tickle().await.unwrap();
    assert_eq!(stub.hits(TOKEN), 1, "not due yet");
    skip(Duration::from_secs(2 * 60)).await;
    client.tickle().await.unwrap();
    assert_eq!(stub.hits(TOKEN), 2, "renewed before it expired");
}

/// Expires the stub's credentials, as IBKR does when a token ends early.
fn expire(stub: &Stub) {
    if let Some(s) = &stub.oauth1 {
        s.expire_lst();
    }
    if let Some(s) = &stub.oauth2 {
        s.expire_all();
    }
}

async fn an_expired_credential_is_renewed_once_and_the_call_repeated(
    (stub, client): (Arc<Stub>, Arc<IbkrClient>),
    transport: TransportKind,
    login: &str,
) {
    let session = Gateway::over(client.clone(), transport);
    session.accounts().await.unwrap();
    assert_eq!(
        stub.hits("/iserver/auth/ssodh/init"),
        1,
        "OAuth opens the session with ssodh/init"
    );
    assert_eq!(stub.hits("/iserver/auth/status"), 0);
    expire(&stub);
    // The call is refused with a 401; the session renews the credential once, re-opens and repeats it.
    let before = stub.hits(login);
    // (A tickle: `/portfolio/accounts` is paced to one per 5 s, which re-opening already spends.)
    session
        .call("tickling", |api| async move { api.tickle().await })
        .await
        .unwrap();
    assert_eq!(stub.hits(login), before + 1, "one renewal");
    assert_eq!(stub.hits("/iserver/auth/ssodh/init"), 2);
}

#[tokio::test]
async fn oauth1_an_expired_token_is_renewed_once() {
    an_expired_credential_is_renewed_once_and_the_call_repeated(
        oauth1_client().await,
        TransportKind::Oauth1,
        LST,
    )
    .await;
}

#[tokio::test]
async fn oauth2_an_expired_bearer_is_renewed_once() {
    an_expired_credential_is_renewed_once_and_the_call_repeated(
        oauth2_client().await,
        TransportKind::Oauth2,
        TOKEN,
    )
    .await;
}

async fn revoked_credentials_are_renewed_once_then_refused_by_name(
    (stub, client): (Arc<Stub>, Arc<IbkrClient>),
    transport: TransportKind,
    login: &str,
    message: &str,
) {
    let session = Gateway::over(client.clone(), transport);
    session.accounts().await.unwrap();
    stub.revoked.store(true, Ordering::SeqCst);
    let before = (stub.hits(login), stub.hits("/tickle"));
    let refused = session
        .call("tickling", |api| async move { api.tickle().await })
        .await
        .unwrap_err();
    // The mapped-mode rule: the operator's credentials were refused, which a TradingView login cannot fix.
    assert_eq!(refused, BrokerError::Rejected(message.into()));
    assert_eq!(stub.hits(login), before.0 + 1, "one renewal");
    assert_eq!(
        stub.hits("/tickle"),
        before.1 + 1,
        "the call was not repeated without a credential"
    );
    // For a minute the refusal is answered without asking IBKR again.
    let calls = stub.hits.locked().len();
    let again = session.accounts().await.unwrap_err();
    assert_eq!(again, BrokerError::Rejected(message.into()));
    assert_eq!(stub.hits.locked().len(), calls);
    // The client itself answers its caller IBKR's 401.
    let e = client.tickle().await.unwrap_err();
    assert_eq!(e.status(), Some(401));
}

#[tokio::test]
async fn oauth1_revoked_credentials_are_refused_after_one_renewal() {
    revoked_credentials_are_renewed_once_then_refused_by_name(
        oauth1_client().await,
        TransportKind::Oauth1,
        LST,
        OAUTH1_REFUSED,
    )
    .await;
}

#[tokio::test]
async fn oauth2_revoked_credentials_are_refused_after_one_renewal() {
    revoked_credentials_are_renewed_once_then_refused_by_name(
        oauth2_client().await,
        TransportKind::Oauth2,
        TOKEN,
        OAUTH2_REFUSED,
    )
    .await;
}

#[tokio::test]
async fn readyz_says_when_ibkr_refused_the_oauth_credentials() {
    use crate::broker::{BridgeUser, Broker, Login};
    let (stub, resolved) = oauth1_config().await;
    let client = Arc::new(IbkrClient::new(&resolved).unwrap());
    let broker = super::super::IbkrBroker::with_api(resolved, client);
    let ready = broker.readiness().await;
    assert!(ready.ready, "{ready:?}");
    stub.revoked.store(true, Ordering::SeqCst);
    let login = Login::Bridge(BridgeUser {
        login: "alice".into(),
        display_name: "alice".into(),
    });
    let refused = broker.login("s1", &login).await.unwrap_err();
    assert_eq!(refused, BrokerError::Rejected(OAUTH1_REFUSED.into()));
    let ready = broker.readiness().await;
    assert!(!ready.ready);
    assert_eq!(ready.reason.as_deref(), Some(OAUTH1_REFUSED));
}

#[tokio::test]
async fn a_re_opened_session_starts_with_a_fresh_credential() {
    // IBKR's flow is token, then ssodh/init: a 401 while opening then always means refused credentials.
    let (stub, client) = oauth2_client().await;
    let session = Gateway::over(client.clone(), TransportKind::Oauth2);
    session.accounts().await.unwrap();
    client.tickle().await.unwrap();
    assert_eq!(stub.hits(TOKEN), 1);
    session.forget().await;
    session.accounts().await.unwrap();
    assert_eq!((stub.hits(TOKEN), stub.hits("/iserver/auth/ssodh/init")), (2, 2));
}

#[tokio::test]
async fn the_socket_pass_carries_the_held_credential_of_each_scheme_and_follows_a_renewal() {
    // OAuth 1.0a: the access token as `oauth_token`, from the token already held (no second handshake).
    let (stub, client) = oauth1_client().await;
    client.tickle().await.unwrap();
    let pass = client.socket_pass().await.unwrap();
    let server = stub.oauth1.as_ref().unwrap();
    assert_eq!(pass.query.len(), 1);
    assert_eq!(pass.query[0].0, "oauth_token");
    assert_eq!(pass.query[0].1.expose(), server.access_token());
    assert!(pass.headers.is_empty() && pass.session_cookie);
    assert_eq!(stub.hits(LST), 1);

    // OAuth 2.0: the session bearer in `Authorization`, obtained first when none is held.
    let (stub, client) = oauth2_client().await;
    let server = stub.oauth2.as_ref().unwrap();
    let pass = client.socket_pass().await.unwrap();
    assert!(pass.query.is_empty() && pass.session_cookie);
    assert_eq!(pass.headers.len(), 1);
    let (name, first) = (pass.headers[0].0, pass.headers[0].1.expose().to_string());
    assert_eq!(name, "authorization");
    assert!(server.verify(Some(&first)).is_ok(), "a live session bearer");
    assert!(!format!("{pass:?}").contains(&first), "the pass prints no value");
    // IBKR ends the bearer early: a refused call drops it, and the next pass carries the renewed one.
    expire(&stub);
    assert_eq!(client.tickle().await.unwrap_err().status(), Some(401));
    let renewed = client.socket_pass().await.unwrap();
    let second = renewed.headers[0].1.expose();
    assert_ne!(second, first);
    assert!(server.verify(Some(second)).is_ok(), "the renewed bearer");
    assert_eq!(stub.hits(TOKEN), 2, "one renewal");
}
