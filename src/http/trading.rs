//! Order endpoints: list, place (idempotent on `requestId`), modify, cancel, preview, order info,
//! executions, orders history, leverage and latency tracking. Every write leaves one audit line.

use crate::broker::{BrokerAccount, SessionCtx};
use crate::error::{ApiError, ApiResult, TvDone, TvOk};
use crate::http::audit::{self, Action, Actor, RequestId, Subject};
use crate::http::extract::{Authed, Fields, TvForm, TvQuery};
use crate::http::order_form;
use crate::http::AppState;
use crate::hub::{SnapshotPart, StreamKind};
use crate::idempotency::{run_detached, Fingerprint, IdempotencyKey};
use crate::tv;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/accounts/{account_id}/orders",
            get(list_orders).post(place_order),
        )
        .route(
            "/accounts/{account_id}/orders/{order_id}",
            put(modify_order).delete(cancel_order),
        )
        .route("/accounts/{account_id}/previewOrder", post(preview_order))
        .route("/accounts/{account_id}/orderInfo", post(order_info))
        .route("/accounts/{account_id}/executions", get(executions))
        .route("/accounts/{account_id}/ordersHistory", get(orders_history))
        .route("/accounts/{account_id}/getLeverage", post(get_leverage))
        .route("/accounts/{account_id}/setLeverage", post(set_leverage))
        .route("/accounts/{account_id}/previewLeverage", post(preview_leverage))
        .route("/accounts/{account_id}/trackLatency", post(track_latency))
}

async fn list_orders(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<SnapshotPart> {
    let account = authed.account(&account_id)?;
    let snapshot = state.hubs().get(&authed.0.ctx, account).snapshot().await?;
    Ok(SnapshotPart(snapshot, StreamKind::Orders))
}

/// Parses and validates a new order for `account` against its instruments and its own durations.
async fn validated_order(
    state: &AppState,
    ctx: &SessionCtx,
    account: &BrokerAccount,
    form: &Fields,
) -> ApiResult<tv::PlaceOrder> {
    let order = order_form::place_order(form)?;
    let instruments = state
        .hubs()
        .catalogs()
        .rows_with(ctx, &account.id, &order.instrument)
        .await?;
    order_form::check_place(&order, &account.capabilities, &instruments, &account.durations)?;
    Ok(order)
}

async fn place_order(
    State(state): State<AppState>,
    RequestId(rid): RequestId,
    authed: Authed,
    Path(account_id): Path<String>,
    TvQuery(query): TvQuery,
    TvForm(form): TvForm,
) -> ApiResult<TvOk<tv::PlacedOrder>> {
    let mut subject = Subject::from_form(&form, "qty").with_fields(&form, ORDER_DETAILS);
    let request_id = query.str_opt("requestId").map(str::to_owned);
    if let Some(id) = &request_id {
        subject.add("requestId", id);
    }
    let result = place(&state, &authed, &account_id, &query, &form, request_id).await;
    if let Ok((placed, replayed)) = &result {
        subject.upstream_id = Some(placed.order_id.clone());
        if *replayed {
            // A resend answered with the order the first request created: nothing new was placed.
            subject.add("replayed", true);
        }
    }
    audit::trade(
        Action::Place,
        &actor(&rid, &authed, &account_id),
        &subject,
        &result,
    );
    result.map(|(placed, _)| TvOk(placed))
}

/// The fields of an order besides instrument, side and quantity that the audit line records.
const ORDER_DETAILS: &[&str] = &[
    "type",
    "limitPrice",
    "stopPrice",
    "durationType",
    "durationDateTime",
    "stopLoss",
    "takeProfit",
    "trailingStopPips",
    "guaranteedStop",
];

/// The audit actor of a request of `authed` on `account_id`.
fn actor<'a>(request_id: &'a str, authed: &'a Authed, account_id: &'a str) -> Actor<'a> {
    Actor {
        request_id,
        user: &authed.0.ctx.user,
        account: account_id,
    }
}

