//! The data feed on the paper broker: groups, permissions, symbol info, history (alignment,
//! repeatability, split versus whole, `from == to`, countback) and `/streaming` (headers, heartbeats,
//! four identical connections, minute bars built from the stream equal to `/history`'s).

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use support::live::{Lines, LiveApp};
use support::schema::assert_schema;
use support::*;

const SEC: Duration = Duration::from_secs(1);

fn arrays_of_equal_length(body: &Value, keys: &[&str]) -> usize {
    let len = body[keys[0]].as_array().map(Vec::len).expect("array");
    for k in keys {
        assert_eq!(
            body[*k].as_array().map(Vec::len),
            Some(len),
            "{k} has another length"
        );
    }
    len
}

async fn history(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app
        .send(
            axum::http::Method::GET,
            &format!("/history?{query}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["s"], "ok", "{}", r.body);
    assert_schema("HistoryResponse", &r.body);
    arrays_of_equal_length(&r.body, &["t", "o", "h", "l", "c", "v"]);
    r.body
}

#[tokio::test]
async fn the_data_feed_demands_a_token() {
    let app = TestApp::new().await;
    for path in [
        "/symbol_info",
        "/history?symbol=EURUSD&resolution=1&from=0&to=60",
        "/streaming",
        "/groups",
        "/permissions",
    ] {
        let r = app.send(axum::http::Method::GET, path, None, None).await;
        assert_eq!(r.status, 401, "{path}");
        let r = app
            .send(axum::http::Method::GET, path, Some("garbage"), None)
            .await;
        assert_eq!(r.status, 401, "{path} with a garbage token");
    }
}

#[tokio::test]
async fn groups_permissions_and_symbol_info_describe_every_symbol_once() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let groups = app.get(&token, "/groups", "GroupsResponse").await;
    let ids: Vec<String> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        [
            "tvbridge_cfd",
            "tvbridge_crypto",
            "tvbridge_forex",
            "tvbridge_stocks"
        ]
    );
    let permissions = app.get(&token, "/permissions", "PermissionsResponse").await;
    assert_eq!(permissions["groups"], serde_json::json!(ids));

    let keys = [
        "symbol",
        "ticker",
        "description",
        "currency",
        "exchange-listed",
        "exchange-traded",
        "minmovement",
        "pricescale",
        "timezone",
        "session-regular",
        "type",
        "has-intraday",
    ];
    let mut seen = Vec::new();
    for group in &ids {
        let r = app
            .send(
                axum::http::Method::GET,
                &format!("/symbol_info?group={group}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(r.status, 200);
        assert_schema("SymbolInfoResponse", &r.body);
        let n = arrays_of_equal_length(&r.body, &keys);
        assert!(n > 0, "{group} is not empty");
        for i in 0..n {
            let scale = r.body["pricescale"][i].as_u64().unwrap();
            assert!(
                scale
                    .to_string()
                    .trim_start_matches('1')
                    .chars()
                    .all(|c| c == '0'),
                "pricescale {scale} is a power of ten"
            );
            let exchange = r.body["exchange-listed"][i].as_str().unwrap();
            assert_eq!(exchange, exchange.to_uppercase());
            seen.push(r.body["symbol"][i].as_str().unwrap().to_owned());
        }
    }
    seen.sort();
    let mut all = instrument_names();
    all.sort();
    assert_eq!(seen, all, "every symbol in exactly one group");
    let whole = app
        .send(axum::http::Method::GET, "/symbol_info", Some(&token), None)
        .await;
    assert_eq!(arrays_of_equal_length(&whole.body, &keys), all.len());
    let eur = whole.body["symbol"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s == "EURUSD")
        .unwrap();
    assert_eq!(
        (
            whole.body["minmovement"][eur].as_u64(),
            whole.body["pricescale"][eur].as_u64()
        ),
        (Some(1), Some(100_000))
    );
    let err = app
        .refused(axum::http::Method::GET, &token, "/symbol_info?group=nope", None)
        .await;
    assert_eq!(err, "Unknown group 'nope'");
}

#[tokio::test]
async fn history_is_aligned_repeatable_and_the_same_split_or_whole() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let now = app.now();
    let from = now - 3 * 3600;
    let whole = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=1&from={from}&to={now}"),
    )
    .await;
    let again = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=1&from={from}&to={now}"),
    )
    .await;
    assert_eq!(whole, again, "the same query gives the same bars");
    let t: Vec<i64> = whole["t"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(t.len(), 181, "from and to are inclusive");
    assert!(
        t.windows(2).all(|w| w[1] - w[0] == 60) && t.iter().all(|x| x % 60 == 0),
        "ascending, aligned, no gaps"
    );
    // Three shorter queries give the same bars as one long one.
    let mut parts: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for (a, b) in [
        (from, from + 3599),
        (from + 3600, from + 7199),
        (from + 7200, now),
    ] {
        let part = history(
            &app,
            &token,
            &format!("symbol=EURUSD&resolution=1&from={a}&to={b}"),
        )
        .await;
        for k in ["t", "o", "h", "l", "c", "v"] {
            parts
                .entry(k)
                .or_default()
                .extend(part[k].as_array().unwrap().iter().cloned());
        }
    }
    for (k, v) in parts {
        assert_eq!(Value::Array(v), whole[k], "{k}");
    }
    // from == to on a bar's time gives that bar.
    let one = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=1&from={}&to={}", t[7], t[7]),
    )
    .await;
    assert_eq!(one["t"], serde_json::json!([t[7]]));
    assert_eq!(one["c"][0], whole["c"][7]);
    // Five one-minute bars make the five-minute bar.
    let five = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=5&from={}&to={}", t[0], t[0]),
    )
    .await;
    let first5 = |k: &str| whole[k].as_array().unwrap()[..5].to_vec();
    assert_eq!(five["o"][0], first5("o")[0]);
    assert_eq!(five["c"][0], first5("c")[4]);
    let max = first5("h").iter().map(dec).max().unwrap();
    let min = first5("l").iter().map(dec).min().unwrap();
    assert_eq!((dec(&five["h"][0]), dec(&five["l"][0])), (max, min));
}

