//! Candle prices: the aggregation of the instrument's price process (one tick per open second, see
//! `price_path`) over the candle's time range, in bid, ask (the bid plus the starting spread) and mid.
//! The candle containing the fake's now covers the ticks up to now and is incomplete; a range without
//! ticks has no candle. When prices do not move by themselves (trading tests set them), the incomplete
//! candle closes at the live quote, as an upstream's current candle does.

use super::super::state::Quote;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// Open, high, low, close.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(in super::super) struct Ohlc {
    pub o: Decimal,
    pub h: Decimal,
    pub l: Decimal,
    pub c: Decimal,
}

/// One candle in all three price components.
#[derive(Clone, Debug)]
pub(in super::super) struct Candle {
    pub time: DateTime<Utc>,
    pub bid: Ohlc,
    pub ask: Ohlc,
    pub mid: Ohlc,
    /// Ticks in the candle, as OANDA counts volume.
    pub volume: u64,
    pub complete: bool,
}

/// The candle `[start, end)` of `q` as of `now`; `None` when no tick falls in it.
pub(in super::super) fn candle(
    q: &Quote,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
    moving: bool,
) -> Option<Candle> {
    let until = end.timestamp().min(now.timestamp() + 1);
    let bar = q.path.bar(start.timestamp(), until)?;
    let bid = Ohlc {
        o: q.bid_at(bar.open),
        h: q.bid_at(bar.high),
        l: q.bid_at(bar.low),
        c: q.bid_at(bar.close),
    };
    let ask = Ohlc {
        o: q.ask_at(bar.open),
        h: q.ask_at(bar.high),
        l: q.ask_at(bar.low),
        c: q.ask_at(bar.close),
    };
    let complete = end <= now;
    let (mut bid, mut ask) = (bid, ask);
    if !complete && !moving {
        bid.c = q.spec.bid;
        ask.c = q.spec.ask;
        for x in [&mut bid, &mut ask] {
            x.h = x.h.max(x.c);
            x.l = x.l.min(x.c);
        }
    }
    let two = Decimal::TWO;
    let mid = Ohlc {
        o: (bid.o + ask.o) / two,
        h: (bid.h + ask.h) / two,
        l: (bid.l + ask.l) / two,
        c: (bid.c + ask.c) / two,
    };
    Some(Candle {
        time: start,
        bid,
        ask,
        mid,
        volume: bar.ticks,
        complete,
    })
}
