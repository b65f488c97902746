//! The account-scoped calls that need more than handing over to the venue: instruments with pip values in
//! the account currency, quotes, order placement (symbol resolution, quantity checks, client order id) and
//! the calls whose TradingView id is a symbol.

use super::venue::{ClientRef, Price};
use super::{convert, unknown_symbol, Inner};
use crate::broker::{BrokerError, BrokerResult, SessionCtx};
use crate::tv;
use crate::upstream::order_ids;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Executions and history entries returned when TradingView names no `maxCount`, and the most it may ask.
pub const DEFAULT_MAX_COUNT: usize = 100;
pub const MAX_COUNT: usize = 500;
/// Longest client order id the bridge gives an OANDA order (v20 `ClientID`).
const MAX_CLIENT_ID: usize = 100;

/// Prices of `instruments` plus the pairs that convert their quote currencies into `home`, by instrument.
async fn prices_with_conversions(
    scope: &super::Scope,
    instruments: &[String],
    home: &str,
) -> BrokerResult<HashMap<String, Price>> {
    let mut wanted: Vec<String> = instruments.to_vec();
    for name in instruments {
        if let Some(spec) = scope.catalog.spec(name) {
            for pair in convert::conversion_pairs(spec, home) {
                if scope.catalog.spec(&pair).is_some() && !wanted.contains(&pair) {
                    wanted.push(pair);
                }
            }
        }
    }
    let prices = scope.venue.prices(scope.ctx(), &wanted).await?;
    Ok(prices.into_iter().map(|p| (p.instrument.clone(), p)).collect())
}

pub(super) async fn instruments(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
) -> BrokerResult<Vec<tv::Instrument>> {
    // The rows' pip values need prices of every offered instrument: the hub's catalog cache keeps them,
    // so placing an order costs no price request.
    let scope = inner.scope(session, account).await?;
    let home = scope.head()?.currency.clone();
    let offered = scope.catalog.offered();
    let names: Vec<String> = offered.iter().map(|s| s.name.clone()).collect();
    let prices = prices_with_conversions(&scope, &names, &home).await?;
    let rows: Vec<tv::Instrument> = offered
        .into_iter()
        .map(|spec| {
            let rate = convert::quote_to_home(spec, &home, prices.get(&spec.name), &prices).unwrap_or_else(|| {
                tracing::warn!(instrument = %spec.name, %home, "no price converts this quote currency; pip value taken 1:1");
                Decimal::ONE
            });
            convert::instrument(&scope.catalog.symbol(&spec.name), spec, rate)
        })
        .collect();
    Ok(rows)
}

pub(super) async fn quotes(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    symbols: &[String],
) -> BrokerResult<Vec<tv::QuoteEntry>> {
    let scope = inner.scope(session, account).await?;
    let home = scope.head()?.currency.clone();
    let names: Vec<String> = symbols
        .iter()
        .filter_map(|s| scope.catalog.by_symbol(s).map(|spec| spec.name.clone()))
        .collect();
    let prices = if names.is_empty() {
        HashMap::new()
    } else {
        prices_with_conversions(&scope, &names, &home).await?
    };
    Ok(symbols
        .iter()
        .map(|symbol| {
            let Some(spec) = scope.catalog.by_symbol(symbol) else {
                return tv::QuoteEntry::error(symbol.clone(), format!("Unknown symbol '{symbol}'"));
            };
            match prices.get(&spec.name) {
                Some(price) => {
                    let rate = convert::quote_to_home(spec, &home, Some(price), &prices);
                    convert::quote(symbol, spec, price, rate)
                }
                None => tv::QuoteEntry::error(symbol.clone(), "No price is available right now"),
            }
        })
        .collect())
}

/// The client order id sent with an order: `tvb-` and TradingView's `requestId` when it has one that fits
/// (so that a request resent, even after a bridge restart, finds the order it already placed), else a fresh
/// one. The id is also the order's TradingView id (`@tvb-...`, see `v20/convert/ids.rs`), which is why the
/// bridge user is not in it: the user's mark goes in the order's comment ([`order_ids::owner_mark`]).
fn client_id(request_id: Option<&str>) -> String {
    match request_id.map(str::trim) {
        Some(id)
            if !id.is_empty()
                && order_ids::PREFIX.len() + id.len() <= MAX_CLIENT_ID
                && id.chars().all(|c| c.is_ascii_graphic()) =>
        {
            format!("{}{id}", order_ids::PREFIX)
        }
        _ => order_ids::fresh(),
    }
}

