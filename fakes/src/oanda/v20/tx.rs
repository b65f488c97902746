//! v20 transactions (`definitions/*Transaction`): every id is a string, every decimal a string, every
//! time RFC 3339 with nanoseconds.

use super::super::engine::{Ev, Fill, Reduce};
use super::super::model::Account;
use super::super::state::State;
use super::super::wire::{money, time20};
use super::views::{order_fields, px, units};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// The user id of an account (`101-004-1234567-001` -> 1234567).
fn user_id(acct: &Account) -> u64 {
    acct.id()
        .split('-')
        .nth(2)
        .and_then(|u| u.parse().ok())
        .unwrap_or(1_234_567)
}

/// The fields every transaction has.
fn base(acct: &Account, id: u64, now: DateTime<Utc>, ty: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), id.to_string().into());
    m.insert("time".into(), time20(now).into());
    m.insert("userID".into(), user_id(acct).into());
    m.insert("accountID".into(), acct.id().into());
    m.insert("batchID".into(), acct.batch.to_string().into());
    if let Some(r) = acct.request_id {
        m.insert("requestID".into(), r.to_string().into());
    }
    m.insert("type".into(), ty.into());
    m
}

/// `CREATE` of a new account.
pub(in super::super) fn create_account(acct: &Account, id: u64, now: DateTime<Utc>) -> Value {
    let mut m = base(acct, id, now, "CREATE");
    let part = |i: usize| -> u64 {
        acct.id()
            .split('-')
            .nth(i)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    };
    m.insert("divisionID".into(), part(1).into());
    m.insert("siteID".into(), part(0).into());
    m.insert("accountUserID".into(), part(2).into());
    m.insert("accountNumber".into(), part(3).into());
    m.insert("homeCurrency".into(), acct.spec.currency.clone().into());
    Value::Object(m)
}

/// `TRANSFER_FUNDS` (a deposit).
pub(in super::super) fn funds(acct: &Account, id: u64, now: DateTime<Utc>, amount: Decimal) -> Value {
    let mut m = base(acct, id, now, "TRANSFER_FUNDS");
    m.insert("amount".into(), money(amount).into());
    m.insert("fundingReason".into(), "CLIENT_FUNDING".into());
    m.insert("accountBalance".into(), money(acct.balance).into());
    Value::Object(m)
}

/// An event of account `a` as the v20 transaction `id` (None: v20 has no such transaction).
pub(in super::super) fn render(st: &State, a: usize, id: u64, now: DateTime<Utc>, ev: &Ev) -> Option<Value> {
    let acct = &st.accounts[a];
    let m = match ev {
        Ev::Create => return Some(create_account(acct, id, now)),
        Ev::Funds { amount, balance } => {
            let mut m = base(acct, id, now, "TRANSFER_FUNDS");
            m.insert("amount".into(), money(*amount).into());
            m.insert("fundingReason".into(), "CLIENT_FUNDING".into());
            m.insert("accountBalance".into(), money(*balance).into());
            m
        }
        Ev::OrderCreate(o) => {
            let mut m = base(acct, id, now, &o.kind.tx_type());
            m.extend(order_fields(st, o));
            m.insert("reason".into(), o.reason.into());
            if let Some(f) = o.fill_tx {
                m.insert("orderFillTransactionID".into(), f.to_string().into());
            }
            if let Some(r) = o.replaces {
                m.insert("replacesOrderID".into(), r.to_string().into());
            }
            if let Some(c) = o.replace_cancel_tx {
                m.insert("cancellingTransactionID".into(), c.to_string().into());
            }
            m
        }
        Ev::OrderReject {
            kind,
            request,
            reason,
            replaces,
        } => {
            let mut m = base(acct, id, now, &format!("{}_REJECT", kind.tx_type()));
            if let Value::Object(req) = request {
                for (k, v) in req {
                    if k != "type" {
                        m.insert(k.clone(), v.clone());
                    }
                }
            }
            m.entry("reason").or_insert_with(|| "CLIENT_ORDER".into());
            if let Some(r) = replaces {
                m.insert("intendedReplacesOrderID".into(), r.to_string().into());
            }
            m.insert("rejectReason".into(), reason.clone().into());
            m
        }
        Ev::OrderFill { order, fill } => {
            let mut m = base(acct, id, now, "ORDER_FILL");
            m.insert("orderID".into(), order.id.to_string().into());
            if let Some(c) = order.client_id() {
                m.insert("clientOrderID".into(), c.into());
            }
            m.extend(fill_fields(st, fill));
            m
        }
        Ev::OrderCancel { order, reason } => {
            let mut m = base(acct, id, now, "ORDER_CANCEL");
            m.insert("orderID".into(), order.id.to_string().into());
            if let Some(c) = order.client_id() {
                m.insert("clientOrderID".into(), c.into());
            }
            m.insert("reason".into(), (*reason).into());
            if let Some(r) = order.replaced_by {
                m.insert("replacedByOrderID".into(), r.to_string().into());
            }
            m
        }
        Ev::CancelReject { order_spec, reason } => {
            let mut m = base(acct, id, now, "ORDER_CANCEL_REJECT");
            match order_spec.strip_prefix('@') {
                Some(c) => m.insert("clientOrderID".into(), c.into()),
                None => m.insert("orderID".into(), order_spec.clone().into()),
            };
            m.insert("rejectReason".into(), (*reason).into());
            m
        }
        Ev::ExtensionsModify {
            order_id,
            client_order_id,
            ext,
            trade_ext,
        } => {
            let mut m = base(acct, id, now, "ORDER_CLIENT_EXTENSIONS_MODIFY");
            m.insert("orderID".into(), order_id.to_string().into());
            if let Some(c) = client_order_id {
                m.insert("clientOrderID".into(), c.clone().into());
            }
            if let Some(e) = ext {
                m.insert("clientExtensionsModify".into(), e.clone());
            }
            if let Some(e) = trade_ext {
                m.insert("tradeClientExtensionsModify".into(), e.clone());
            }
            m
        }
        Ev::ExtensionsReject {
            order_spec,
            ext,
            trade_ext,
            reason,
        } => {
            let mut m = base(acct, id, now, "ORDER_CLIENT_EXTENSIONS_MODIFY_REJECT");
            match order_spec.strip_prefix('@') {
                Some(c) => m.insert("clientOrderID".into(), c.into()),
                None => m.insert("orderID".into(), order_spec.clone().into()),
            };
            if let Some(e) = ext {
                m.insert("clientExtensionsModify".into(), e.clone());
            }
            if let Some(e) = trade_ext {
                m.insert("tradeClientExtensionsModify".into(), e.clone());
            }
            m.insert("rejectReason".into(), reason.clone().into());
            m
        }
        Ev::OrderUpdate(_) | Ev::TradeUpdate(_) => return None,
    };
    Some(Value::Object(m))
}

