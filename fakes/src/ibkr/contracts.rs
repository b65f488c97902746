//! The contract universe and the resources that describe it: `GET|POST /iserver/secdef/search`,
//! `GET /trsrv/secdef`, `GET /iserver/contract/{conid}/info` and `.../info-and-rules`, and
//! `GET /trsrv/secdef/schedule` (trading hours). Field names follow IBKR's OpenAPI models.

use super::price_path::Hours;
use super::schedule::FakeSchedule;
use super::state::Shared;
use super::wire::{bad, body_json, decimals_of, num, ok, plain, query_map};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::Method;
use axum::response::Response;
use chrono::Weekday;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;

/// One instrument the fake trades.
#[derive(Clone, Debug)]
pub struct FakeContract {
    pub conid: i64,
    /// Underlying symbol (`AAPL`, `EUR`, `ES`).
    pub symbol: String,
    /// Symbol on the exchange (`AAPL`, `EUR.USD`, `ESZ6`).
    pub local_symbol: String,
    /// `STK`, `CASH`, `FUT`, `CFD`.
    pub sec_type: String,
    /// Listing exchange (`NASDAQ`, `IDEALPRO`, `CME`, `SMART`).
    pub exchange: String,
    /// Comma-separated venues.
    pub valid_exchanges: String,
    pub currency: String,
    /// Company or instrument name.
    pub name: String,
    /// Minimum price increment.
    pub tick: Decimal,
    /// Size increment (and minimum size).
    pub lot: Decimal,
    pub multiplier: Decimal,
    /// Starting quote.
    pub bid: Decimal,
    pub ask: Decimal,
    /// `YYYYMMDD` for futures.
    pub expiry: Option<String>,
    /// When it trades (UTC); nothing fills and no bar exists outside.
    pub hours: Hours,
    /// What `/trsrv/secdef/schedule` says about it (kept in step with `hours` by
    /// [`FakeContract::usual_hours`] and [`FakeSchedule::usual`]).
    pub schedule: FakeSchedule,
}

impl FakeContract {
    #[allow(clippy::too_many_arguments)]
    fn new(
        conid: i64,
        (symbol, local_symbol): (&str, &str),
        sec_type: &str,
        (exchange, valid): (&str, &str),
        name: &str,
        (tick, lot, multiplier): (Decimal, Decimal, Decimal),
        (bid, ask): (Decimal, Decimal),
        expiry: Option<&str>,
    ) -> FakeContract {
        FakeContract {
            conid,
            symbol: symbol.to_string(),
            local_symbol: local_symbol.to_string(),
            sec_type: sec_type.to_string(),
            exchange: exchange.to_string(),
            valid_exchanges: valid.to_string(),
            currency: "USD".to_string(),
            name: name.to_string(),
            tick,
            lot,
            multiplier,
            bid,
            ask,
            expiry: expiry.map(str::to_string),
            hours: Hours::Always,
            schedule: FakeSchedule::always(),
        }
    }

    /// AAPL and MSFT (stocks, NASDAQ), EUR.USD (IDEALPRO), an E-mini S&P 500 future (CME) and a US 500
    /// index CFD, all in USD and trading at all hours (see [`Self::usual_hours`] for realistic ones).
    /// The stock and FX conids are IBKR's; the future's and the CFD's are made up.
    pub fn defaults() -> Vec<FakeContract> {
        let d = Decimal::new;
        let one = Decimal::ONE;
        let stocks = "SMART,AMEX,NYSE,CBOE,ARCA,ISLAND,NASDAQ";
        vec![
            FakeContract::new(
                265_598,
                ("AAPL", "AAPL"),
                "STK",
                ("NASDAQ", stocks),
                "APPLE INC",
                (d(1, 2), one, one),
                (d(18_542, 2), d(18_544, 2)),
                None,
            ),
            FakeContract::new(
                272_093,
                ("MSFT", "MSFT"),
                "STK",
                ("NASDAQ", stocks),
                "MICROSOFT CORP",
                (d(1, 2), one, one),
                (d(41_010, 2), d(41_013, 2)),
                None,
            ),
            FakeContract::new(
                12_087_792,
                ("EUR", "EUR.USD"),
                "CASH",
                ("IDEALPRO", "IDEALPRO"),
                "European Monetary Union Euro",
                (d(5, 5), one, one),
                (d(108_510, 5), d(108_515, 5)),
                None,
            ),
            FakeContract::new(
                495_512_563,
                ("ES", "ESZ6"),
                "FUT",
                ("CME", "CME"),
                "E-mini S&P 500",
                (d(25, 2), one, Decimal::from(50)),
                (d(501_225, 2), d(501_250, 2)),
                Some("20261218"),
            ),
            FakeContract::new(
                143_916_318,
                ("IBUS500", "IBUS500"),
                "CFD",
                ("SMART", "SMART"),
                "US 500 Index CFD",
                (d(1, 1), one, one),
                (d(50_101, 1), d(50_106, 1)),
                None,
            ),
        ]
    }

