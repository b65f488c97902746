//! The data feed TradingView's servers read: `/groups`, `/permissions`, `/symbol_info`, `/history` and
//! `/streaming`. Same token rules as the trading API.

use crate::error::{ApiError, ApiResult, TvOk};
use crate::http::extract::{FeedAuthed, TvQuery};
use crate::http::stream_life::{guarded, open_stream};
use crate::http::streams::{streaming_response, tick_stream};
use crate::http::AppState;
use crate::hub::json_line;
use crate::tv::{self, Resolution, SymbolInfo};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::time::Duration;

/// `[datafeed]` settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatafeedConfig {
    /// Prefix of every group id (lower-case letters and `_`, ending in `_`).
    pub group_prefix: String,
    /// Seconds between `{"heartbeat":..}` lines on `/streaming`.
    pub heartbeat_secs: u64,
}

impl Default for DatafeedConfig {
    fn default() -> Self {
        DatafeedConfig {
            group_prefix: "tvbridge_".into(),
            heartbeat_secs: 5,
        }
    }
}

impl DatafeedConfig {
    /// Problems, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let p = &self.group_prefix;
        if p.len() < 2 || !p.ends_with('_') || !p.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            out.push(format!(
                "datafeed.group_prefix must be lower-case letters and '_' ending in '_', got {p:?}"
            ));
        }
        if !(1..=60).contains(&self.heartbeat_secs) {
            out.push(format!(
                "datafeed.heartbeat_secs must be 1..=60, got {}",
                self.heartbeat_secs
            ));
        }
        out
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/groups", get(groups))
        .route("/permissions", get(permissions))
        .route("/symbol_info", get(symbol_info))
        .route("/history", get(history))
        .route("/streaming", get(streaming))
}

fn group_id(state: &AppState, s: &SymbolInfo) -> String {
    format!("{}{}", state.config().datafeed.group_prefix, s.group)
}

/// The groups `session`'s user may read (`[[auth.users]] datafeed_groups`); `None`: all of them. A data-
/// feed session (ServerOAuth2Bearer) acts for the bridge user its assertion named.
fn allowed_groups<'a>(state: &'a AppState, session: &crate::auth::Session) -> Option<&'a [String]> {
    let user = &session.ctx.user;
    let login = user
        .strip_prefix(crate::http::oauth::token::DATAFEED_USER_PREFIX)
        .unwrap_or(user);
    state
        .config()
        .auth
        .users
        .iter()
        .find(|u| u.login == login)
        .and_then(|u| u.datafeed_groups.as_deref())
}

