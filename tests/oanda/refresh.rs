//! What one account refresh costs upstream: the hub's snapshot of an account (orders, positions, state) makes
//! each listed request once and nothing else.

use crate::support::fake_oanda::LoggedRequest;
use crate::support::oanda::{self, V1, V20, V20_HEDGE};
use crate::support::tally::{expected, tally};
use std::collections::BTreeMap;

fn rest(requests: &[LoggedRequest]) -> BTreeMap<String, usize> {
    tally(
        requests
            .iter()
            .filter(|r| !r.stream)
            .map(|r| (r.method.as_str(), r.path.as_str())),
    )
}

/// The requests of one refresh of `account` with nothing new since the previous one.
async fn steady_refresh(account: &str) -> BTreeMap<String, usize> {
    let (fake, app) = oanda::start("", "[hub]\nfreshness_ms = 0\n").await;
    let token = oanda::login(&app, account).await;
    app.orders(&token, account).await;
    fake.clear_requests();
    app.state(&token, account).await;
    rest(&fake.requests())
}

#[tokio::test]
async fn a_v20_refresh_is_one_account_read() {
    for account in [V20, V20_HEDGE] {
        assert_eq!(
            steady_refresh(account).await,
            expected(&[&format!("GET /v3/accounts/{account}")])
        );
    }
}

#[tokio::test]
async fn a_v1_refresh_reads_account_orders_trades_and_positions_once_each() {
    let got = steady_refresh(V1).await;
    let paths: Vec<String> = ["", "/orders", "/trades", "/positions"]
        .iter()
        .map(|p| format!("GET /v1/accounts/{V1}{p}"))
        .collect();
    let rows: Vec<&str> = paths.iter().map(String::as_str).collect();
    // No trades are open, so no prices are needed to value them; nothing was written, so the
    // transaction history is not read.
    assert_eq!(got, expected(&rows));
}
