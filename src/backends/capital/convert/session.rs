//! Capital.com `openingHours` as a TradingView session string.
//!
//! Capital.com lists, per weekday, ranges like `"00:00 - 22:00"` and `"23:05 - 00:00"` (an end of `00:00`
//! is midnight at the end of that day). TradingView wants `HHMM-HHMM` periods per day number (1 = Sunday ..
//! 7 = Saturday), where a period whose start is not before its end is *overnight*: it starts on the previous
//! day. So the week is first laid out as open minutes, runs that cross midnight are joined (Sunday
//! `23:05 - 00:00` + Monday `00:00 - 22:00` is Monday `2305-2200`), and days with equal periods are grouped:
//! `2305-2200:23456`. A week that is open throughout is `24x7`.

use super::model::OpeningHours;

/// The session of a market that never closes.
pub const ALWAYS_OPEN: &str = "24x7";

const DAY: usize = 1440;
const WEEK: usize = 7 * DAY;

/// One TradingView period: minutes of the day its number belongs to; `start >= end` means it began the
/// day before (`end` 1440 is written `0000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Period {
    start: usize,
    end: usize,
}

impl Period {
    fn text(self) -> String {
        let hhmm = |m: usize| format!("{:02}{:02}", (m % DAY) / 60, m % 60);
        format!("{}-{}", hhmm(self.start), hhmm(self.end))
    }
}

