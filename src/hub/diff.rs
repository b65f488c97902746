//! Diffing consecutive snapshots into stream messages: changed entities whole, closed positions as
//! `{"id":..,"qty":0}`, the whole state when anything in it changed.

use serde::Serialize;
use serde_json::Value;

/// Entities with an id.
pub trait Keyed {
    fn key(&self) -> &str;
}

impl Keyed for crate::tv::Order {
    fn key(&self) -> &str {
        &self.id
    }
}
impl Keyed for crate::tv::Position {
    fn key(&self) -> &str {
        &self.id
    }
}
impl Keyed for crate::tv::NetPosition {
    fn key(&self) -> &str {
        &self.id
    }
}
impl Keyed for crate::tv::IndividualPosition {
    fn key(&self) -> &str {
        &self.id
    }
}

/// The entities of `new` that are new or changed since `old`, and with `closing`, a `{"id","qty":0}` for
/// each entity of `old` that is gone. `None` when nothing changed.
pub fn changed<T: Keyed + PartialEq + Serialize>(old: &[T], new: &[T], closing: bool) -> Option<Vec<Value>> {
    let mut out = Vec::new();
    for n in new {
        if old.iter().find(|o| o.key() == n.key()) != Some(n) {
            out.push(serde_json::to_value(n).unwrap_or(Value::Null));
        }
    }
    if closing {
        for o in old {
            if !new.iter().any(|n| n.key() == o.key()) {
                out.push(serde_json::json!({ "id": o.key(), "qty": 0 }));
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tv::{Position, Side};
    use rust_decimal::Decimal;

    fn pos(id: &str, qty: i64, pl: i64) -> Position {
        Position {
            id: id.into(),
            instrument: id.into(),
            qty: Decimal::from(qty),
            side: Side::Buy,
            avg_price: Decimal::ONE,
            unrealized_pl: Decimal::from(pl),
        }
    }

    #[test]
    fn reports_changed_whole_and_closed_as_qty_zero() {
        let old = [pos("A", 1, 0), pos("B", 2, 0), pos("C", 3, 0)];
        let new = [pos("A", 1, 0), pos("B", 2, 5), pos("D", 4, 0)];
        let d = changed(&old, &new, true).unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d[0]["id"], "B");
        assert_eq!(d[0]["unrealizedPl"], 5.0, "the whole entity, not just the field");
        assert_eq!(d[0]["avgPrice"], 1.0);
        assert_eq!(d[1]["id"], "D");
        assert_eq!(d[2], serde_json::json!({"id": "C", "qty": 0}));
        assert!(changed(&old, &old, true).is_none());
        assert!(
            changed(&old, &old[..2], false).is_none(),
            "orders leave the list without a message"
        );
    }
}
