//! `/history` from OANDA candles: the granularity a TradingView resolution is built from, paging past the
//! 5000-candle limit of one request, and aggregation into TradingView's bars (the bridge asks OANDA for
//! UTC-aligned candles, so its day, week and month candles start where TradingView's bars do).

use super::venue::{Candle, CandleQuery, CandleSide, Conn, Granularity, Venue};
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use crate::upstream::bars::{aggregate, bar_start};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// OANDA's largest `count`.
pub const MAX_CANDLES_PER_REQUEST: u32 = 5000;
/// Most requests one `/history` call makes (100,000 candles); a longer range keeps its newest part.
pub const MAX_PAGES: i64 = 20;

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
/// it (7 from M1, 45 from M15, 240 from H4, 1440 from D); days from D, weeks from W, months from M.
pub fn granularity_for(resolution: tv::Resolution) -> Granularity {
    match resolution {
        tv::Resolution::Minutes(n) => INTRADAY
            .iter()
            .find(|(_, len)| n % len == 0)
            .map_or(Granularity::M1, |(g, _)| *g),
        tv::Resolution::Days(_) => Granularity::D,
        tv::Resolution::Weeks(_) => Granularity::W,
        tv::Resolution::Months(_) => Granularity::M,
    }
}

/// Whether candles of `g` are TradingView bars of `resolution` as they are (no aggregation needed).
fn is_exact(g: Granularity, resolution: tv::Resolution) -> bool {
    match resolution {
        tv::Resolution::Minutes(n) => g.seconds() == i64::from(n) * 60,
        tv::Resolution::Days(n) | tv::Resolution::Weeks(n) | tv::Resolution::Months(n) => n == 1,
    }
}

/// A candle as a TradingView bar.
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

fn time(t: i64) -> BrokerResult<DateTime<Utc>> {
    DateTime::from_timestamp(t, 0).ok_or_else(|| BrokerError::Rejected(format!("{t} is not a valid time")))
}

/// Bars of `instrument` whose start lies in `[from, to]` (unix seconds), oldest first, fetched page by page.
#[allow(clippy::too_many_arguments)]
pub async fn history(
    venue: &dyn Venue,
    conn: &Conn,
    account: &str,
    instrument: &str,
    side: CandleSide,
    resolution: tv::Resolution,
    from: i64,
    to: i64,
) -> BrokerResult<Vec<tv::Bar>> {
    if from > to {
        return Ok(Vec::new());
    }
    let g = granularity_for(resolution);
    let len = g.seconds();
    // Start at the TradingView bar holding `from`, so that the first aggregated bar is whole.
    let start = bar_start(from, resolution).unwrap_or(from);
    // Too long a range keeps its newest part (OANDA keeps far less fine history than this reaches anyway).
    let span = len
        .saturating_mul(i64::from(MAX_CANDLES_PER_REQUEST))
        .saturating_mul(MAX_PAGES);
    let mut cursor = start.max(to.saturating_sub(span));
    let now = Utc::now().timestamp();
    let mut candles: Vec<Candle> = Vec::new();
    // Newest candle start already taken: OANDA answers `from` with the candle containing it, so a page
    // starting inside a month (months vary in length) begins with a candle already held.
    let mut taken = i64::MIN;
    for _ in 0..MAX_PAGES {
        if cursor > to || cursor > now {
            break;
        }
        let wanted = (to.min(now) - cursor) / len + 1;
        let count = u32::try_from(wanted.clamp(1, i64::from(MAX_CANDLES_PER_REQUEST))).unwrap_or(1);
        let query = CandleQuery {
            instrument: instrument.to_string(),
            granularity: g,
            side,
            from: time(cursor)?,
            count,
        };
        let page = venue.candles(conn, account, &query).await?;
        let Some(last) = page.last().map(|c| c.time.timestamp()) else {
            break;
        };
        let full = page.len() as u32 >= count;
        candles.extend(page.into_iter().filter(|c| {
            let t = c.time.timestamp();
            t > taken && t <= to
        }));
        taken = taken.max(last);
        // Fewer candles than asked: OANDA has nothing newer.
        if !full || last >= to {
            break;
        }
        // The next candle's start (for months an estimate inside the next month, which OANDA answers with
        // the candle containing it).
        cursor = last + len;
    }
    candles.sort_by_key(|c| c.time);
    candles.dedup_by_key(|c| c.time);
    let bars: Vec<tv::Bar> = candles.iter().map(bar).collect();
    let bars = if is_exact(g, resolution) {
        bars
    } else {
        aggregate(bars, resolution)
    };
    Ok(bars.into_iter().filter(|b| b.t >= start && b.t <= to).collect())
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
            (Weeks(1), Granularity::W),
            (Months(3), Granularity::M),
        ];
        for (r, g) in cases {
            assert_eq!(granularity_for(r), g, "{r:?}");
        }
        assert!(is_exact(Granularity::H4, Minutes(240)) && !is_exact(Granularity::M1, Minutes(3)));
        assert!(is_exact(Granularity::D, Days(1)) && !is_exact(Granularity::D, Days(2)));
    }
}
