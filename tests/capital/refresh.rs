//! What one account refresh costs upstream: the hub's snapshot of an account (orders, positions, state) makes
//! each listed request once and nothing else.

use crate::support::capital::{self, HEDGE, NET};
use crate::support::tally::{expected, tally};

async fn one_refresh(account: &str) -> std::collections::BTreeMap<String, usize> {
    let (fake, app) = capital::start("", "[hub]\nfreshness_ms = 0\n").await;
    let token = capital::login(&app).await;
    // The first poll also selects the account upstream and loads market details once.
    app.orders(&token, account).await;
    fake.clear_requests();
    app.state(&token, account).await;
    let requests = fake.requests();
    tally(requests.iter().map(|r| (r.method.as_str(), r.path.as_str())))
}

#[tokio::test]
async fn a_netting_refresh_is_working_orders_positions_and_accounts_once_each() {
    assert_eq!(
        one_refresh(NET).await,
        expected(&["GET /accounts", "GET /positions", "GET /workingorders"])
    );
}

#[tokio::test]
async fn a_hedging_refresh_is_working_orders_positions_and_accounts_once_each() {
    assert_eq!(
        one_refresh(HEDGE).await,
        expected(&["GET /accounts", "GET /positions", "GET /workingorders"])
    );
}
