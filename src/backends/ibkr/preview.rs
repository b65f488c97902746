//! `/previewOrder` from IBKR's what-if (`/iserver/account/{acct}/orders/whatif`): the amount, commission
//! and margin sections as IBKR words them, and a `confirmId` that placing the same order redeems once.

use super::model::orders::WhatIf;
use crate::tv;

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

pub use crate::upstream::confirms::Confirms;

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
