//! Reading order tickets (`SingleOrderSubmissionRequest`): the `{"orders": [...]}` body (or a bare
//! array), field by field, with a clear `{"error": ...}` for each bad input.

use super::state::{Kind, Side, State, Ticket};
use super::wire::{dec_field, int_field};
use rust_decimal::Decimal;
use serde_json::Value;

/// The tickets of a submission body: `{"orders": [...]}` or a bare array.
pub(super) fn ticket_values(body: &Value) -> Result<Vec<Value>, String> {
    let list = match body {
        Value::Array(a) => a.clone(),
        Value::Object(o) => match o.get("orders") {
            Some(Value::Array(a)) => a.clone(),
            _ => return Err("orders required: {\"orders\": [...]}".to_string()),
        },
        _ => return Err("the body must be JSON: {\"orders\": [...]}".to_string()),
    };
    if list.is_empty() {
        return Err("orders must not be empty".to_string());
    }
    Ok(list)
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

impl State {
    /// Reads and checks one ticket against the contract universe.
    pub(super) fn ticket(&self, v: &Value) -> Result<Ticket, String> {
        if !v.is_object() {
            return Err("each order must be a JSON object".to_string());
        }
        let conid = v
            .get("conid")
            .and_then(int_field)
            .or_else(|| text(v, "conidex").and_then(|c| c.split('@').next()?.parse().ok()))
            .ok_or("conid required")?;
        let contract = self
            .contract(conid)
            .ok_or_else(|| format!("Invalid contract id: {conid}"))?
            .clone();
        let side = match text(v, "side").map(str::to_ascii_uppercase).as_deref() {
            Some("BUY") => Side::Buy,
            Some("SELL") => Side::Sell,
            Some(other) => return Err(format!("Invalid side: {other} (BUY or SELL)")),
            None => return Err("side required".to_string()),
        };
        let kind = match text(v, "orderType").map(str::to_ascii_uppercase).as_deref() {
            Some("MKT") => Kind::Market,
            Some("LMT") => Kind::Limit,
            Some("STP") => Kind::Stop,
            Some("STOP_LIMIT") | Some("STP_LMT") | Some("STP LMT") => Kind::StopLimit,
            Some(other) => return Err(format!("Invalid order type: {other}")),
            None => return Err("orderType required".to_string()),
        };
        let qty = v.get("quantity").and_then(dec_field).ok_or("quantity required")?;
        if qty <= Decimal::ZERO {
            return Err(format!("Invalid quantity: {qty}"));
        }
        if !contract.lot.is_zero() && !(qty % contract.lot).is_zero() {
            return Err(format!(
                "The quantity {qty} is not a multiple of the size increment {}",
                contract.lot
            ));
        }
        let tif = text(v, "tif")
            .map(str::to_ascii_uppercase)
            .ok_or("tif required")?;
        if !matches!(tif.as_str(), "DAY" | "GTC" | "IOC" | "OPG") {
            return Err(format!("Invalid time in force: {tif}"));
        }
        let price = v.get("price").and_then(dec_field);
        let aux = v.get("auxPrice").and_then(dec_field);
        let (limit, stop) = match kind {
            Kind::Market => (None, None),
            Kind::Limit => (Some(price.ok_or("price required for a LMT order")?), None),
            // A stop order's trigger is `auxPrice`, or `price` when only that is given.
            Kind::Stop => (
                None,
                Some(aux.or(price).ok_or("auxPrice required for a STP order")?),
            ),
            Kind::StopLimit => (
                Some(price.ok_or("price required for a STOP_LIMIT order")?),
                Some(aux.ok_or("auxPrice required for a STOP_LIMIT order")?),
            ),
        };
        for p in [limit, stop].into_iter().flatten() {
            if p <= Decimal::ZERO {
                return Err(format!("Invalid price: {p}"));
            }
            if contract.tick_round(p) != p {
                return Err(format!(
                    "The price {p} does not conform to the minimum price variation for this contract ({})",
                    contract.tick
                ));
            }
        }
        Ok(Ticket {
            conid,
            side,
            kind,
            qty,
            limit,
            stop,
            tif,
            coid: text(v, "cOID").map(str::to_string),
            parent_coid: text(v, "parentId").map(str::to_string),
            single_group: v.get("isSingleGroup").and_then(Value::as_bool).unwrap_or(false),
            outside_rth: v.get("outsideRTH").and_then(Value::as_bool).unwrap_or(false),
        })
    }

    /// Reads every ticket of a submission for `account` and checks cOIDs and bracket references.
    pub(super) fn tickets(&self, account: &str, body: &Value) -> Result<Vec<Ticket>, String> {
        let tickets = ticket_values(body)?
            .iter()
            .map(|v| self.ticket(v))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, t) in tickets.iter().enumerate() {
            if let Some(parent) = &t.parent_coid {
                let here = tickets[..i].iter().any(|p| p.coid.as_ref() == Some(parent));
                if !here && !self.coid_used(account, parent) {
                    return Err(format!("parentId {parent} names no order of this account"));
                }
            }
            if let Some(c) = &t.coid {
                if tickets[..i].iter().any(|p| p.coid.as_ref() == Some(c)) {
                    return Err(format!("cOID {c} appears twice in one submission"));
                }
            }
        }
        Ok(tickets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ibkr::options::FakeIbkrOptions;
    use crate::ibkr::state::Shared;
    use serde_json::json;

    fn shared() -> Shared {
        Shared::new(&FakeIbkrOptions::default())
    }

    #[test]
    fn both_body_shapes_are_read() {
        let one = json!({ "conid": 265598, "orderType": "MKT", "side": "BUY", "quantity": 5, "tif": "DAY" });
        assert_eq!(
            ticket_values(&json!({ "orders": [one.clone()] })).map(|v| v.len()),
            Ok(1)
        );
        assert_eq!(ticket_values(&json!([one.clone(), one])).map(|v| v.len()), Ok(2));
        assert!(ticket_values(&json!({ "orders": [] })).is_err());
        assert!(ticket_values(&json!("x")).is_err());
    }

    #[test]
    fn prices_follow_the_order_type() {
        let s = shared();
        let st = s.lock();
        let t = st
            .ticket(
                &json!({ "conid": "265598", "orderType": "STOP_LIMIT", "side": "sell", "quantity": "3",
                              "price": 180.5, "auxPrice": 181, "tif": "GTC", "cOID": "a1" }),
            )
            .unwrap();
        assert_eq!((t.kind, t.side), (Kind::StopLimit, Side::Sell));
        assert_eq!(t.limit, Some(Decimal::new(1805, 1)));
        assert_eq!(t.stop, Some(Decimal::from(181)));
        let stop = st
            .ticket(&json!({ "conid": 265598, "orderType": "STP", "side": "BUY", "quantity": 1, "price": 190, "tif": "DAY" }))
            .unwrap();
        assert_eq!(stop.stop, Some(Decimal::from(190)));
    }

    #[test]
    fn bad_tickets_are_named() {
        let s = shared();
        let st = s.lock();
        let err = |v: Value| st.ticket(&v).err().unwrap_or_default();
        assert!(
            err(json!({ "orderType": "MKT", "side": "BUY", "quantity": 1, "tif": "DAY" })).contains("conid")
        );
        assert!(
            err(json!({ "conid": 1, "orderType": "MKT", "side": "BUY", "quantity": 1, "tif": "DAY" }))
                .contains("contract")
        );
        assert!(err(
            json!({ "conid": 265598, "orderType": "LMT", "side": "BUY", "quantity": 1, "tif": "DAY" })
        )
        .contains("price"));
        assert!(err(json!({ "conid": 265598, "orderType": "LMT", "side": "BUY", "quantity": 1, "price": 1.005, "tif": "DAY" }))
            .contains("minimum price variation"));
        assert!(err(
            json!({ "conid": 265598, "orderType": "MKT", "side": "BUY", "quantity": 0, "tif": "DAY" })
        )
        .contains("quantity"));
        assert!(err(
            json!({ "conid": 265598, "orderType": "MKT", "side": "BUY", "quantity": 1, "tif": "GTD" })
        )
        .contains("time in force"));
        assert!(err(
            json!({ "conid": 265598, "orderType": "TRAIL", "side": "BUY", "quantity": 1, "tif": "DAY" })
        )
        .contains("order type"));
    }

    #[test]
    fn a_child_must_name_a_parent() {
        let s = shared();
        let st = s.lock();
        let parent = json!({ "conid": 265598, "orderType": "LMT", "side": "BUY", "quantity": 1, "price": 180, "tif": "GTC", "cOID": "p" });
        let child = json!({ "conid": 265598, "orderType": "LMT", "side": "SELL", "quantity": 1, "price": 200, "tif": "GTC", "parentId": "p" });
        assert!(st
            .tickets("DU1234567", &json!({ "orders": [parent, child.clone()] }))
            .is_ok());
        assert!(st.tickets("DU1234567", &json!({ "orders": [child] })).is_err());
    }
}
