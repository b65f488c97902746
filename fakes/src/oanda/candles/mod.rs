//! Candles for both APIs: which candle times a request covers (OANDA's from/to/count/includeFirst
//! semantics, at most 5000, none in the weekend closure nor before the data start) and their prices,
//! the aggregation of the instrument's price process over each candle.

mod align;
mod series;
pub(super) mod tz;

pub(super) use align::{Align, Gran};
pub(super) use series::{candle, Ohlc};

use chrono::{DateTime, Utc};

/// Most candles one request may return.
pub(super) const MAX_COUNT: u32 = 5000;

/// What a candle request asks for, parsed.
#[derive(Clone, Copy, Debug)]
pub(super) struct Request {
    pub align: Align,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub count: Option<u32>,
    pub include_first: bool,
    /// The fake has no prices before this: no candle ends at or before it.
    pub data_start: DateTime<Utc>,
}

/// A request error: which parameter and why (the API shapes it).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Refusal {
    pub param: &'static str,
    pub message: String,
}

fn refuse(param: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        param,
        message: message.into(),
    }
}

/// A candle's `[start, end)`.
pub(super) type Slot = (DateTime<Utc>, DateTime<Utc>);

/// Upper bound on the candle slots one request walks (weekend gaps are skipped in one step).
const MAX_STEPS: usize = 50_000;

/// The `[start, end)` of every candle the request covers, oldest first.
pub(super) fn select(r: &Request, now: DateTime<Utc>) -> Result<Vec<Slot>, Refusal> {
    let a = &r.align;
    if r.count.is_some() && r.from.is_some() && r.to.is_some() {
        return Err(refuse(
            "count",
            "Invalid value specified for 'count'. Cannot be specified when both 'from' and 'to' are specified.",
        ));
    }
    let count = r.count.unwrap_or(500);
    if count > MAX_COUNT {
        return Err(refuse("count", "Maximum value for 'count' exceeded"));
    }
    if count == 0 {
        return Err(refuse("count", "Invalid value specified for 'count'"));
    }
    if r.from.is_some_and(|f| f > now) {
        return Err(refuse(
            "from",
            "Invalid value specified for 'from'. Time is in the future",
        ));
    }
    if r.to.is_some_and(|t| t > now) {
        return Err(refuse(
            "to",
            "Invalid value specified for 'to'. Time is in the future",
        ));
    }
    if let (Some(f), Some(t)) = (r.from, r.to) {
        if f > t {
            return Err(refuse(
                "to",
                "Invalid value specified for 'to'. 'to' is before 'from'",
            ));
        }
    }
    let current = a.floor(now);
    let mut out = Vec::new();
    if let Some(from) = r.from {
        let limit = if r.to.is_some() {
            MAX_COUNT as usize + 1
        } else {
            count as usize
        };
        let mut s = a.floor(from);
        if !r.include_first {
            s = a.next(s);
        }
        // Nothing before the data start: a `from` long before it starts there.
        if a.next(s) <= r.data_start {
            s = a.floor(r.data_start);
        }
        for _ in 0..MAX_STEPS {
            if s > current || r.to.is_some_and(|t| s >= t) || out.len() >= limit {
                break;
            }
            let e = a.next(s);
            if align::in_gap(s, e) {
                s = skip_forward(a, s, e);
                continue;
            }
            out.push((s, e));
            s = e;
        }
        if out.len() > MAX_COUNT as usize {
            return Err(refuse("count", "Maximum value for 'count' exceeded"));
        }
        return Ok(out);
    }
    let mut s = match r.to {
        Some(to) => {
            let s = a.floor(to);
            // A candle starting exactly at `to` is outside the range.
            if s == to {
                a.prev(s)
            } else {
                s
            }
        }
        None => current,
    };
    for _ in 0..MAX_STEPS {
        if out.len() >= count as usize {
            break;
        }
        let e = a.next(s);
        if e <= r.data_start {
            break;
        }
        if align::in_gap(s, e) {
            s = skip_back(a, s);
            continue;
        }
        out.push((s, e));
        s = a.prev(s);
    }
    out.reverse();
    Ok(out)
}

/// The first candle at or after the end of the weekend closure containing `s`.
fn skip_forward(a: &Align, s: DateTime<Utc>, e: DateTime<Utc>) -> DateTime<Utc> {
    match align::closed_window(s) {
        Some((_, end)) if a.floor(end) > s => a.floor(end),
        _ => e,
    }
}

/// The last candle before the start of the weekend closure containing `s`.
fn skip_back(a: &Align, s: DateTime<Utc>) -> DateTime<Utc> {
    let candidate = align::closed_window(s).map(|(start, _)| a.floor(start - chrono::Duration::seconds(1)));
    match candidate {
        Some(c) if c < s => c,
        _ => a.prev(s),
    }
}

/// Reads the alignment parameters (`dailyAlignment`, `alignmentTimezone`, `weeklyAlignment`) with
/// OANDA's defaults (17, America/New_York, Friday); `Err` names the bad parameter.
pub(super) fn alignment(
    gran: Gran,
    daily: Option<&str>,
    tz: Option<&str>,
    weekly: Option<&str>,
) -> Result<Align, &'static str> {
    let daily = match daily {
        None => 17,
        Some(d) => d
            .parse::<u32>()
            .ok()
            .filter(|d| *d <= 23)
            .ok_or("dailyAlignment")?,
    };
    let tz = match tz {
        None => tz::Tz::NewYork,
        Some(name) => tz::Tz::parse(name).ok_or("alignmentTimezone")?,
    };
    let weekly = match weekly.unwrap_or("Friday") {
        "Monday" => chrono::Weekday::Mon,
        "Tuesday" => chrono::Weekday::Tue,
        "Wednesday" => chrono::Weekday::Wed,
        "Thursday" => chrono::Weekday::Thu,
        "Friday" => chrono::Weekday::Fri,
        "Saturday" => chrono::Weekday::Sat,
        "Sunday" => chrono::Weekday::Sun,
        _ => return Err("weeklyAlignment"),
    };
    Ok(Align {
        gran,
        daily,
        tz,
        weekly,
    })
}