async fn place(
    state: &AppState,
    authed: &Authed,
    account_id: &str,
    query: &Fields,
    form: &Fields,
    request_id: Option<String>,
) -> ApiResult<(tv::PlacedOrder, bool)> {
    let account = authed.account(account_id)?;
    if let Some(id) = &request_id {
        state.idempotency().check_request_id(id)?;
    }
    let ctx = authed.0.ctx.clone();
    let order = validated_order(state, &ctx, account, form).await?;
    let fingerprint = Fingerprint::of(&order);
    let confirm_id = query
        .str_opt("confirmId")
        .or_else(|| form.str_opt("confirmId"))
        .map(str::to_owned);
    let track_latency = account.capabilities.track_latency;
    // Everything the placement needs is owned, so it can run to completion in its own task even if the
    // client disconnects (see `idempotency::run_detached`).
    let place = {
        let (state, ctx, account_id, request_id) = (
            state.clone(),
            ctx.clone(),
            account_id.to_owned(),
            request_id.clone(),
        );
        move || async move {
            if let Some(confirm) = &confirm_id {
                state
                    .broker()
                    .redeem_confirm_id(&ctx, &account_id, confirm, &order)
                    .await?;
            }
            let order_id = state
                .broker()
                .place_order(&ctx, &account_id, order, request_id.as_deref())
                .await?;
            let transaction_id = track_latency.then(|| uuid::Uuid::new_v4().simple().to_string());
            Ok(tv::PlacedOrder {
                order_id,
                transaction_id,
            })
        }
    };
    let placed = match request_id {
        None => run_detached(place()).await.map(|placed| (placed, false)),
        Some(rid) => {
            let key = IdempotencyKey {
                user: ctx.user.clone(),
                account: account_id.to_owned(),
                request_id: rid.clone(),
            };
            let lookup = {
                let (state, ctx, account_id, rid) =
                    (state.clone(), ctx.clone(), account_id.to_owned(), rid.clone());
                move || async move { state.broker().order_by_request_id(&ctx, &account_id, &rid).await }
            };
            let placed = state.idempotency().place(key, fingerprint, place, lookup).await;
            if let Ok((placed, true)) = &placed {
                tracing::info!(request_id = %rid, order_id = %placed.order_id, "duplicate requestId: returning the order it created");
            }
            placed
        }
    };
    let placed = placed?;
    state.hubs().get(&ctx, account).after_write().await;
    Ok(placed)
}

/// The order `order_id` as the account hub last saw it (fresh within the hub's window), or, when that
/// snapshot does not hold it, as a snapshot taken from now sees it: the order may have been acknowledged
/// after the last one was taken (Interactive Brokers' pacing keeps a snapshot for 5 s, and refreshes after
/// a write in the background), and an order is unknown only when the account does not list it now.
async fn find_order(
    state: &AppState,
    ctx: &SessionCtx,
    account: &BrokerAccount,
    order_id: &str,
) -> ApiResult<tv::Order> {
    let hub = state.hubs().get(ctx, account);
    let held = |s: &crate::hub::Snapshot| s.orders.iter().find(|o| o.id == order_id).cloned();
    if let Some(order) = held(&*hub.snapshot().await?) {
        return Ok(order);
    }
    held(&*hub.snapshot_from_now().await?)
        .ok_or_else(|| ApiError::bad(format!("Unknown order '{order_id}' on account {}", account.id)))
}

async fn modify_order(
    State(state): State<AppState>,
    RequestId(rid): RequestId,
    authed: Authed,
    Path((account_id, order_id)): Path<(String, String)>,
    TvForm(form): TvForm,
) -> ApiResult<TvDone> {
    let mut subject = Subject::from_form(&form, "qty").with_fields(&form, ORDER_DETAILS);
    subject.upstream_id = Some(audit::clean(&order_id));
    let result = modify(&state, &authed, &account_id, &order_id, &form, &mut subject).await;
    audit::trade(
        Action::Modify,
        &actor(&rid, &authed, &account_id),
        &subject,
        &result,
    );
    result.map(|()| TvDone)
}

