//! Accounts and portfolio: `GET /iserver/accounts` (which also satisfies "query /accounts first"),
//! `POST /iserver/account` (switch), `GET /portfolio/accounts`, `GET /portfolio/{acct}/summary`,
//! `GET /portfolio/{acct}/ledger` and the paged `GET /portfolio/{acct}/positions/{page}`.

use super::state::{AccountState, Shared, State};
use super::wire::{bad, body_json, millis, num, ok, Refused};
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::response::IntoResponse;
use axum::response::Response;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// An account's values in its currency.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Valuation {
    pub cash: Decimal,
    /// Market value of stocks and currencies held.
    pub stock_value: Decimal,
    /// Notional of futures and CFDs (gross, for margin).
    pub derivative_notional: Decimal,
    pub unrealized: Decimal,
    pub realized: Decimal,
    pub net_liquidation: Decimal,
    pub gross_position_value: Decimal,
    pub init_margin: Decimal,
    pub maint_margin: Decimal,
}

/// Initial margin rate by asset class (maintenance is 80% of it).
pub(super) fn margin_rate(sec_type: &str) -> Decimal {
    match sec_type {
        "STK" => Decimal::new(25, 2),
        "CASH" => Decimal::new(3, 2),
        "FUT" => Decimal::new(6, 2),
        _ => Decimal::new(10, 2),
    }
}

/// Whether buying the contract pays its price in cash (stocks, currencies) rather than only margin
/// (futures, CFDs settle their P/L).
pub(super) fn pays_cash(sec_type: &str) -> bool {
    matches!(sec_type, "STK" | "CASH")
}

impl State {
    /// The price positions are valued at: the middle of the quote.
    pub(super) fn mark(&self, conid: i64) -> Decimal {
        self.markets
            .get(&conid)
            .map(|m| m.contract.tick_round((m.quote.bid + m.quote.ask) / Decimal::TWO))
            .unwrap_or_default()
    }

    pub(super) fn valuation(&self, account: &AccountState) -> Valuation {
        let mut v = Valuation {
            cash: account.cash,
            ..Valuation::default()
        };
        let mut derivatives_pl = Decimal::ZERO;
        for (conid, p) in &account.positions {
            let Some(c) = self.contract(*conid) else { continue };
            let mark = self.mark(*conid);
            let value = p.qty * mark * c.multiplier;
            let unrealized = (mark - p.avg) * p.qty * c.multiplier;
            v.unrealized += unrealized;
            v.realized += p.realized;
            v.gross_position_value += value.abs();
            if pays_cash(&c.sec_type) {
                v.stock_value += value;
            } else {
                v.derivative_notional += value.abs();
                derivatives_pl += unrealized;
            }
            v.init_margin += value.abs() * margin_rate(&c.sec_type);
        }
        v.net_liquidation = v.cash + v.stock_value + derivatives_pl;
        v.maint_margin = v.init_margin * Decimal::new(8, 1);
        v.init_margin = v.init_margin.round_dp(2);
        v.maint_margin = v.maint_margin.round_dp(2);
        v
    }

    /// The position rows of an account, by conid (IBKR's `IndividualPosition`).
    fn position_rows(&self, account: &AccountState) -> Vec<Value> {
        account
            .positions
            .iter()
            .filter(|(_, p)| !p.qty.is_zero())
            .filter_map(|(conid, p)| {
                let c = self.contract(*conid)?;
                let mark = self.mark(*conid);
                Some(json!({
                    "acctId": account.spec.id,
                    "conid": conid,
                    "contractDesc": c.description(),
                    "ticker": c.symbol,
                    "name": c.name,
                    "fullName": c.local_symbol,
                    "assetClass": c.sec_type,
                    "listingExchange": c.exchange,
                    "currency": c.currency,
                    "position": num(p.qty),
                    "mktPrice": num(mark),
                    "mktValue": num((p.qty * mark * c.multiplier).round_dp(2)),
                    "avgPrice": num(p.avg),
                    "avgCost": num(p.avg * c.multiplier),
                    "realizedPnl": num(p.realized.round_dp(2)),
                    "unrealizedPnl": num(((mark - p.avg) * p.qty * c.multiplier).round_dp(2)),
                    "multiplier": num(c.multiplier),
                    "expiry": c.expiry,
                    "lastTradingDay": c.expiry,
                    "isUS": true,
                }))
            })
            .collect()
    }