#[tokio::test]
async fn history_handles_the_future_countback_daily_bars_and_empty_ranges() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let now = app.now();
    // A `to` in the future stops at the current, still open, minute.
    let open = history(
        &app,
        &token,
        &format!("symbol=BTCUSD&resolution=1&from={}&to={}", now - 120, now + 3600),
    )
    .await;
    assert_eq!(
        open["t"].as_array().unwrap().last().unwrap().as_i64().unwrap(),
        now - now % 60
    );
    // Nothing in the range: ok with empty arrays.
    let empty = history(
        &app,
        &token,
        &format!("symbol=BTCUSD&resolution=1&from={}&to={}", now + 600, now + 900),
    )
    .await;
    assert_eq!(
        empty,
        serde_json::json!({"s": "ok", "t": [], "o": [], "h": [], "l": [], "c": [], "v": []})
    );
    // countback wins over from.
    let back = history(
        &app,
        &token,
        &format!("symbol=BTCUSD&resolution=60&from=0&to={now}&countback=5"),
    )
    .await;
    assert_eq!(back["t"].as_array().unwrap().len(), 5);
    // Daily bars sit at 00:00 UTC.
    let days = history(
        &app,
        &token,
        &format!("symbol=AAPL&resolution=D&from={}&to={now}", now - 10 * 86_400),
    )
    .await;
    let t = days["t"].as_array().unwrap();
    assert_eq!(t.len(), 10);
    assert!(t.iter().all(|d| d.as_i64().unwrap() % 86_400 == 0));
    let weeks = history(
        &app,
        &token,
        &format!("symbol=AAPL&resolution=1W&from={}&to={now}", now - 30 * 86_400),
    )
    .await;
    assert!(
        weeks["t"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| (w.as_i64().unwrap() - 4 * 86_400) % (7 * 86_400) == 0),
        "Mondays"
    );
    for (query, msg) in [
        ("symbol=NOPE&resolution=1&from=0&to=60", "Unknown symbol 'NOPE'"),
        ("symbol=EURUSD&resolution=7X&from=0&to=60", "query parameter 'resolution' must be one of 1, 5, 15, 60, 240, D, W, M (with optional counts), got '7X'"),
        ("symbol=EURUSD&resolution=1&from=120&to=60", "'from' (120) is after 'to' (60)"),
        ("symbol=EURUSD&resolution=1&from=0", "query parameter 'to' is required"),
    ] {
        assert_eq!(app.refused(axum::http::Method::GET, &token, &format!("/history?{query}"), None).await, msg);
    }
    // A range longer than one answer holds keeps its newest bars (it used to be refused).
    let long = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=1&from=0&to={now}"),
    )
    .await;
    let t = long["t"].as_array().unwrap();
    assert_eq!(
        (t.len(), t.last().and_then(Value::as_i64)),
        (50_000, Some(now - now % 60))
    );
}

fn feed_config() -> tvbridge::config::Config {
    config("[datafeed]\nheartbeat_secs = 1\n")
}

/// Reads `/streaming` lines until `stop` says so of a line (it sees each line once), or nothing comes for
/// three seconds.
async fn collect(lines: &mut Lines, mut stop: impl FnMut(&Value) -> bool) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(line) = lines.next(SEC * 3).await {
        let done = stop(&line);
        out.push(line);
        if done {
            break;
        }
    }
    out
}

