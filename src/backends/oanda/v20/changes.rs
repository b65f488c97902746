//! Changing and cancelling pending orders on OANDA v20: an entry order is replaced (`PUT /orders/{id}`,
//! which gives it a new OANDA id but keeps its client id, hence its TradingView id), one of its legs is
//! changed or removed by replacing it too, and a bracket of an open trade is set through
//! `PUT /trades/{id}/orders`. A change whose outcome is unknown is checked, never sent again.

use super::account;
use super::convert::{self, Leg};
use super::errors;
use super::model::{
    Account, ClientExtensionsBody, Dependent, DependentOrdersBody, Order, OrderBody, OrderRequest,
    StopLossDetails, TakeProfitDetails, TrailingStopLossDetails,
};
use super::placing::client;
use crate::backends::oanda::venue::{Ctx, InstrumentSpec};
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;

/// What a TradingView order id names in the account.
enum Target<'a> {
    Entry(&'a Order),
    EntryLeg(&'a Order, Leg),
    TradeLeg(&'a str, Leg),
}

fn target<'a>(account: &'a Account, order_id: &'a str) -> BrokerResult<Target<'a>> {
    if let Some(entry) = convert::find_entry(account, order_id) {
        return Ok(Target::Entry(entry));
    }
    if let Some((parent, leg)) = convert::split_leg(order_id) {
        if let Some(entry) = convert::find_entry(account, parent) {
            return Ok(Target::EntryLeg(entry, leg));
        }
        if convert::find_trade(account, parent).is_some() {
            return Ok(Target::TradeLeg(parent, leg));
        }
    }
    Err(BrokerError::NotFound(format!(
        "Order {order_id} is not pending at OANDA (it was filled or cancelled, or is unknown)."
    )))
}

fn spec_of<'a>(cx: &Ctx<'a>, instrument: Option<&str>) -> BrokerResult<&'a InstrumentSpec> {
    let name = instrument.unwrap_or_default();
    cx.catalog
        .spec(name)
        .ok_or_else(|| BrokerError::Rejected(format!("{name} is not an instrument this account can trade.")))
}

/// Changes a pending entry order (replaced at OANDA), one leg of it, or one bracket of a trade.
pub async fn modify(cx: Ctx<'_>, order_id: &str, change: &tv::ModifyOrder) -> BrokerResult<()> {
    let snapshot = account::read(cx.conn, cx.account).await?;
    match target(&snapshot.account, order_id)? {
        Target::Entry(entry) => {
            let spec = spec_of(&cx, entry.instrument.as_deref())?;
            let request = convert::replace_request(entry, change, spec)?;
            replace(&cx, entry, request).await
        }
        Target::EntryLeg(entry, leg) => {
            let spec = spec_of(&cx, entry.instrument.as_deref())?;
            let mut brackets = convert::entry_brackets(entry, spec);
            set_leg(&mut brackets, leg, change, order_id)?;
            let request = convert::replace_request(entry, &unchanged(brackets), spec)?;
            replace(&cx, entry, request).await
        }
        Target::TradeLeg(trade, leg) => {
            let instrument = convert::find_trade(&snapshot.account, trade).map(|t| t.instrument.as_str());
            let spec = spec_of(&cx, instrument)?;
            let current = convert::TradeLegs::of(convert::trade_orders(&snapshot.account, trade));
            let body = trade_leg_body(leg, change, &current, spec, order_id)?;
            set_dependents(&cx, trade, &body).await
        }
    }
}

/// Cancels a pending entry order, removes one leg of it (replacing it without the leg), or cancels one
/// bracket of a trade.
pub async fn cancel(cx: Ctx<'_>, order_id: &str) -> BrokerResult<()> {
    let snapshot = account::read(cx.conn, cx.account).await?;
    match target(&snapshot.account, order_id)? {
        Target::Entry(entry) => cancel_entry(&cx, entry, order_id).await,
        Target::EntryLeg(entry, leg) => {
            let spec = spec_of(&cx, entry.instrument.as_deref())?;
            let mut brackets = convert::entry_brackets(entry, spec);
            match leg {
                Leg::TakeProfit => brackets.take_profit = None,
                Leg::StopLoss => {
                    brackets.stop_loss = None;
                    brackets.guaranteed_stop = None;
                }
                Leg::TrailingStop => brackets.trailing_stop_pips = None,
            }
            let request = convert::replace_request(entry, &unchanged(brackets), spec)?;
            replace(&cx, entry, request).await
        }
        Target::TradeLeg(trade, leg) => {
            let mut body = DependentOrdersBody::default();
            match leg {
                Leg::TakeProfit => body.take_profit = Dependent::Cancel,
                Leg::StopLoss => body.stop_loss = Dependent::Cancel,
                Leg::TrailingStop => body.trailing_stop_loss = Dependent::Cancel,
            }
            set_dependents(&cx, trade, &body).await
        }
    }
}

