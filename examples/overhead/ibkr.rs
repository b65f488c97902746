//! The IBKR Client Portal gateway row: `/history` (the data feed) maps to one
//! `GET /iserver/marketdata/history`, which no cache of the bridge answers.
//!
//! Every uncached account read is paced by the bridge at IBKR's documented limits (orders, trades and
//! portfolio accounts once per 5 s, snapshots ten a second): none of them can be measured at a useful
//! rate. History is paced too, by the bridge's history lane (IBKR allows five requests in flight; the lane
//! also starts at most 1000 a second), and the benchmark stays inside it on both sides instead of raising
//! it: at most five in flight and 800 starts a second. Only the whole gateway's ten a second (a configured
//! value) is raised, as for the other backends.

use super::{bearer, fixed, login, serve, Backend, Limits, Target, NO_HUB_CACHE};
use anyhow::{anyhow, bail};
use reqwest::header::HeaderMap;
use std::sync::Arc;
use std::time::Duration;

const ACCT: &str = "DU1234567";

pub async fn target() -> anyhow::Result<Target> {
    use fakes::ibkr::{FakeIbkr, FakeIbkrAccount, FakeIbkrOptions};
    let fake = FakeIbkr::start(FakeIbkrOptions {
        accounts: vec![FakeIbkrAccount::paper(ACCT, "USD")],
        // The fake's default stands for IBKR's own time to answer; the direct call would pay it too,
        // but it would hide the bridge's share in the figures.
        history_latency: Duration::ZERO,
        ..FakeIbkrOptions::relaxed()
    })
    .await;
    let text = format!(
        "{NO_HUB_CACHE}\n[[auth.users]]\nlogin = \"demo\"\npassword = \"demo\"\n\n[backend]\nkind = \"ibkr\"\n\
         transport = \"gateway\"\nbase_url = \"{}\"\n\n[[backend.users]]\nlogin = \"demo\"\naccounts = [\"{ACCT}\"]\n\n\
         [[backend.symbols]]\nsymbol = \"AAPL\"\nconid = 265598\ntradingview = \"NASDAQ:AAPL\"\n",
        fake.base_url
    );
    let mut config = tvbridge::config::Config::from_toml(&text).map_err(|e| anyhow!("{e}"))?;
    let tvbridge::config::BackendConfig::Ibkr(ibkr) = &mut config.backend else {
        bail!("ibkr configuration expected");
    };
    // The gateway's 10 per second would be the figure measured otherwise (the per-endpoint limits stay).
    ibkr.requests_per_second = Some(1_000_000);
    let broker = Arc::new(tvbridge::backends::ibkr::IbkrBroker::start(ibkr).await?);
    let (api, server) = serve(config, broker).await?;
    let token = login(&api, "demo", "demo").await?;
    // Twenty minute bars ending an hour ago, on a minute: the same upstream request every time, and one
    // page (IBKR's minute periods reach 30 minutes; the pager asks for the range and two bars more).
    let to = (chrono::Utc::now().timestamp() / 60 - 60) * 60;
    let from = to - 20 * 60;
    let shared = Arc::new(fake);
    let log_of = shared.clone();
    Ok(Target {
        backend: Backend::Ibkr,
        bridge_url: format!("{api}/history?symbol=AAPL&resolution=1&from={from}&to={to}"),
        bridge_headers: fixed(bearer(&token)?),
        why: "/history of 20 minute bars is one history request (GET /iserver/marketdata/history); no cache \
              holds bars",
        upstream_base: shared.base_url.clone(),
        // Through the gateway nothing is signed: the gateway holds the session.
        direct_headers: fixed(HeaderMap::new()),
        limits: Limits {
            concurrency: Some(tvbridge::backends::ibkr::client::HISTORY_CONCURRENCY),
            rate: Some(800),
            why:
                "IBKR allows 5 history requests in flight (the bridge's history lane, which also starts at \
                  most 1000 a second, and the fake both hold to it): at most 5 in flight, 800 starts a second",
        },
        log: Box::new(move || {
            log_of
                .requests()
                .into_iter()
                .map(|r| (r.method, r.path, r.query))
                .collect()
        }),
        _keep: vec![Box::new(server), Box::new(shared)],
    })
}
