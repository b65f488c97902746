//! IBKR's WebSocket through the bridge's HTTP API on every transport (Client Portal gateway, OAuth 1.0a,
//! OAuth 2.0), on a real socket: TradingView's order stream hears an order fill that only `sor` can
//! announce (the hub polls once a minute here) and a cancel, the fake never lists orders more than once
//! per 5 s, and `/stream/quotes` follows the market through `smd`. Over OAuth a dropped socket whose
//! credential expired meanwhile is reopened with the renewed one, and the streams resume, with no secret
//! in any log line.

use super::oauth::{parts, Scheme};
use crate::support::fake_ibkr::{FakeIbkr, FakeIbkrOptions};
use crate::support::ibkr::{self, AAPL, ACCT};
use crate::support::live::{Lines, LiveApp};
use crate::support::log_capture::LogCapture;
use serde_json::Value;
use std::time::Duration;

/// Generous: the fake answers in milliseconds, but the machine may be busy, and a refresh after a push
/// may wait out IBKR's 5 s.
const PATIENCE: Duration = Duration::from_secs(20);
/// The streams' hub: nothing cached, pings every second, and polls only once a minute, so that a change
/// seen within a test came through the socket.
const HUB: &str = "[hub]\nfreshness_ms = 0\npoll_interval_ms = 60000\nping_secs = 1\n";

/// How the bridge reaches the fake.
#[derive(Clone, Copy, Debug)]
enum Via {
    Gateway,
    Oauth(Scheme),
}

/// The fake and the bridge on a real socket.
async fn live(via: Via) -> (FakeIbkr, LiveApp) {
    match via {
        Via::Gateway => {
            // IBKR's own limits at the fake (10 requests/s, the order list once per 5 s).
            let fake = FakeIbkr::start(FakeIbkrOptions {
                accounts: ibkr::options().accounts,
                ..FakeIbkrOptions::default()
            })
            .await;
            let config = ibkr::config(&fake, "", HUB);
            let broker = ibkr::broker(&config).await;
            (fake, LiveApp::with_broker(config, broker).await)
        }
        Via::Oauth(scheme) => {
            let (fake, config, broker) = parts(scheme, HUB).await;
            (fake, LiveApp::with_broker(config, broker).await)
        }
    }
}

/// Whether a stream line lists order `id` with `status`.
fn lists(line: &Value, id: &str, status: &str) -> bool {
    line.as_array()
        .is_some_and(|orders| orders.iter().any(|o| o["id"] == id && o["status"] == status))
}

/// Places an order through the bridge and returns its id.
async fn place(app: &LiveApp, token: &str, form: &str) -> String {
    let placed = app
        .form(
            "POST",
            &format!("/accounts/{ACCT}/orders?locale=en"),
            Some(token),
            form,
        )
        .await;
    placed["d"]["orderId"]
        .as_str()
        .unwrap_or_else(|| panic!("placed: {placed}"))
        .to_string()
}

/// Waits until the bridge holds a socket at the fake, and a moment more for its topics.
async fn socket_open(fake: &FakeIbkr) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while fake.ws_connections() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no socket opened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// Moves AAPL a cent at a time from `from` until a quote line shows the bid (a socket being replaced
/// misses some); returns the bid shown.
async fn quote_follows(fake: &FakeIbkr, quotes: &mut Lines, from: f64) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut cents = (from * 100.0).round() as i64;
    loop {
        assert!(tokio::time::Instant::now() < deadline, "no quote from {from}");
        let bid = format!("{}.{:02}", cents / 100, cents % 100);
        let ask = format!("{}.{:02}", (cents + 2) / 100, (cents + 2) % 100);
        fake.set_price(AAPL, bid.parse().unwrap(), ask.parse().unwrap());
        let seen = quotes
            .next_matching(Duration::from_millis(700), |l| l.to_string().contains(&bid))
            .await;
        if seen.is_some() {
            return bid;
        }
        cents += 1;
    }
}

/// The order stream hears a fill (announced by `sor` only) and a cancel; quotes come from `smd`; the
/// order list is read at most once per 5 s.
async fn orders_and_quotes_stream_through_the_socket(via: Via) {
    let (fake, app) = live(via).await;
    let token = app.login().await;
    let mut orders = app
        .open(&format!("/accounts/{ACCT}/stream/orders?locale=en"), &token)
        .await;
    let snapshot = orders.next(PATIENCE).await.expect("the orders snapshot");
    assert!(snapshot.is_array(), "{snapshot}");
    let mut quotes = app
        .open(
            &format!("/stream/quotes?locale=en&accountId={ACCT}&symbols=AAPL"),
            &token,
        )
        .await;
    socket_open(&fake).await;

    // A limit buy below the market works; the market then falls through it at the fake, which fills it:
    // nothing but `sor` tells the bridge (the hub polls once a minute and the bridge wrote nothing).
    let limit = place(
        &app,
        &token,
        "instrument=AAPL&qty=5&side=buy&type=limit&limitPrice=150",
    )
    .await;
    let working = orders
        .next_matching(PATIENCE, |l| lists(l, &limit, "working"))
        .await;
    assert!(working.is_some(), "{via:?}: the order never showed working");
    fake.set_price(AAPL, "149.37".parse().unwrap(), "149.39".parse().unwrap());
    let filled = orders
        .next_matching(PATIENCE, |l| lists(l, &limit, "filled"))
        .await;
    assert!(filled.is_some(), "{via:?}: the fill never reached the stream");
    // The same move reached the quote stream through `smd`.
    let quoted = quotes
        .next_matching(PATIENCE, |l| l.to_string().contains("149.37"))
        .await;
    assert!(quoted.is_some(), "{via:?}: no streamed quote");

    // Another limit order, cancelled: the stream shows it go.
    let cancelled = place(
        &app,
        &token,
        "instrument=AAPL&qty=5&side=buy&type=limit&limitPrice=100",
    )
    .await;
    let shown = orders
        .next_matching(PATIENCE, |l| lists(l, &cancelled, "working"))
        .await;
    assert!(shown.is_some(), "{via:?}: the second order never showed");
    let answer = app
        .form(
            "DELETE",
            &format!("/accounts/{ACCT}/orders/{cancelled}?locale=en"),
            Some(&token),
            "",
        )
        .await;
    assert_eq!(answer["s"], "ok", "{answer}");
    let gone = orders
        .next_matching(PATIENCE, |l| lists(l, &cancelled, "cancelled"))
        .await;
    assert!(gone.is_some(), "{via:?}: the cancel never reached the stream");

    assert_eq!(
        fake.max_calls_in_window("GET", "/iserver/account/orders", Duration::from_millis(4_900)),
        1,
        "{via:?}: never more than IBKR's one order listing per 5 s"
    );
    assert_eq!(fake.throttled(), 0, "{via:?}: nothing answered 429");
    assert!(fake.calls("GET", "/ws") >= 1);
}