async fn modify(
    state: &AppState,
    authed: &Authed,
    account_id: &str,
    order_id: &str,
    form: &Fields,
    subject: &mut Subject,
) -> ApiResult<()> {
    let account = authed.account(account_id)?;
    let ctx = &authed.0.ctx;
    let change = order_form::modify_order(form)?;
    let current = find_order(state, ctx, account, order_id).await?;
    subject.instrument = Some(current.instrument.clone());
    subject.side = Some(current.side.to_string());
    subject.qty = Some(change.qty.unwrap_or(current.qty).to_string());
    let instruments = state
        .hubs()
        .catalogs()
        .rows_with(ctx, account_id, &current.instrument)
        .await?;
    order_form::check_modify(
        &change,
        &current,
        &account.capabilities,
        &instruments,
        &account.durations,
    )?;
    let result = state
        .broker()
        .modify_order(ctx, account_id, order_id, change)
        .await;
    state.hubs().get(ctx, account).after_write().await;
    Ok(result?)
}

async fn cancel_order(
    State(state): State<AppState>,
    RequestId(rid): RequestId,
    authed: Authed,
    Path((account_id, order_id)): Path<(String, String)>,
) -> ApiResult<TvDone> {
    let mut subject = Subject {
        upstream_id: Some(audit::clean(&order_id)),
        ..Subject::default()
    };
    let result = cancel(&state, &authed, &account_id, &order_id, &mut subject).await;
    audit::trade(
        Action::Cancel,
        &actor(&rid, &authed, &account_id),
        &subject,
        &result,
    );
    result.map(|()| TvDone)
}

async fn cancel(
    state: &AppState,
    authed: &Authed,
    account_id: &str,
    order_id: &str,
    subject: &mut Subject,
) -> ApiResult<()> {
    let account = authed.account(account_id)?;
    let hub = state.hubs().get(&authed.0.ctx, account);
    // What the order was, for the audit line, from the hub's last snapshot (no backend call).
    if let Some(order) = hub
        .latest()
        .and_then(|s| s.orders.iter().find(|o| o.id == order_id).cloned())
    {
        subject.instrument = Some(order.instrument);
        subject.side = Some(order.side.to_string());
        subject.qty = Some(order.qty.to_string());
    }
    let result = state
        .broker()
        .cancel_order(&authed.0.ctx, account_id, order_id)
        .await;
    hub.after_write().await;
    Ok(result?)
}

async fn preview_order(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
    TvForm(form): TvForm,
) -> ApiResult<TvOk<tv::OrderPreview>> {
    let account = authed.account(&account_id)?;
    if !account.capabilities.order_preview {
        return Err(ApiError::bad("order preview is not supported on this account"));
    }
    let order = validated_order(&state, &authed.0.ctx, account, &form).await?;
    let modifying = form.str_opt("id");
    Ok(TvOk(
        state
            .broker()
            .preview_order(&authed.0.ctx, &account_id, order, modifying)
            .await?,
    ))
}

async fn order_info(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
    TvForm(form): TvForm,
) -> ApiResult<TvOk<tv::OrderInfo>> {
    let account = authed.account(&account_id)?;
    if !account.capabilities.order_info {
        return Err(ApiError::bad("order info is not supported on this account"));
    }
    let order = validated_order(&state, &authed.0.ctx, account, &form).await?;
    Ok(TvOk(
        state
            .broker()
            .order_info(&authed.0.ctx, &account_id, order)
            .await?,
    ))
}

fn max_count(query: &Fields) -> ApiResult<Option<usize>> {
    match query.int_opt("maxCount")? {
        None => Ok(None),
        Some(n) if n > 0 => Ok(Some(n as usize)),
        Some(n) => Err(ApiError::bad(format!(
            "query parameter 'maxCount' must be positive, got {n}"
        ))),
    }
}

async fn executions(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
    TvQuery(query): TvQuery,
) -> ApiResult<TvOk<Vec<tv::Execution>>> {
    let account = authed.account(&account_id)?;
    if !account.capabilities.executions {
        return Err(ApiError::bad("executions are not supported on this account"));
    }
    let instrument = query.str_opt("instrument");
    let max = max_count(&query)?;
    Ok(TvOk(
        state
            .broker()
            .executions(&authed.0.ctx, &account_id, instrument, max)
            .await?,
    ))
}

async fn orders_history(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
    TvQuery(query): TvQuery,
) -> ApiResult<TvOk<Vec<tv::Order>>> {
    let account = authed.account(&account_id)?;
    if !account.capabilities.orders_history {
        return Err(ApiError::bad("orders history is not supported on this account"));
    }
    let max = max_count(&query)?;
    Ok(TvOk(
        state
            .broker()
            .orders_history(&authed.0.ctx, &account_id, max)
            .await?,
    ))
}

