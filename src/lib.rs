//! tvbridge: a TradingView Broker REST API (1.4.27) server that trades through a pluggable upstream broker.
//!
//! `app()` builds the router (tests drive it without a socket); `serve()` runs it until SIGTERM or Ctrl-C.

pub mod auth;
pub mod backends;
pub mod broker;
pub mod config;
pub mod error;
pub mod healthcheck;
pub mod http;
pub mod hub;
pub mod idempotency;
pub mod metrics;
pub mod secret;
pub mod server;
pub mod startup;
pub mod state;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod tv;
pub mod upstream;

pub use state::AppState;

use crate::broker::Broker;
use crate::config::{BackendConfig, Config};
use axum::Router;
use std::sync::Arc;

/// The application router for `state`.
pub fn app(state: AppState) -> Router {
    http::router(state)
}

/// Builds the configured backend; the paper broker keeps its books in `store`.
pub async fn build_broker(config: &Config, store: Arc<dyn store::Store>) -> anyhow::Result<Arc<dyn Broker>> {
    match &config.backend {
        BackendConfig::Paper(paper) => {
            let broker = backends::paper::PaperBroker::start_with_store(paper.clone(), store).await?;
            Ok(Arc::new(broker))
        }
        BackendConfig::Capital(capital) => {
            let broker = backends::capital::CapitalBroker::start_with_store(capital, store)?;
            Ok(Arc::new(broker))
        }
        BackendConfig::Oanda(oanda) => {
            let broker = backends::oanda::OandaBroker::start(oanda)?;
            Ok(Arc::new(broker))
        }
        BackendConfig::Ibkr(ibkr) => {
            let broker = backends::ibkr::IbkrBroker::start_with_store(ibkr, store).await?;
            Ok(Arc::new(broker))
        }
        BackendConfig::IbkrThirdParty(tp) => {
            let broker = backends::ibkr_third_party::IbkrThirdPartyBroker::start(tp, store).await?;
            Ok(Arc::new(broker))
        }
    }
}

/// Serves `config` until a shutdown signal, then finishes in-flight requests.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let metrics_on = config.metrics.enabled;
    if metrics_on {
        metrics::install();
    }
    let mut store = store::open(&config.store).await?;
    if metrics_on {
        store = metrics::store::MeteredStore::wrap(store);
    }
    let broker = build_broker(&config, store.clone()).await?;
    broker.warm_up();
    let listen = config.server.listen;
    let base = config.server.base_path.clone();
    // Only the built-in demo credentials are ever printed: any other password is a secret.
    let demo_login = config
        .auth
        .users
        .iter()
        .any(|u| u.login == "demo" && u.password.constant_time_eq("demo"));
    let config_summary = startup::Summary::of(&config);
    let state = AppState::start(config, broker, store).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    if let Some(side) = metrics::serve::bind_side(&state.config().metrics).await? {
        let at = side.local_addr()?;
        let page = metrics::serve::side_router(&state.config().metrics.path);
        let stop = state.shutdown().token().clone();
        tracing::info!(addr = %at, path = %state.config().metrics.path, "metrics listening");
        tokio::spawn(server::run_side(
            side,
            page,
            metrics::serve::SIDE_MAX_CONNECTIONS,
            stop,
        ));
    }
    startup::announce(&config_summary, addr, &base, demo_login);
    startup::announce_oauth(&state.config().oauth, addr, &base);
    server::warn_if_descriptors_short(state.config().server.max_connections);
    // One route table shared by every connection (cloning a `Router` is a reference count).
    let router = app(state.clone());
    let stopped = server::run(listener, state, router, server::signal()).await;
    if stopped.cut == 0 {
        tracing::info!(took_ms = stopped.took.as_millis() as u64, "shut down cleanly");
    } else {
        tracing::warn!(
            took_ms = stopped.took.as_millis() as u64,
            cut = stopped.cut,
            "shut down after the grace period; connections still open were closed"
        );
    }
    Ok(())
}
