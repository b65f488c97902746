//! Reads: accounts, instruments, prices, candles, the account's listings, `/orders` (working orders
//! plus the journal's finished ones), executions and order history.

use super::super::venue::{AccountHead, Candle, CandleQuery, Conn, Ctx, InstrumentSpec, Price};
use super::books::AccountBooks;
use super::client::{Client, TxQuery, MAX_COUNT};
use super::convert::{self, Known, OrderInfo};
use super::errors::error;
use super::journal::{fingerprint, Listed};
use super::model;
use super::symbols;
use crate::broker::BrokerResult;
use crate::tv;
use chrono::Utc;
use std::sync::atomic::Ordering;

/// Instruments priced per request (keeps the query string short).
const PRICES_PER_REQUEST: usize = 50;

/// The accounts of the token; an account whose currency the list does not give is read on its own.
pub(super) async fn accounts(conn: &Conn) -> BrokerResult<Vec<AccountHead>> {
    let client = Client::new(conn);
    let list = client
        .accounts()
        .await
        .map_err(|e| error(&e, "the account list"))?;
    let mut out = Vec::with_capacity(list.accounts.len());
    for a in &list.accounts {
        let mut head = convert::account_head(a);
        if head.currency.is_empty() {
            let detail = client
                .account(&head.id)
                .await
                .map_err(|e| error(&e, &format!("account {}", head.id)))?;
            head.currency = convert::account_currency(&detail);
        }
        out.push(head);
    }
    Ok(out)
}

/// Every instrument the account may trade.
pub(super) async fn instruments(conn: &Conn, account: &str) -> BrokerResult<Vec<InstrumentSpec>> {
    let list = Client::new(conn)
        .instruments(account)
        .await
        .map_err(|e| error(&e, "the instrument list"))?;
    Ok(list.instruments.iter().map(convert::instrument_spec).collect())
}

/// Prices of `instruments`. Names the account does not have are left out before asking (v1 refuses a
/// whole request for one invalid instrument), so they are simply absent from the answer.
pub(super) async fn prices(cx: Ctx<'_>, instruments: &[String]) -> BrokerResult<Vec<Price>> {
    let known_only = !cx.catalog.all().is_empty();
    let mut names: Vec<String> = Vec::new();
    for i in instruments {
        if (!known_only || cx.catalog.spec(i).is_some()) && !names.contains(i) {
            names.push(i.clone());
        }
    }
    let client = Client::new(cx.conn);
    let now = Utc::now();
    let mut out = Vec::with_capacity(names.len());
    for chunk in names.chunks(PRICES_PER_REQUEST) {
        let answer = client.prices(chunk).await.map_err(|e| error(&e, "prices"))?;
        out.extend(answer.prices.iter().map(|q| convert::price(q, now)));
    }
    Ok(out)
}

/// One page of candles.
pub(super) async fn candles(conn: &Conn, query: &CandleQuery) -> BrokerResult<Vec<Candle>> {
    let answer = Client::new(conn)
        .candles(query)
        .await
        .map_err(|e| error(&e, &format!("candles of {}", query.instrument)))?;
    Ok(convert::candles(&answer, query.side))
}

/// The account (balance, P/L, margin).
pub(super) async fn account(conn: &Conn, account: &str) -> BrokerResult<model::Account> {
    Client::new(conn)
        .account(account)
        .await
        .map_err(|e| error(&e, &format!("account {account}")))
}

/// The pending orders.
pub(super) async fn pending(conn: &Conn, account: &str) -> BrokerResult<Vec<model::Order>> {
    Client::new(conn)
        .orders(account)
        .await
        .map_err(|e| error(&e, "pending orders"))
}

/// The open trades.
pub(super) async fn trades(conn: &Conn, account: &str) -> BrokerResult<Vec<model::Trade>> {
    Client::new(conn)
        .trades(account)
        .await
        .map_err(|e| error(&e, "open trades"))
}

/// The net positions.
pub(super) async fn positions(conn: &Conn, account: &str) -> BrokerResult<model::Positions> {
    Client::new(conn)
        .positions(account)
        .await
        .map_err(|e| error(&e, "positions"))
}

/// What the journal remembers of a listed pending order.
fn order_info(o: &model::Order) -> Option<OrderInfo> {
    let kind = match o.kind {
        model::WireOrderType::Stop => tv::OrderType::Stop,
        _ => tv::OrderType::Limit,
    };
    Some(OrderInfo {
        instrument: o.instrument.clone(),
        units: o.units,
        side: convert::side(o.side)?,
        kind,
        price: convert::set(o.price),
        expiry: o.expiry,
    })
}

