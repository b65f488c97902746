//! Streamed quotes to TradingView market ticks, each carrying its trading day's bar up to it: the bar
//! starts from the day's bar `/history` gives (so the chart's daily bar does not jump when the stream
//! starts), later quotes extend it, and a quote of a day that bar does not cover starts a new bar. One
//! fold for every upstream: only the quote's fields and the market's day cut differ.

use super::days::DayCut;
use crate::tv;
use rust_decimal::Decimal;
use tokio::sync::mpsc;

/// One streamed quote, as the fold reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quote {
    /// Unix seconds of the quote (the upstream's clock).
    pub t: i64,
    pub bid: Decimal,
    pub ask: Decimal,
    pub bid_size: Decimal,
    pub ask_size: Decimal,
}

/// The day bar of one symbol, extended quote by quote.
#[derive(Debug, Clone)]
pub struct DayBar {
    symbol: String,
    cut: DayCut,
    day: Option<tv::Bar>,
    last_t: i64,
}

impl DayBar {
    /// Starts from `day`, the newest daily bar `/history` gives (stamped at its trading day), if any.
    pub fn new(symbol: String, cut: DayCut, day: Option<tv::Bar>) -> DayBar {
        DayBar {
            symbol,
            cut,
            day,
            last_t: i64::MIN,
        }
    }

    /// The tick of `quote`. Charts are drawn from the bid, so the bar's prices and `last` are the bid;
    /// the upstreams print no trades, so sizes of trades are zero.
    pub fn tick(&mut self, quote: &Quote) -> tv::MarketTick {
        // Tick times never go back, whatever the upstream's clock does.
        let t = quote.t.max(self.last_t);
        self.last_t = t;
        let day_start = self.cut.day_of(t);
        let tick_bar = tv::Bar::trade(t, quote.bid, Decimal::ZERO);
        let bar = match self.day {
            Some(bar) if bar.t == day_start => bar.then(tick_bar),
            // A quote older than the day's bar (sent before the bar was read) changes nothing.
            Some(bar) if bar.t > day_start => bar,
            _ => tv::Bar {
                t: day_start,
                ..tick_bar
            },
        };
        self.day = Some(bar);
        tv::MarketTick {
            symbol: self.symbol.clone(),
            t,
            bid: quote.bid,
            ask: quote.ask,
            bid_size: quote.bid_size,
            ask_size: quote.ask_size,
            last: quote.bid,
            last_size: Decimal::ZERO,
            day: bar,
        }
    }
}

/// Folds `quotes` (read with `read`) into market ticks on a task of their own. The task ends when the
/// listener drops the returned receiver, dropping `quotes`, which ends the upstream subscription.
pub fn spawn_ticks<Q: Send + 'static>(
    mut day: DayBar,
    mut quotes: mpsc::Receiver<Q>,
    read: fn(&Q) -> Quote,
) -> mpsc::Receiver<tv::MarketTick> {
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        while let Some(q) = quotes.recv().await {
            if tx.send(day.tick(&read(&q))).await.is_err() {
                return;
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const DAY: i64 = 86_400;
    /// Monday 2026-01-05 00:00 UTC.
    const MONDAY: i64 = 1_767_571_200;

    fn quote(t: i64, bid: Decimal) -> Quote {
        Quote {
            t,
            bid,
            ask: bid + dec!(0.0002),
            bid_size: dec!(1),
            ask_size: dec!(2),
        }
    }

    fn bar(t: i64, open: Decimal, high: Decimal, low: Decimal, close: Decimal) -> tv::Bar {
        tv::Bar {
            t,
            open,
            high,
            low,
            close,
            volume: Decimal::ZERO,
        }
    }

    #[test]
    fn quotes_extend_the_days_bar_and_a_new_day_starts_a_new_one() {
        let first = bar(MONDAY, dec!(1.1), dec!(1.2), dec!(1.0), dec!(1.15));
        let mut day = DayBar::new("EURUSD".into(), DayCut::Utc, Some(first));
        let tick = day.tick(&quote(MONDAY + 60, dec!(1.25)));
        assert_eq!(
            tick.day,
            bar(MONDAY, dec!(1.1), dec!(1.25), dec!(1.0), dec!(1.25))
        );
        assert_eq!(
            (tick.last, tick.ask, tick.ask_size),
            (dec!(1.25), dec!(1.2502), dec!(2))
        );
        let tick = day.tick(&quote(MONDAY + 120, dec!(0.9)));
        assert_eq!(tick.day, bar(MONDAY, dec!(1.1), dec!(1.25), dec!(0.9), dec!(0.9)));
        let tick = day.tick(&quote(MONDAY + DAY + 5, dec!(1.3)));
        assert_eq!(
            tick.day,
            bar(MONDAY + DAY, dec!(1.3), dec!(1.3), dec!(1.3), dec!(1.3))
        );
    }

    #[test]
    fn times_never_go_back_and_stale_quotes_keep_the_newer_bar() {
        let first = bar(MONDAY + DAY, dec!(1.1), dec!(1.2), dec!(1.0), dec!(1.15));
        let mut day = DayBar::new("EURUSD".into(), DayCut::Utc, Some(first));
        // A quote of the day before the bar read from `/history` changes nothing.
        let tick = day.tick(&quote(MONDAY + 100, dec!(5)));
        assert_eq!(tick.day, first);
        let tick = day.tick(&quote(MONDAY + DAY + 50, dec!(1.12)));
        assert_eq!(tick.t, MONDAY + DAY + 50);
        // The upstream's clock went back: the tick keeps the later time.
        let tick = day.tick(&quote(MONDAY + DAY + 10, dec!(1.13)));
        assert_eq!(tick.t, MONDAY + DAY + 50);
        assert_eq!(tick.day.close, dec!(1.13));
    }

    #[test]
    fn the_fx_day_is_cut_at_five_in_new_york() {
        let mut day = DayBar::new("EURUSD".into(), DayCut::NewYork17, None);
        // Sunday 22:00 UTC (17:00 New York in winter) opens Monday's bar.
        let tick = day.tick(&quote(MONDAY - 2 * 3_600, dec!(1.1)));
        assert_eq!(tick.day.t, MONDAY);
        let tick = day.tick(&quote(MONDAY + 22 * 3_600, dec!(1.2)));
        assert_eq!(
            tick.day,
            bar(MONDAY + DAY, dec!(1.2), dec!(1.2), dec!(1.2), dec!(1.2))
        );
    }

    #[tokio::test]
    async fn the_task_ends_when_the_listener_leaves() {
        let (tx, rx) = mpsc::channel::<Quote>(4);
        let ticks = spawn_ticks(DayBar::new("X".into(), DayCut::Utc, None), rx, |q| *q);
        let mut ticks = ticks;
        tx.send(quote(MONDAY, dec!(1))).await.unwrap();
        assert_eq!(ticks.recv().await.unwrap().bid, dec!(1));
        drop(ticks);
        // The fold drops the quote receiver once its send fails: the upstream side sees it closed.
        tx.send(quote(MONDAY + 1, dec!(2))).await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), tx.closed())
            .await
            .expect("the quote receiver was dropped");
    }
}
