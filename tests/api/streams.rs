//! Trading streams and the account hub over a real socket: snapshot then updates, `qty:0` on close,
//! pings when quiet, slow-client isolation, and many polls coalesced into one backend fetch.

use crate::support;

use serde_json::Value;
use std::time::Duration;
use support::live::LiveApp;
use support::schema::assert_schema;
use support::*;

const SEC: Duration = Duration::from_secs(1);

/// Streams poll fast and ping after one quiet second; the hub caches nothing unless a test says so.
fn stream_config(extra: &str) -> tvbridge::config::Config {
    config(&format!(
        "[hub]\nfreshness_ms = 0\npoll_interval_ms = 100\nping_secs = 1\n{extra}"
    ))
}

#[tokio::test]
async fn order_and_position_streams_send_a_snapshot_then_changes_then_qty_zero() {
    let app = LiveApp::start(stream_config(""), false).await;
    let token = app.login().await;
    let mut orders = app
        .open("/accounts/demo-net/stream/orders?locale=en", &token)
        .await;
    let mut positions = app
        .open("/accounts/demo-net/stream/positions?locale=en", &token)
        .await;
    let first = orders.next(SEC * 3).await.expect("orders snapshot");
    assert_eq!(
        first,
        Value::Array(vec![]),
        "the first message is the (empty) snapshot"
    );
    assert_eq!(
        positions.next(SEC * 3).await.expect("positions snapshot"),
        Value::Array(vec![])
    );

    let placed = app
        .form(
            "POST",
            "/accounts/demo-net/orders?locale=en",
            Some(&token),
            "instrument=EURUSD&qty=1000&side=buy&type=market",
        )
        .await;
    let id = placed["d"]["orderId"].as_str().unwrap().to_owned();
    let update = orders
        .next_matching(SEC * 3, |l| l.is_array())
        .await
        .expect("order update");
    assert_schema("OrdersMessage", &update);
    let order = update
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id.as_str())
        .expect("the new order, whole");
    assert_eq!(
        (order["status"].as_str(), order["instrument"].as_str()),
        (Some("filled"), Some("EURUSD"))
    );

    let opened = positions
        .next_matching(SEC * 3, |l| l.is_array())
        .await
        .expect("position update");
    assert_schema("StreamPositionsMessage", &opened);
    assert_eq!(opened[0]["id"], "EURUSD");
    assert_eq!(opened[0]["qty"], 1000.0);

    app.form(
        "DELETE",
        "/accounts/demo-net/positions/EURUSD?locale=en",
        Some(&token),
        "",
    )
    .await;
    let closed = positions
        .next_matching(SEC * 3, |l| {
            l.as_array().is_some_and(|a| a.iter().any(|p| p["qty"] == 0))
        })
        .await
        .expect("closing message");
    assert_schema("StreamPositionsMessage", &closed);
    assert!(
        closed
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"id": "EURUSD", "qty": 0})),
        "{closed}"
    );
}

#[tokio::test]
async fn a_quiet_stream_pings_and_state_sends_the_whole_object() {
    let app = LiveApp::start(stream_config(""), true).await;
    let token = app.login().await;
    let mut orders = app.open("/accounts/demo-hedge/stream/orders", &token).await;
    assert_eq!(orders.next(SEC * 3).await, Some(Value::Array(vec![])));
    // The manual clock stands still: nothing changes, so a ping follows one quiet second.
    let started = tokio::time::Instant::now();
    let ping = orders.next(SEC * 3).await.expect("ping");
    assert_eq!(ping, serde_json::json!({"s": "ok"}));
    assert_schema("PingMessage", &ping);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "not before the quiet spell: {:?}",
        started.elapsed()
    );

    let mut state = app.open("/accounts/demo-hedge/stream/state", &token).await;
    let first = state.next(SEC * 3).await.unwrap();
    assert_schema("AccountStateMessage", &first);
    app.form(
        "POST",
        "/accounts/demo-hedge/orders",
        Some(&token),
        "instrument=US500&qty=1&side=buy&type=market",
    )
    .await;
    app.advance(600);
    let changed = state
        .next_matching(SEC * 3, |l| l.get("balance").is_some() && *l != first)
        .await
        .unwrap();
    assert_schema("AccountStateMessage", &changed);
    assert!(
        changed.get("equity").is_some() && changed.get("amData").is_some(),
        "the whole state: {changed}"
    );
}