/// The TradingView session of `hours`. Unreadable ranges are ignored; a week with no open minute at all
/// (nothing to chart against) is reported as `24x7` rather than as a market that never opens.
pub fn tradingview_session(hours: &OpeningHours) -> String {
    let open = open_minutes(hours);
    let Some(closed) = open.iter().position(|o| !o) else {
        return ALWAYS_OPEN.to_owned();
    };
    if !open.contains(&true) {
        return ALWAYS_OPEN.to_owned();
    }
    // Walk one week starting just after a closed minute, so no run is cut by the walk's own start.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for i in closed + 1..=closed + WEEK {
        match (open[i % WEEK], start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    let mut per_day: [Vec<Period>; 7] = Default::default();
    for (s, e) in runs {
        for (day, period) in periods(s, e) {
            per_day[day % 7].push(period);
        }
    }
    group_days(&per_day)
}

/// Open minutes of the week, index 0 = Sunday 00:00.
fn open_minutes(hours: &OpeningHours) -> Vec<bool> {
    let mut open = vec![false; WEEK];
    let days = [
        &hours.sun, &hours.mon, &hours.tue, &hours.wed, &hours.thu, &hours.fri, &hours.sat,
    ];
    for (day, ranges) in days.iter().enumerate() {
        for range in ranges.iter() {
            let Some((from, to)) = parse_range(range) else {
                continue;
            };
            // An end at or before the start runs past midnight into the next day.
            let to = if to <= from { to + DAY } else { to };
            for m in from..to {
                open[(day * DAY + m) % WEEK] = true;
            }
        }
    }
    open
}

/// `"23:05 - 00:00"` as minutes of the day (`(1385, 0)`).
fn parse_range(range: &str) -> Option<(usize, usize)> {
    let (a, b) = range.split_once('-')?;
    Some((parse_hhmm(a)?, parse_hhmm(b)?))
}

fn parse_hhmm(s: &str) -> Option<usize> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (usize, usize) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// The periods (with their day number, 0 = Sunday, not yet wrapped) of one open run `[s, e)` of week
/// minutes: cut at midnights, an evening piece joined to the next morning when the pair is shorter than a
/// day (one overnight period), otherwise written as an overnight period ending at midnight.
fn periods(s: usize, e: usize) -> Vec<(usize, Period)> {
    let mut pieces = Vec::new();
    let mut t = s;
    while t < e {
        let day_end = (t / DAY + 1) * DAY;
        let end = e.min(day_end);
        pieces.push((t / DAY, t % DAY, end - (t / DAY) * DAY));
        t = end;
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        let (day, start, end) = pieces[i];
        let evening = end == DAY && start > 0;
        match pieces.get(i + 1) {
            Some(&(_, 0, next_end)) if evening && next_end < start => {
                out.push((day + 1, Period { start, end: next_end }));
                i += 2;
            }
            _ if evening => {
                out.push((day + 1, Period { start, end: 0 }));
                i += 1;
            }
            // A whole day is `0000-0000`; anything else stays within its day.
            _ => {
                out.push((
                    day,
                    Period {
                        start,
                        end: end % DAY,
                    },
                ));
                i += 1;
            }
        }
    }
    out
}

/// `periods:days` groups, days with identical periods together, joined by `|`.
fn group_days(per_day: &[Vec<Period>; 7]) -> String {
    let mut groups: Vec<(&Vec<Period>, String)> = Vec::new();
    for (day, periods) in per_day.iter().enumerate() {
        if periods.is_empty() {
            continue;
        }
        let number = char::from(b'1' + day as u8);
        match groups.iter_mut().find(|(p, _)| *p == periods) {
            Some((_, days)) => days.push(number),
            None => groups.push((periods, number.to_string())),
        }
    }
    groups
        .iter()
        .map(|(periods, days)| {
            let texts: Vec<String> = periods.iter().map(|p| p.text()).collect();
            format!("{}:{days}", texts.join(","))
        })
        .collect::<Vec<_>>()
        .join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(days: [&[&str]; 7]) -> OpeningHours {
        let v = |d: &[&str]| d.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        OpeningHours {
            mon: v(days[0]),
            tue: v(days[1]),
            wed: v(days[2]),
            thu: v(days[3]),
            fri: v(days[4]),
            sat: v(days[5]),
            sun: v(days[6]),
            zone: Some("UTC".into()),
        }
    }

    #[test]
    fn silver_joins_the_evening_to_the_next_day() {
        // The official SILVER example.
        let evening = ["00:00 - 22:00", "23:05 - 00:00"];
        let h = hours([
            &evening,
            &evening,
            &evening,
            &evening,
            &["00:00 - 22:00"],
            &[],
            &["23:05 - 00:00"],
        ]);
        assert_eq!(tradingview_session(&h), "2305-2200:23456");
    }

    #[test]
    fn natural_gas_is_a_plain_weekday_session() {
        let d: &[&str] = &["01:00 - 23:00"];
        assert_eq!(
            tradingview_session(&hours([d, d, d, d, d, &[], &[]])),
            "0100-2300:23456"
        );
    }

    #[test]
    fn open_all_week_is_24x7() {
        let d: &[&str] = &["00:00 - 00:00"];
        assert_eq!(tradingview_session(&hours([d; 7])), "24x7");
        let split: &[&str] = &["00:00 - 12:00", "12:00 - 00:00"];
        assert_eq!(tradingview_session(&hours([split; 7])), "24x7");
        // Nothing readable at all: no session to chart against, so no gaps either.
        assert_eq!(tradingview_session(&hours([&[]; 7])), "24x7");
        assert_eq!(tradingview_session(&hours([&["soon"]; 7])), "24x7");
    }

    #[test]
    fn days_differ_and_whole_days_stay_whole() {
        // Monday to Wednesday around the clock, Thursday to 12:00, closed otherwise.
        let all: &[&str] = &["00:00 - 00:00"];
        let h = hours([all, all, all, &["00:00 - 12:00"], &[], &[], &[]]);
        assert_eq!(tradingview_session(&h), "0000-0000:234|0000-1200:5");
        // An evening that cannot join a whole next day ends at midnight as its own overnight period.
        let h = hours([all, &[], &[], &[], &[], &[], &["22:00 - 00:00"]]);
        assert_eq!(tradingview_session(&h), "2200-0000,0000-0000:2");
    }

    #[test]
    fn a_range_past_midnight_and_a_saturday_to_sunday_run_wrap() {
        // Friday 22:00 to Saturday 02:00 written on Friday, and a Saturday-night session into Sunday.
        let h = hours([
            &[],
            &[],
            &[],
            &[],
            &["22:00 - 02:00"],
            &["23:00 - 00:00"],
            &["00:00 - 01:00"],
        ]);
        assert_eq!(tradingview_session(&h), "2300-0100:1|2200-0200:7");
    }

    #[test]
    fn several_periods_a_day() {
        let d: &[&str] = &["09:30 - 14:00", "14:30 - 17:00"];
        assert_eq!(
            tradingview_session(&hours([d, d, d, d, d, &[], &[]])),
            "0930-1400,1430-1700:23456"
        );
    }
}
