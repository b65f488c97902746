//! `GET /accounts/{acct}/trades?since=YYYYMMDD-HH:MM:SS`: executions since `since` (UTC); a future one or
//! one more than 7 days back is refused (400); without it, the past 24 hours.

use super::super::clock::parse_fix_time;
use super::super::state::Shared;
use super::super::wire::{error, ok};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::TimeDelta;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub(in super::super) async fn list(
    State(shared): State<Arc<Shared>>,
    Path(acct): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let now = shared.now();
    let since = match q.get("since") {
        None => now - TimeDelta::hours(24),
        Some(s) => match parse_fix_time(s) {
            None => return error(400, "since must be YYYYMMDD-HH:MM:SS"),
            Some(t) if t > now => return error(400, "since is in the future"),
            Some(t) if now - t > TimeDelta::days(7) => return error(400, "since is more than 7 days back"),
            Some(t) => t,
        },
    };
    let st = shared.lock();
    let rows: Vec<Value> = st
        .trades
        .iter()
        .filter(|t| t.account == acct && t.time >= since)
        .map(|t| st.trade_json(t))
        .collect();
    ok(Value::Array(rows))
}
