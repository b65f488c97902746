//! A burst of 1,000 TradingView polls (orders, positions, state and executions, from several tabs) on the
//! fake IBKR gateway with IBKR's own limits (10 requests per second, one live-orders, trades and portfolio
//! accounts call per 5 s): the fake never answers 429 and its counters show every limit kept.

use crate::support;

use std::time::{Duration, Instant};
use support::fake_ibkr::FakeIbkr;
use support::ibkr::{self, ACCT};

/// The most API requests the fake received within one second, the WebSocket upgrade (`/ws`) included:
/// the bridge paces it with the REST calls.
fn busiest_second(fake: &FakeIbkr) -> usize {
    let times: Vec<Instant> = fake.requests().iter().map(|r| r.at).collect();
    let mut most = 0;
    let mut start = 0;
    for (end, t) in times.iter().enumerate() {
        while t.duration_since(times[start]) >= Duration::from_secs(1) {
            start += 1;
        }
        most = most.max(end + 1 - start);
    }
    most
}

#[tokio::test]
async fn a_burst_of_a_thousand_polls_keeps_to_ibkrs_limits() {
    let (fake, app) = ibkr::start_with(ibkr::options(), "", "").await;
    let mut tabs = Vec::new();
    for _ in 0..4 {
        tabs.push(app.login().await);
    }
    let paths = [
        format!("/accounts/{ACCT}/orders?locale=en"),
        format!("/accounts/{ACCT}/positions?locale=en"),
        format!("/accounts/{ACCT}/state?locale=en"),
        format!("/accounts/{ACCT}/executions?locale=en"),
    ];
    let started = Instant::now();
    // Ten waves of a hundred polls over about six seconds: the hub refreshes in between.
    let mut answers = Vec::new();
    for wave in 0..10 {
        let polls = (0..100).map(|i| {
            let token = tabs[(wave + i) % tabs.len()].clone();
            let path = paths[i % paths.len()].clone();
            let router = app.router.clone();
            tokio::spawn(async move { support::capital::get_json(router, &token, &path).await })
        });
        let all = tokio::time::timeout(Duration::from_secs(10), futures_util::future::join_all(polls))
            .await
            .unwrap_or_else(|_| panic!("wave {wave} waited 10 s: {:?}", fake.requests()));
        for poll in all {
            answers.push(poll.expect("the poll ran"));
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    assert_eq!(answers.len(), 1_000);
    let failed: Vec<_> = answers.iter().filter(|a| a["s"] != "ok").collect();
    assert!(
        failed.is_empty(),
        "{} failed, e.g. {:?}",
        failed.len(),
        failed.first()
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "polls never queue for long"
    );
    assert_eq!(
        fake.throttled(),
        0,
        "{:?}",
        fake.requests()
            .iter()
            .filter(|r| r.status == 429)
            .collect::<Vec<_>>()
    );
    let five = Duration::from_secs(5);
    for path in [
        "/iserver/account/orders",
        "/iserver/account/trades",
        "/portfolio/accounts",
    ] {
        assert!(fake.max_calls_in_window("GET", path, five) <= 1, "{path}");
    }
    assert!(
        fake.calls("GET", "/iserver/account/orders") >= 2,
        "the hub refreshed during the burst"
    );
    assert!(
        fake.calls("GET", "/ws") >= 1,
        "the account hub listens on the socket"
    );
    assert!(
        busiest_second(&fake) <= 10,
        "{} in one second: {:?}",
        busiest_second(&fake),
        fake.requests()
            .iter()
            .map(|r| (r.method.clone(), r.path.clone()))
            .collect::<Vec<_>>()
    );
    assert!(
        fake.requests().len() < 60,
        "{} upstream requests",
        fake.requests().len()
    );
}