/// The `ORDER_FILL` fields of a fill.
fn fill_fields(st: &State, f: &Fill) -> Map<String, Value> {
    let inst = f.instrument.as_str();
    let p = |d: Decimal| px(st, inst, d);
    let conv = f.conversion.round_dp(5).normalize().to_string();
    let mut m = Map::new();
    m.insert("instrument".into(), inst.into());
    m.insert("units".into(), units(st, inst, f.units).into());
    m.insert("gainQuoteHomeConversionFactor".into(), conv.clone().into());
    m.insert("lossQuoteHomeConversionFactor".into(), conv.into());
    m.insert("price".into(), p(f.price).into());
    m.insert("fullVWAP".into(), p(f.price).into());
    m.insert(
        "fullPrice".into(),
        json!({
            "type": "PRICE",
            "instrument": inst,
            "time": time20(f.quote_time),
            "bids": [{ "price": p(f.bid), "liquidity": 10_000_000 }],
            "asks": [{ "price": p(f.ask), "liquidity": 10_000_000 }],
            "closeoutBid": p(f.bid),
            "closeoutAsk": p(f.ask),
        }),
    );
    m.insert("reason".into(), f.reason.into());
    m.insert("pl".into(), money(f.pl).into());
    m.insert("financing".into(), money(Decimal::ZERO).into());
    m.insert("commission".into(), money(Decimal::ZERO).into());
    m.insert("guaranteedExecutionFee".into(), money(Decimal::ZERO).into());
    m.insert("accountBalance".into(), money(f.balance).into());
    if let Some(o) = &f.opened {
        let mut t = Map::new();
        t.insert("tradeID".into(), o.trade_id.to_string().into());
        t.insert("units".into(), units(st, inst, o.units).into());
        t.insert("price".into(), p(o.price).into());
        t.insert("guaranteedExecutionFee".into(), money(Decimal::ZERO).into());
        if let Some(e) = &o.ext {
            t.insert("clientExtensions".into(), e.clone());
        }
        t.insert("halfSpreadCost".into(), money(o.half_spread_cost).into());
        t.insert("initialMarginRequired".into(), money(o.margin).into());
        m.insert("tradeOpened".into(), Value::Object(t));
    }
    if !f.closed.is_empty() {
        let closed: Vec<Value> = f.closed.iter().map(|r| reduce_json(st, inst, r)).collect();
        m.insert("tradesClosed".into(), closed.into());
    }
    if let Some(r) = &f.reduced {
        m.insert("tradeReduced".into(), reduce_json(st, inst, r));
    }
    m.insert("halfSpreadCost".into(), money(f.half_spread_cost()).into());
    m
}

/// A `TradeReduce`.
fn reduce_json(st: &State, inst: &str, r: &Reduce) -> Value {
    json!({
        "tradeID": r.trade_id.to_string(),
        "units": units(st, inst, r.units),
        "price": px(st, inst, r.price),
        "realizedPL": money(r.pl),
        "financing": money(Decimal::ZERO),
        "guaranteedExecutionFee": money(Decimal::ZERO),
        "halfSpreadCost": money(r.half_spread_cost),
    })
}
