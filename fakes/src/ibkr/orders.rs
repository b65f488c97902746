//! Order resources: `POST /iserver/account/{acct}/orders` with the reply loop (`POST
//! /iserver/reply/{id}`, questions chained one at a time, a refused question drops the order), modify
//! `POST /iserver/account/{acct}/order/{id}`, cancel `DELETE` on the same path, what-if
//! `POST .../orders/whatif`, `GET /iserver/account/order/status/{id}` and question suppression.
//!
//! Business refusals (a used cOID, an unknown order) are answered 200 `{"error": ...}`, the
//! `OrderSubmitError` variant of the documented 200 answer; malformed tickets get 400 `{"error": ...}`.

use super::accounts::margin_rate;
use super::state::{Pending, PendingReply, Shared, State, Ticket};
use super::tickets::ticket_values;
use super::wire::{bad, body_json, grouped, num, ok, Refused};
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::response::IntoResponse;
use axum::response::Response;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;

/// One order submission as the fake read it (what the tests inspect): per ticket, its `cOID` and
/// `parentId`, and whether the array was sent as one group (`isSingleGroup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeSubmission {
    pub account: String,
    pub coids: Vec<Option<String>>,
    pub parent_ids: Vec<Option<String>>,
    /// A ticket carried `isSingleGroup: true`: every order of the array is in one group.
    pub single_group: bool,
}

impl FakeSubmission {
    fn of(account: &str, tickets: &[Ticket]) -> FakeSubmission {
        FakeSubmission {
            account: account.to_string(),
            coids: tickets.iter().map(|t| t.coid.clone()).collect(),
            parent_ids: tickets.iter().map(|t| t.parent_coid.clone()).collect(),
            single_group: tickets.iter().any(|t| t.single_group),
        }
    }

    /// Whether the array holds a parent together with a child of it, or a child of an earlier order.
    pub fn holds_a_bracket(&self) -> bool {
        self.parent_ids.iter().any(Option::is_some)
    }
}

/// `{"error": ...}` with status 200 (`OrderSubmitError`).
fn refused(message: impl Into<String>) -> Response {
    ok(json!({ "error": message.into() }))
}

impl State {
    /// The questions the tickets raise, in ticket order, each asked once.
    fn questions_for(&self, tickets: &[Ticket]) -> VecDeque<super::options::FakeQuestion> {
        let mut out: VecDeque<super::options::FakeQuestion> = VecDeque::new();
        for t in tickets {
            for q in &self.questions {
                if q.applies(t.kind.wire(), t.qty)
                    && !self.session.suppressed.contains(&q.message_id)
                    && !out.iter().any(|o| o.message_id == q.message_id)
                {
                    out.push_back(q.clone());
                }
            }
        }
        out
    }

    /// Asks the first of `questions` about `what`, or carries it out when there are none.
    fn ask_or_do(
        &mut self,
        what: Pending,
        mut questions: VecDeque<super::options::FakeQuestion>,
    ) -> Response {
        let Some(q) = questions.pop_front() else {
            return self.carry_out(what);
        };
        let id = uuid::Uuid::new_v4().to_string();
        self.replies.insert(
            id.clone(),
            PendingReply {
                what,
                rest: questions,
            },
        );
        ok(json!([{
            "id": id,
            "message": [q.text],
            "messageIds": [q.message_id],
            "isSuppressed": false,
        }]))
    }

    /// Places the tickets or applies the modification.
    fn carry_out(&mut self, what: Pending) -> Response {
        match what {
            Pending::Place { account, tickets } => {
                if let Some(c) = tickets
                    .iter()
                    .filter_map(|t| t.coid.as_deref())
                    .find(|c| self.coid_used(&account, c))
                {
                    return refused(format!("Local order ID={c} is already registered."));
                }
                let ids = self.place(&account, &tickets);
                ok(Value::Array(
                    ids.iter().map(|id| self.submit_success(*id)).collect(),
                ))
            }
            Pending::Modify { order_id, ticket } => match self.modify(order_id, &ticket) {
                Ok(()) => ok(json!([self.submit_success(order_id)])),
                Err(e) => refused(e),
            },
        }
    }

    /// `OrderSubmitSuccess` of an order.
    fn submit_success(&self, id: i64) -> Value {
        let status = self.order(id).map_or("Inactive", |o| o.status.as_str());
        json!({ "order_id": id.to_string(), "order_status": status, "encrypt_message": "1" })
    }

