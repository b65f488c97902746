//! What one account refresh costs the paper broker: the hub's snapshot of an account (orders, positions,
//! state) makes each trait call once and nothing else.

use crate::support::{config, TestApp, HEDGE, NET};
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use tvbridge::backends::paper::PaperBroker;
use tvbridge::broker::{
    Broker, BrokerAccount, BrokerResult, Login, LoginKind, LoginOutcome, RefreshPolicy, SessionCtx,
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
    fn login_kind(&self) -> LoginKind {
        self.inner.login_kind()
    }
    async fn login(&self, session_id: &str, login: &Login) -> BrokerResult<LoginOutcome> {
        self.inner.login(session_id, login).await
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
    async fn modify_order(&self, s: &SessionCtx, a: &str, id: &str, c: tv::ModifyOrder) -> BrokerResult<()> {
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
        inner: PaperBroker::start(paper).await.unwrap(),
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
