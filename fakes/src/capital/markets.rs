//! `/markets`, `/markets/{epic}` and `/marketnavigation[/{nodeId}]`: market summaries and details in the
//! documented shapes. `openingHours` lists each market's trading hours (the default markets trade
//! around the clock); with moving prices a market outside them is `CLOSED` and its snapshot carries
//! the day's high and low so far, otherwise every market is `TRADEABLE`, so trading tests do not
//! depend on the day of the week. `netChange` is the change since the previous trading day's close
//! (the official examples do not say; this is how brokers quote a daily change).

use super::gate::Ctx;
use super::price_path::Hours;
use super::state::{MarketState, Shared, State};
use super::wire::{fmt_ms, fmt_ms_local, num, ok, query_get, query_pairs, ApiError, ApiResult};
use axum::extract::{Path, RawQuery, State as AxState};
use axum::Extension;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;

/// Most epics `GET /markets?epics=` takes.
const MAX_EPICS: usize = 50;

/// A market's status and day figures at one moment: `(status, net change, percentage change, high, low)`.
struct Figures {
    status: &'static str,
    net_change: Decimal,
    percentage_change: Decimal,
    high: Decimal,
    low: Decimal,
}

impl MarketState {
    /// `minControlledRiskStopDistance` in percent: guaranteed stops keep at least 1% away.
    pub fn guaranteed_min_pct(&self) -> Decimal {
        self.spec.min_stop_distance_pct.max(Decimal::ONE)
    }

    fn figures(&self, moving: bool, now: DateTime<Utc>) -> Figures {
        let (reference, high, low) = self.day_stats(moving, now);
        let net_change = self.round(self.spec.bid - reference);
        let percentage_change = if reference.is_zero() {
            Decimal::ZERO
        } else {
            (net_change / reference * Decimal::ONE_HUNDRED).round_dp(4)
        };
        Figures {
            status: if self.is_open(moving, now) {
                "TRADEABLE"
            } else {
                "CLOSED"
            },
            net_change,
            percentage_change,
            high,
            low,
        }
    }

    /// The summary shape: an item of `GET /markets?searchTerm=`, `market` of a position, `marketData` of
    /// a working order.
    pub fn summary(&self, moving: bool, now: DateTime<Utc>) -> Value {
        let f = self.figures(moving, now);
        let m = &self.spec;
        json!({
            "delayTime": 0,
            "epic": m.epic,
            "netChange": num(f.net_change),
            "lotSize": num(m.lot_size),
            "expiry": "-",
            "instrumentType": m.instrument_type,
            "instrumentName": m.name,
            "high": num(f.high),
            "low": num(f.low),
            "percentageChange": num(f.percentage_change),
            "updateTime": fmt_ms_local(self.updated),
            "updateTimeUTC": fmt_ms(self.updated),
            "bid": num(m.bid),
            "offer": num(m.offer),
            "streamingPricesAvailable": true,
            "marketStatus": f.status,
            "scalingFactor": 1,
        })
    }
}

/// `openingHours`: per weekday the open ranges in UTC, `"HH:MM - HH:MM"` (`00:00` as an end is
/// midnight), as the official examples write them.
fn opening_hours(hours: &Hours) -> Value {
    let all_day = || vec!["00:00 - 00:00".to_string()];
    let mut days: Vec<Vec<String>> = vec![Vec::new(); 7];
    match hours {
        Hours::Always => days.iter_mut().for_each(|d| *d = all_day()),
        Hours::FxWeek | Hours::Weekly(_) => {
            // One sample week, cut at UTC midnights (Monday 2024-01-01 is a Monday).
            let monday = 1_704_067_200;
            for (a, b) in hours.open_intervals(monday, monday + 7 * 86_400) {
                let mut t = a;
                while t < b {
                    let day = ((t - monday) / 86_400) as usize;
                    let end = b.min(monday + (day as i64 + 1) * 86_400);
                    let hm = |s: i64| {
                        let s = s.rem_euclid(86_400);
                        format!("{:02}:{:02}", s / 3600, (s % 3600) / 60)
                    };
                    days[day].push(format!("{} - {}", hm(t), hm(end)));
                    t = end;
                }
            }
        }
    }
    let [mon, tue, wed, thu, fri, sat, sun] = <[Vec<String>; 7]>::try_from(days).unwrap_or_default();
    json!({
        "mon": mon, "tue": tue, "wed": wed, "thu": thu, "fri": fri, "sat": sat, "sun": sun, "zone": "UTC",
    })
}