    fn account_by_path(&self, id: &str) -> Result<&AccountState, Refused> {
        self.account_index(id)
            .map(|i| &self.accounts[i])
            .ok_or_else(|| Refused::new(400, format!("Account {id} not found")))
    }
}

/// `GET /iserver/accounts`.
pub(super) async fn iserver_accounts(AxState(shared): AxState<Arc<Shared>>) -> Response {
    let mut st = shared.lock();
    st.session.accounts_queried = true;
    let ids: Vec<Value> = st.accounts.iter().map(|a| json!(a.spec.id)).collect();
    let mut props = Map::new();
    let mut aliases = Map::new();
    for a in &st.accounts {
        props.insert(
            a.spec.id.clone(),
            json!({ "hasChildAccounts": false, "supportsCashQty": true, "supportsFractions": false, "allowCustomerTime": false }),
        );
        aliases.insert(a.spec.id.clone(), json!(a.spec.alias));
    }
    let selected = st.accounts.get(st.session.selected).map(|a| a.spec.id.clone());
    ok(json!({
        "accounts": ids,
        "acctProps": props,
        "aliases": aliases,
        "allowFeatures": { "showGFIS": true, "allowFXConv": true, "allowTypeAhead": true, "allowCrypto": false },
        "chartPeriods": { "STK": ["*"], "CASH": ["*"], "FUT": ["*"], "CFD": ["*"] },
        "groups": [],
        "profiles": [],
        "selectedAccount": selected,
        "serverInfo": { "serverName": "FakeGw1", "serverVersion": "Build 10.30.1, fake" },
        "sessionId": st.session.token,
        "isFT": false,
        "isPaper": st.accounts.first().is_some_and(|a| a.spec.id.starts_with('D')),
    }))
}

/// `POST /iserver/account` with `{"acctId": ...}`: selects the account live orders and trades report.
pub(super) async fn switch(AxState(shared): AxState<Arc<Shared>>, body: Bytes) -> Response {
    let b = body_json(&body);
    let Some(id) = b.get("acctId").and_then(Value::as_str) else {
        return bad("acctId required");
    };
    let mut st = shared.lock();
    let Some(i) = st.account_index(id) else {
        return bad(format!("Account {id} not found"));
    };
    if st.session.selected == i {
        return ok(json!({ "set": false, "acctId": id, "message": "Account already set" }));
    }
    st.session.selected = i;
    ok(json!({ "set": true, "acctId": id }))
}

/// `GET /portfolio/accounts`.
pub(super) async fn portfolio_accounts(AxState(shared): AxState<Arc<Shared>>) -> Response {
    let st = shared.lock();
    let rows: Vec<Value> = st
        .accounts
        .iter()
        .map(|a| {
            json!({
                "id": a.spec.id,
                "accountId": a.spec.id,
                "accountVan": a.spec.id,
                "accountTitle": a.spec.alias,
                "displayName": a.spec.alias,
                "accountAlias": a.spec.alias,
                "currency": a.spec.currency,
                "type": if a.spec.id.starts_with('D') { "DEMO" } else { a.spec.account_type.as_str() },
                "acctCustType": a.spec.account_type,
                "tradingType": "STKNOPT",
                "businessType": "IB_PROSERVE",
                "clearingStatus": "O",
                "brokerageAccess": true,
                "faClient": false,
                "covestor": false,
                "noClientTrading": false,
                "trackVirtualFXPortfolio": true,
                "ibEntity": "IBLLC-US",
                "parent": {},
                "desc": a.spec.id,
            })
        })
        .collect();
    ok(Value::Array(rows))
}