    /// Trading hours by asset class, in UTC: stocks on weekdays 14:30 to 21:00, FX Sunday 17:00 to
    /// Friday 17:00 New York, futures and CFDs Sunday 23:00 to Friday 22:00 with a daily hour's break.
    pub fn usual_hours(sec_type: &str) -> Hours {
        use Weekday::*;
        match sec_type {
            "STK" => Hours::weekly(&[
                (Mon, "14:30", "21:00"),
                (Tue, "14:30", "21:00"),
                (Wed, "14:30", "21:00"),
                (Thu, "14:30", "21:00"),
                (Fri, "14:30", "21:00"),
            ]),
            "CASH" => Hours::FxWeek,
            _ => Hours::weekly(&[
                (Sun, "23:00", "00:00"),
                (Mon, "00:00", "22:00"),
                (Mon, "23:00", "00:00"),
                (Tue, "00:00", "22:00"),
                (Tue, "23:00", "00:00"),
                (Wed, "00:00", "22:00"),
                (Wed, "23:00", "00:00"),
                (Thu, "00:00", "22:00"),
                (Thu, "23:00", "00:00"),
                (Fri, "00:00", "22:00"),
            ]),
        }
    }

    /// Decimals of a price.
    pub(super) fn price_dp(&self) -> u32 {
        decimals_of(self.tick)
    }

    /// A price written with the contract's decimals.
    pub(super) fn price_str(&self, p: Decimal) -> String {
        plain(p, self.price_dp())
    }

    /// The contract's description as orders and positions show it.
    pub(super) fn description(&self) -> String {
        match &self.expiry {
            Some(e) => format!("{} {}", self.symbol, e),
            None => self.local_symbol.clone(),
        }
    }

    fn search_row(&self) -> Value {
        json!({
            "conid": self.conid.to_string(),
            "companyHeader": format!("{} - {}", self.name, self.exchange),
            "companyName": self.name,
            "symbol": self.symbol,
            "description": self.exchange,
            "restricted": null,
            "fop": null,
            "opt": null,
            "war": null,
            "sections": [{ "secType": self.sec_type, "exchange": self.valid_exchanges }],
        })
    }

    fn secdef_row(&self) -> Value {
        json!({
            "conid": self.conid,
            "currency": self.currency,
            "name": self.name,
            "fullName": self.local_symbol,
            "ticker": self.symbol,
            "assetClass": self.sec_type,
            "listingExchange": self.exchange,
            "allExchanges": self.valid_exchanges,
            "countryCode": "US",
            "expiry": self.expiry,
            "lastTradingDay": self.expiry,
            "multiplier": num(self.multiplier),
            "isUS": true,
            "hasOptions": false,
            "isEventContract": false,
            "incrementRules": [{ "lowerEdge": 0.0, "increment": num(self.tick) }],
            "displayRule": {
                "magnification": 0,
                "displayRuleStep": [{ "decimalDigits": self.price_dp(), "lowerEdge": 0.0, "wholeDigits": 4 }],
            },
        })
    }

    fn info(&self) -> Value {
        json!({
            "con_id": self.conid,
            "symbol": self.symbol,
            "local_symbol": self.local_symbol,
            "instrument_type": self.sec_type,
            "exchange": self.exchange,
            "valid_exchanges": self.valid_exchanges,
            "currency": self.currency,
            "company_name": self.name,
            "text": self.description(),
            "trading_class": self.symbol,
            "multiplier": plain(self.multiplier, 0),
            "expiry_full": self.expiry,
            "maturity_date": self.expiry,
            "contract_month": self.expiry.as_ref().map(|e| e[..6].to_string()),
            "r_t_h": self.sec_type == "STK",
            "smart_available": self.valid_exchanges.contains("SMART"),
            "allow_sell_long": true,
            "is_zero_commission_security": false,
            "cfi_code": "",
            "classifier": null,
            "underlying_con_id": 0,
            "category": null,
            "industry": null,
        })
    }

    fn rules(&self) -> Value {
        json!({
            "orderTypes": ["limit", "market", "stop", "stop_limit"],
            "tifTypes": ["DAY", "GTC", "IOC", "OPG"],
            "defaultSize": num(self.lot * Decimal::from(100)),
            "sizeIncrement": num(self.lot),
            "minSize": num(self.lot),
            "increment": num(self.tick),
            "incrementDigits": self.price_dp(),
            "preview": true,
            "cqtTypes": [],
            "canTradeAcctIds": [],
        })
    }
}

