//! Federated login in the core, on the paper broker behind a stand-in upstream: a right password without
//! a grant goes to the upstream, the return completes the grant and then TradingView's flow, a second
//! login skips the upstream, and every way the return can be misused is refused.

use super::browserless::*;
use crate::support::{config, TestApp};
use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tvbridge::backends::paper::PaperBroker;
use tvbridge::broker::federation::{Federation, FederationStart};
use tvbridge::broker::{
    Broker, BrokerAccount, BrokerError, BrokerResult, Login, LoginKind, LoginOutcome, SessionCtx,
};
use tvbridge::tv;

const UPSTREAM_PAGE: &str = "https://upstream.example/authorize";

/// A stand-in upstream: grants are a set of users, a request token per `begin`, verifier `ok` grants.
#[derive(Default)]
struct Upstream {
    granted: Mutex<HashSet<String>>,
    callbacks: Mutex<Vec<String>>,
    begun: Mutex<u32>,
}

#[async_trait]
impl Federation for Upstream {
    fn upstream_name(&self) -> &'static str {
        "Upstream Co"
    }
    fn authorization_page(&self) -> Option<&str> {
        Some(UPSTREAM_PAGE)
    }
    async fn is_linked(&self, user: &str) -> BrokerResult<bool> {
        Ok(self.granted.lock().unwrap().contains(user))
    }
    async fn begin(&self, _user: &str, callback: &str) -> BrokerResult<FederationStart> {
        let mut begun = self.begun.lock().unwrap();
        *begun += 1;
        self.callbacks.lock().unwrap().push(callback.to_owned());
        let request_token = format!("rt-{begun}");
        Ok(FederationStart {
            redirect_to: format!("{UPSTREAM_PAGE}?oauth_token={request_token}"),
            request_token,
        })
    }
    async fn complete(
        &self,
        user: &str,
        start: &FederationStart,
        query: &[(String, String)],
    ) -> BrokerResult<()> {
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("oauth_token") != Some(start.request_token.as_str()) {
            return Err(BrokerError::Rejected(
                "The answer belongs to another request.".into(),
            ));
        }
        if get("oauth_verifier") != Some("ok") {
            return Err(BrokerError::Rejected(
                "You did not allow the bridge at Upstream Co.".into(),
            ));
        }
        self.granted.lock().unwrap().insert(user.to_owned());
        Ok(())
    }
    async fn unlink(&self, user: &str) -> BrokerResult<()> {
        self.granted.lock().unwrap().remove(user);
        Ok(())
    }
}

/// The paper broker whose users must also grant access at [`Upstream`].
struct Federated {
    inner: PaperBroker,
    upstream: Arc<Upstream>,
}

#[async_trait]
impl Broker for Federated {
    fn login_kind(&self) -> LoginKind {
        self.inner.login_kind()
    }
    fn federation(&self) -> Option<Arc<dyn Federation>> {
        Some(self.upstream.clone())
    }
    async fn login(&self, session_id: &str, login: &Login) -> BrokerResult<LoginOutcome> {
        // Like a real federated backend: no grant, no upstream session.
        if !self.upstream.is_linked(login.name()).await? {
            return Err(BrokerError::LogInAgain("no grant".into()));
        }
        self.inner.login(session_id, login).await
    }
    async fn accounts(&self, s: &SessionCtx) -> BrokerResult<Vec<BrokerAccount>> {
        self.inner.accounts(s).await
    }
    fn durations(&self) -> Vec<tv::DurationConfig> {
        self.inner.durations()
    }
    async fn symbol_mapping(&self) -> BrokerResult<Vec<tv::SymbolMapping>> {
        self.inner.symbol_mapping().await
    }
    async fn instruments(&self, s: &SessionCtx, a: &str) -> BrokerResult<Vec<tv::Instrument>> {
        self.inner.instruments(s, a).await
    }
    async fn state(&self, s: &SessionCtx, a: &str) -> BrokerResult<tv::AccountState> {
        self.inner.state(s, a).await
    }
    async fn orders(&self, s: &SessionCtx, a: &str) -> BrokerResult<Vec<tv::Order>> {
        self.inner.orders(s, a).await
    }
    async fn positions(&self, s: &SessionCtx, a: &str) -> BrokerResult<Vec<tv::Position>> {
        self.inner.positions(s, a).await
    }
    async fn place_order(
        &self,
        s: &SessionCtx,
        a: &str,
        o: tv::PlaceOrder,
        r: Option<&str>,
    ) -> BrokerResult<String> {
        self.inner.place_order(s, a, o, r).await
    }
    async fn modify_order(&self, s: &SessionCtx, a: &str, id: &str, c: tv::ModifyOrder) -> BrokerResult<()> {
        self.inner.modify_order(s, a, id, c).await
    }
    async fn cancel_order(&self, s: &SessionCtx, a: &str, id: &str) -> BrokerResult<()> {
        self.inner.cancel_order(s, a, id).await
    }
    async fn quotes(&self, s: &SessionCtx, a: &str, q: &[String]) -> BrokerResult<Vec<tv::QuoteEntry>> {
        self.inner.quotes(s, a, q).await
    }
}

