//! `/history` from OANDA candles: the granularity a TradingView resolution is built from, and the pages
//! of candles the shared pager ([`crate::upstream::history`]) walks backward from `to`, 5000 candles at
//! a time (`to` + `count`, never a `from`). Intraday candles are UTC-aligned, so they start where
//! TradingView's bars do; daily candles are the instrument's trading days (the FX day ends at 17:00 New
//! York), each filed under 00:00 UTC of its date; weeks and months are built from those days, so that a
//! week is always the aggregation of the same days' bars.

use super::venue::{Candle, CandleQuery, CandleSide, Conn, Granularity, Venue};
use crate::broker::BrokerResult;
use crate::tv;
use crate::upstream::bars::base_of;
use crate::upstream::days::DayCut;
use crate::upstream::history::{collect, Page, Pages, Plan};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// OANDA's largest `count`.
pub const MAX_CANDLES_PER_REQUEST: u32 = 5000;
/// A `to` this close to the bridge's clock is sent as "up to now": OANDA refuses a `to` in its future,
/// and the two clocks may differ a little.
const RECENT_SECS: i64 = 600;

/// Intraday granularities, coarsest first, with their length in minutes. All start on multiples of their
/// length from the epoch under UTC alignment, as TradingView's minute bars do.
const INTRADAY: [(Granularity, u32); 15] = [
    (Granularity::D, 1440),
    (Granularity::H12, 720),
    (Granularity::H8, 480),
    (Granularity::H6, 360),
    (Granularity::H4, 240),
    (Granularity::H3, 180),
    (Granularity::H2, 120),
    (Granularity::H1, 60),
    (Granularity::M30, 30),
    (Granularity::M15, 15),
    (Granularity::M10, 10),
    (Granularity::M5, 5),
    (Granularity::M4, 4),
    (Granularity::M2, 2),
    (Granularity::M1, 1),
];

/// The granularity a TradingView resolution is built from: for minutes the coarsest whose length divides
/// it (7 from M1, 45 from M15, 240 from H4, 1440 from D); days, weeks and months from D.
pub fn granularity_for(resolution: tv::Resolution) -> Granularity {
    base_of(resolution, &INTRADAY, Granularity::M1, Granularity::D)
}

/// Whether candles of `g` are TradingView bars of `resolution` as they are (no aggregation needed).
fn is_exact(g: Granularity, resolution: tv::Resolution) -> bool {
    match resolution {
        tv::Resolution::Minutes(n) => g.seconds() == i64::from(n) * 60,
        tv::Resolution::Days(n) => n == 1,
        tv::Resolution::Weeks(_) | tv::Resolution::Months(_) => false,
    }
}

/// A candle as a TradingView bar, stamped with its start.
pub fn bar(c: &Candle) -> tv::Bar {
    tv::Bar {
        t: c.time.timestamp(),
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: Decimal::from(c.volume),
    }
}

/// Where the candles of one instrument come from.
pub struct Source<'a> {
    pub venue: &'a dyn Venue,
    pub conn: &'a Conn,
    pub account: &'a str,
    pub instrument: &'a str,
    pub side: CandleSide,
    /// How the instrument's trading days are cut.
    pub day_cut: DayCut,
}

impl Source<'_> {
    /// A candle of `g` as a TradingView bar: daily candles filed under their trading date.
    fn bar(&self, g: Granularity, c: &Candle) -> tv::Bar {
        let b = bar(c);
        match g {
            Granularity::D => tv::Bar {
                t: self.day_cut.day_of(b.t),
                ..b
            },
            _ => b,
        }
    }
}

/// Candle pages of one granularity, newest first.
struct CandlePages<'a> {
    source: &'a Source<'a>,
    granularity: Granularity,
    /// The next page holds candles starting before this; `None`: up to the current candle.
    before: Option<DateTime<Utc>>,
}

#[async_trait]
impl Pages for CandlePages<'_> {
    async fn next(&mut self, count: usize) -> BrokerResult<Page> {
        let count = u32::try_from(count)
            .unwrap_or(MAX_CANDLES_PER_REQUEST)
            .clamp(1, MAX_CANDLES_PER_REQUEST);
        let query = CandleQuery {
            instrument: self.source.instrument.to_string(),
            granularity: self.granularity,
            side: self.source.side,
            before: self.before,
            count,
            day_cut: self.source.day_cut,
        };
        let s = self.source;
        let candles = s.venue.candles(s.conn, s.account, &query).await?;
        let oldest = candles.iter().map(|c| c.time).min();
        if let Some(oldest) = oldest {
            self.before = Some(oldest);
        }
        // OANDA answers `count` candles whenever that many exist before `to`: fewer means no older ones.
        let exhausted = candles.len() < count as usize;
        let bars: Vec<tv::Bar> = candles.iter().map(|c| s.bar(self.granularity, c)).collect();
        Ok(Page {
            covered_from: bars.iter().map(|b| b.t).min(),
            bars,
            exhausted,
        })
    }

    fn page_limit(&self) -> usize {
        MAX_CANDLES_PER_REQUEST as usize
    }
}

/// What bounds one `/history` answer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Nothing before this is asked for nor answered (`backend.data_start`).
    pub data_start: i64,
    /// Candle requests at most (`backend.history_max_pages`).
    pub max_pages: usize,
    /// The bridge's now: a `to` this recent is asked as "up to now".
    pub now: i64,
}

/// The bars of `query` (see [`tv::HistoryQuery`]) from `source`'s candles within `limits`.
pub async fn history(
    source: &Source<'_>,
    query: &tv::HistoryQuery,
    limits: Limits,
) -> BrokerResult<Vec<tv::Bar>> {
    let Limits {
        data_start,
        max_pages,
        now,
    } = limits;
    let g = granularity_for(query.resolution);
    let plan = Plan {
        query: query.clone(),
        base_secs: g.seconds(),
        exact: is_exact(g, query.resolution),
        data_start,
        max_pages,
    };
    let mut upper = plan.upper();
    if g == Granularity::D && source.day_cut == DayCut::NewYork17 {
        // The trading day filed under `upper` begins 17:00 New York the day before (21:00 or 22:00
        // UTC): candles from then on are not wanted.
        upper -= 3 * 3600;
    }
    let before = (upper < now - RECENT_SECS)
        .then(|| DateTime::from_timestamp(upper, 0))
        .flatten();
    let mut pages = CandlePages {
        source,
        granularity: g,
        before,
    };
    collect(&plan, &mut pages).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_map_to_the_coarsest_dividing_granularity() {
        use tv::Resolution::*;
        let cases = [
            (Minutes(1), Granularity::M1),
            (Minutes(3), Granularity::M1),
            (Minutes(5), Granularity::M5),
            (Minutes(45), Granularity::M15),
            (Minutes(60), Granularity::H1),
            (Minutes(120), Granularity::H2),
            (Minutes(240), Granularity::H4),
            (Minutes(1440), Granularity::D),
            (Days(1), Granularity::D),
            (Days(3), Granularity::D),
            (Weeks(1), Granularity::D),
            (Months(3), Granularity::D),
        ];
        for (r, g) in cases {
            assert_eq!(granularity_for(r), g, "{r:?}");
        }
        assert!(is_exact(Granularity::H4, Minutes(240)) && !is_exact(Granularity::M1, Minutes(3)));
        assert!(is_exact(Granularity::D, Days(1)) && !is_exact(Granularity::D, Days(2)));
        assert!(!is_exact(Granularity::D, Weeks(1)) && !is_exact(Granularity::D, Months(1)));
    }
}