#[tokio::test]
async fn gateway_orders_and_quotes_stream_through_the_socket() {
    orders_and_quotes_stream_through_the_socket(Via::Gateway).await;
}

#[tokio::test]
async fn oauth1_orders_and_quotes_stream_through_the_socket() {
    orders_and_quotes_stream_through_the_socket(Via::Oauth(Scheme::One)).await;
}

#[tokio::test]
async fn oauth2_orders_and_quotes_stream_through_the_socket() {
    orders_and_quotes_stream_through_the_socket(Via::Oauth(Scheme::Two)).await;
}

/// What the OAuth upgrade carries that must never be logged: OAuth 1.0a's access token, or (OAuth 2.0)
/// any bearer, whose values are the fake's own.
fn secret(fake: &FakeIbkr) -> String {
    match fake.oauth().and_then(|auth| auth.oauth1_client()) {
        Some(c) => c.access_token.clone(),
        None => "Bearer ".to_string(),
    }
}

/// The socket drops while the OAuth credential has expired: the bridge renews it (through the tickle's
/// 401), opens the socket with the new one (the fake refuses no upgrade), asks for every topic again,
/// and quotes and order pushes resume. Nothing logged shows the token.
async fn a_dropped_socket_reopens_with_the_renewed_credential(scheme: Scheme) {
    let logs = LogCapture::start("tvbridge");
    let (fake, app) = live(Via::Oauth(scheme)).await;
    let auth = fake.oauth().unwrap();
    let token = app.login().await;
    let mut orders = app
        .open(&format!("/accounts/{ACCT}/stream/orders?locale=en"), &token)
        .await;
    orders.next(PATIENCE).await.expect("the orders snapshot");
    let mut quotes = app
        .open(
            &format!("/stream/quotes?locale=en&accountId={ACCT}&symbols=AAPL"),
            &token,
        )
        .await;
    socket_open(&fake).await;
    quote_follows(&fake, &mut quotes, 181.00).await;
    let upgrades = fake.calls("GET", "/ws");

    auth.expire_now();
    // The first reconnection fails once at the fake's door, as a busy host may: retried after back-off.
    fake.fail_next("GET", "/ws", 503, 1);
    fake.drop_websockets();
    let resumed = quote_follows(&fake, &mut quotes, 183.00).await;
    assert!(resumed.starts_with("183"), "{resumed}");
    assert!(
        fake.calls("GET", "/ws") >= upgrades + 2,
        "the refused upgrade, then the one that worked"
    );
    assert!(
        auth.refusals(fakes::ibkr::RefusalReason::Expired) >= 1,
        "{scheme:?}: the expired credential was refused, so renewed"
    );
    let refused_upgrades = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/ws" && r.status == 401)
        .count();
    assert_eq!(
        refused_upgrades, 0,
        "{scheme:?}: no upgrade with the stale credential"
    );
    let (one, two) = super::oauth::one_login(scheme);
    assert_eq!(
        super::oauth::logins(&fake),
        (2 * one, 2 * two),
        "{scheme:?}: one renewal"
    );

    // `sor` was asked for again on the new socket: a fill at the fake reaches the order stream.
    let limit = place(
        &app,
        &token,
        "instrument=AAPL&qty=2&side=buy&type=limit&limitPrice=170",
    )
    .await;
    fake.set_price(AAPL, "169.50".parse().unwrap(), "169.52".parse().unwrap());
    let filled = orders
        .next_matching(PATIENCE, |l| lists(l, &limit, "filled"))
        .await;
    assert!(filled.is_some(), "{scheme:?}: no fill after the reconnection");

    let secret = secret(&fake);
    assert!(
        logs.lines_with(&secret).is_empty(),
        "{scheme:?}: a secret was logged"
    );
    assert!(
        logs.lines_with("oauth_token=").is_empty(),
        "{scheme:?}: the socket URL with its token was logged"
    );
}

#[tokio::test]
async fn oauth1_a_dropped_socket_reopens_with_the_renewed_live_session_token() {
    a_dropped_socket_reopens_with_the_renewed_credential(Scheme::One).await;
}

#[tokio::test]
async fn oauth2_a_dropped_socket_reopens_with_the_renewed_bearer() {
    a_dropped_socket_reopens_with_the_renewed_credential(Scheme::Two).await;
}
