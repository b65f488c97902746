//! The v20 REST API (`/v3`), after the official OpenAPI file: accounts, instruments, pricing, orders,
//! trades, positions, transactions and candles, plus the two streams (served on the stream listener).

mod accounts;
mod candles;
mod extensions;
mod orders;
mod positions;
pub(super) mod pricing;
mod request;
mod stream;
mod trades;
mod transactions;
pub(super) mod tx;
mod views;

use super::state::Shared;
use axum::routing::{get, put};
use axum::Router;
use std::sync::Arc;

/// The REST routes, to nest under `/v3`.
pub(super) fn rest() -> Router<Arc<Shared>> {
    let acct = "/accounts/{id}";
    Router::new()
        .route("/accounts", get(accounts::list))
        .route(acct, get(accounts::details))
        .route(&format!("{acct}/summary"), get(accounts::summary))
        .route(&format!("{acct}/instruments"), get(accounts::instruments))
        .route(&format!("{acct}/pricing"), get(pricing::pricing))
        .route(
            &format!("{acct}/instruments/{{instrument}}/candles"),
            get(candles::account_candles),
        )
        .route("/instruments/{instrument}/candles", get(candles::candles))
        .route(&format!("{acct}/orders"), get(orders::list).post(orders::create))
        .route(&format!("{acct}/pendingOrders"), get(orders::pending))
        .route(
            &format!("{acct}/orders/{{spec}}"),
            get(orders::get_one).put(orders::replace),
        )
        .route(&format!("{acct}/orders/{{spec}}/cancel"), put(orders::cancel))
        .route(
            &format!("{acct}/orders/{{spec}}/clientExtensions"),
            put(extensions::set_order),
        )
        .route(&format!("{acct}/trades"), get(trades::list))
        .route(&format!("{acct}/openTrades"), get(trades::open))
        .route(&format!("{acct}/trades/{{spec}}"), get(trades::get_one))
        .route(&format!("{acct}/trades/{{spec}}/close"), put(trades::close))
        .route(&format!("{acct}/trades/{{spec}}/orders"), put(trades::set_orders))
        .route(&format!("{acct}/positions"), get(positions::positions))
        .route(&format!("{acct}/openPositions"), get(positions::open_positions))
        .route(
            &format!("{acct}/positions/{{instrument}}"),
            get(positions::position),
        )
        .route(
            &format!("{acct}/positions/{{instrument}}/close"),
            put(positions::close_position),
        )
        .route(&format!("{acct}/transactions"), get(transactions::pages))
        .route(
            &format!("{acct}/transactions/idrange"),
            get(transactions::id_range),
        )
        .route(
            &format!("{acct}/transactions/sinceid"),
            get(transactions::since_id),
        )
        .route(&format!("{acct}/transactions/{{tx}}"), get(transactions::one))
}

/// The stream routes, to nest under `/v3` on the stream listener.
pub(super) fn streams() -> Router<Arc<Shared>> {
    Router::new()
        .route("/accounts/{id}/pricing/stream", get(stream::pricing))
        .route("/accounts/{id}/transactions/stream", get(stream::transactions))
}
