//! The paper broker's market data: live ticks (one per second, with the day's bar kept incrementally) and
//! the data feed's symbols. History bars (`super::history`) come from the same pure price function, so
//! minute bars built from the stream equal `/history`'s.

use super::clock::Clock;
use super::market::Market;
use crate::broker::{BrokerError, BrokerResult};
use crate::tv::{self, SymbolInfo, SymbolType};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const DAY: i64 = 86_400;
/// A live stream that fell further behind than this skips ahead: it carries real-time data only.
const MAX_CATCH_UP_SECS: i64 = 60;
/// Punctuation kept in a paper symbol's TradingView name (the rest of it is upper-case letters and digits).
const PUNCTUATION: &[char] = &['.', '_'];

/// The data feed's symbols; groups by asset class.
pub fn symbols(market: &Market) -> Vec<SymbolInfo> {
    market
        .instruments()
        .iter()
        .map(|ins| {
            let c = &ins.cfg;
            let (minmovement, pricescale) = SymbolInfo::price_format(c.tick_size);
            let (symbol, ticker) = SymbolInfo::name_and_ticker(&c.symbol, PUNCTUATION);
            SymbolInfo {
                symbol,
                ticker,
                description: c.description.clone(),
                currency: c.currency.clone(),
                base_currency: c.base_currency.clone(),
                exchange: "TVBRIDGE".into(),
                minmovement,
                minmovement2: match c.kind {
                    SymbolType::Forex => SymbolInfo::pip_fraction(c.tick_size, c.pip_size),
                    _ => 0,
                },
                pricescale,
                timezone: "Etc/UTC".into(),
                // The paper market never closes.
                session: "24x7".into(),
                kind: c.kind,
                typespecs: c.typespecs.clone(),
                group: group_of(c.kind).into(),
                has_no_volume: false,
            }
        })
        .collect()
}

/// The group (without prefix) of an asset class.
fn group_of(kind: SymbolType) -> &'static str {
    match kind {
        SymbolType::Forex => "forex",
        SymbolType::Crypto => "crypto",
        SymbolType::Stock => "stocks",
        _ => "cfd",
    }
}

/// Live ticks of `symbol`: one per second, from the current one on, each with the day's bar so far.
pub fn subscribe(
    market: Arc<Market>,
    clock: Arc<dyn Clock>,
    symbol: &str,
) -> BrokerResult<mpsc::Receiver<tv::MarketTick>> {
    let ins = market
        .get(symbol)
        .cloned()
        .ok_or_else(|| BrokerError::NotFound(format!("Unknown symbol '{symbol}'")))?;
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut next = clock.now_ms().div_euclid(1000);
        let mut day: Option<tv::Bar> = None;
        loop {
            let now = clock.now_ms().div_euclid(1000);
            if now - next > MAX_CATCH_UP_SECS {
                next = now - MAX_CATCH_UP_SECS;
                day = None;
            }
            while next <= now {
                let tick = market.tick(&ins, next);
                let day_start = next - next.rem_euclid(DAY);
                let bar = match day {
                    Some(d) if d.t == day_start => d.then(tv::Bar::trade(next, tick.last, tick.last_size)),
                    _ => market.feed().bar(&ins.feed, day_start, next - day_start + 1),
                };
                day = Some(bar);
                let message = tv::MarketTick {
                    symbol: ins.cfg.symbol.clone(),
                    t: next,
                    bid: tick.bid,
                    ask: tick.ask,
                    bid_size: tick.bid_size,
                    ask_size: tick.ask_size,
                    last: tick.last,
                    last_size: tick.last_size,
                    day: bar,
                };
                if tx.send(message).await.is_err() {
                    return;
                }
                next += 1;
            }
            // Wake at the start of the next second, or within 100 ms: a tick is never more than that late, and
            // a clock that jumps (tests move a manual one) is followed promptly.
            let wait = (next * 1000 - clock.now_ms()).clamp(5, 100);
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
    });
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_broker_symbols_get_a_ticker() {
        assert_eq!(
            SymbolInfo::name_and_ticker("EURUSD", PUNCTUATION),
            ("EURUSD".into(), None)
        );
        assert_eq!(
            SymbolInfo::name_and_ticker("BRK-B", PUNCTUATION),
            ("BRK_B".into(), Some("BRK-B".into()))
        );
        assert_eq!(
            SymbolInfo::name_and_ticker("eth.usd", PUNCTUATION),
            ("ETH.USD".into(), Some("eth.usd".into()))
        );
    }
}