async fn federated_app() -> (TestApp, Arc<Upstream>) {
    let toml = format!(
        r#"
[auth]
token_secret = "oauth-tests-token-secret-0123456789abcdef"

[oauth]
public_url = "https://bridge.example.com/api"

[[oauth.clients]]
client_id = "{CLIENT}"
name = "TradingView (staging)"
client_secret = "{SECRET}"
redirect_uris = ["{REDIRECT}"]
"#
    );
    let config = config(&toml);
    let tvbridge::config::BackendConfig::Paper(paper) = config.backend.clone() else {
        unreachable!("the test configuration runs the paper broker")
    };
    let upstream = Arc::new(Upstream::default());
    let broker = Arc::new(Federated {
        inner: PaperBroker::start(paper).await.unwrap(),
        upstream: upstream.clone(),
    });
    (TestApp::with_broker(config, broker), upstream)
}

/// The login up to the redirect to the upstream: returns the callback URL the upstream was given.
async fn to_upstream(
    app: &TestApp,
    upstream: &Upstream,
    jar: &mut Jar,
    login: &str,
    password: &str,
) -> String {
    let page = authorize(app, jar, &authorize_query(CLIENT, REDIRECT, "code", &[])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("Upstream Co"),
        "the page says where a first login continues"
    );
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("https://upstream.example"),
        "the form may redirect to the upstream: {csp}"
    );
    let answer = submit(app, jar, &page, login, password).await;
    let location = answer.location();
    assert!(
        location.starts_with(&format!("{UPSTREAM_PAGE}?oauth_token=rt-")),
        "{location}"
    );
    let callback = upstream.callbacks.lock().unwrap().last().unwrap().clone();
    assert!(
        callback.starts_with("https://bridge.example.com/api/oauth/federated/callback?flow="),
        "{callback}"
    );
    callback
}

/// The upstream sends the browser back: `GET` of the callback path (made relative) with `extra`.
async fn come_back(app: &TestApp, jar: &mut Jar, callback: &str, extra: &str) -> Raw {
    let path = callback.trim_start_matches("https://bridge.example.com/api");
    let raw = send(app, Method::GET, &format!("{path}&{extra}"), &jar.0, None, &[]).await;
    jar.keep(&raw);
    raw
}

