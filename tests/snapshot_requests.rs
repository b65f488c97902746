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
        let paths: Vec<String> = ["", "/orders", "/trades", "/positions"]
            .iter()
            .map(|p| format!("GET /v1/accounts/{V1}{p}"))
            .collect();
        let rows: Vec<&str> = paths.iter().map(String::as_str).collect();
        // No trades are open, so no prices are needed to value them; nothing was written, so the
        // transaction history is not read.
        assert_eq!(got, expected(&rows));
    }
}

mod paper {
    use super::support::{config, TestApp, HEDGE, NET};
    use async_trait::async_trait;
    use std::sync::{Arc, Mutex};
    use tvbridge::backends::paper::PaperBroker;
    use tvbridge::broker::{
        Broker, BrokerAccount, BrokerResult, Credentials, LoginOutcome, RefreshPolicy, SessionCtx,
    };
    use tvbridge::tv;

    /// The paper broker, with every account call it gets written down.
    struct Counting {
        inner: PaperBroker,
        calls: Mutex<Vec<&'static str>>,
    }

    impl Counting {
        fn note(&self, call: &'static str) {
            self.calls.lock().unwrap().push(call);
        }
    }

    #[async_trait]
    impl Broker for Counting {
        async fn login(&self, session_id: &str, c: &Credentials) -> BrokerResult<LoginOutcome> {
            self.inner.login(session_id, c).await
        }
        async fn accounts(&self, s: &SessionCtx) -> BrokerResult<Vec<BrokerAccount>> {
            self.inner.accounts(s).await
        }
        fn durations(&self) -> Vec<tv::DurationConfig> {
            self.inner.durations()
        }
        async fn symbol_mapping(&self) -> BrokerResult<Vec<tv::SymbolMapping>> {
            self.inner.symbol_mapping().await
        }
        async fn instruments(&self, s: &SessionCtx, a: &str) -> BrokerResult<Vec<tv::Instrument>> {
            self.inner.instruments(s, a).await
        }
        async fn state(&self, s: &SessionCtx, a: &str) -> BrokerResult<tv::AccountState> {
            self.note("state");
            self.inner.state(s, a).await
        }
        async fn orders(&self, s: &SessionCtx, a: &str) -> BrokerResult<Vec<tv::Order>> {
            self.note("orders");
            self.inner.orders(s, a).await
        }
        async fn positions(&self, s: &SessionCtx, a: &str) -> BrokerResult<Vec<tv::Position>> {
            self.note("positions");
            self.inner.positions(s, a).await
        }
        async fn net_positions(&self, s: &SessionCtx, a: &str) -> BrokerResult<Vec<tv::NetPosition>> {
            self.note("net_positions");
            self.inner.net_positions(s, a).await
        }
        async fn individual_positions(
            &self,
            s: &SessionCtx,
            a: &str,
        ) -> BrokerResult<Vec<tv::IndividualPosition>> {
            self.note("individual_positions");
            self.inner.individual_positions(s, a).await
        }
        async fn place_order(
            &self,
            s: &SessionCtx,
            a: &str,
            o: tv::PlaceOrder,
            r: Option<&str>,
        ) -> BrokerResult<String> {
            self.inner.place_order(s, a, o, r).await
        }
        async fn modify_order(
            &self,
            s: &SessionCtx,
            a: &str,
            id: &str,
            c: tv::ModifyOrder,
        ) -> BrokerResult<()> {
            self.inner.modify_order(s, a, id, c).await
        }
        async fn cancel_order(&self, s: &SessionCtx, a: &str, id: &str) -> BrokerResult<()> {
            self.inner.cancel_order(s, a, id).await
        }
        async fn quotes(&self, s: &SessionCtx, a: &str, q: &[String]) -> BrokerResult<Vec<tv::QuoteEntry>> {
            self.inner.quotes(s, a, q).await
        }
        fn refresh_policy(&self, a: &BrokerAccount) -> RefreshPolicy {
            self.inner.refresh_policy(a)
        }
    }

    /// Many polls of every list within the freshness window cost one refresh, and a refresh is the
    /// default snapshot's calls for the account's hedging mode, each once.
    #[tokio::test]
    async fn a_refresh_is_one_call_per_list_of_the_hedging_mode() {
        let config = config("[hub]\nfreshness_ms = 60000\n");
        let tvbridge::config::BackendConfig::Paper(paper) = config.backend.clone() else {
            unreachable!("the test configuration runs the paper broker")
        };
        let broker = Arc::new(Counting {
            inner: PaperBroker::start(paper, &config.auth.users).await.unwrap(),
            calls: Mutex::new(Vec::new()),
        });
        let app = TestApp::with_broker(config, broker.clone());
        let token = app.login().await;
        for (account, expected) in [
            (NET, vec!["orders", "positions", "state"]),
            (
                HEDGE,
                vec!["individual_positions", "net_positions", "orders", "state"],
            ),
        ] {
            broker.calls.lock().unwrap().clear();
            for _ in 0..5 {
                app.orders(&token, account).await;
                app.state(&token, account).await;
            }
            let mut calls = broker.calls.lock().unwrap().clone();
            calls.sort();
            assert_eq!(calls, expected, "{account}");
        }
    }
}
