//! The legacy v1 REST API (`/v1`, accounts whose id is all digits): accounts, orders, trades, positions,
//! transactions, instruments, prices and candles, plus the rates and events streams (stream listener).

mod accounts;
mod orders;
mod params;
pub(super) mod rates;
mod stream;
mod trades;
mod transactions;
pub(super) mod tx;
mod views;

use super::state::Shared;
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

/// The REST routes, to nest under `/v1`.
pub(super) fn rest() -> Router<Arc<Shared>> {
    let acct = "/accounts/{id}";
    Router::new()
        .route("/accounts", get(accounts::list))
        .route(acct, get(accounts::details))
        .route(&format!("{acct}/orders"), get(orders::list).post(orders::create))
        .route(
            &format!("{acct}/orders/{{order}}"),
            get(orders::get_one).patch(orders::update).delete(orders::delete),
        )
        .route(&format!("{acct}/trades"), get(trades::list))
        .route(
            &format!("{acct}/trades/{{trade}}"),
            get(trades::get_one).patch(trades::update).delete(trades::close),
        )
        .route(&format!("{acct}/positions"), get(trades::positions))
        .route(
            &format!("{acct}/positions/{{instrument}}"),
            get(trades::position).delete(trades::close_position),
        )
        .route(&format!("{acct}/transactions"), get(transactions::list))
        .route(&format!("{acct}/transactions/{{tx}}"), get(transactions::one))
        .route("/instruments", get(rates::instruments))
        .route("/prices", get(rates::prices))
        .route("/candles", get(rates::candles))
}

/// The stream routes, to nest under `/v1` on the stream listener.
pub(super) fn streams() -> Router<Arc<Shared>> {
    Router::new()
        .route("/prices", get(stream::prices))
        .route("/events", get(stream::events))
}
