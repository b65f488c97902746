//! What one account refresh costs upstream: the hub's snapshot of an IBKR account (orders, positions,
//! state) makes each listed request once and nothing else.

use crate::support;

use support::ibkr::{self, next_refresh, ACCT};
use support::tally::{expected, tally};

#[tokio::test]
async fn a_refresh_is_live_orders_positions_summary_and_ledger_once_each() {
    let (fake, app) = ibkr::start_with(ibkr::options(), "", "").await;
    let token = app.login().await;
    // The first poll also opens the session and resolves the symbols.
    app.orders(&token, ACCT).await;
    // IBKR allows one live-orders read per 5 s: the next refresh comes after that.
    next_refresh().await;
    fake.clear_requests();
    app.state(&token, ACCT).await;
    let requests = fake.requests();
    assert_eq!(
        tally(requests.iter().map(|r| (r.method.as_str(), r.path.as_str()))),
        expected(&[
            "GET /iserver/account/orders",
            "GET /portfolio/DU1234567/ledger",
            "GET /portfolio/DU1234567/positions/0",
            "GET /portfolio/DU1234567/summary",
        ])
    );
    assert_eq!(fake.throttled(), 0);
}
