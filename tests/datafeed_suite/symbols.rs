//! `/groups`, `/symbol_info` and the token rules: parallel arrays of equal length with valid types
//! (`typespecs` an array of strings, `minmovement2` set for forex so fractional pips show), a session
//! string TradingView can read, every symbol in exactly one group, and 401 without a valid token.

use super::Feed;
use crate::support::schema::assert_schema;
use serde_json::Value;

/// Whether `s` is a TradingView session: `24x7`, or `HHMM-HHMM` periods (comma separated) with an
/// optional `:days` (digits 1-7), several such parts joined by `|`.
fn is_session(s: &str) -> bool {
    if s == "24x7" {
        return true;
    }
    let hhmm = |x: &str| {
        x.len() == 4
            && x.chars().all(|c| c.is_ascii_digit())
            && x[..2].parse::<u32>().is_ok_and(|h| h <= 24)
            && x[2..].parse::<u32>().is_ok_and(|m| m < 60)
    };
    s.split('|').all(|part| {
        let (periods, days) = part.split_once(':').unwrap_or((part, "1234567"));
        !days.is_empty()
            && days.chars().all(|c| ('1'..='7').contains(&c))
            && periods
                .split(',')
                .all(|p| p.split_once('-').is_some_and(|(a, b)| hhmm(a) && hhmm(b)))
    })
}

fn column<'a>(body: &'a Value, key: &str) -> &'a Vec<Value> {
    body[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is an array: {body}"))
}

pub async fn symbol_info_arrays_are_parallel_and_typed(feed: &Feed) {
    let (status, body) = feed.get("/symbol_info").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["s"], "ok");
    assert_schema("SymbolInfoResponse", &body);
    let symbols = column(&body, "symbol");
    assert!(!symbols.is_empty());
    let object = body.as_object().expect("an object");
    for (key, value) in object {
        if let Some(a) = value.as_array() {
            assert_eq!(a.len(), symbols.len(), "{key} has another length");
        }
    }
    let mut forex = 0;
    for (i, symbol) in symbols.iter().enumerate() {
        let name = symbol.as_str().unwrap_or_default();
        let typespecs = &column(&body, "typespecs")[i];
        assert!(
            typespecs.is_string(),
            "{name}: typespecs is a string, got {typespecs}"
        );
        let scale = column(&body, "pricescale")[i].as_u64().unwrap_or(0);
        assert!(
            scale
                .to_string()
                .trim_start_matches('1')
                .chars()
                .all(|c| c == '0')
                && scale > 0,
            "{name}: pricescale {scale}"
        );
        assert!(
            column(&body, "minmovement")[i].as_u64().unwrap_or(0) >= 1,
            "{name}"
        );
        let session = column(&body, "session-regular")[i].as_str().unwrap_or_default();
        assert!(is_session(session), "{name}: session {session:?}");
        assert!(
            !column(&body, "timezone")[i]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{name}: timezone"
        );
        if column(&body, "type")[i] == "forex" {
            forex += 1;
            // 5-digit pairs (and 3-digit yen pairs) quote tenths of a pip.
            if [100_000, 1_000].contains(&scale) {
                assert_eq!(column(&body, "minmovement2")[i], 10, "{name}: minmovement2");
            }
        }
    }
    assert!(forex > 0, "forex symbols are offered");
    assert!(symbols.iter().any(|s| s == feed.fx), "{} is offered", feed.fx);
    // Every symbol in exactly one group.
    let (_, groups) = feed.get("/groups").await;
    let mut seen: Vec<String> = Vec::new();
    for g in groups["d"]["groups"].as_array().cloned().unwrap_or_default() {
        let id = g["id"].as_str().unwrap_or_default();
        let (status, part) = feed.get(&format!("/symbol_info?group={id}")).await;
        assert_eq!(status, 200);
        seen.extend(
            column(&part, "symbol")
                .iter()
                .map(|s| s.as_str().unwrap_or_default().to_string()),
        );
    }
    let mut all: Vec<String> = symbols
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect();
    seen.sort();
    all.sort();
    assert_eq!(seen, all, "every symbol in exactly one group");
}

pub async fn bad_queries_are_refused_with_a_message(feed: &Feed) {
    let fx = feed.fx;
    for (query, message) in [
        ("symbol=NOPE&resolution=1&from=0&to=60".to_string(), "Unknown symbol 'NOPE'"),
        (
            format!("symbol={fx}&resolution=7X&from=0&to=60"),
            "query parameter 'resolution' must be one of 1, 5, 15, 60, 240, D, W, M (with optional counts), got '7X'",
        ),
        (format!("symbol={fx}&resolution=1&from=120&to=60"), "'from' (120) is after 'to' (60)"),
        (format!("symbol={fx}&resolution=1&from=0"), "query parameter 'to' is required"),
    ] {
        let (status, body) = feed.get(&format!("/history?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_schema("ErrorResponse", &body);
        assert_eq!(body["errmsg"], message, "{query}");
    }
    let (_, body) = feed.get("/symbol_info?group=nope").await;
    assert_eq!(body["errmsg"], "Unknown group 'nope'");
}

pub async fn the_data_feed_demands_a_token(feed: &Feed) {
    for path in [
        "/symbol_info",
        "/history?symbol=EURUSD&resolution=1&from=0&to=60",
        "/streaming",
        "/groups",
        "/permissions",
    ] {
        let (status, _) = feed.app.get(path, None).await;
        assert_eq!(status, 401, "{path}");
        let (status, _) = feed.app.get(path, Some("garbage")).await;
        assert_eq!(status, 401, "{path} with a garbage token");
    }
}
