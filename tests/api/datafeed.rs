//! The data-feed suite (`tests/datafeed_suite/`) on the paper broker (manual clock), and what only the
//! paper broker's own instrument set says (its groups, its symbols, their price format).

use crate::{suite, support};
use serde_json::Value;
use suite::{property, Feed};
use support::schema::assert_schema;
use support::{instrument_names, TestApp};

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

property!(Feed::paper, symbols, symbol_info_arrays_are_parallel_and_typed);
property!(Feed::paper, symbols, the_data_feed_demands_a_token);
property!(Feed::paper, symbols, bad_queries_are_refused_with_a_message);
property!(
    Feed::paper,
    history,
    bars_are_ascending_aligned_and_inside_the_range
);
property!(
    Feed::paper,
    history,
    the_same_query_gives_the_same_bars_and_split_queries_equal_one_long_one
);
property!(
    Feed::paper,
    history,
    coarser_bars_are_the_aggregation_of_finer_ones
);
property!(Feed::paper, history, a_future_to_ends_at_the_latest_bar);
property!(Feed::paper, history, a_range_in_the_future_is_ok_and_empty);
property!(
    Feed::paper,
    history,
    a_range_wholly_before_the_data_start_is_ok_and_empty
);
property!(Feed::paper, history, countback_gives_exactly_that_many_bars);
property!(Feed::paper, history, daily_bars_back_to_1800_are_answered);
property!(
    Feed::paper,
    streaming,
    streaming_ticks_forward_with_heartbeats_and_bars_matching_history
);

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