/// `GET /iserver/secdef/search?symbol=..&secType=..&name=..` or `POST` with the same fields as JSON.
pub(super) async fn search(
    AxState(shared): AxState<Arc<Shared>>,
    method: Method,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (symbol, sec_type, by_name) = if method == Method::POST {
        let b = body_json(&body);
        (
            b.get("symbol").and_then(Value::as_str).map(str::to_string),
            b.get("secType").and_then(Value::as_str).map(str::to_string),
            b.get("name").and_then(Value::as_bool).unwrap_or(false),
        )
    } else {
        let q = query_map(query.as_deref());
        (
            q.get("symbol").cloned(),
            q.get("secType").cloned(),
            q.get("name").is_some_and(|v| v == "true"),
        )
    };
    let Some(symbol) = symbol.filter(|s| !s.trim().is_empty()) else {
        return bad("symbol required");
    };
    let needle = symbol.trim().to_uppercase();
    let st = shared.lock();
    let rows: Vec<Value> = st
        .contracts
        .iter()
        .filter(|c| {
            c.symbol == needle
                || c.local_symbol == needle
                || (by_name && c.name.to_uppercase().contains(&needle))
        })
        .filter(|c| {
            sec_type
                .as_deref()
                .is_none_or(|t| t.eq_ignore_ascii_case(&c.sec_type))
        })
        .map(FakeContract::search_row)
        .collect();
    ok(Value::Array(rows))
}

/// `GET /trsrv/secdef?conids=1,2`: unknown conids are left out.
pub(super) async fn secdef(AxState(shared): AxState<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let q = query_map(query.as_deref());
    let Some(list) = q.get("conids").filter(|s| !s.trim().is_empty()) else {
        return bad("conids required");
    };
    let st = shared.lock();
    let rows: Vec<Value> = list
        .split(',')
        .filter_map(|c| c.trim().parse::<i64>().ok())
        .filter_map(|id| st.contract(id))
        .map(FakeContract::secdef_row)
        .collect();
    ok(json!({ "secdef": rows }))
}

/// `GET /iserver/contract/{conid}/info`.
pub(super) async fn info(AxState(shared): AxState<Arc<Shared>>, Path(conid): Path<String>) -> Response {
    let st = shared.lock();
    match conid.parse::<i64>().ok().and_then(|id| st.contract(id)) {
        Some(c) => ok(c.info()),
        None => bad(format!("Invalid conid: {conid}")),
    }
}

/// `GET /iserver/contract/{conid}/info-and-rules`: the info with a `rules` object.
pub(super) async fn info_and_rules(
    AxState(shared): AxState<Arc<Shared>>,
    Path(conid): Path<String>,
) -> Response {
    let st = shared.lock();
    match conid.parse::<i64>().ok().and_then(|id| st.contract(id)) {
        Some(c) => {
            let mut v = c.info();
            v["rules"] = c.rules();
            ok(v)
        }
        None => bad(format!("Invalid conid: {conid}")),
    }
}

/// `GET /trsrv/secdef/schedule?assetClass=..&symbol=..&exchange=..`: one entry per contract of that
/// asset class (IBKR's classes: `SWP` is forex) and symbol, on `exchange` when given.
pub(super) async fn schedule(AxState(shared): AxState<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let q = query_map(query.as_deref());
    let (Some(class), Some(symbol)) = (q.get("assetClass"), q.get("symbol")) else {
        return bad("assetClass and symbol required");
    };
    const CLASSES: [&str; 9] = ["STK", "OPT", "FUT", "CFD", "WAR", "SWP", "FND", "BND", "ICS"];
    if !CLASSES.contains(&class.as_str()) {
        return bad(format!("Invalid assetClass: {class}"));
    }
    let sec_type = if class == "SWP" { "CASH" } else { class.as_str() };
    let st = shared.lock();
    let today = st.now().date_naive();
    let rows: Vec<Value> = st
        .contracts
        .iter()
        .filter(|c| c.sec_type == sec_type && c.symbol.eq_ignore_ascii_case(symbol))
        .filter(|c| {
            q.get("exchange")
                .is_none_or(|x| c.exchange.eq_ignore_ascii_case(x))
        })
        .map(|c| {
            json!({
                "id": format!("p{}", c.conid),
                "tradeVenueId": format!("v{}", c.conid),
                "exchange": c.exchange,
                "description": c.name,
                "timezone": c.schedule.timezone,
                "schedules": c.schedule.days(today),
            })
        })
        .collect();
    ok(Value::Array(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_use_the_tick_decimals() {
        let fx = FakeContract::defaults().remove(2);
        assert_eq!(fx.price_str(Decimal::new(1085, 3)), "1.08500");
        let es = FakeContract::defaults().remove(3);
        assert_eq!(es.price_str(Decimal::new(50125, 1)), "5012.50");
        assert_eq!(es.description(), "ES 20261218");
    }
}
