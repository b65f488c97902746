//! Writes on orders: placing (with the history lookup that stands in for a client order id), changing and
//! cancelling pending orders and the brackets of orders and trades. No write is ever sent twice: after a
//! failure that may have reached OANDA, the outcome is read back instead.

use super::super::venue::Ctx;
use super::books::AccountBooks;
use super::client::Client;
use super::convert::{self, BracketSet, Form, Leg, OrderForm, Probe, Target};
use super::errors::error;
use super::model::{self, TradeChange};
use super::num::{parse_decimal, parse_time};
use super::reads;
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use crate::upstream::call::CallError;
use chrono::Utc;
use rust_decimal::Decimal;
use std::time::Duration;

/// Waits before each look-up of an order whose placement may have reached OANDA: a request that timed
/// out may still be carried out a moment later.
const LOOKUP_DELAYS: [Duration; 2] = [Duration::from_millis(500), Duration::from_millis(1500)];
/// Wait before reading back a change whose answer was lost.
const VERIFY_DELAY: Duration = Duration::from_millis(500);

/// Places an order at most once and returns its id (the order id of a pending order; the
/// `MARKET_ORDER_CREATE` transaction id of a market order, which is also the id of the trade it opened).
///
/// The newest transaction id is read first; if the placement fails in a way that may have reached
/// OANDA, the transactions after it are searched for the order's creation: found, its id is returned; no
/// order at all created on the instrument since, it was not placed; anything else (an unreadable history,
/// another order on the instrument that is not quite this one), the outcome is unknown. The order is never
/// sent again.
pub(super) async fn submit(books: &AccountBooks, cx: Ctx<'_>, req: &OrderForm) -> BrokerResult<String> {
    let client = Client::new(cx.conn);
    let before = client.last_transaction_id(cx.account).await.map_err(|e| {
        error(
            &e,
            "the transaction history (read before sending; the order was not sent)",
        )
    })?;
    let sent = client.create_order(cx.account, &req.form).await;
    books.written();
    match sent {
        Ok(answer) => Ok(placed_id(client, cx.account, before, &req.probe, &answer).await),
        Err(e) if e.is_ambiguous() => settle(client, cx.account, before, &req.probe, &e).await,
        Err(e) => Err(error(&e, "the order")),
    }
}

/// What the history after `before` says of an order.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Lookup {
    /// Its creation, with this id.
    Found(u64),
    /// No order was created on its instrument.
    Absent,
    /// Orders were created on its instrument, none exactly like it.
    Doubtful,
}

/// Looks for the order of `probe` among the transactions after `before`.
async fn find(client: Client<'_>, account: &str, before: u64, probe: &Probe) -> Result<Lookup, CallError> {
    let (txs, complete) = client.transactions_after(account, before).await?;
    // Oldest first: the first matching creation after `before` is ours.
    Ok(match txs.iter().rev().find(|t| probe.matches(t)) {
        Some(t) => Lookup::Found(t.id),
        None if complete && !txs.iter().any(|t| probe.resembles(t)) => Lookup::Absent,
        None => Lookup::Doubtful,
    })
}

/// The id of an order OANDA accepted.
async fn placed_id(
    client: Client<'_>,
    account: &str,
    before: u64,
    probe: &Probe,
    answer: &model::OrderAnswer,
) -> String {
    if let Some(id) =
        TradeChange::real_id(&answer.order_opened).or(TradeChange::real_id(&answer.trade_opened))
    {
        return id.to_string();
    }
    // A market order that only closed or reduced trades: its id is that of its creation transaction.
    for delay in [Duration::ZERO, Duration::from_millis(300)] {
        tokio::time::sleep(delay).await;
        match find(client, account, before, probe).await {
            Ok(Lookup::Found(id)) => return id.to_string(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "looking up the id of a closing OANDA v1 market order"),
        }
    }
    // The order is filled; failing now would invite the user to send it again. Its transactions still
    // show it under its real id in `/orders`.
    let closed =
        TradeChange::real_id(&answer.trade_reduced).or(answer.trades_closed.iter().find_map(|c| c.id));
    tracing::warn!(
        before,
        "an OANDA v1 market order was filled but its transaction was not found"
    );
    match closed {
        Some(trade) => format!("{trade}.close"),
        None => format!("{before}.next"),
    }
}

