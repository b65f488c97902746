//! `/previewOrder` from IBKR's what-if (`/iserver/account/{acct}/orders/whatif`): the amount, commission
//! and margin sections as IBKR words them, and a `confirmId` that placing the same order redeems once.

use super::model::orders::WhatIf;
use crate::broker::{BrokerError, BrokerResult};
use crate::sync::MutexExt;
use crate::tv;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Confirm ids kept at most (the oldest is forgotten first).
const MAX_CONFIRMS: usize = 1000;

/// The preview TradingView shows.
pub fn preview(w: &WhatIf, confirm_id: String) -> tv::OrderPreview {
    let row = |title: &str, value: &Option<String>| {
        value
            .as_ref()
            .filter(|v| !v.trim().is_empty())
            .map(|v| tv::PreviewRow {
                title: title.into(),
                value: v.clone(),
            })
    };
    let mut order = Vec::new();
    if let Some(a) = &w.amount {
        order.extend(row("Amount", &a.amount));
        order.extend(row("Commission", &a.commission));
        order.extend(row("Total", &a.total));
    }
    let mut margin = Vec::new();
    for (name, section) in [
        ("Equity", &w.equity),
        ("Initial margin", &w.initial),
        ("Maintenance margin", &w.maintenance),
    ] {
        if let Some(s) = section {
            margin.extend(row(&format!("{name} after"), &s.after));
            margin.extend(row(&format!("{name} change"), &s.change));
        }
    }
    let mut sections = vec![tv::PreviewSection {
        header: Some("Order".into()),
        rows: order,
    }];
    if !margin.is_empty() {
        sections.push(tv::PreviewSection {
            header: Some("Margin and equity".into()),
            rows: margin,
        });
    }
    let error = w.error.clone().filter(|e| !e.trim().is_empty());
    tv::OrderPreview {
        confirm_id: error.is_none().then_some(confirm_id),
        sections,
        warnings: w.warn.iter().filter(|s| !s.trim().is_empty()).cloned().collect(),
        errors: error.into_iter().collect(),
    }
}

/// Confirm ids of previews not yet placed, with the order each was given for.
#[derive(Default)]
pub struct Confirms(Mutex<VecDeque<(String, String, tv::PlaceOrder)>>);

impl Confirms {
    /// Remembers a preview of `order` on `account`; returns its id.
    pub fn issue(&self, account: &str, order: &tv::PlaceOrder) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut q = self.0.locked();
        if q.len() >= MAX_CONFIRMS {
            q.pop_front();
        }
        q.push_back((id.clone(), account.to_string(), order.clone()));
        id
    }

    /// Consumes `id` when it was issued for this same order on this account.
    pub fn redeem(&self, account: &str, id: &str, order: &tv::PlaceOrder) -> BrokerResult<()> {
        let mut q = self.0.locked();
        let at = q
            .iter()
            .position(|(i, a, o)| i == id && a == account && o == order)
            .ok_or_else(|| {
                BrokerError::Rejected(
                    "The order preview has expired or was for another order; preview it again".into(),
                )
            })?;
        q.remove(at);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::ibkr::model::tests::fixture;
    use rust_decimal_macros::dec;

    #[test]
    fn whatif_sections_and_warnings_are_shown_and_confirm_ids_redeem_once() {
        let w: WhatIf = serde_json::from_str(&fixture("whatif.json")).unwrap();
        let p = preview(&w, "c1".into());
        assert_eq!(p.confirm_id.as_deref(), Some("c1"));
        assert_eq!(p.sections[0].rows[1].value, "1 USD");
        assert!(p.sections[1]
            .rows
            .iter()
            .any(|r| r.title == "Initial margin after" && r.value == "25,422"));
        assert_eq!(p.warnings.len(), 1);
        let refused = WhatIf {
            error: Some("Insufficient funds".into()),
            ..w
        };
        let p = preview(&refused, "c2".into());
        assert!(p.confirm_id.is_none() && p.errors == ["Insufficient funds"]);
        let confirms = Confirms::default();
        let order = tv::PlaceOrder::new("AAPL", tv::Side::Buy, tv::OrderType::Market, dec!(10));
        let id = confirms.issue("DU1", &order);
        let other = tv::PlaceOrder::new("AAPL", tv::Side::Buy, tv::OrderType::Market, dec!(11));
        assert!(confirms.redeem("DU1", &id, &other).is_err());
        assert!(confirms.redeem("DU2", &id, &order).is_err());
        assert!(confirms.redeem("DU1", &id, &order).is_ok());
        assert!(confirms.redeem("DU1", &id, &order).is_err(), "once");
    }
}