#[tokio::test]
async fn streaming_is_chunked_with_heartbeats_and_every_symbol_ticks_forward() {
    let app = LiveApp::start(feed_config(), false).await;
    let token = app.login().await;
    let mut lines = app.open("/streaming", &token).await;
    assert_eq!(
        lines
            .headers
            .get("transfer-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("chunked")
    );
    let mut beats = 0;
    let got = collect(&mut lines, |v| {
        beats += usize::from(v.get("heartbeat").is_some());
        beats >= 2
    })
    .await;
    let heartbeats: Vec<&Value> = got.iter().filter(|v| v.get("heartbeat").is_some()).collect();
    assert!(heartbeats.len() >= 2, "heartbeats every second here");
    assert_schema("StreamingHeartbeat", heartbeats[0]);
    let mut last_t: BTreeMap<String, i64> = BTreeMap::new();
    for v in got.iter().filter(|v| v.get("f").is_some()) {
        let def = match v["f"].as_str().unwrap() {
            "q" => "StreamingQuote",
            "t" => "StreamingTrade",
            "d" => "StreamingDailyBar",
            other => panic!("unexpected line kind {other}"),
        };
        assert_schema(def, v);
        if v["f"] != "d" {
            let (id, t) = (v["id"].as_str().unwrap().to_owned(), v["t"].as_i64().unwrap());
            let before = last_t
                .insert(format!("{}{id}", v["f"].as_str().unwrap()), t)
                .unwrap_or(i64::MIN);
            assert!(t >= before, "tick times never go back for {id}");
            assert!((app.now() - t).abs() <= 5, "real-time ticks only");
        }
    }
    for symbol in instrument_names() {
        assert!(last_t.contains_key(&format!("q{symbol}")), "{symbol} gets quotes");
        assert!(last_t.contains_key(&format!("t{symbol}")), "{symbol} gets trades");
    }
}

#[tokio::test]
async fn four_streaming_connections_get_the_same_lines_and_bars_match_history() {
    let app = LiveApp::start(feed_config(), true).await;
    let token = app.login().await;
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(app.open("/streaming", &token).await);
    }
    // Let every connection subscribe, then move the market three minutes in steps.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = app.now();
    for _ in 0..18 {
        app.advance(10);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let end = app.now();
    let mut trades_per_client = Vec::new();
    for c in clients.iter_mut() {
        let got = collect(c, |v| v["f"] == "t" && v["id"] == "EURUSD" && v["t"] == end).await;
        let trades: Vec<Value> = got
            .into_iter()
            .filter(|v| v["f"] == "t" && v["id"] == "EURUSD")
            .collect();
        trades_per_client.push(trades);
    }
    // Identical data from the first second all four saw.
    let common = trades_per_client
        .iter()
        .map(|t| t[0]["t"].as_i64().unwrap())
        .max()
        .unwrap();
    let from_common: Vec<Vec<Value>> = trades_per_client
        .iter()
        .map(|t| {
            t.iter()
                .filter(|v| v["t"].as_i64().unwrap() >= common)
                .cloned()
                .collect()
        })
        .collect();
    for other in &from_common[1..] {
        assert_eq!(other, &from_common[0], "every connection gets the same data");
    }
    // Minute bars built from the streamed trades equal /history's, for every complete minute.
    let mut minutes: BTreeMap<i64, Vec<&Value>> = BTreeMap::new();
    for v in &from_common[0] {
        let t = v["t"].as_i64().unwrap();
        minutes.entry(t - t % 60).or_default().push(v);
    }
    let complete: Vec<(i64, Vec<&Value>)> = minutes.into_iter().filter(|(_, v)| v.len() == 60).collect();
    assert!(
        complete.len() >= 2,
        "at least two whole minutes streamed between {start} and {end}"
    );
    let (first, last) = (complete[0].0, complete[complete.len() - 1].0);
    let (status, hist) = app
        .get(
            &format!("/history?symbol=EURUSD&resolution=1&from={first}&to={last}"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    for (i, (minute, trades)) in complete.iter().enumerate() {
        let at = hist["t"]
            .as_array()
            .unwrap()
            .iter()
            .position(|t| t.as_i64() == Some(*minute))
            .expect("minute in history");
        let prices: Vec<_> = trades.iter().map(|v| dec(&v["p"])).collect();
        let volume: rust_decimal::Decimal = trades.iter().map(|v| dec(&v["s"])).sum();
        let streamed = (
            prices[0],
            *prices.iter().max().unwrap(),
            *prices.iter().min().unwrap(),
            prices[59],
            volume,
        );
        let stored = (
            dec(&hist["o"][at]),
            dec(&hist["h"][at]),
            dec(&hist["l"][at]),
            dec(&hist["c"][at]),
            dec(&hist["v"][at]),
        );
        assert_eq!(streamed, stored, "minute {i} ({minute}): stream versus history");
    }
}