/// The outcome of a placement whose answer was lost.
async fn settle(
    client: Client<'_>,
    account: &str,
    before: u64,
    probe: &Probe,
    failure: &CallError,
) -> BrokerResult<String> {
    tracing::warn!(error = %failure, "an OANDA v1 order placement may have reached OANDA; looking it up");
    let mut last = None;
    for delay in LOOKUP_DELAYS {
        tokio::time::sleep(delay).await;
        match find(client, account, before, probe).await {
            Ok(Lookup::Found(id)) => return Ok(id.to_string()),
            Ok(other) => last = Some(other),
            Err(e) => {
                tracing::warn!(error = %e, "looking up an OANDA v1 order failed");
                last = None;
            }
        }
    }
    Err(match last {
        // Settled: not placed, so the requestId may be used again.
        Some(Lookup::Absent) => BrokerError::Rejected(
            "OANDA did not confirm the order and it is not in the account's history: it was not placed, and \
             nothing was sent twice. Place it again if you still want it."
                .to_string(),
        ),
        _ => super::super::errors::unconfirmed(
            "OANDA did not confirm the order and the account's history does not settle whether it was placed \
             (nothing was sent twice). Check orders and positions before placing it again.",
        ),
    })
}

/// What a bracket or entry id belongs to.
enum Parent {
    Order(model::Order),
    Trade(model::Trade),
}

/// The pending order or open trade with id `id` (orders are looked at first; v1 ids never collide).
async fn parent(cx: Ctx<'_>, id: u64) -> BrokerResult<Parent> {
    let pending = reads::pending(cx.conn, cx.account).await?;
    if let Some(o) = pending.iter().find(|o| o.id == id) {
        return Ok(Parent::Order(o.clone()));
    }
    let trades = reads::trades(cx.conn, cx.account).await?;
    match trades.iter().find(|t| t.id == id) {
        Some(t) => Ok(Parent::Trade(t.clone())),
        None => Err(BrokerError::NotFound(format!(
            "Order {id} is not pending and no open trade has that id (filled, cancelled or closed)."
        ))),
    }
}

fn target(order_id: &str) -> BrokerResult<Target> {
    convert::target(order_id)
        .ok_or_else(|| BrokerError::NotFound(format!("'{order_id}' is not an OANDA v1 order id.")))
}

/// Changes a pending order (quantity, price, expiry, brackets) or moves one bracket of an order or trade.
pub(super) async fn modify(
    books: &AccountBooks,
    cx: Ctx<'_>,
    order_id: &str,
    change: &tv::ModifyOrder,
) -> BrokerResult<()> {
    match target(order_id)? {
        Target::Entry(id) => match parent(cx, id).await? {
            Parent::Order(current) => {
                let form = convert::modify_order_form(&current, change, Utc::now())?;
                patch_order(books, cx, id, &form).await
            }
            Parent::Trade(_) => Err(BrokerError::Rejected(format!(
                "{id} is an open trade, not a pending order: change its brackets instead."
            ))),
        },
        Target::Bracket(id, leg) => {
            let pip = |instrument: &str| cx.catalog.spec(instrument).map(|s| s.pip());
            match parent(cx, id).await? {
                Parent::Order(o) => {
                    let current = BracketSet::of_order(&o, pip(&o.instrument));
                    let v = convert::leg_value(leg, change, &current, o.side, o.units, pip(&o.instrument))?;
                    patch_order(books, cx, id, &leg_form(leg, Some(v))).await
                }
                Parent::Trade(t) => {
                    let current = BracketSet::of_trade(&t, pip(&t.instrument));
                    let v = convert::leg_value(leg, change, &current, t.side, t.units, pip(&t.instrument))?;
                    patch_trade(books, cx, id, &leg_form(leg, Some(v))).await
                }
            }
        }
    }
}

/// Cancels a pending order, or removes one bracket from its order or trade.
pub(super) async fn cancel(books: &AccountBooks, cx: Ctx<'_>, order_id: &str) -> BrokerResult<()> {
    match target(order_id)? {
        Target::Entry(id) => cancel_order(books, cx, id).await,
        Target::Bracket(id, leg) => match parent(cx, id).await? {
            Parent::Order(_) => patch_order(books, cx, id, &leg_form(leg, None)).await,
            Parent::Trade(_) => patch_trade(books, cx, id, &leg_form(leg, None)).await,
        },
    }
}

/// The form that sets (or with `None` removes) one bracket.
fn leg_form(leg: Leg, value: Option<Decimal>) -> Form {
    vec![(
        leg.field(),
        value.map(convert::form_decimal).unwrap_or_else(|| "0".into()),
    )]
}

async fn cancel_order(books: &AccountBooks, cx: Ctx<'_>, id: u64) -> BrokerResult<()> {
    let client = Client::new(cx.conn);
    let what = format!("order {id}");
    let result = client.cancel_order(cx.account, &id.to_string()).await;
    books.written();
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.status() == Some(404) => Err(BrokerError::NotFound(format!(
            "Order {id} is no longer pending (filled, cancelled or expired)."
        ))),
        Err(e) if e.is_ambiguous() => {
            tokio::time::sleep(VERIFY_DELAY).await;
            match client.order(cx.account, &id.to_string()).await {
                Err(read) if read.status() == Some(404) => Ok(()),
                Ok(_) => Err(super::super::errors::unconfirmed(format!(
                    "OANDA did not confirm cancelling {what}, and it is still pending (nothing was sent twice)."
                ))),
                Err(_) => Err(unknown(&what)),
            }
        }
        Err(e) => Err(error(&e, &what)),
    }
}