#[tokio::test]
async fn net_and_individual_position_streams_follow_the_hedging_account() {
    let app = LiveApp::start(stream_config(""), false).await;
    let token = app.login().await;
    let mut individual = app
        .open("/accounts/demo-hedge/stream/individualPositions", &token)
        .await;
    let mut net = app.open("/accounts/demo-hedge/stream/netPositions", &token).await;
    assert_eq!(individual.next(SEC * 3).await, Some(Value::Array(vec![])));
    assert_eq!(net.next(SEC * 3).await, Some(Value::Array(vec![])));
    app.form(
        "POST",
        "/accounts/demo-hedge/orders",
        Some(&token),
        "instrument=EURUSD&qty=2000&side=buy&type=market",
    )
    .await;
    let ind = individual.next_matching(SEC * 3, |l| l.is_array()).await.unwrap();
    assert_schema("StreamIndividualPositionsMessage", &ind);
    let pid = ind[0]["id"].as_str().unwrap().to_owned();
    let n = net.next_matching(SEC * 3, |l| l.is_array()).await.unwrap();
    assert_schema("StreamNetPositionsMessage", &n);
    assert_eq!(n[0]["longQty"], 2000.0);
    app.form(
        "DELETE",
        &format!("/accounts/demo-hedge/individualPositions/{pid}"),
        Some(&token),
        "",
    )
    .await;
    let gone = individual
        .next_matching(SEC * 3, |l| {
            l.as_array().is_some_and(|a| a.iter().any(|p| p["qty"] == 0))
        })
        .await
        .unwrap();
    assert!(gone
        .as_array()
        .unwrap()
        .contains(&serde_json::json!({"id": pid, "qty": 0})));
    // The wrong stream for the account's model is refused with a clear error.
    let (status, body) = app
        .get("/accounts/demo-hedge/stream/positions", Some(&token))
        .await;
    assert_eq!((status, body["s"].as_str()), (200, Some("error")));
    assert_eq!(
        body["errmsg"],
        "account demo-hedge keeps individual positions: use /individualPositions and /netPositions"
    );
}

