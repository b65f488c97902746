//! The bridge on IBKR over OAuth 1.0a and OAuth 2.0 against the fake's OAuth modes: a TradingView user
//! trades end to end on one live session token (or one access token and one SSO session), an expired
//! credential is renewed exactly once without the user noticing, and a revoked one is refused with an
//! answer naming `[backend.oauth1]` / `[backend.oauth2]` while IBKR is left alone for the hold. The
//! secrets reach the bridge through `resolve_with`'s environment, never the process environment.

mod credentials;

use crate::support::{self, dec, TestApp};
use axum::http::Method;
use fakes::ibkr::{FakeIbkr, FakeIbkrOptions, FakeQuestion, RefusalReason};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tvbridge::backends::ibkr::client::IbkrClient;
use tvbridge::backends::ibkr::IbkrBroker;
use tvbridge::config::{BackendConfig, Config};

/// The fake's paper account.
const ACCOUNT: &str = "DU1234567";
/// AAPL's conid at IBKR (and the fake).
const AAPL: i64 = 265_598;

/// Which OAuth the bridge and the fake speak.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scheme {
    One,
    Two,
}

/// The fake in `scheme`'s mode without the per-endpoint 5 s pacing (the bridge paces itself; these tests
/// are about credentials and trading, and must stay fast), with IBKR's usual order questions.
async fn fake(scheme: Scheme) -> FakeIbkr {
    let base = match scheme {
        Scheme::One => FakeIbkrOptions::oauth1("TESTCONS"),
        Scheme::Two => FakeIbkrOptions::oauth2("tvbridge-test-client"),
    };
    FakeIbkr::start(FakeIbkrOptions {
        endpoint_pacing: Vec::new(),
        questions: FakeQuestion::defaults(),
        ..base
    })
    .await
}