fn unknown(what: &str) -> BrokerError {
    super::super::errors::unconfirmed(format!(
        "OANDA did not confirm the change of {what} and it could not be read back: the outcome is unknown \
         (nothing was sent twice)."
    ))
}

/// `PATCH /orders/{id}`, read back after a lost answer.
pub(super) async fn patch_order(books: &AccountBooks, cx: Ctx<'_>, id: u64, form: &Form) -> BrokerResult<()> {
    let client = Client::new(cx.conn);
    let what = format!("order {id}");
    let result = client.patch_order(cx.account, &id.to_string(), form).await;
    books.written();
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.is_ambiguous() => {
            tokio::time::sleep(VERIFY_DELAY).await;
            match client.order(cx.account, &id.to_string()).await {
                Ok(o) if applied(form, |f| order_field(&o, f)) => Ok(()),
                Ok(_) => Err(super::super::errors::unconfirmed(format!(
                    "OANDA did not confirm the change of {what}, and the order is unchanged (nothing was sent twice)."
                ))),
                Err(_) => Err(unknown(&what)),
            }
        }
        Err(e) => Err(error(&e, &what)),
    }
}

/// `PATCH /trades/{id}`, read back after a lost answer.
pub(super) async fn patch_trade(books: &AccountBooks, cx: Ctx<'_>, id: u64, form: &Form) -> BrokerResult<()> {
    let client = Client::new(cx.conn);
    let what = format!("trade {id}");
    let result = client.patch_trade(cx.account, &id.to_string(), form).await;
    books.written();
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.is_ambiguous() => {
            tokio::time::sleep(VERIFY_DELAY).await;
            match client.trade(cx.account, &id.to_string()).await {
                Ok(t) if applied(form, |f| trade_field(&t, f)) => Ok(()),
                Ok(_) => Err(super::super::errors::unconfirmed(format!(
                    "OANDA did not confirm the change of {what}, and the trade is unchanged (nothing was sent twice)."
                ))),
                Err(_) => Err(unknown(&what)),
            }
        }
        Err(e) => Err(error(&e, &what)),
    }
}

/// A value as read back: a number, or a time.
#[derive(Debug, PartialEq)]
enum Value {
    Number(Decimal),
    Time(Option<chrono::DateTime<Utc>>),
}

fn number(v: Option<Decimal>) -> Option<Value> {
    Some(Value::Number(v.unwrap_or_default()))
}

fn order_field(o: &model::Order, field: &str) -> Option<Value> {
    match field {
        "units" => number(Some(o.units)),
        "price" => number(o.price),
        "expiry" => Some(Value::Time(o.expiry)),
        _ => bracket_field(field, o.stop_loss, o.take_profit, o.trailing_stop),
    }
}

fn trade_field(t: &model::Trade, field: &str) -> Option<Value> {
    bracket_field(field, t.stop_loss, t.take_profit, t.trailing_stop)
}

fn bracket_field(
    field: &str,
    sl: Option<Decimal>,
    tp: Option<Decimal>,
    ts: Option<Decimal>,
) -> Option<Value> {
    match field {
        "stopLoss" => number(sl),
        "takeProfit" => number(tp),
        "trailingStop" => number(ts),
        _ => None,
    }
}

/// Whether every field of `form` has the value sent, as `read` reports it.
fn applied(form: &Form, read: impl Fn(&str) -> Option<Value>) -> bool {
    form.iter().all(|(field, sent)| {
        let want = if *field == "expiry" {
            Some(Value::Time(parse_time(sent)))
        } else {
            parse_decimal(sent).map(Value::Number)
        };
        want.is_some() && read(field) == want
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::oanda::v1::convert::fixtures::ORDERS;

    #[test]
    fn changes_are_recognised_when_read_back() {
        let orders: model::Orders = serde_json::from_str(ORDERS).unwrap();
        let o = &orders.orders[1];
        let form: Form = vec![
            ("price", "102.50".into()),
            ("stopLoss", "103.1".into()),
            ("expiry", "2014-03-01T00:00:00Z".into()),
        ];
        assert!(applied(&form, |f| order_field(o, f)));
        assert!(!applied(&vec![("takeProfit", "0".into())], |f| order_field(o, f)));
        assert!(applied(&vec![("takeProfit", "0".into())], |f| order_field(
            &orders.orders[0],
            f
        )));
        assert!(!applied(&vec![("units", "999".into())], |f| order_field(o, f)));
        assert!(!applied(&vec![("bogus", "1".into())], |f| order_field(o, f)));
    }
}