#[tokio::test]
async fn a_first_login_grants_at_the_upstream_then_trades_and_a_second_skips_it() {
    let (app, upstream) = federated_app().await;
    let mut jar = Jar::default();
    let callback = to_upstream(&app, &upstream, &mut jar, "demo", "demo").await;
    let back = come_back(&app, &mut jar, &callback, "oauth_token=rt-1&oauth_verifier=ok").await;
    let redirect = back.location();
    assert!(redirect.starts_with(&format!("{REDIRECT}?")), "{redirect}");
    let got = params(&redirect, '?');
    assert_eq!(got["state"], "st-123 &=?");
    let answer = exchange(&app, &got["code"], None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let access = answer.json()["access_token"].as_str().unwrap().to_owned();
    let accounts = app.get(&access, "/accounts", "AccountsResponse").await;
    assert!(accounts.as_array().unwrap().iter().any(|a| a["id"] == "demo-net"));
    assert!(upstream.granted.lock().unwrap().contains("demo"));

    // Another browser, same user: the grant is stored, so the form answers TradingView directly.
    let mut other = Jar::default();
    let page = authorize(&app, &mut other, &authorize_query(CLIENT, REDIRECT, "code", &[])).await;
    let redirect = submit(&app, &mut other, &page, "demo", "demo").await.location();
    assert!(
        redirect.starts_with(&format!("{REDIRECT}?")),
        "no second visit to the upstream: {redirect}"
    );
    assert_eq!(*upstream.begun.lock().unwrap(), 1);

    // Password login over the API works now too.
    let reply = app
        .send(Method::POST, "/authorize", None, Some("login=demo&password=demo"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn a_user_without_a_grant_is_told_how_to_give_it_and_a_wrong_password_never_reaches_the_upstream() {
    let (app, upstream) = federated_app().await;
    let reply = app
        .send(Method::POST, "/authorize", None, Some("login=demo&password=demo"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "TradingView's error envelope");
    assert_eq!(reply.body["s"], "error");
    let errmsg = reply.body["errmsg"].as_str().unwrap();
    assert!(errmsg.contains("TradingView's login page"), "{errmsg}");

    let mut jar = Jar::default();
    let page = authorize(&app, &mut jar, &authorize_query(CLIENT, REDIRECT, "code", &[])).await;
    let wrong = submit(&app, &mut jar, &page, "demo", "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::OK, "the form again");
    assert!(wrong.text.contains("Wrong login or password"));
    assert_eq!(
        *upstream.begun.lock().unwrap(),
        0,
        "no request token for a wrong password"
    );
}

#[tokio::test]
async fn the_return_is_refused_when_denied_reused_or_in_another_browser() {
    let (app, upstream) = federated_app().await;

    // Denied at the upstream: a clear page, no grant, no session.
    let mut jar = Jar::default();
    let callback = to_upstream(&app, &upstream, &mut jar, "demo", "demo").await;
    let denied = come_back(&app, &mut jar, &callback, "oauth_token=rt-1&denied=1").await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(denied.text.contains("Access was not granted"), "{}", denied.text);
    assert!(denied.text.contains("You did not allow the bridge"));
    assert!(!upstream.granted.lock().unwrap().contains("demo"));

    // The same return again: the flow was used.
    let again = come_back(&app, &mut jar, &callback, "oauth_token=rt-1&oauth_verifier=ok").await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(
        again.text.contains("already completed or has expired"),
        "{}",
        again.text
    );

    // A return opened in another browser (login CSRF) is refused and grants nothing.
    let callback = to_upstream(&app, &upstream, &mut jar, "demo", "demo").await;
    let mut stranger = Jar::default();
    let hijack = come_back(
        &app,
        &mut stranger,
        &callback,
        "oauth_token=rt-2&oauth_verifier=ok",
    )
    .await;
    assert_eq!(hijack.status, StatusCode::FORBIDDEN);
    assert!(hijack.text.contains("another browser"), "{}", hijack.text);
    assert!(!upstream.granted.lock().unwrap().contains("demo"));

    // A token of another request is refused by the backend's check.
    let callback = to_upstream(&app, &upstream, &mut jar, "demo", "demo").await;
    let swapped = come_back(&app, &mut jar, &callback, "oauth_token=rt-1&oauth_verifier=ok").await;
    assert_eq!(swapped.status, StatusCode::FORBIDDEN);

    // Garbage: no flow, a forged flow.
    let none = send(
        &app,
        Method::GET,
        "/oauth/federated/callback?oauth_token=x",
        &jar.0,
        None,
        &[],
    )
    .await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    let forged = send(
        &app,
        Method::GET,
        "/oauth/federated/callback?flow=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&oauth_verifier=ok",
        &jar.0,
        None,
        &[],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!upstream.granted.lock().unwrap().contains("demo"));
}
