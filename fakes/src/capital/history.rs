//! `/history/activity` and `/history/transactions` of the session's current account, newest first, with
//! the documented date window rules (`from`/`to` in `YYYY-MM-DDTHH:MM:SS`, `lastPeriod` in seconds,
//! 10 minutes by default) and the FIQL `filter` of the activity history.

use super::gate::Ctx;
use super::state::{ActivityRec, Shared, State};
use super::wire::{
    fmt_ms, fmt_ms_local, money_string, num, ok, parse_date, query_get, query_pairs, ApiError, ApiResult,
};
use axum::extract::{RawQuery, State as AxState};
use axum::Extension;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};
use std::sync::Arc;

/// The default `lastPeriod` (seconds).
const DEFAULT_PERIOD: i64 = 600;
/// The widest activity window (seconds): one day.
const MAX_PERIOD: i64 = 86_400;

/// A `[from, to]` window of UTC instants; `None` ends are open.
type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Reads `from`, `to` and `lastPeriod`. `None` when none of them is given.
fn window(pairs: &[(String, String)], now: DateTime<Utc>) -> Result<Option<Window>, ApiError> {
    let date = |name: &str| -> Result<Option<DateTime<Utc>>, ApiError> {
        match query_get(pairs, name) {
            None => Ok(None),
            Some(s) => parse_date(s)
                .map(Some)
                .ok_or_else(|| ApiError::bad(format!("error.invalid.{name}"))),
        }
    };
    let from = date("from")?;
    // `to` has second precision: everything inside that second is still "up to".
    let to = date("to")?.map(|t| t + TimeDelta::milliseconds(999));
    if from.is_some() || to.is_some() {
        return Ok(Some((from, to)));
    }
    match query_get(pairs, "lastPeriod") {
        None => Ok(None),
        Some(s) => {
            let secs = s
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|v| (1..=MAX_PERIOD).contains(v))
                .ok_or_else(|| ApiError::bad("error.invalid.lastPeriod"))?;
            Ok(Some((Some(now - TimeDelta::seconds(secs)), Some(now))))
        }
    }
}

fn inside((from, to): Window, t: DateTime<Utc>) -> bool {
    from.is_none_or(|f| t >= f) && to.is_none_or(|e| t <= e)
}

/// One clause of a FIQL filter: `key==a,b` or `key!=a,b`.
struct Clause {
    key: String,
    negate: bool,
    values: Vec<String>,
}

fn parse_filter(filter: &str) -> Result<Vec<Clause>, ApiError> {
    let bad = || ApiError::bad("error.invalid.filter");
    filter
        .split(';')
        .filter(|c| !c.trim().is_empty())
        .map(|c| {
            let (key, negate, rest) = if let Some((k, v)) = c.split_once("!=") {
                (k, true, v)
            } else if let Some((k, v)) = c.split_once("==") {
                (k, false, v)
            } else {
                return Err(bad());
            };
            let key = key.trim().to_string();
            if !matches!(key.as_str(), "epic" | "source" | "status" | "type") {
                return Err(bad());
            }
            let values = rest.split(',').map(|v| v.trim().to_string()).collect();
            Ok(Clause { key, negate, values })
        })
        .collect()
}

fn passes(clauses: &[Clause], a: &ActivityRec) -> bool {
    clauses.iter().all(|c| {
        let field = match c.key.as_str() {
            "epic" => a.epic.as_str(),
            "source" => a.source,
            "status" => a.status,
            _ => a.kind,
        };
        c.values.iter().any(|v| v == field) != c.negate
    })
}

