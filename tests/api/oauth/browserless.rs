//! A browser without a browser: the authorize request, the login form (its hidden fields and cookies) and
//! the token endpoint driven through the router, cookies kept by hand.

use crate::support::{config, TestApp};
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use tvbridge::auth::clock::Clock;

pub const CLIENT: &str = "tv-staging";
pub const SECRET: &str = "tv-staging-secret-0123456789";
pub const REDIRECT: &str = "https://www.tradingview.com/oauth-redirect/staging";
pub const OTHER_CLIENT: &str = "tv-production";
pub const OTHER_SECRET: &str = "tv-production-secret-987654";
pub const OTHER_REDIRECT: &str = "https://www.tradingview.com/oauth-redirect/production";
pub const LOGOUT_REDIRECT: &str = "https://www.tradingview.com/trading/logout-redirect/";
pub const FEED_CLIENT: &str = "tv-datafeed";
pub const FEED_SECRET: &str = "tv-datafeed-secret-abcdefgh";
pub const FEED_URN: &str = "urn:tvbridge:oauth:grant-type:personal-jwt";
/// The token URL assertions must name (`oauth.public_url` + `oauth.token_path`).
pub const TOKEN_URL: &str = "https://bridge.example.com/api/oauth/token";
/// Access tokens live 20 minutes, refresh tokens a day, the refresh grace 2 minutes.
pub const ACCESS_TTL: u64 = 1200;
pub const REFRESH_TTL: u64 = 86_400;
pub const GRACE: u64 = 120;

/// An answer: status, headers, body text.
pub struct Raw {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Raw {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// The `Location` of a redirect.
    pub fn location(&self) -> String {
        assert_eq!(
            self.status,
            StatusCode::SEE_OTHER,
            "not a redirect: {}",
            self.text
        );
        self.headers[header::LOCATION].to_str().unwrap().to_owned()
    }

    /// `name=value` of each `Set-Cookie` (attributes dropped).
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }
}

/// The app with three OAuth clients (staging, production, ServerOAuth2Bearer) on a manual clock that
/// starts at the wall clock (the test certificate's validity is judged by it).
pub async fn app() -> (TestApp, Clock) {
    app_with("").await
}

pub async fn app_with(extra: &str) -> (TestApp, Clock) {
    let cert = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/oauth/tradingview.cert.pem"
    );
    let toml = format!(
        r#"
[auth]
token_secret = "oauth-tests-token-secret-0123456789abcdef"

[oauth]
public_url = "https://bridge.example.com/api"
refresh_grace_secs = {GRACE}
{extra}

[[oauth.clients]]
client_id = "{CLIENT}"
name = "TradingView (staging)"
client_secret = "{SECRET}"
redirect_uris = ["{REDIRECT}"]
logout_redirect_uris = ["{LOGOUT_REDIRECT}"]
flows = ["code", "implicit"]
access_token_ttl_secs = {ACCESS_TTL}
refresh_token_ttl_secs = {REFRESH_TTL}

[[oauth.clients]]
client_id = "{OTHER_CLIENT}"
client_secret = "{OTHER_SECRET}"
redirect_uris = ["{OTHER_REDIRECT}"]

[[oauth.clients]]
client_id = "{FEED_CLIENT}"
client_secret = "{FEED_SECRET}"
redirect_uris = []
flows = ["server_bearer"]
assertion_grant_type = "{FEED_URN}"
certificate_file = "{cert}"
assertion_users = ["demo"]
"#
    );
    let clock = Clock::manual(tvbridge::auth::now_secs());
    (
        TestApp::with_auth_clock(config(&toml), clock.clone()).await,
        clock,
    )
}

/// Sends a request to the app: `cookies` as a `Cookie` header, `body` as a form.
pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    cookies: &[(String, String)],
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Raw {
    let mut req = Request::builder().method(method).uri(format!("/api{path}"));
    if !cookies.is_empty() {
        let jar: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        req = req.header(header::COOKIE, jar.join("; "));
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Body::from(body.unwrap_or_default().to_owned())).unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Raw {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// The query string of an authorization request.
pub fn authorize_query(client: &str, redirect: &str, response_type: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("response_type", response_type),
        ("client_id", client),
        ("redirect_uri", redirect),
        ("scope", "read trade"),
        ("state", "st-123 &=?"),
    ];
    pairs.extend_from_slice(extra);
    serde_urlencoded::to_string(&pairs).unwrap()
}

/// The `value` of the `<input>` named `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no input {name} in:\n{html}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    let tag = &html[start..end];
    let value = tag
        .split("value=\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no value in {tag}"));
    value[..value.find('"').unwrap()].to_owned()
}