impl State {
    /// The details shape of `GET /markets/{epic}`; the margin factor follows the account's leverage.
    pub fn market_details(&self, account: usize, m: &MarketState) -> Value {
        let s = &m.spec;
        let leverage = Decimal::from(self.leverage(account, &s.instrument_type).max(1));
        let f = m.figures(self.moving, self.now());
        let rule = |unit: &str, value: Decimal| json!({ "unit": unit, "value": num(value) });
        json!({
            "instrument": {
                "epic": s.epic,
                "expiry": "-",
                "name": s.name,
                "lotSize": num(s.lot_size),
                "type": s.instrument_type,
                "controlledRiskAllowed": true,
                "streamingPricesAvailable": true,
                "currency": s.currency,
                "marginFactor": num((Decimal::ONE_HUNDRED / leverage).round_dp(2)),
                "marginFactorUnit": "PERCENTAGE",
                "openingHours": opening_hours(&s.hours),
                "country": "",
            },
            "dealingRules": {
                "minStepDistance": rule("POINTS", s.min_step_distance),
                "minDealSize": rule("POINTS", s.min_deal_size),
                "maxDealSize": rule("POINTS", s.max_deal_size),
                "minControlledRiskStopDistance": rule("PERCENTAGE", m.guaranteed_min_pct()),
                "minNormalStopOrLimitDistance": rule("PERCENTAGE", s.min_stop_distance_pct),
                "maxStopOrLimitDistance": rule("PERCENTAGE", s.max_stop_distance_pct),
                "marketOrderPreference": "AVAILABLE_DEFAULT_ON",
                "trailingStopsPreference": if s.trailing_stops { "AVAILABLE" } else { "NOT_AVAILABLE" },
            },
            "snapshot": {
                "marketStatus": f.status,
                "netChange": num(f.net_change),
                "percentageChange": num(f.percentage_change),
                "updateTime": fmt_ms(m.updated),
                "delayTime": 0,
                "bid": num(s.bid),
                "offer": num(s.offer),
                "high": num(f.high),
                "low": num(f.low),
                "decimalPlacesFactor": s.decimal_places,
                "scalingFactor": 1,
            },
        })
    }
}

/// `GET /markets?searchTerm=` (summaries), `?epics=A,B` (details) or no parameter (all summaries).
/// `searchTerm` wins when both are given, as documented.
pub(super) async fn search(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let pairs = query_pairs(query.as_deref());
    let st = shared.lock();
    if let Some(term) = query_get(&pairs, "searchTerm") {
        let term = term.trim().to_lowercase();
        if term.is_empty() {
            return Err(ApiError::bad("error.null.searchTerm"));
        }
        let markets: Vec<Value> = st
            .markets
            .iter()
            .filter(|m| {
                m.spec.epic.to_lowercase().contains(&term) || m.spec.name.to_lowercase().contains(&term)
            })
            .map(|m| m.summary(st.moving, st.now()))
            .collect();
        return ok(json!({ "markets": markets }));
    }
    if let Some(epics) = query_get(&pairs, "epics") {
        let epics: Vec<&str> = epics
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        if epics.is_empty() {
            return Err(ApiError::bad("error.null.epic"));
        }
        if epics.len() > MAX_EPICS {
            return Err(ApiError::bad("error.invalid.epics"));
        }
        let account = st.ctx_account(&ctx)?;
        let details: Vec<Value> = epics
            .iter()
            .filter_map(|e| st.market(e))
            .map(|m| st.market_details(account, m))
            .collect();
        return ok(json!({ "marketDetails": details }));
    }
    let markets: Vec<Value> = st
        .markets
        .iter()
        .map(|m| m.summary(st.moving, st.now()))
        .collect();
    ok(json!({ "markets": markets }))
}

/// `GET /markets/{epic}`.
pub(super) async fn details(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(epic): Path<String>,
) -> ApiResult {
    let st = shared.lock();
    let account = st.ctx_account(&ctx)?;
    let m = st.market(&epic).ok_or_else(|| ApiError::not_found("epic"))?;
    ok(st.market_details(account, m))
}

/// The navigation node of an instrument type (`hierarchy_v1.currencies_group`).
fn node_id(instrument_type: &str) -> String {
    format!("hierarchy_v1.{}_group", instrument_type.to_lowercase())
}

/// `GET /marketnavigation`: one top-level node per instrument type.
pub(super) async fn navigation(AxState(shared): AxState<Arc<Shared>>) -> ApiResult {
    let st = shared.lock();
    let mut types: Vec<&str> = Vec::new();
    for m in &st.markets {
        if !types.contains(&m.spec.instrument_type.as_str()) {
            types.push(&m.spec.instrument_type);
        }
    }
    let nodes: Vec<Value> = types
        .iter()
        .map(|t| json!({ "id": node_id(t), "name": format!("{}_group", t.to_lowercase()) }))
        .collect();
    ok(json!({ "nodes": nodes }))
}

/// `GET /marketnavigation/{nodeId}?limit=`: the markets of one instrument type.
pub(super) async fn navigation_node(
    AxState(shared): AxState<Arc<Shared>>,
    Path(node): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let pairs = query_pairs(query.as_deref());
    let limit = match query_get(&pairs, "limit") {
        None => 500,
        Some(l) => l
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|l| *l >= 1)
            .ok_or_else(|| ApiError::bad("error.invalid.limit"))?,
    };
    let st = shared.lock();
    let markets: Vec<Value> = st
        .markets
        .iter()
        .filter(|m| node_id(&m.spec.instrument_type) == node)
        .map(|m| m.summary(st.moving, st.now()))
        .collect();
    if markets.is_empty() {
        return Err(ApiError::not_found("nodeId"));
    }
    let markets: Vec<Value> = markets.into_iter().take(limit).collect();
    ok(json!({ "nodes": [], "markets": markets }))
}