impl State {
    fn activity_json(&self, a: &ActivityRec, detailed: bool) -> Value {
        let mut v = json!({
            "date": fmt_ms_local(a.at),
            "dateUTC": fmt_ms(a.at),
            "epic": a.epic,
            "dealId": a.deal_id,
            "source": a.source,
            "type": a.kind,
            "status": a.status,
        });
        if detailed {
            let m = self.market(&a.epic);
            let mut d = json!({
                "dealReference": a.deal_reference,
                "marketName": m.map(|m| m.spec.name.as_str()).unwrap_or(""),
                "currency": m.map(|m| m.spec.currency.as_str()).unwrap_or(""),
                "size": num(a.size),
                "direction": a.dir.as_str(),
                "level": num(a.level),
                "guaranteedStop": a.stops.guaranteed,
            });
            if let Some(obj) = d.as_object_mut() {
                if let Some(s) = a.stops.stop_level {
                    obj.insert("stopLevel".into(), num(s));
                }
                if let Some(p) = a.stops.profit_level {
                    obj.insert("profitLevel".into(), num(p));
                }
                if a.stops.trailing {
                    obj.insert("trailingStop".into(), json!(true));
                }
            }
            if let Some(obj) = v.as_object_mut() {
                obj.insert("details".into(), d);
            }
        }
        v
    }
}

/// `GET /history/activity?from&to&lastPeriod&detailed&dealId&filter`.
pub(super) async fn activity(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let pairs = query_pairs(query.as_deref());
    let st = shared.lock();
    let now = st.now();
    let account = st.ctx_account(&ctx)?;
    let deal_id = query_get(&pairs, "dealId").filter(|d| !d.is_empty());
    let filter = query_get(&pairs, "filter").filter(|f| !f.is_empty());
    let detailed = query_get(&pairs, "detailed").is_some_and(|d| d.eq_ignore_ascii_case("true"));
    let clauses = parse_filter(filter.unwrap_or(""))?;
    let window = match window(&pairs, now)? {
        Some((from, to)) => {
            // Only one end given: the documented one-day range from it.
            let day = TimeDelta::seconds(MAX_PERIOD);
            let (from, to) = match (from, to) {
                (Some(f), None) => (f, f + day),
                (None, Some(t)) => (t - day, t),
                (Some(f), Some(t)) => (f, t),
                (None, None) => (now - day, now),
            };
            if to - from > day + TimeDelta::seconds(1) {
                return Err(ApiError::bad("error.invalid.daterange"));
            }
            Some((Some(from), Some(to)))
        }
        // A deal id or a filter alone searches the whole history (as the official examples show).
        None if deal_id.is_some() || filter.is_some() => None,
        None => Some((Some(now - TimeDelta::seconds(DEFAULT_PERIOD)), Some(now))),
    };
    let activities: Vec<Value> = st.accounts[account]
        .activities
        .iter()
        .rev()
        .filter(|a| window.is_none_or(|w| inside(w, a.at)))
        .filter(|a| deal_id.is_none_or(|d| a.deal_id == d))
        .filter(|a| passes(&clauses, a))
        .map(|a| st.activity_json(a, detailed))
        .collect();
    ok(json!({ "activities": activities }))
}

/// `GET /history/transactions?from&to&lastPeriod&type`.
pub(super) async fn transactions(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let pairs = query_pairs(query.as_deref());
    let st = shared.lock();
    let now = st.now();
    let account = st.ctx_account(&ctx)?;
    let window = window(&pairs, now)?.unwrap_or((Some(now - TimeDelta::seconds(DEFAULT_PERIOD)), Some(now)));
    let kind = query_get(&pairs, "type").filter(|t| !t.is_empty());
    let transactions: Vec<Value> = st.accounts[account]
        .transactions
        .iter()
        .rev()
        .filter(|t| inside(window, t.at))
        .filter(|t| kind.is_none_or(|k| t.kind == k))
        .map(|t| {
            let mut v = json!({
                "date": fmt_ms_local(t.at),
                "dateUtc": fmt_ms(t.at),
                "transactionType": t.kind,
                "note": t.note,
                "reference": t.reference,
                "size": money_string(t.amount),
                "currency": t.currency,
            });
            if let (Some(obj), Some(name)) = (v.as_object_mut(), &t.instrument_name) {
                obj.insert("instrumentName".into(), json!(name));
            }
            v
        })
        .collect();
    ok(json!({ "transactions": transactions }))
}