/// A modification that changes only the brackets.
fn unchanged(brackets: tv::Brackets) -> tv::ModifyOrder {
    tv::ModifyOrder::brackets_only(brackets)
}

/// The new value of one leg, from the fields TradingView sends when a bracket order is moved: the limit
/// price of a take profit, the stop price of a stop loss, the distance in pips of a trailing stop.
fn set_leg(b: &mut tv::Brackets, leg: Leg, change: &tv::ModifyOrder, order_id: &str) -> BrokerResult<()> {
    match leg {
        Leg::TakeProfit => {
            b.take_profit = Some(leg_price(
                change.limit_price.or(change.brackets.take_profit),
                leg,
                order_id,
            )?);
        }
        Leg::StopLoss => {
            let p = leg_price(
                change
                    .stop_price
                    .or(change.brackets.stop_loss)
                    .or(change.brackets.guaranteed_stop),
                leg,
                order_id,
            )?;
            if b.guaranteed_stop.is_some() {
                b.guaranteed_stop = Some(p);
            } else {
                b.stop_loss = Some(p);
            }
        }
        Leg::TrailingStop => b.trailing_stop_pips = Some(trailing_pips(change, order_id)?),
    }
    Ok(())
}

fn leg_price(
    p: Option<rust_decimal::Decimal>,
    leg: Leg,
    order_id: &str,
) -> BrokerResult<rust_decimal::Decimal> {
    p.ok_or_else(|| {
        BrokerError::Rejected(format!(
            "Give the new {} price of order {order_id}.",
            if leg == Leg::TakeProfit { "limit" } else { "stop" }
        ))
    })
}

fn trailing_pips(change: &tv::ModifyOrder, order_id: &str) -> BrokerResult<rust_decimal::Decimal> {
    change.brackets.trailing_stop_pips.ok_or_else(|| {
        BrokerError::Rejected(format!(
            "Give the new distance in pips of trailing stop {order_id}."
        ))
    })
}

/// The dependent-orders body that moves one bracket of a trade (the others are left alone).
fn trade_leg_body(
    leg: Leg,
    change: &tv::ModifyOrder,
    current: &convert::TradeLegs,
    spec: &InstrumentSpec,
    order_id: &str,
) -> BrokerResult<DependentOrdersBody> {
    let mut body = DependentOrdersBody::default();
    match leg {
        Leg::TakeProfit => {
            let p = leg_price(change.limit_price.or(change.brackets.take_profit), leg, order_id)?;
            body.take_profit = Dependent::Set(TakeProfitDetails {
                price: Some(convert::price(p, spec)),
                ..Default::default()
            });
        }
        Leg::StopLoss => {
            let p = leg_price(
                change
                    .stop_price
                    .or(change.brackets.stop_loss)
                    .or(change.brackets.guaranteed_stop),
                leg,
                order_id,
            )?;
            let guaranteed =
                current.stop_loss.is_some_and(|(_, g)| g) || change.brackets.guaranteed_stop.is_some();
            body.stop_loss = Dependent::Set(StopLossDetails {
                price: Some(convert::price(p, spec)),
                guaranteed: guaranteed.then_some(true),
                ..Default::default()
            });
        }
        Leg::TrailingStop => {
            let distance = convert::trailing_distance(trailing_pips(change, order_id)?, spec)?;
            body.trailing_stop_loss = Dependent::Set(TrailingStopLossDetails {
                distance: Some(distance),
                ..Default::default()
            });
        }
    }
    Ok(body)
}

