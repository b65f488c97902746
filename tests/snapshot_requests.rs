//! What one account refresh costs upstream, per backend, against the fakes: the hub's snapshot of an
//! account (orders, positions, state) must make each listed request once and nothing else.

mod support;

use std::collections::BTreeMap;

/// (method, path) -> count, leaving out the keep-alive pings that run on their own clock.
fn tally<'a>(requests: impl Iterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (method, path) in requests {
        if path != "/ping" {
            *out.entry(format!("{method} {path}")).or_insert(0) += 1;
        }
    }
    out
}

fn expected(rows: &[&str]) -> BTreeMap<String, usize> {
    rows.iter().map(|r| (r.to_string(), 1)).collect()
}

mod capital {
    use super::support::capital::{self, HEDGE, NET};
    use super::{expected, tally};

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
}

mod oanda {
    use super::support::fake_oanda::LoggedRequest;
    use super::support::oanda::{self, V1, V20, V20_HEDGE};
    use super::{expected, tally};
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
        println!("{got:?}");
        assert!(got.values().all(|n| *n == 1), "{got:?}");
        for path in ["", "/orders", "/trades", "/positions"] {
            let key = format!("GET /v1/accounts/{V1}{path}");
            assert!(got.contains_key(&key), "{key} missing from {got:?}");
        }
    }
}