async fn group_ids(state: &AppState, allowed: Option<&[String]>) -> ApiResult<Vec<String>> {
    let mut ids: Vec<String> = state
        .broker()
        .data_symbols()
        .await?
        .iter()
        .map(|s| group_id(state, s))
        .filter(|id| allowed.is_none_or(|a| a.contains(id)))
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

async fn groups(State(state): State<AppState>, authed: FeedAuthed) -> ApiResult<TvOk<Value>> {
    let allowed = allowed_groups(&state, &authed.0);
    let groups: Vec<Value> = group_ids(&state, allowed)
        .await?
        .into_iter()
        .map(|id| json!({ "id": id }))
        .collect();
    Ok(TvOk(json!({ "groups": groups })))
}

async fn permissions(State(state): State<AppState>, authed: FeedAuthed) -> ApiResult<TvOk<Value>> {
    // A user without a `datafeed_groups` list sees every group: the broker's own accounts decide what
    // they can trade.
    let allowed = allowed_groups(&state, &authed.0);
    Ok(TvOk(json!({ "groups": group_ids(&state, allowed).await? })))
}

async fn symbol_info(
    State(state): State<AppState>,
    authed: FeedAuthed,
    TvQuery(query): TvQuery,
) -> ApiResult<Response> {
    let all = state.broker().data_symbols().await?;
    let allowed = allowed_groups(&state, &authed.0);
    let chosen: Vec<&SymbolInfo> = match query.str_opt("group") {
        None => all
            .iter()
            .filter(|s| allowed.is_none_or(|a| a.contains(&group_id(&state, s))))
            .collect(),
        Some(group) if allowed.is_some_and(|a| !a.iter().any(|g| g == group)) => {
            return Err(ApiError::bad(format!(
                "Group '{group}' is not among this user's data-feed permissions"
            )))
        }
        Some(group) => {
            let chosen: Vec<&SymbolInfo> = all.iter().filter(|s| group_id(&state, s) == group).collect();
            if chosen.is_empty() {
                return Err(ApiError::bad(format!("Unknown group '{group}'")));
            }
            chosen
        }
    };
    Ok(Json(symbol_arrays(&chosen)).into_response())
}

/// `/symbol_info`'s parallel arrays, all of the same length.
fn symbol_arrays(symbols: &[&SymbolInfo]) -> Value {
    let mut body = Map::new();
    body.insert("s".into(), json!("ok"));
    let mut column = |name: &str, f: &dyn Fn(&SymbolInfo) -> Value| {
        body.insert(name.into(), Value::Array(symbols.iter().map(|s| f(s)).collect()));
    };
    column("symbol", &|s| json!(s.symbol));
    column("ticker", &|s| {
        json!(s.ticker.clone().unwrap_or_else(|| s.symbol.clone()))
    });
    column("description", &|s| json!(s.description));
    column("currency", &|s| json!(s.currency));
    column("base-currency", &|s| json!(s.base_currency));
    column("exchange-listed", &|s| json!(s.exchange));
    column("exchange-traded", &|s| json!(s.exchange));
    column("minmovement", &|s| json!(s.minmovement));
    column("minmovement2", &|s| json!(s.minmovement2));
    column("fractional", &|_| json!(false));
    column("pricescale", &|s| json!(s.pricescale));
    column("has-intraday", &|_| json!(true));
    column("has-daily", &|_| json!(true));
    column("has-weekly-and-monthly", &|_| json!(true));
    column("has-no-volume", &|s| json!(s.has_no_volume));
    column("type", &|s| json!(s.kind));
    // An array of strings (1.4.20): a symbol without type specifics gets "", never null.
    column("typespecs", &|s| json!(s.typespecs.clone().unwrap_or_default()));
    column("volume-type", &|s| {
        json!(if s.kind == tv::SymbolType::Crypto {
            Some("base")
        } else {
            None
        })
    });
    column("timezone", &|s| json!(s.timezone));
    column("session-regular", &|s| json!(s.session));
    column("pointvalue", &|_| json!(1));
    column("bar-source", &|_| json!("trade"));
    Value::Object(body)
}

/// The broker symbol TradingView means by `name` (a symbol or a ticker, with or without exchange prefix).
/// The ticker of symbol `name`, when it is one the caller's data-feed groups include.
async fn resolve_symbol(state: &AppState, name: &str, allowed: Option<&[String]>) -> ApiResult<String> {
    let bare = name.rsplit_once(':').map_or(name, |(_, s)| s);
    let all = state.broker().data_symbols().await?;
    let found = all
        .iter()
        .find(|s| s.ticker.as_deref() == Some(bare) || s.symbol == bare)
        .ok_or_else(|| ApiError::bad(format!("Unknown symbol '{name}'")))?;
    if allowed.is_some_and(|a| !a.contains(&group_id(state, found))) {
        return Err(ApiError::bad(format!(
            "Symbol '{name}' is not among this user's data-feed permissions"
        )));
    }
    Ok(found.ticker.clone().unwrap_or_else(|| found.symbol.clone()))
}

async fn history(
    State(state): State<AppState>,
    authed: FeedAuthed,
    TvQuery(query): TvQuery,
) -> ApiResult<Json<HistoryBody>> {
    let allowed = allowed_groups(&state, &authed.0);
    let symbol = resolve_symbol(&state, query.str_req("symbol")?, allowed).await?;
    let resolution = query.choice_req(
        "resolution",
        "1, 5, 15, 60, 240, D, W, M (with optional counts)",
        Resolution::parse,
    )?;
    let to = query
        .int_opt("to")?
        .ok_or_else(|| ApiError::bad("query parameter 'to' is required"))?;
    let countback = match query.int_opt("countback")? {
        Some(n) if n < 0 => {
            return Err(ApiError::bad(format!(
                "query parameter 'countback' must be positive, got {n}"
            )))
        }
        Some(0) | None => None,
        Some(n) => Some(n as usize),
    };
    // `countback` wins over `from` (TradingView still sends both); without it `from` is required.
    let from = match (query.int_opt("from")?, countback) {
        (Some(from), _) => from,
        (None, Some(_)) => i64::MIN,
        (None, None) => return Err(ApiError::bad("query parameter 'from' is required")),
    };
    if countback.is_none() && from > to {
        return Err(ApiError::bad(format!("'from' ({from}) is after 'to' ({to})")));
    }
    let request = tv::HistoryQuery {
        symbol,
        resolution,
        from,
        to,
        countback,
    };
    let bars = state.broker().history(&request).await?;
    Ok(Json(HistoryBody::new(&in_range(bars, &request))))
}

/// Whatever a backend answers, TradingView gets only bars in its range (`from` ignored with `countback`), at
/// most `countback` of them and at most [`tv::MAX_HISTORY_BARS`]: a range too long for one answer keeps its
/// newest bars, never an error.
fn in_range(mut bars: Vec<tv::Bar>, query: &tv::HistoryQuery) -> Vec<tv::Bar> {
    bars.retain(|b| b.t <= query.to && (query.countback.is_some() || b.t >= query.from));
    let keep = query.countback.unwrap_or(usize::MAX).min(tv::MAX_HISTORY_BARS);
    let skip = bars.len().saturating_sub(keep);
    bars.drain(..skip);
    bars
}

/// `/history`'s answer: parallel arrays, serialised straight from the bars (no intermediate JSON tree, which
/// would cost more than computing 50,000 minute bars).
#[derive(Serialize)]
struct HistoryBody {
    s: &'static str,
    t: Vec<i64>,
    o: Vec<Decimal>,
    h: Vec<Decimal>,
    l: Vec<Decimal>,
    c: Vec<Decimal>,
    v: Vec<Decimal>,
}

impl HistoryBody {
    fn new(bars: &[tv::Bar]) -> Self {
        let col = |f: fn(&tv::Bar) -> Decimal| bars.iter().map(f).collect();
        HistoryBody {
            s: "ok",
            t: bars.iter().map(|b| b.t).collect(),
            o: col(|b| b.open),
            h: col(|b| b.high),
            l: col(|b| b.low),
            c: col(|b| b.close),
            v: col(|b| b.volume),
        }
    }
}

/// Every symbol's quotes, trades and daily bars, real time only, with a heartbeat; each connection gets the
/// same lines (rendered once per tick by the quote hub). A new connection first gets the latest tick of
/// every symbol that has one, so a late subscriber does not wait for the next price change.
async fn streaming(State(state): State<AppState>, authed: FeedAuthed) -> ApiResult<Response> {
    let ticket = open_stream(&state, &authed.0, "streaming", None)?;
    let symbols = state.broker().data_symbols().await?;
    let allowed = allowed_groups(&state, &authed.0);
    let mut receivers = Vec::with_capacity(symbols.len());
    let mut latest = Vec::new();
    for s in symbols
        .iter()
        .filter(|s| allowed.is_none_or(|a| a.contains(&group_id(&state, s))))
    {
        let name = s.ticker.clone().unwrap_or_else(|| s.symbol.clone());
        let (last, rx) = state.quotes().subscribe(&name).await?;
        if let Some(tick) = last {
            latest.extend_from_slice(&tick.streaming);
        }
        receivers.push(rx);
    }
    let first = (!latest.is_empty()).then(|| Bytes::from(latest));
    let ticks = stream::select_all(receivers.into_iter().map(tick_stream)).map(|t| t.streaming.clone());
    let every = Duration::from_secs(state.config().datafeed.heartbeat_secs);
    let heartbeats = stream::unfold(
        tokio::time::interval_at(tokio::time::Instant::now() + every, every),
        |mut i| async move {
            i.tick().await;
            Some((heartbeat_line(), i))
        },
    );
    let lines = stream::iter(first).chain(stream::select(ticks, heartbeats));
    Ok(streaming_response(guarded(ticket, &state, lines)))
}

fn heartbeat_line() -> Bytes {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    json_line(&json!({ "heartbeat": now }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(times: impl IntoIterator<Item = i64>) -> Vec<tv::Bar> {
        times
            .into_iter()
            .map(|t| tv::Bar::trade(t, Decimal::ONE, Decimal::ONE))
            .collect()
    }

    fn query(from: i64, to: i64, countback: Option<usize>) -> tv::HistoryQuery {
        tv::HistoryQuery {
            symbol: "X".into(),
            resolution: Resolution::Minutes(1),
            from,
            to,
            countback,
        }
    }

    fn times(bars: &[tv::Bar]) -> Vec<i64> {
        bars.iter().map(|b| b.t).collect()
    }

    #[test]
    fn an_answer_keeps_the_range_then_the_newest_bars() {
        let from_backend = bars((0..10).map(|i| i * 60));
        assert_eq!(
            times(&in_range(from_backend.clone(), &query(100, 400, None))),
            [120, 180, 240, 300, 360]
        );
        assert_eq!(
            times(&in_range(from_backend.clone(), &query(100, 400, Some(2)))),
            [300, 360]
        );
        assert_eq!(
            times(&in_range(from_backend, &query(500, 400, Some(20)))),
            [0, 60, 120, 180, 240, 300, 360]
        );
        // Too many for one answer: the newest MAX_HISTORY_BARS, never an error.
        let many = in_range(bars(0..70_000), &query(0, i64::MAX, None));
        assert_eq!(many.len(), tv::MAX_HISTORY_BARS);
        assert_eq!((many[0].t, many[many.len() - 1].t), (20_000, 69_999));
        let many = in_range(bars(0..70_000), &query(0, 60_000, Some(60_000)));
        assert_eq!((many.len(), many[0].t), (tv::MAX_HISTORY_BARS, 10_001));
    }
}