/// Replaces pending entry order `entry` with `request`, keeping its TradingView id.
async fn replace(cx: &Ctx<'_>, entry: &Order, request: OrderRequest) -> BrokerResult<()> {
    let tv_id = convert::tv_order_id(entry);
    let sent = client(cx)
        .replace_order(cx.account, &entry.id, &OrderBody { order: request })
        .await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(e) if e.is_ambiguous() => {
            tracing::warn!(error = %e, "OANDA did not confirm an order change; looking at the order instead of resending");
            return settle_replace(cx, entry, &tv_id).await;
        }
        Err(e) => return Err(errors::write_error(&e, &format!("the change of order {tv_id}"))),
    };
    if let Some(cancel) = &answer.replacing_order_cancel_transaction {
        return Err(BrokerError::Rejected(format!(
            "OANDA accepted the change but cancelled the changed order at once, so order {tv_id} is no longer \
             working: {}",
            errors::cancel_reason(cancel.reason.as_deref().unwrap_or(""))
        )));
    }
    // OANDA carries the client extensions over to the replacement; should it not, they are set so that
    // TradingView keeps finding the order under the id it knows.
    if let Some(created) = &answer.order_create_transaction {
        if convert::tv_id(&created.id, created.client_id()) != tv_id {
            let body = ClientExtensionsBody {
                client_extensions: convert::extensions_keeping(&tv_id),
            };
            if let Err(e) = client(cx)
                .set_order_client_extensions(cx.account, &created.id, &body)
                .await
            {
                tracing::warn!(error = %e, "could not give a replaced OANDA order its TradingView id back");
            }
        }
    }
    Ok(())
}

/// After a replacement whose outcome is unknown: compares the order with what it was.
async fn settle_replace(cx: &Ctx<'_>, entry: &Order, tv_id: &str) -> BrokerResult<()> {
    let now = match account::read(cx.conn, cx.account).await {
        Ok(s) => s,
        Err(_) => {
            return Err(errors::unconfirmed(format!(
                "OANDA did not confirm the change of order {tv_id} and the order could not be read: check it \
                 before trying again."
            )))
        }
    };
    match convert::find_entry(&now.account, tv_id) {
        Some(o) if o.id != entry.id => Ok(()),
        Some(_) => Err(errors::unconfirmed(format!(
            "OANDA did not confirm the change of order {tv_id} and the order is unchanged; nothing was sent \
             twice. Try again."
        ))),
        None => Err(errors::unconfirmed(format!(
            "OANDA did not confirm the change of order {tv_id} and the order is no longer pending: check the \
             Orders tab."
        ))),
    }
}

async fn cancel_entry(cx: &Ctx<'_>, entry: &Order, tv_id: &str) -> BrokerResult<()> {
    let sent = client(cx).cancel_order(cx.account, &entry.id).await;
    match sent {
        Ok(_) => Ok(()),
        Err(e) if e.is_ambiguous() => match account::read(cx.conn, cx.account).await {
            Ok(now) if convert::find_entry(&now.account, tv_id).is_none() => Ok(()),
            Ok(_) => Err(errors::unconfirmed(format!(
                "OANDA did not confirm the cancellation and order {tv_id} is still pending. Try again."
            ))),
            Err(_) => Err(errors::unconfirmed(format!(
                "OANDA did not confirm the cancellation of order {tv_id}: check the Orders tab."
            ))),
        },
        Err(e) => Err(errors::write_error(&e, &format!("order {tv_id}"))),
    }
}

/// Sends a dependent-orders change of a trade (nothing when it changes nothing).
pub async fn set_dependents(cx: &Ctx<'_>, trade_id: &str, body: &DependentOrdersBody) -> BrokerResult<()> {
    if body.is_empty() {
        return Ok(());
    }
    let sent = client(cx).set_dependent_orders(cx.account, trade_id, body).await;
    let answer = match sent {
        Ok(a) => a,
        Err(e) if e.is_ambiguous() => {
            return Err(errors::unconfirmed(format!(
                "OANDA did not confirm the change of the brackets of trade {trade_id}: check the position before \
                 trying again."
            )))
        }
        Err(e) => return Err(errors::write_error(&e, &format!("the brackets of trade {trade_id}"))),
    };
    let cancelled = [
        (
            "take profit",
            &answer.take_profit_order_created_cancel_transaction,
        ),
        ("stop loss", &answer.stop_loss_order_created_cancel_transaction),
    ];
    for (what, tx) in cancelled {
        if let Some(tx) = tx {
            return Err(BrokerError::Rejected(format!(
                "OANDA cancelled the new {what} of trade {trade_id} at once: {}",
                errors::cancel_reason(tx.reason.as_deref().unwrap_or(""))
            )));
        }
    }
    Ok(())
}
