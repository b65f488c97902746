//! Trades and positions: listing them (with the unrealized P/L v1 does not give per trade), closing a
//! trade wholly or in part, setting its brackets, closing a net position.

use super::super::venue::Ctx;
use super::books::AccountBooks;
use super::client::Client;
use super::convert::{self, Book, OrderForm, Probe};
use super::errors::error;
use super::model::{self, TxType};
use super::reads;
use super::trading;
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use rust_decimal::Decimal;
use std::time::Duration;

/// Wait before reading back a close whose answer was lost.
const VERIFY_DELAY: Duration = Duration::from_millis(500);

/// Current prices of the instruments that value `trades` in `home`.
async fn book(cx: Ctx<'_>, trades: &[model::Trade], home: &str) -> BrokerResult<Book> {
    let exists = |name: &str| cx.catalog.spec(name).is_some();
    let mut wanted = convert::valuation_instruments(trades, home, &exists);
    wanted.sort();
    let prices = reads::prices(cx, &wanted).await?;
    Ok(prices
        .iter()
        .map(|p| (p.instrument.clone(), (p.bid, p.ask)))
        .collect())
}

/// Open trades as individual positions, each valued at the current price in the account currency (zero
/// when a price or a conversion rate is missing: TradingView needs a figure).
pub(super) async fn individual(cx: Ctx<'_>) -> BrokerResult<Vec<tv::IndividualPosition>> {
    let (trades, account) = tokio::try_join!(
        reads::trades(cx.conn, cx.account),
        reads::account(cx.conn, cx.account)
    )?;
    individual_of(cx, &trades, &account).await
}

/// Individual positions from listings already read (one refresh reads each once); prices the trades.
pub(super) async fn individual_of(
    cx: Ctx<'_>,
    trades: &[model::Trade],
    account: &model::Account,
) -> BrokerResult<Vec<tv::IndividualPosition>> {
    if trades.is_empty() {
        return Ok(Vec::new());
    }
    let home = convert::account_currency(account);
    let book = match book(cx, trades, &home).await {
        Ok(book) => book,
        Err(e) => {
            tracing::warn!(error = %e, "pricing OANDA v1 trades failed; their P/L shows as zero");
            Book::new()
        }
    };
    Ok(trades
        .iter()
        .filter_map(|t| {
            let pl = convert::unrealized_pl(t, &book, &home).unwrap_or_default();
            convert::individual_position(t, &cx.catalog.symbol(&t.instrument), pl)
        })
        .collect())
}

/// Net positions, one per instrument.
pub(super) async fn net(cx: Ctx<'_>) -> BrokerResult<Vec<tv::NetPosition>> {
    let positions = reads::positions(cx.conn, cx.account).await?;
    Ok(net_of(cx, &positions))
}

/// Net positions from a listing already read.
pub(super) fn net_of(cx: Ctx<'_>, positions: &model::Positions) -> Vec<tv::NetPosition> {
    positions
        .positions
        .iter()
        .filter_map(|p| convert::net_position(p, &cx.catalog.symbol(&p.instrument)))
        .collect()
}

fn trade_id(id: &str) -> BrokerResult<u64> {
    id.trim()
        .parse()
        .map_err(|_| BrokerError::NotFound(format!("'{id}' is not an OANDA v1 trade id.")))
}

