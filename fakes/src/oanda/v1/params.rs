//! v1 parameter reading: form and query values, with the documented 400 (code 1, naming the argument)
//! for anything malformed, and the list parameters (`maxId`, `minId`, `count`, `instrument`, `ids`).

use super::super::wire::{parse_dec, parse_time, v1_bad, Fail, Query};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// An optional decimal parameter.
pub(super) fn decimal(q: &Query, name: &str) -> Result<Option<Decimal>, Fail> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => parse_dec(v).map(Some).ok_or_else(|| v1_bad(name).into()),
    }
}

/// An optional time parameter (RFC 3339 or UNIX seconds).
pub(super) fn time(q: &Query, name: &str) -> Result<Option<DateTime<Utc>>, Fail> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => parse_time(v).map(Some).ok_or_else(|| v1_bad(name).into()),
    }
}

/// The filters of a v1 list request.
pub(super) struct List {
    pub max_id: Option<u64>,
    pub min_id: Option<u64>,
    pub count: usize,
    pub instrument: Option<String>,
    pub ids: Option<Vec<u64>>,
}

impl List {
    /// Reads `maxId`, `minId`, `count` (default 50, at most 500), `instrument` and `ids`.
    pub fn parse(q: &Query) -> Result<List, Fail> {
        let id = |name: &str| match q.get(name) {
            None => Ok(None),
            Some(v) => v.parse::<u64>().map(Some).map_err(|_| Fail::from(v1_bad(name))),
        };
        let count = match q.get("count") {
            None => 50,
            Some(c) => match c.parse::<usize>() {
                Ok(c) if (1..=500).contains(&c) => c,
                _ => return Err(v1_bad("count").into()),
            },
        };
        let ids = match q.list("ids") {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|i| i.parse::<u64>())
                    .collect::<Result<Vec<u64>, _>>()
                    .map_err(|_| v1_bad("ids"))?,
            ),
        };
        Ok(List {
            max_id: id("maxId")?,
            min_id: id("minId")?,
            count,
            instrument: q.get("instrument").map(str::to_string),
            ids,
        })
    }

    /// Whether an item (id, instrument) passes the filters (the count is applied by the caller).
    pub fn keeps(&self, id: u64, instrument: Option<&str>) -> bool {
        self.max_id.is_none_or(|m| id <= m)
            && self.min_id.is_none_or(|m| id >= m)
            && self.instrument.as_deref().is_none_or(|i| instrument == Some(i))
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&id))
    }
}