/// `GET /portfolio/{acct}/summary`: each key an `{amount, currency, isNull, timestamp, value}` object.
pub(super) async fn summary(AxState(shared): AxState<Arc<Shared>>, Path(acct): Path<String>) -> Response {
    let st = shared.lock();
    let a = match st.account_by_path(&acct) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let v = st.valuation(a);
    let ts = millis(st.now());
    let ccy = a.spec.currency.as_str();
    let amount = |d: Decimal| json!({ "amount": num(d.round_dp(2)), "currency": ccy, "isNull": false, "timestamp": ts, "value": null, "severity": 0 });
    let text = |s: &str| json!({ "amount": 0.0, "currency": null, "isNull": false, "timestamp": ts, "value": s, "severity": 0 });
    let available = v.net_liquidation - v.init_margin;
    let mut out = Map::new();
    out.insert("accountcode".into(), text(&a.spec.id));
    out.insert("accounttype".into(), text(&a.spec.account_type));
    out.insert("accountready".into(), text("true"));
    out.insert("netliquidation".into(), amount(v.net_liquidation));
    out.insert("totalcashvalue".into(), amount(v.cash));
    out.insert("settledcash".into(), amount(v.cash));
    out.insert("equitywithloanvalue".into(), amount(v.net_liquidation));
    out.insert("grosspositionvalue".into(), amount(v.gross_position_value));
    out.insert("initmarginreq".into(), amount(v.init_margin));
    out.insert("maintmarginreq".into(), amount(v.maint_margin));
    out.insert("availablefunds".into(), amount(available));
    out.insert(
        "excessliquidity".into(),
        amount(v.net_liquidation - v.maint_margin),
    );
    out.insert("buyingpower".into(), amount(available * Decimal::from(4)));
    out.insert("cushion".into(), amount(Decimal::ONE));
    ok(Value::Object(out))
}

/// `GET /portfolio/{acct}/ledger`: the account currency and `BASE` (the same, one currency only).
pub(super) async fn ledger(AxState(shared): AxState<Arc<Shared>>, Path(acct): Path<String>) -> Response {
    let st = shared.lock();
    let a = match st.account_by_path(&acct) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let v = st.valuation(a);
    let row = |key: &str| {
        json!({
            "acctcode": a.spec.id,
            "currency": key,
            "secondkey": key,
            "key": "LedgerList",
            "cashbalance": num(v.cash.round_dp(2)),
            "settledcash": num(v.cash.round_dp(2)),
            "netliquidationvalue": num(v.net_liquidation.round_dp(2)),
            "stockmarketvalue": num(v.stock_value.round_dp(2)),
            "futuremarketvalue": 0.0,
            "realizedpnl": num(v.realized.round_dp(2)),
            "unrealizedpnl": num(v.unrealized.round_dp(2)),
            "exchangerate": 1,
            "interest": 0.0,
            "dividends": 0.0,
            "sessionid": 1,
            "severity": 0,
            "timestamp": st.now().timestamp(),
        })
    };
    let mut out = Map::new();
    out.insert(a.spec.currency.clone(), row(&a.spec.currency));
    out.insert("BASE".into(), row("BASE"));
    ok(Value::Object(out))
}

/// `GET /portfolio/{acct}/positions/{page}`: pages from 0 of `positions_page_size`; past the end `[]`.
pub(super) async fn positions(
    AxState(shared): AxState<Arc<Shared>>,
    Path((acct, page)): Path<(String, String)>,
) -> Response {
    let Ok(page) = page.parse::<usize>() else {
        return bad(format!("Invalid page: {page}"));
    };
    let st = shared.lock();
    let a = match st.account_by_path(&acct) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let size = st.positions_page_size;
    let rows: Vec<Value> = st
        .position_rows(a)
        .into_iter()
        .skip(page.saturating_mul(size))
        .take(size)
        .collect();
    ok(Value::Array(rows))
}