/// Closes a trade, or `units` of it.
///
/// v1 closes only whole trades; a part is closed with an opposite market order, which v1 applies to the
/// oldest trade of the instrument first. That is only the requested trade when it is the oldest, so any
/// other partial close is refused rather than reducing a different trade.
pub(super) async fn close_trade(
    books: &AccountBooks,
    cx: Ctx<'_>,
    trade: &str,
    units: Option<Decimal>,
) -> BrokerResult<()> {
    let id = trade_id(trade)?;
    let client = Client::new(cx.conn);
    // A fresh listing: the decision depends on the trade's units and age now.
    let trades = client
        .trades(cx.account)
        .await
        .map_err(|e| error(&e, "open trades"))?;
    let Some(t) = trades.iter().find(|t| t.id == id) else {
        return Err(BrokerError::NotFound(format!("Trade {id} is not open.")));
    };
    let units = units.filter(|u| *u != t.units);
    let Some(units) = units else {
        return close_whole(books, cx, id).await;
    };
    if units <= Decimal::ZERO || units > t.units {
        return Err(BrokerError::Rejected(format!(
            "Trade {id} has {} units; close between 1 and that many.",
            t.units.normalize()
        )));
    }
    let oldest = trades
        .iter()
        .filter(|o| o.instrument == t.instrument)
        .map(|o| o.id)
        .min()
        .unwrap_or(id);
    if oldest != id {
        return Err(BrokerError::Rejected(format!(
            "OANDA v1 cannot partially close trade {id}: v1 reduces the oldest trade of {} first (trade \
             {oldest}). Close trade {id} entirely, or partially close trade {oldest}.",
            cx.catalog.symbol(&t.instrument)
        )));
    }
    let Some(closing) = convert::side(t.side).map(tv::Side::opposite) else {
        return Err(BrokerError::Rejected(format!(
            "Trade {id} has a side this bridge does not know; it cannot be partially closed."
        )));
    };
    let form = OrderForm {
        form: vec![
            ("instrument", t.instrument.clone()),
            ("units", convert::units(units)?),
            ("side", closing.to_string()),
            ("type", "market".into()),
        ],
        probe: Probe {
            instrument: t.instrument.clone(),
            units,
            side: closing,
            kind: TxType::MarketOrderCreate,
            price: None,
            tick: Decimal::ZERO,
        },
    };
    trading::submit(books, cx, &form).await.map(|_| ())
}

async fn close_whole(books: &AccountBooks, cx: Ctx<'_>, id: u64) -> BrokerResult<()> {
    let client = Client::new(cx.conn);
    let what = format!("trade {id}");
    let result = client.close_trade(cx.account, &id.to_string()).await;
    books.written();
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.status() == Some(404) => Err(BrokerError::NotFound(format!("Trade {id} is not open."))),
        Err(e) if e.is_ambiguous() => {
            tokio::time::sleep(VERIFY_DELAY).await;
            match client.trade(cx.account, &id.to_string()).await {
                Err(read) if read.status() == Some(404) => Ok(()),
                Ok(_) => Err(super::super::errors::unconfirmed(format!(
                    "OANDA did not confirm closing {what}, and it is still open (nothing was sent twice)."
                ))),
                Err(_) => Err(unknown(&what)),
            }
        }
        Err(e) => Err(error(&e, &what)),
    }
}

fn unknown(what: &str) -> BrokerError {
    super::super::errors::unconfirmed(format!(
        "OANDA did not confirm closing {what} and it could not be read back: the outcome is unknown \
         (nothing was sent twice)."
    ))
}

/// Sets a trade's stop loss, take profit and trailing stop; an absent one is removed (sent as `0`).
pub(super) async fn set_brackets(
    books: &AccountBooks,
    cx: Ctx<'_>,
    trade: &str,
    brackets: &tv::Brackets,
) -> BrokerResult<()> {
    let id = trade_id(trade)?;
    let form = convert::bracket_fields(brackets, true)?;
    trading::patch_trade(books, cx, id, &form).await
}

/// Closes the whole position of `instrument`.
pub(super) async fn close_position(books: &AccountBooks, cx: Ctx<'_>, instrument: &str) -> BrokerResult<()> {
    let client = Client::new(cx.conn);
    let what = format!("the {} position", cx.catalog.symbol(instrument));
    let result = client.close_position(cx.account, instrument).await;
    books.written();
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.status() == Some(404) => Err(BrokerError::NotFound(format!(
            "There is no open {} position.",
            cx.catalog.symbol(instrument)
        ))),
        Err(e) if e.is_ambiguous() => {
            tokio::time::sleep(VERIFY_DELAY).await;
            match client.position(cx.account, instrument).await {
                Err(read) if read.status() == Some(404) => Ok(()),
                Ok(_) => Err(super::super::errors::unconfirmed(format!(
                    "OANDA did not confirm closing {what}, and it is still open (nothing was sent twice)."
                ))),
                Err(_) => Err(unknown(&what)),
            }
        }
        Err(e) => Err(error(&e, &what)),
    }
}
