//! Closing trades and positions and setting a trade's brackets on OANDA v20. A close whose outcome is
//! unknown is checked against the account, never sent again.

use super::account;
use super::changes::set_dependents;
use super::client::Client;
use super::convert;
use super::errors;
use super::model::{ClosePositionBody, CloseTradeBody, Transaction};
use crate::backends::oanda::venue::Ctx;
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use rust_decimal::Decimal;

fn not_open(trade_id: &str) -> BrokerError {
    BrokerError::NotFound(format!("Trade {trade_id} is not open at OANDA."))
}

/// The rejection a cancelled closing order stands for.
fn close_refused(what: &str, cancel: &Transaction) -> BrokerError {
    BrokerError::Rejected(format!(
        "OANDA could not close {what}: {}",
        errors::cancel_reason(cancel.reason.as_deref().unwrap_or(""))
    ))
}

/// Closes trade `trade_id`, or `units` of it.
pub async fn close_trade(cx: Ctx<'_>, trade_id: &str, units: Option<Decimal>) -> BrokerResult<()> {
    let snapshot = account::read(cx.conn, cx.account).await?;
    let trade = convert::find_trade(&snapshot.account, trade_id).ok_or_else(|| not_open(trade_id))?;
    let open = trade.current_units;
    let units = match (units, cx.catalog.spec(&trade.instrument)) {
        (None, _) => "ALL".to_string(),
        (Some(a), Some(spec)) => convert::close_units(Some(a), open, spec)?,
        (Some(_), None) => {
            return Err(BrokerError::Rejected(format!(
                "{} is not an instrument of this account; only the whole trade can be closed.",
                trade.instrument
            )))
        }
    };
    let sent = Client::new(&cx.conn.http, &cx.conn.token)
        .close_trade(cx.account, trade_id, &CloseTradeBody { units })
        .await;
    let what = format!("trade {trade_id}");
    match sent {
        Ok(answer) => match (&answer.order_fill_transaction, &answer.order_cancel_transaction) {
            (None, Some(cancel)) => Err(close_refused(&what, cancel)),
            _ => Ok(()),
        },
        Err(e) if e.is_ambiguous() => {
            tracing::warn!(error = %e, "OANDA did not confirm a trade close; looking at the trade instead of resending");
            match account::read(cx.conn, cx.account).await {
                Ok(now) => match convert::find_trade(&now.account, trade_id) {
                    Some(t) if t.current_units == open => Err(errors::unconfirmed(format!(
                        "OANDA did not confirm closing {what} and it is still open as it was; nothing was sent \
                         twice. Try again."
                    ))),
                    _ => Ok(()),
                },
                Err(_) => Err(errors::unconfirmed(format!(
                    "OANDA did not confirm closing {what}: check the position before trying again."
                ))),
            }
        }
        Err(e) => Err(errors::write_error(&e, &what)),
    }
}

/// Gives trade `trade_id` exactly `brackets` (see [`convert::dependent_body`]).
pub async fn set_trade_brackets(cx: Ctx<'_>, trade_id: &str, brackets: &tv::Brackets) -> BrokerResult<()> {
    let snapshot = account::read(cx.conn, cx.account).await?;
    let trade = convert::find_trade(&snapshot.account, trade_id).ok_or_else(|| not_open(trade_id))?;
    let spec = cx.catalog.spec(&trade.instrument).ok_or_else(|| {
        BrokerError::Rejected(format!(
            "{} is not an instrument of this account; its brackets cannot be set here.",
            trade.instrument
        ))
    })?;
    let current = convert::TradeLegs::of(convert::trade_orders(&snapshot.account, trade_id));
    let body = convert::dependent_body(&current, brackets, spec)?;
    set_dependents(&cx, trade_id, &body).await
}

/// Closes the whole position in `instrument`: `"ALL"` for each side that has units, and only for those.
pub async fn close_position(cx: Ctx<'_>, instrument: &str) -> BrokerResult<()> {
    let snapshot = account::read(cx.conn, cx.account).await?;
    let (long, short) = convert::position_units(&snapshot.account, instrument);
    let symbol = cx.catalog.symbol(instrument);
    if long.is_zero() && short.is_zero() {
        return Err(BrokerError::NotFound(format!(
            "There is no open {symbol} position at OANDA."
        )));
    }
    let all = || Some("ALL".to_string());
    let body = ClosePositionBody {
        long_units: if long.is_zero() { None } else { all() },
        short_units: if short.is_zero() { None } else { all() },
    };
    let sent = Client::new(&cx.conn.http, &cx.conn.token)
        .close_position(cx.account, instrument, &body)
        .await;
    let what = format!("the {symbol} position");
    match sent {
        Ok(answer) => {
            let refused = [
                (
                    &answer.long_order_fill_transaction,
                    &answer.long_order_cancel_transaction,
                ),
                (
                    &answer.short_order_fill_transaction,
                    &answer.short_order_cancel_transaction,
                ),
            ]
            .into_iter()
            .find_map(|(fill, cancel)| cancel.as_ref().filter(|_| fill.is_none()));
            match refused {
                Some(cancel) => Err(close_refused(&what, cancel)),
                None => Ok(()),
            }
        }
        Err(e) if e.is_ambiguous() => {
            tracing::warn!(error = %e, "OANDA did not confirm a position close; looking at it instead of resending");
            match account::read(cx.conn, cx.account).await {
                Ok(now) if convert::position_units(&now.account, instrument) == (long, short) => {
                    Err(errors::unconfirmed(format!(
                        "OANDA did not confirm closing {what} and it is still open as it was; nothing was sent \
                         twice. Try again."
                    )))
                }
                Ok(_) => Ok(()),
                Err(_) => Err(errors::unconfirmed(format!(
                    "OANDA did not confirm closing {what}: check the position before trying again."
                ))),
            }
        }
        Err(e) => Err(errors::write_error(&e, &what)),
    }
}