    /// The (id, conid) of order `order_id` of the path's account: an unknown account is a 400, an unknown
    /// order or another account's a 200 `{"error": ...}`.
    fn own_order(&self, acct: &str, order_id: &str) -> Result<(i64, i64), Refused> {
        self.path_account(acct)?;
        let order = order_id
            .parse::<i64>()
            .ok()
            .and_then(|id| self.order(id))
            .ok_or_else(|| Refused::new(200, format!("OrderID {order_id} doesn't exist")))?;
        if order.account != acct {
            return Err(Refused::new(
                200,
                format!("OrderID {order_id} belongs to another account"),
            ));
        }
        Ok((order.id, order.conid))
    }

    /// The account of a path, which must be one of the user's.
    fn path_account(&self, acct: &str) -> Result<(), Refused> {
        match self.account_index(acct) {
            Some(_) => Ok(()),
            None => Err(Refused::new(400, format!("Account {acct} not found"))),
        }
    }
}

/// `POST /iserver/account/{acct}/orders`.
pub(super) async fn place(
    AxState(shared): AxState<Arc<Shared>>,
    Path(acct): Path<String>,
    body: Bytes,
) -> Response {
    let body = body_json(&body);
    let mut st = shared.lock();
    if let Err(e) = st.path_account(&acct) {
        return e.into_response();
    }
    let tickets = match st.tickets(&acct, &body) {
        Ok(t) => t,
        Err(e) => return bad(e),
    };
    let seen = FakeSubmission::of(&acct, &tickets);
    st.submissions.push(seen);
    if let Some(c) = tickets
        .iter()
        .filter_map(|t| t.coid.as_deref())
        .find(|c| st.coid_used(&acct, c))
    {
        return refused(format!("Local order ID={c} is already registered."));
    }
    let questions = st.questions_for(&tickets);
    st.ask_or_do(
        Pending::Place {
            account: acct,
            tickets,
        },
        questions,
    )
}

/// `POST /iserver/reply/{id}` with `{"confirmed": true}`.
pub(super) async fn reply(
    AxState(shared): AxState<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let b = body_json(&body);
    let Some(confirmed) = b.get("confirmed").and_then(Value::as_bool) else {
        return bad("confirmed required: {\"confirmed\": true}");
    };
    let mut st = shared.lock();
    let Some(pending) = st.replies.remove(&id) else {
        return bad(format!("Reply ID {id} not found or already answered"));
    };
    if !confirmed {
        return refused("The order was not confirmed and has been dropped.");
    }
    st.ask_or_do(pending.what, pending.rest)
}