fn leverage_query(account: &BrokerAccount, form: &Fields) -> ApiResult<tv::LeverageQuery> {
    if !account.capabilities.leverage {
        return Err(ApiError::bad("leverage is not supported on this account"));
    }
    Ok(tv::LeverageQuery {
        instrument: form.str_req("instrument")?.to_owned(),
        side: form.choice_req("side", "buy, sell", tv::Side::parse)?,
        order_type: form.choice_req(
            "orderType",
            "market, limit, stop, stoplimit",
            tv::OrderType::parse,
        )?,
    })
}

fn leverage_value(form: &Fields) -> ApiResult<rust_decimal::Decimal> {
    let v = form.decimal_req("leverage")?;
    if v <= rust_decimal::Decimal::ZERO {
        return Err(ApiError::bad(format!(
            "'leverage' must be greater than zero, got {v}"
        )));
    }
    Ok(v)
}

async fn get_leverage(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
    TvForm(form): TvForm,
) -> ApiResult<TvOk<tv::LeverageInfo>> {
    let query = leverage_query(authed.account(&account_id)?, &form)?;
    Ok(TvOk(
        state
            .broker()
            .get_leverage(&authed.0.ctx, &account_id, query)
            .await?,
    ))
}

async fn set_leverage(
    State(state): State<AppState>,
    RequestId(rid): RequestId,
    authed: Authed,
    Path(account_id): Path<String>,
    TvForm(form): TvForm,
) -> ApiResult<TvOk<tv::LeverageSet>> {
    let subject = Subject::from_form(&form, "qty").with_fields(&form, &["orderType", "leverage"]);
    let result = async {
        let query = leverage_query(authed.account(&account_id)?, &form)?;
        let leverage = leverage_value(&form)?;
        let set = state
            .broker()
            .set_leverage(&authed.0.ctx, &account_id, query, leverage)
            .await;
        // Instrument rows carry margin rates that follow the leverage, whatever the outcome.
        state.hubs().catalogs().forget(&authed.0.ctx, &account_id);
        Ok(set?)
    }
    .await;
    audit::trade(
        Action::Leverage,
        &actor(&rid, &authed, &account_id),
        &subject,
        &result,
    );
    result.map(TvOk)
}

async fn preview_leverage(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
    TvForm(form): TvForm,
) -> ApiResult<TvOk<tv::LeveragePreview>> {
    let query = leverage_query(authed.account(&account_id)?, &form)?;
    let leverage = leverage_value(&form)?;
    Ok(TvOk(
        state
            .broker()
            .preview_leverage(&authed.0.ctx, &account_id, query, leverage)
            .await?,
    ))
}

/// Latency reports are logged as structured events (one per user action), for the operator's dashboards.
/// The longest round trip a latency report may carry, in milliseconds (an hour): longer is no latency.
const MAX_ROUND_TRIP_MS: i64 = 3_600_000;

async fn track_latency(
    authed: Authed,
    Path(account_id): Path<String>,
    TvForm(form): TvForm,
) -> ApiResult<TvDone> {
    let account = authed.account(&account_id)?;
    if !account.capabilities.track_latency {
        return Err(ApiError::bad("latency tracking is not enabled on this account"));
    }
    let transaction_id = form.str_req("transactionId")?;
    let kind = form.str_req("transactionType")?;
    let instrument = form.str_req("instrument")?;
    let round_trip_ms = form.decimal_req("roundTripDuration")?;
    if round_trip_ms < rust_decimal::Decimal::ZERO
        || round_trip_ms > rust_decimal::Decimal::from(MAX_ROUND_TRIP_MS)
    {
        return Err(ApiError::bad(format!(
            "'roundTripDuration' must be from 0 to {MAX_ROUND_TRIP_MS} milliseconds, got {round_trip_ms}"
        )));
    }
    tracing::info!(target: "tvbridge::latency", account = %account_id, %transaction_id, transaction_type = %kind,
        %instrument, %round_trip_ms, "latency report");
    if let Some(ms) = rust_decimal::prelude::ToPrimitive::to_f64(&round_trip_ms) {
        crate::metrics::record::tradingview_round_trip(kind, ms);
    }
    Ok(TvDone)
}