/// Pending orders with their brackets, the brackets of open trades, and the orders that finished since
/// the session began.
pub(super) async fn orders(books: &AccountBooks, cx: Ctx<'_>) -> BrokerResult<Vec<tv::Order>> {
    let (pending, trades) = tokio::try_join!(pending(cx.conn, cx.account), trades(cx.conn, cx.account))?;
    orders_of(books, cx, &pending, &trades).await
}

/// `/orders` from listings already read (one refresh reads each once).
pub(super) async fn orders_of(
    books: &AccountBooks,
    cx: Ctx<'_>,
    pending: &[model::Order],
    trades: &[model::Trade],
) -> BrokerResult<Vec<tv::Order>> {
    let pip = |instrument: &str| cx.catalog.spec(instrument).map(|s| s.pip());
    let mut working = Vec::new();
    for o in pending.iter() {
        working.extend(convert::pending_order(
            o,
            &cx.catalog.symbol(&o.instrument),
            pip(&o.instrument),
        ));
    }
    for t in trades.iter() {
        working.extend(convert::trade_brackets(
            t,
            &cx.catalog.symbol(&t.instrument),
            pip(&t.instrument),
        ));
    }
    let units: Vec<_> = trades.iter().map(|t| (t.id, t.units)).collect();
    let print = fingerprint(&working, &units);
    let listed = Listed {
        orders: pending.iter().map(|o| o.id).collect(),
        trades: trades.iter().map(|t| t.id).collect(),
    };

    let mut journal = books.journal.lock().await;
    for o in pending.iter() {
        if let Some(info) = order_info(o) {
            journal.learn_order(o.id, info);
        }
    }
    for t in trades.iter() {
        if let Some(s) = convert::side(t.side) {
            journal.known.learn_trade(t.id, &t.instrument, s);
        }
    }
    let due = books.transactions_due.swap(false, Ordering::SeqCst);
    let read = if journal.needs_sync(print, due) {
        let client = Client::new(cx.conn);
        let result = match journal.last_transaction() {
            Some(last) => client.transactions_after(cx.account, last).await,
            // The first read takes the newest page: what finished before it is older than any session.
            None => client
                .transactions(cx.account, &TxQuery::default())
                .await
                .map(|page| (page.transactions, false)),
        };
        match result {
            Ok(read) => Some(read),
            Err(e) => {
                // Working orders are still worth showing; the history is read again next time.
                tracing::warn!(account = cx.account, error = %e, "reading the OANDA v1 transaction history failed");
                books.transactions_due.store(true, Ordering::SeqCst);
                None
            }
        }
    } else {
        None
    };
    let symbol_of = symbols(cx.catalog);
    let since = cx.since.timestamp();
    let all = journal.refresh(working, &listed, read, print, Utc::now().timestamp(), &symbol_of);
    Ok(all
        .into_iter()
        .filter(|o| !o.status.is_final() || o.last_modified.unwrap_or_default() >= since)
        .collect())
}

/// The newest transactions (of one instrument or all), with what the journal knows added to what they
/// say themselves.
async fn history(
    books: &AccountBooks,
    cx: Ctx<'_>,
    instrument: Option<&str>,
) -> BrokerResult<(Vec<model::Transaction>, Known)> {
    let q = TxQuery {
        count: Some(MAX_COUNT),
        instrument: instrument.map(str::to_owned),
        ..Default::default()
    };
    let page = Client::new(cx.conn)
        .transactions(cx.account, &q)
        .await
        .map_err(|e| error(&e, "the transaction history"))?;
    let mut known = books.journal.lock().await.known.clone();
    known.learn(&page.transactions);
    Ok((page.transactions, known))
}

/// Fills, newest first, at most `max`.
pub(super) async fn executions(
    books: &AccountBooks,
    cx: Ctx<'_>,
    instrument: Option<&str>,
    max: usize,
) -> BrokerResult<Vec<tv::Execution>> {
    let (txs, known) = history(books, cx, instrument).await?;
    let symbol_of = symbols(cx.catalog);
    // OANDA filtered by instrument already; a transaction without one (a trade close) is placed by its
    // trade, so the filter is applied again on the result.
    let wanted = instrument.map(|i| cx.catalog.symbol(i));
    let mut out: Vec<tv::Execution> = txs
        .iter()
        .flat_map(|t| convert::executions(t, &known, &symbol_of))
        .filter(|e| wanted.as_ref().is_none_or(|w| &e.instrument == w))
        .collect();
    out.truncate(max);
    Ok(out)
}

/// Orders that reached a final status, newest first, at most `max`.
pub(super) async fn orders_history(
    books: &AccountBooks,
    cx: Ctx<'_>,
    max: usize,
) -> BrokerResult<Vec<tv::Order>> {
    let (txs, known) = history(books, cx, None).await?;
    let mut out = convert::orders_history(&txs, &known, &symbols(cx.catalog));
    out.truncate(max);
    Ok(out)
}