/// A browser's cookie jar: cookies set by answers replace those of the same name.
#[derive(Default, Clone)]
pub struct Jar(pub Vec<(String, String)>);

impl Jar {
    pub fn keep(&mut self, raw: &Raw) {
        for (k, v) in raw.cookies() {
            self.0.retain(|(name, _)| *name != k);
            if !v.is_empty() {
                self.0.push((k, v));
            }
        }
    }
}

/// `GET /oauth/authorize?query` with the jar's cookies.
pub async fn authorize(app: &TestApp, jar: &mut Jar, query: &str) -> Raw {
    let raw = send(
        app,
        Method::GET,
        &format!("/oauth/authorize?{query}"),
        &jar.0,
        None,
        &[],
    )
    .await;
    jar.keep(&raw);
    raw
}

/// Submits the login form `page` showed, as `login`/`password`.
pub async fn submit(app: &TestApp, jar: &mut Jar, page: &Raw, login: &str, password: &str) -> Raw {
    let form = serde_urlencoded::to_string([
        ("request", hidden(&page.text, "request").as_str()),
        ("csrf", hidden(&page.text, "csrf").as_str()),
        ("login", login),
        ("password", password),
    ])
    .unwrap();
    let raw = send(app, Method::POST, "/oauth/login", &jar.0, Some(&form), &[]).await;
    jar.keep(&raw);
    raw
}

/// The whole browser part of a flow: authorize, the form, the login; returns the redirect.
pub async fn log_in(app: &TestApp, jar: &mut Jar, query: &str) -> String {
    let page = authorize(app, jar, query).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    submit(app, jar, &page, "demo", "demo").await.location()
}

/// The parameters of a redirect's query (code flow) or fragment (implicit flow).
pub fn params(url: &str, separator: char) -> std::collections::HashMap<String, String> {
    let tail = url.split_once(separator).map(|(_, t)| t).unwrap_or("");
    let tail = tail.split('#').next().unwrap_or("");
    serde_urlencoded::from_str::<Vec<(String, String)>>(tail)
        .unwrap()
        .into_iter()
        .collect()
}

/// `POST /oauth/token` with `form` (and extra headers).
pub async fn token(app: &TestApp, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Raw {
    let body = serde_urlencoded::to_string(form).unwrap();
    send(app, Method::POST, "/oauth/token", &[], Some(&body), headers).await
}

/// Exchanges `code` as the staging client.
pub async fn exchange(app: &TestApp, code: &str, verifier: Option<&str>) -> Raw {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
        ("code", code),
        ("redirect_uri", REDIRECT),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    token(app, &form, &[]).await
}

/// Refreshes with `refresh_token` as TradingView does (secret only, no client id).
pub async fn refresh(app: &TestApp, refresh_token: &str) -> Raw {
    token(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_secret", SECRET),
        ],
        &[],
    )
    .await
}

/// The Code flow from the start: returns the token answer.
pub async fn code_flow(app: &TestApp, jar: &mut Jar) -> Value {
    let query = authorize_query(CLIENT, REDIRECT, "code", &[]);
    let redirect = log_in(app, jar, &query).await;
    let code = params(&redirect, '?')["code"].clone();
    let answer = exchange(app, &code, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()
}

/// The status of `GET /accounts` with `token` (200 or 401).
pub async fn accounts_status(app: &TestApp, token: &str) -> StatusCode {
    app.send(Method::GET, "/accounts", Some(token), None).await.status
}

/// The RFC 6749 §5.2 `error` of a refused token request, checking its status and headers.
#[track_caller]
pub fn oauth_error(raw: &Raw, status: StatusCode) -> String {
    assert_eq!(raw.status, status, "{}", raw.text);
    assert_eq!(raw.headers["cache-control"], "no-store");
    let body = raw.json();
    assert!(body["error_description"].is_string(), "{body}");
    body["error"].as_str().unwrap().to_owned()
}