/// A client that stops reading must not hold back the others, and loses nothing: when it reads again it
/// gets every change (what overflowed its bounded queue comes back as a fresh snapshot; that path is
/// tested where the queue is, in `src/http/streams.rs`).
#[tokio::test]
async fn a_slow_client_never_holds_back_the_others_and_loses_nothing() {
    let app = LiveApp::start(stream_config("stream_queue = 8\n"), false).await;
    let token = app.login().await;
    let mut slow = app.open("/accounts/demo-net/stream/orders", &token).await;
    let mut fast = app.open("/accounts/demo-net/stream/orders", &token).await;
    assert_eq!(slow.next(SEC * 3).await, Some(Value::Array(vec![])));
    assert_eq!(fast.next(SEC * 3).await, Some(Value::Array(vec![])));
    let mut placed = Vec::new();
    for _ in 0..30 {
        let r = app
            .form(
                "POST",
                "/accounts/demo-net/orders",
                Some(&token),
                "instrument=AAPL&qty=1&side=buy&type=market",
            )
            .await;
        let id = r["d"]["orderId"].as_str().unwrap().to_owned();
        let seen = fast
            .next_matching(SEC * 3, |l| {
                l.as_array()
                    .is_some_and(|a| a.iter().any(|o| o["id"] == id.as_str()))
            })
            .await;
        assert!(
            seen.is_some(),
            "the fast client got order {id} while the slow one was not reading"
        );
        placed.push(id);
    }
    let mut seen = std::collections::HashSet::new();
    while seen.len() < placed.len() {
        let Some(line) = slow.next(SEC * 3).await else {
            break;
        };
        for o in line.as_array().into_iter().flatten() {
            seen.insert(o["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    for id in &placed {
        assert!(seen.contains(id), "the slow client lost order {id}");
    }
}

/// However many tabs poll at once, one backend fetch serves them while the snapshot is fresh.
#[tokio::test]
async fn concurrent_polls_are_served_by_one_backend_fetch() {
    let app = TestApp::with_config(config("[hub]\nfreshness_ms = 5000\n")).await;
    let token = app.login().await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (app, token) = (app.clone(), token.clone());
        let path = [
            "/accounts/demo-net/orders",
            "/accounts/demo-net/positions",
            "/accounts/demo-net/state",
        ][i % 3];
        let def = ["OrdersResponse", "PositionsResponse", "AccountStateResponse"][i % 3];
        tasks.push(tokio::spawn(async move { app.get(&token, path, def).await }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        app.hub_fetches(),
        1,
        "60 concurrent polls of three endpoints, one fetch"
    );
    // A write refreshes at once, whatever the freshness window, so the writer sees its own order.
    let id = app
        .place(&token, NET, "instrument=EURUSD&qty=1000&side=buy&type=market")
        .await;
    assert_eq!(app.hub_fetches(), 2);
    assert_eq!(app.order(&token, NET, &id).await["status"], "filled");
    assert_eq!(
        app.hub_fetches(),
        2,
        "the poll after the write is served from the refreshed snapshot"
    );
}

#[tokio::test]
async fn logout_ends_the_session_streams_with_an_error() {
    let app = LiveApp::start(stream_config(""), true).await;
    let token = app.login().await;
    let mut orders = app.open("/accounts/demo-net/stream/orders", &token).await;
    assert_eq!(orders.next(SEC * 3).await, Some(Value::Array(vec![])));
    app.form("POST", "/logout", Some(&token), "").await;
    let ended = orders.next(SEC * 3).await.expect("an error line");
    assert_schema("ErrorResponse", &ended);
    assert_eq!(
        ended["errmsg"],
        "Your broker session has ended. Please log in again."
    );
    assert_eq!(orders.next(SEC * 2).await, None, "then the stream ends");
}

#[tokio::test]
async fn unused_hubs_and_market_subscriptions_stop() {
    let app = LiveApp::start(stream_config("idle_timeout_secs = 1\n"), false).await;
    let token = app.login().await;
    let (status, _) = app.get("/accounts/demo-net/orders", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(app.state.hubs().len(), 1, "a poll starts the account's hub");
    {
        let mut quotes = app
            .open("/stream/quotes?accountId=demo-net&symbols=EURUSD,AAPL", &token)
            .await;
        assert!(quotes.next(SEC * 3).await.is_some());
        assert_eq!(
            app.state.quotes().subscribed(),
            ["AAPL", "EURUSD"],
            "one market subscription per symbol"
        );
    }
    // Nobody polls or listens any more: within a couple of idle periods both are released.
    let deadline = tokio::time::Instant::now() + SEC * 5;
    while (!app.state.hubs().is_empty() || !app.state.quotes().subscribed().is_empty())
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.state.hubs().len(), 0, "the idle hub stopped");
    assert!(
        app.state.quotes().subscribed().is_empty(),
        "the idle symbols were unsubscribed"
    );
}

/// `/quotes` polls share the quote hub's one market subscription per symbol, like the streams do.
#[tokio::test]
async fn polled_quotes_come_from_the_quote_hub() {
    let app = LiveApp::start(stream_config(""), false).await;
    let token = app.login().await;
    let path = "/quotes?accountId=demo-hedge&symbols=EURUSD,US500,NOPE";
    let (status, first) = app.get(path, Some(&token)).await;
    assert_eq!(status, 200);
    assert_schema("QuotesResponse", &first);
    assert_eq!(
        app.state.quotes().subscribed(),
        ["EURUSD", "US500"],
        "polling subscribed the known symbols once"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, again) = app.get(path, Some(&token)).await;
    assert_schema("QuotesResponse", &again);
    let d = again["d"].as_array().unwrap();
    assert_eq!(d.len(), 3, "one entry per symbol, in the order asked");
    assert_eq!(
        d[2],
        serde_json::json!({"s": "error", "n": "NOPE", "v": {"errmsg": "Unknown symbol 'NOPE'"}})
    );
    // The pip value is in the account's currency (EUR) and the prices are those of the market now.
    let pip = dec(&d[0]["v"]["buyPipValue"]);
    assert!(
        pip > rust_decimal::Decimal::new(8, 5) && pip < rust_decimal::Decimal::new(1, 4),
        "{pip}"
    );
    let t = app.now();
    let ask = dec(&d[1]["v"]["ask"]);
    let recent: Vec<_> = (t - 3..=t).map(|s| app_tick(&app, "US500", s).ask).collect();
    assert!(
        recent.contains(&ask),
        "the US500 ask {ask} is one of the last seconds' asks {recent:?}"
    );
}

fn app_tick(app: &LiveApp, symbol: &str, t: i64) -> tvbridge::backends::paper::feed::Tick {
    let tvbridge::config::BackendConfig::Paper(paper) = &app.state.config().backend else {
        panic!("paper backend expected");
    };
    let market = tvbridge::backends::paper::Market::new(paper.seed, paper.effective_instruments());
    let ins = market.get(symbol).unwrap();
    market.tick(ins, t)
}

#[tokio::test]
async fn the_quote_stream_refuses_what_polled_quotes_refuse() {
    let app = LiveApp::start(stream_config(""), false).await;
    let token = app.login().await;
    let many: Vec<String> = (0..501).map(|i| format!("S{i}")).collect();
    for (query, errmsg) in [
        (
            format!("accountId=demo-net&symbols={}", many.join(",")),
            "at most 500 symbols per request, got 501".to_owned(),
        ),
        (
            "accountId=demo-net&symbols=,,".to_owned(),
            "query parameter 'symbols' names no symbol".to_owned(),
        ),
        (
            "symbols=EURUSD".to_owned(),
            "query parameter 'accountId' is required".to_owned(),
        ),
    ] {
        for path in ["/quotes", "/stream/quotes"] {
            let (status, body) = app.get(&format!("{path}?{query}"), Some(&token)).await;
            assert_eq!(
                (status, body["errmsg"].as_str()),
                (200, Some(errmsg.as_str())),
                "{path}?{query}"
            );
        }
    }
}