pub(super) async fn place_order(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    order: tv::PlaceOrder,
    request_id: Option<&str>,
) -> BrokerResult<String> {
    let scope = inner.scope(session, account).await?;
    let spec = scope
        .catalog
        .by_symbol(&order.instrument)
        .ok_or_else(|| unknown_symbol(&order.instrument))?;
    if !scope.catalog.rules().is_offered(&spec.name) {
        return Err(BrokerError::Rejected(format!(
            "{} is not offered by this bridge",
            order.instrument
        )));
    }
    // Quantity bounds and step were checked by the HTTP layer against these instruments' rows.
    let client_id = client_id(request_id);
    let owner = order_ids::owner_mark(&session.user);
    tracing::info!(%account, instrument = %spec.name, %client_id, "placing an OANDA order");
    scope
        .venue
        .place_order(
            scope.ctx(),
            spec,
            &order,
            ClientRef {
                id: &client_id,
                owner: &owner,
            },
        )
        .await
}

/// The order placed earlier for `request_id`, by the client id it was given (see [`client_id`]).
pub(super) async fn order_by_request_id(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    request_id: &str,
) -> BrokerResult<Option<String>> {
    let client_id = client_id(Some(request_id));
    if client_id != format!("{}{}", order_ids::PREFIX, request_id.trim()) {
        // The id could not carry the request id: the order was placed under a fresh one.
        return Err(BrokerError::Unsupported("looking orders up by requestId"));
    }
    let scope = inner.scope(session, account).await?;
    let owner = order_ids::owner_mark(&session.user);
    scope
        .venue
        .find_order(
            scope.ctx(),
            ClientRef {
                id: &client_id,
                owner: &owner,
            },
        )
        .await
}

pub(super) async fn modify_order(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    order_id: &str,
    change: tv::ModifyOrder,
) -> BrokerResult<()> {
    let scope = inner.scope(session, account).await?;
    if let Some(qty) = change.qty {
        if qty <= Decimal::ZERO {
            return Err(BrokerError::Rejected("The quantity must be positive".into()));
        }
    }
    scope.venue.modify_order(scope.ctx(), order_id, &change).await
}

pub(super) async fn close_trade(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    trade_id: &str,
    amount: Option<Decimal>,
) -> BrokerResult<()> {
    if amount.is_some_and(|a| a <= Decimal::ZERO) {
        return Err(BrokerError::Rejected(
            "The amount to close must be positive".into(),
        ));
    }
    let scope = inner.scope(session, account).await?;
    scope.venue.close_trade(scope.ctx(), trade_id, amount).await
}

/// A net position's TradingView id is its symbol.
pub(super) async fn close_net_position(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    position_id: &str,
) -> BrokerResult<()> {
    let scope = inner.scope(session, account).await?;
    let instrument = scope
        .catalog
        .by_symbol(position_id)
        .map(|s| s.name.clone())
        .ok_or_else(|| BrokerError::NotFound(format!("Unknown position '{position_id}'")))?;
    scope.venue.close_position(scope.ctx(), &instrument).await
}

pub(super) async fn executions(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    symbol: Option<&str>,
    max_count: Option<usize>,
) -> BrokerResult<Vec<tv::Execution>> {
    let scope = inner.scope(session, account).await?;
    let instrument = match symbol {
        Some(s) => Some(
            scope
                .catalog
                .by_symbol(s)
                .map(|spec| spec.name.clone())
                .ok_or_else(|| unknown_symbol(s))?,
        ),
        None => None,
    };
    let max = max_count.unwrap_or(DEFAULT_MAX_COUNT).min(MAX_COUNT);
    scope
        .venue
        .executions(scope.ctx(), instrument.as_deref(), max)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_reuse_the_request_id_when_it_fits() {
        assert_eq!(client_id(Some("abc-1")), "tvb-abc-1");
        let long = "x".repeat(200);
        for odd in [None, Some(""), Some("has space"), Some(long.as_str())] {
            let id = client_id(odd);
            assert!(id.starts_with("tvb-") && id.len() == 36, "{id}");
        }
        assert_ne!(client_id(None), client_id(None));
    }
}
