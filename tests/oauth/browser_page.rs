//! The login page in a real Chromium: autofocus, keyboard-only entry (type, Tab, type, Enter), the fields
//! the form posts, the error state's alert, the inline stylesheet allowed by the CSP hash, and the
//! CSP `form-action` rule on the redirect that answers the POST. Screenshots go to
//! `target/test-artifacts/oauth-*.png`.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use fakes::browser::fantoccini::key::Key;
use fakes::browser::fantoccini::Locator;
use fakes::browser::{Browser, Options};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tvbridge::http::oauth::locale::Locale;
use tvbridge::http::oauth::page::{
    error_page, html_response, login_page, login_response, ErrorKind, ErrorPage, FederatedButton, LoginError,
    LoginPage,
};

/// What the tiny app saw: the forms posted to `/login` and the hits on the callback server.
#[derive(Default)]
struct Seen {
    posts: Mutex<Vec<HashMap<String, String>>>,
    callbacks: Mutex<Vec<String>>,
}

#[derive(Clone)]
struct App {
    seen: Arc<Seen>,
    /// Where the POST redirects to: another origin, like TradingView's redirect_uri.
    callback: String,
    /// Whether the login page's CSP lists the callback's origin in `form-action`.
    allow_callback: bool,
}

fn page(error: Option<LoginError>, login: &'static str) -> LoginPage<'static> {
    LoginPage {
        locale: Locale::from_lang(Some("en")),
        client_name: "TradingView",
        action: "/login",
        request_id: "req-7f3a",
        csrf: "csrf-91c2",
        login,
        error,
        federated: None,
        upstream: None,
    }
}

async fn show_login(State(app): State<App>) -> Response {
    let origin = app.callback.trim_end_matches("/callback").to_owned();
    let targets: Vec<&str> = if app.allow_callback {
        vec![origin.as_str()]
    } else {
        vec![]
    };
    login_response(StatusCode::OK, login_page(&page(None, "")), &targets)
}

async fn show_error() -> Response {
    let html = login_page(&LoginPage {
        federated: Some(FederatedButton {
            url: "/upstream/capital",
            label: "Log in with Capital.com",
        }),
        ..page(Some(LoginError::WrongPassword), "alice@example.com")
    });
    html_response(StatusCode::UNAUTHORIZED, html)
}

async fn show_error_page() -> Response {
    let html = error_page(&ErrorPage {
        locale: Locale::En,
        kind: ErrorKind::BadRedirectUri,
        detail:
            "The redirect_uri https://evil.example/cb is not registered for the application \"TradingView\".",
    });
    html_response(ErrorKind::BadRedirectUri.status(), html)
}

async fn post_login(State(app): State<App>, Form(form): Form<HashMap<String, String>>) -> Response {
    app.seen.posts.lock().expect("not poisoned").push(form);
    Redirect::to(&format!("{}?code=c0de&state=s1", app.callback)).into_response()
}

async fn callback(State(seen): State<Arc<Seen>>, uri: axum::http::Uri) -> &'static str {
    seen.callbacks.lock().expect("not poisoned").push(uri.to_string());
    "callback reached"
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// The login app and, on another port (another origin), the callback; returns the login app's base URL.
async fn start(allow_callback: bool) -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let callback_addr = serve(
        Router::new()
            .route("/callback", get(callback))
            .with_state(seen.clone()),
    )
    .await;
    let app = App {
        seen: seen.clone(),
        callback: format!("http://{callback_addr}/callback"),
        allow_callback,
    };
    let router = Router::new()
        .route("/login", get(show_login).post(post_login))
        .route("/login-error", get(show_error))
        .route("/error", get(show_error_page))
        .with_state(app);
    (format!("http://{}", serve(router).await), seen)
}

async fn active_id(browser: &Browser) -> String {
    let active = browser
        .client()
        .active_element()
        .await
        .expect("an active element");
    active.attr("id").await.expect("its id").unwrap_or_default()
}