/// The `[backend]` table (and its OAuth table) pointed at `fake`, confirming the size question (`o383`)
/// only, and the environment holding the secrets.
fn backend(fake: &FakeIbkr, scheme: Scheme, extra: &str) -> (String, HashMap<String, String>) {
    let auth = fake.oauth().expect("an OAuth mode");
    let origin = fake.origin();
    let transport = match scheme {
        Scheme::One => "oauth1",
        Scheme::Two => "oauth2",
    };
    let common = format!(
        r#"[backend]
kind = "ibkr"
transport = "{transport}"
base_url = "{base}"
auto_confirm = ["o383"]
{extra}
[[backend.symbols]]
symbol = "AAPL"
conid = {AAPL}
tradingview = "NASDAQ:AAPL"
"#,
        base = fake.base_url
    );
    match scheme {
        Scheme::One => {
            let c = auth.oauth1_client().expect("OAuth 1.0a material");
            let toml = format!(
                r#"{common}[backend.oauth1]
consumer_key_env = "T_IBKR_CONSUMER_KEY"
access_token_env = "T_IBKR_ACCESS_TOKEN"
access_token_secret_env = "T_IBKR_ACCESS_TOKEN_SECRET"
signature_key_file = "{sig}"
encryption_key_file = "{enc}"
dh_param_file = "{dh}"
realm = "{realm}"
"#,
                sig = c.signature_key_file.display(),
                enc = c.encryption_key_file.display(),
                dh = c.dh_param_file.display(),
                realm = c.realm,
            );
            let env = [
                ("T_IBKR_CONSUMER_KEY", c.consumer_key.clone()),
                ("T_IBKR_ACCESS_TOKEN", c.access_token.clone()),
                (
                    "T_IBKR_ACCESS_TOKEN_SECRET",
                    c.encrypted_access_token_secret.clone(),
                ),
            ];
            (toml, env.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        }
        Scheme::Two => {
            let c = auth.oauth2_client().expect("OAuth 2.0 material");
            let toml = format!(
                r#"{common}[backend.oauth2]
client_id_env = "T_IBKR_CLIENT_ID"
key_id = "{kid}"
private_key_file = "{key}"
username = "{user}"
ip = "127.0.0.1"
token_url = "{origin}{token}"
sso_session_url = "{origin}{sso}"
audience = "{aud}"
"#,
                kid = c.key_id,
                key = c.private_key_file.display(),
                user = c.username,
                token = fakes::ibkr::TOKEN_PATH,
                sso = fakes::ibkr::SSO_SESSION_PATH,
                aud = c.audience,
            );
            let env = HashMap::from([("T_IBKR_CLIENT_ID".to_string(), c.client_id.clone())]);
            (toml, env)
        }
    }
}

/// The fake, the configuration (`rest` before `[backend]`) and the broker on the fake, the secrets given
/// through the configuration's environment hook.
pub(crate) async fn parts(scheme: Scheme, rest: &str) -> (FakeIbkr, Config, Arc<IbkrBroker>) {
    parts_with(scheme, rest, "").await
}

/// [`parts`] with `backend_extra` in the `[backend]` table.
pub(crate) async fn parts_with(
    scheme: Scheme,
    rest: &str,
    backend_extra: &str,
) -> (FakeIbkr, Config, Arc<IbkrBroker>) {
    let fake = fake(scheme).await;
    let (toml, env) = backend(&fake, scheme, backend_extra);
    let config = support::config(&format!("{rest}\n{toml}"));
    let BackendConfig::Ibkr(ibkr) = &config.backend else {
        panic!("an ibkr configuration expected");
    };
    let resolved = ibkr
        .resolve_with(&|path| std::fs::read(path), &|name| env.get(name).cloned())
        .expect("the OAuth configuration resolves");
    let client = IbkrClient::new(&resolved).expect("the IBKR client starts");
    let broker = IbkrBroker::with_api(resolved, Arc::new(client));
    (fake, config, Arc::new(broker))
}

/// The fake and the bridge on it (in-process).
async fn start(scheme: Scheme) -> (FakeIbkr, TestApp) {
    let (fake, config, broker) = parts(scheme, "").await;
    (fake, TestApp::with_broker(config, broker))
}

/// The handshakes the fake answered: live session tokens (1.0a), or access tokens and session bearers
/// (2.0).
pub(crate) fn logins(fake: &FakeIbkr) -> (usize, usize) {
    let auth = fake.oauth().unwrap();
    (
        auth.handshakes(),
        auth.access_tokens_issued() + auth.session_bearers_issued(),
    )
}

/// What one full login costs at the fake under `scheme`.
pub(crate) fn one_login(scheme: Scheme) -> (usize, usize) {
    match scheme {
        Scheme::One => (1, 0),
        Scheme::Two => (0, 2),
    }
}

/// The fake's `/iserver/account/orders` row of order `id`.
fn fake_order(fake: &FakeIbkr, id: &str) -> Value {
    fake.orders(ACCOUNT)
        .into_iter()
        .find(|o| o["orderId"].to_string().trim_matches('"') == id)
        .unwrap_or_else(|| panic!("order {id} at the fake"))
}

/// TradingView's order list once it shows order `id`, as TradingView polls it after placing: the bridge
/// lists IBKR's orders at most once per 5 s, so this may take that long.
async fn listed(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let orders = app.orders(token, ACCOUNT).await;
        if orders.iter().any(|o| o["id"] == id) {
            return orders;
        }
        assert!(Instant::now() < deadline, "order {id} never listed: {orders:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// TradingView's position matching `wanted`, once shown: the bridge reads IBKR's account at most once per
/// 5 s, so this may take that long.
async fn shown(app: &TestApp, token: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let positions = app.positions(token, ACCOUNT).await;
        if let Some(p) = positions.iter().find(|p| wanted(p)) {
            return p.clone();
        }
        assert!(Instant::now() < deadline, "never shown: {positions:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A TradingView user's whole day: login, accounts, quotes, history, a market order, a limit order
/// modified then cancelled, a bracket, positions closed, an order question confirmed and one refused, a
/// position reversed, state.
async fn trades_end_to_end(scheme: Scheme) {
    let (fake, app) = start(scheme).await;
    let token = app.login().await;
    let auth = fake.oauth().unwrap();

    let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
    assert_eq!(accounts[0]["id"], ACCOUNT, "{accounts}");

    let quotes = app
        .get(
            &token,
            &format!("/quotes?locale=en&accountId={ACCOUNT}&symbols=AAPL"),
            "QuotesResponse",
        )
        .await;
    let (bid, ask) = fake.quote(AAPL).unwrap();
    assert_eq!(quotes[0]["s"], "ok", "{quotes}");
    assert_eq!(
        (dec(&quotes[0]["v"]["bid"]), dec(&quotes[0]["v"]["ask"])),
        (bid, ask)
    );

    let to = fake.now().timestamp();
    let history = app
        .send(
            Method::GET,
            &format!(
                "/history?symbol=AAPL&resolution=60&from={}&to={to}",
                to - 5 * 86_400
            ),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(history.body["s"], "ok", "{}", history.body);
    support::schema::assert_schema("HistoryResponse", &history.body);
    assert!(!history.body["t"].as_array().unwrap().is_empty());

    // A market buy with a stop-loss and a take-profit fills at the ask: a position of 10 and two legs.
    let before = fake.order_count();
    let market = app
        .place(
            &token,
            ACCOUNT,
            "instrument=AAPL&qty=10&side=buy&type=market&stopLoss=170&takeProfit=200",
        )
        .await;
    assert_eq!(fake.position(ACCOUNT, AAPL), Decimal::from(10));
    assert_eq!(fake.order_count() - before, 3, "the order and its two legs");

    // A limit buy far below the market works; modified, then cancelled.
    let limit = app
        .place(
            &token,
            ACCOUNT,
            "instrument=AAPL&qty=5&side=buy&type=limit&limitPrice=150",
        )
        .await;
    let orders = listed(&app, &token, &limit).await;
    // The market order filled: its legs are listed as the brackets of the position it opened.
    let legs: Vec<&Value> = orders.iter().filter(|o| o["parentType"] == "position").collect();
    assert_eq!(legs.len(), 2, "order {market}'s legs are listed: {orders:?}");
    app.put(
        &token,
        &format!("/accounts/{ACCOUNT}/orders/{limit}"),
        "qty=6&limitPrice=151",
    )
    .await;
    let row = fake_order(&fake, &limit);
    assert_eq!(
        (row["totalSize"].as_str(), row["price"].as_str()),
        (Some("6.0"), Some("151.00")),
        "{row}"
    );
    app.delete(&token, &format!("/accounts/{ACCOUNT}/orders/{limit}"), None)
        .await;
    let row = fake_order(&fake, &limit);
    assert!(row["status"].as_str().unwrap().contains("Cancel"), "{row}");

    // The position, closed.
    let positions = app.positions(&token, ACCOUNT).await;
    assert_eq!(positions.len(), 1, "{positions:?}");
    assert_eq!(dec(&positions[0]["qty"]), Decimal::from(10));
    let id = positions[0]["id"].as_str().unwrap().to_string();
    app.delete(&token, &format!("/accounts/{ACCOUNT}/positions/{id}"), None)
        .await;
    assert_eq!(fake.position(ACCOUNT, AAPL), Decimal::ZERO);

    // Questions: a limit order of 600 raises the size question (o383, allow-listed), confirmed and placed.
    let replies = |fake: &FakeIbkr| {
        fake.requests()
            .iter()
            .filter(|r| r.path.starts_with("/iserver/reply/"))
            .count()
    };
    let big = app
        .place(
            &token,
            ACCOUNT,
            "instrument=AAPL&qty=600&side=buy&type=limit&limitPrice=150",
        )
        .await;
    let row = fake_order(&fake, &big);
    assert_eq!(row["totalSize"].as_str(), Some("600.0"), "{row}");
    assert_eq!(replies(&fake), 1, "one confirmation");
    app.delete(&token, &format!("/accounts/{ACCOUNT}/orders/{big}"), None)
        .await;
    // A market order of 600 raises o383 (confirmed), then o163 (not listed): refused with its text.
    let placed = fake.order_count();
    let errmsg = app
        .refused(
            Method::POST,
            &token,
            &format!("/accounts/{ACCOUNT}/orders?locale=en"),
            Some("instrument=AAPL&qty=600&side=buy&type=market"),
        )
        .await;
    assert!(errmsg.contains("price percentage limit"), "{errmsg}");
    assert_eq!(fake.order_count(), placed, "the refused order was not placed");
    assert_eq!(replies(&fake), 2, "o383 confirmed, o163 never");
    assert_eq!(fake.position(ACCOUNT, AAPL), Decimal::ZERO);

    // A position reversed as TradingView reverses without a native reverse: twice its size the other way.
    app.place(&token, ACCOUNT, "instrument=AAPL&qty=3&side=buy&type=market")
        .await;
    app.place(&token, ACCOUNT, "instrument=AAPL&qty=6&side=sell&type=market")
        .await;
    assert_eq!(fake.position(ACCOUNT, AAPL), Decimal::from(-3));
    let short = shown(&app, &token, |p| {
        p["instrument"] == "AAPL" && p["side"] == "sell" && dec(&p["qty"]) == Decimal::from(3)
    })
    .await;
    assert_eq!(short["id"], "AAPL", "{short}");

    let state = app.state(&token, ACCOUNT).await;
    assert!(dec(&state["balance"]) > Decimal::ZERO, "{state}");

    assert_eq!(logins(&fake), one_login(scheme), "one login for the whole day");
    for reason in [
        RefusalReason::BadSignature,
        RefusalReason::ReplayedNonce,
        RefusalReason::StaleTimestamp,
        RefusalReason::Expired,
        RefusalReason::Revoked,
        RefusalReason::Other,
    ] {
        assert_eq!(auth.refusals(reason), 0, "{reason:?}");
    }
}

#[tokio::test]
async fn oauth1_a_user_trades_end_to_end_on_one_live_session_token() {
    trades_end_to_end(Scheme::One).await;
}

#[tokio::test]
async fn oauth2_a_user_trades_end_to_end_on_one_token_and_one_sso_session() {
    trades_end_to_end(Scheme::Two).await;
}