/// `POST /iserver/account/{acct}/order/{orderId}`: a whole ticket with the new values.
pub(super) async fn modify(
    AxState(shared): AxState<Arc<Shared>>,
    Path((acct, order_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body = body_json(&body);
    let mut st = shared.lock();
    let id = match st.own_order(&acct, &order_id) {
        Ok((id, _)) => id,
        Err(e) => return e.into_response(),
    };
    let ticket = match st.ticket(&body) {
        Ok(t) => t,
        Err(e) => return bad(e),
    };
    let questions = st.questions_for(std::slice::from_ref(&ticket));
    st.ask_or_do(Pending::Modify { order_id: id, ticket }, questions)
}

/// `DELETE /iserver/account/{acct}/order/{orderId}`.
pub(super) async fn cancel(
    AxState(shared): AxState<Arc<Shared>>,
    Path((acct, order_id)): Path<(String, String)>,
) -> Response {
    let latency = shared.cancel_latency;
    let mut st = shared.lock();
    let (id, conid) = match st.own_order(&acct, &order_id) {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    match st.cancel(id, latency) {
        Ok(()) => ok(json!({
            "msg": "Request was submitted",
            "order_id": id.to_string(),
            "conid": conid.to_string(),
            "account": acct,
        })),
        Err(e) => refused(e),
    }
}

/// `POST /iserver/account/{acct}/orders/whatif`: the projected effect of the first ticket.
pub(super) async fn whatif(
    AxState(shared): AxState<Arc<Shared>>,
    Path(acct): Path<String>,
    body: Bytes,
) -> Response {
    let body = body_json(&body);
    let st = shared.lock();
    let Some(a) = st.account_index(&acct).map(|i| &st.accounts[i]) else {
        return bad(format!("Account {acct} not found"));
    };
    let first = match ticket_values(&body).and_then(|v| st.ticket(&v[0])) {
        Ok(t) => t,
        Err(e) => return bad(e),
    };
    let Some(m) = st.markets.get(&first.conid) else {
        return bad(format!("Invalid contract id: {}", first.conid));
    };
    let c = &m.contract;
    let touch = match first.side {
        super::state::Side::Buy => m.quote.ask,
        super::state::Side::Sell => m.quote.bid,
    };
    let price = first.limit.unwrap_or(touch);
    let amount = first.qty * price * c.multiplier;
    let commission = st.commission;
    let v = st.valuation(a);
    let margin = amount * margin_rate(&c.sec_type);
    let held = a.positions.get(&first.conid).map(|p| p.qty).unwrap_or_default();
    let signed = first.qty * first.side.sign();
    let ccy = &a.spec.currency;
    let triple = |current: Decimal, change: Decimal| {
        json!({
            "current": grouped(current, 2),
            "change": grouped(change, 2),
            "after": grouped(current + change, 2),
        })
    };
    ok(json!({
        "amount": {
            "amount": format!("{} {ccy}", grouped(amount, 2)),
            "commission": format!("{} {ccy}", grouped(commission, 2)),
            "total": format!("{} {ccy}", grouped(amount + commission, 2)),
        },
        "equity": triple(v.net_liquidation, -commission),
        "initial": triple(v.init_margin, margin),
        "maintenance": triple(v.maint_margin, margin * Decimal::new(8, 1)),
        "position": {
            "current": num(held),
            "change": num(signed),
            "after": num(held + signed),
        },
        "warn": null,
        "error": null,
    }))
}

/// `GET /iserver/account/order/status/{orderId}`.
pub(super) async fn status(AxState(shared): AxState<Arc<Shared>>, Path(order_id): Path<String>) -> Response {
    let st = shared.lock();
    let Some(o) = order_id.parse::<i64>().ok().and_then(|id| st.order(id)) else {
        return bad(format!("OrderID {order_id} doesn't exist"));
    };
    let Some(c) = st.contract(o.conid) else {
        return bad(format!("OrderID {order_id} doesn't exist"));
    };
    ok(json!({
        "order_id": o.id,
        "conid": o.conid,
        "conidex": o.conid.to_string(),
        "account": o.account,
        "symbol": c.symbol,
        "sec_type": c.sec_type,
        "currency": c.currency,
        "side": &o.side.as_str()[..1],
        "order_type": o.kind.orig(),
        "order_status": o.status.as_str(),
        "size": plain_qty(o.qty - o.filled),
        "total_size": plain_qty(o.qty),
        "cum_fill": plain_qty(o.filled),
        "average_price": o.avg_price.map(|p| c.price_str(p)),
        "limit_price": o.limit.map(|p| c.price_str(p)),
        "stop_price": o.stop.map(|p| c.price_str(p)),
        "tif": o.tif,
        "order_ref": o.coid,
        "order_not_editable": !o.status.is_working(),
        "cannot_cancel_order": !o.status.is_working(),
        "outside_rth": o.outside_rth,
    }))
}

/// A quantity as a string with one decimal at least (`"100.0"`), as order listings write it.
pub(super) fn plain_qty(q: Decimal) -> String {
    let q = q.normalize();
    if q.scale() == 0 {
        format!("{q}.0")
    } else {
        q.to_string()
    }
}

/// `POST /iserver/questions/suppress` with `{"messageIds": [...]}`: those questions are no longer asked
/// in this brokerage session.
pub(super) async fn suppress(AxState(shared): AxState<Arc<Shared>>, body: Bytes) -> Response {
    let b = body_json(&body);
    let Some(ids) = b.get("messageIds").and_then(Value::as_array) else {
        return bad("messageIds required");
    };
    let mut st = shared.lock();
    for id in ids.iter().filter_map(Value::as_str) {
        st.session.suppressed.insert(id.to_string());
    }
    ok(json!({ "status": "submitted" }))
}

/// `POST /iserver/questions/suppress/reset`.
pub(super) async fn suppress_reset(AxState(shared): AxState<Arc<Shared>>) -> Response {
    shared.lock().session.suppressed.clear();
    ok(json!({ "status": "submitted" }))
}