/// Waits until `check` holds (the browser navigates on its own time).
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..100 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_login_posts_every_field_and_follows_the_redirect() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (base, seen) = start(true).await;
    let client = browser.client();
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("the login page loads");
    assert_eq!(client.title().await.expect("a title"), "Log in · tvbridge");
    assert_eq!(
        active_id(&browser).await,
        "login",
        "autofocus puts the cursor in the login field"
    );

    // The inline stylesheet ran: the CSP's hash matches it (a blocked sheet leaves the card unstyled).
    let radius = client
        .execute(
            "return getComputedStyle(document.querySelector('.card')).borderTopLeftRadius",
            vec![],
        )
        .await
        .expect("a computed style");
    assert_eq!(radius.as_str(), Some("12px"), "the stylesheet is applied");
    browser.screenshot("oauth-login.png").await;

    browser
        .type_text("alice@example.com")
        .await
        .expect("typing the login");
    browser.press(Key::Tab).await.expect("Tab");
    assert_eq!(active_id(&browser).await, "password", "Tab moves to the password");
    browser
        .type_text("correct horse")
        .await
        .expect("typing the password");
    browser.screenshot("oauth-login-typing.png").await;
    browser.press(Key::Enter).await.expect("Enter submits");

    eventually("the POST", || {
        !seen.posts.lock().expect("not poisoned").is_empty()
    })
    .await;
    let form = seen.posts.lock().expect("not poisoned")[0].clone();
    assert_eq!(form.get("login").map(String::as_str), Some("alice@example.com"));
    assert_eq!(form.get("password").map(String::as_str), Some("correct horse"));
    assert_eq!(form.get("request").map(String::as_str), Some("req-7f3a"));
    assert_eq!(form.get("csrf").map(String::as_str), Some("csrf-91c2"));
    assert_eq!(form.len(), 4, "nothing else is posted: {:?}", form.keys());

    // The redirect to another origin is followed when that origin is in `form-action`.
    eventually("the callback", || {
        !seen.callbacks.lock().expect("not poisoned").is_empty()
    })
    .await;
    assert_eq!(
        seen.callbacks.lock().expect("not poisoned")[0],
        "/callback?code=c0de&state=s1"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_blocks_a_redirect_to_an_origin_missing_from_form_action() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (base, seen) = start(false).await;
    let client = browser.client();
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("the login page loads");
    browser.type_text("alice").await.expect("typing the login");
    browser.press(Key::Tab).await.expect("Tab");
    browser.type_text("pw").await.expect("typing the password");
    browser.press(Key::Enter).await.expect("Enter submits");
    eventually("the POST", || {
        !seen.posts.lock().expect("not poisoned").is_empty()
    })
    .await;
    // Give the browser ample time to follow the redirect if it were going to.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        seen.callbacks.lock().expect("not poisoned").is_empty(),
        "form-action 'self' alone stops the redirect to the client's origin: handlers must pass it to login_response"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_error_state_is_announced_and_looks_right_on_a_phone() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (base, _seen) = start(true).await;
    let client = browser.client();
    client
        .goto(&format!("{base}/login-error"))
        .await
        .expect("the error state loads");
    let alert = client
        .find(Locator::Css("[role=alert]"))
        .await
        .expect("an alert region");
    assert_eq!(alert.text().await.expect("its text"), "Wrong login or password.");
    let login = client.find(Locator::Id("login")).await.expect("the login field");
    assert_eq!(
        login.prop("value").await.expect("value").as_deref(),
        Some("alice@example.com")
    );
    for id in ["login", "password"] {
        let field = client.find(Locator::Id(id)).await.expect("a field");
        assert_eq!(
            field.attr("aria-invalid").await.expect("attr").as_deref(),
            Some("true"),
            "{id}"
        );
        assert_eq!(
            field.attr("aria-describedby").await.expect("attr").as_deref(),
            Some("login-error")
        );
    }
    assert_eq!(
        active_id(&browser).await,
        "password",
        "the login is kept: the password has the focus"
    );
    browser.screenshot("oauth-login-error.png").await;

    client
        .set_window_size(390, 844)
        .await
        .expect("a phone-sized window");
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("the login page loads");
    let overflow = client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth",
            vec![],
        )
        .await
        .expect("a width check");
    assert_eq!(
        overflow.as_bool(),
        Some(true),
        "no horizontal scrolling on a phone"
    );
    browser.screenshot("oauth-login-phone.png").await;

    client
        .set_window_size(1280, 900)
        .await
        .expect("the desktop window again");
    client
        .goto(&format!("{base}/error"))
        .await
        .expect("the error page loads");
    let heading = client.find(Locator::Css("h1")).await.expect("a heading");
    assert_eq!(
        heading.text().await.expect("text"),
        "This application cannot log in here"
    );
    assert!(
        client.find(Locator::Css("form")).await.is_err(),
        "the error page has no form"
    );
    browser.screenshot("oauth-error.png").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dark_scheme_applies() {
    let Some(browser) = Browser::start_with(Options {
        dark: true,
        ..Options::default()
    })
    .await
    else {
        return;
    };
    let (base, _seen) = start(true).await;
    let client = browser.client();
    client
        .goto(&format!("{base}/login-error"))
        .await
        .expect("the error state loads");
    let background = client
        .execute("return getComputedStyle(document.body).backgroundColor", vec![])
        .await
        .expect("a computed style");
    assert_eq!(
        background.as_str(),
        Some("rgb(13, 17, 23)"),
        "the dark palette is used"
    );
    browser.screenshot("oauth-login-dark.png").await;
    browser.close().await;
}
