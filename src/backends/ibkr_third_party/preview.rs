//! `/previewOrder` from IBKR's `/order_impact`: commission (with its range), margin before and after, and
//! equity with loan, in IBKR's currencies; and a `confirmId` that placing the same order redeems once.

use super::model::orders::Impact;
use crate::tv;
use rust_decimal::Decimal;

fn amount(v: Decimal, currency: &Option<String>) -> String {
    match currency.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => format!("{} {c}", v.round_dp(2).normalize()),
        None => format!("{}", v.round_dp(2).normalize()),
    }
}

/// The preview TradingView shows.
pub fn preview(i: &Impact, confirm_id: String) -> tv::OrderPreview {
    let row = |title: &str, value: String| tv::PreviewRow {
        title: title.into(),
        value,
    };
    let n = |v: &Option<crate::backends::ibkr::model::Num>| v.map(|n| n.0);
    let mut order = Vec::new();
    if let Some(c) = n(&i.commission) {
        order.push(row("Commission", amount(c, &i.commissions_currency)));
    }
    match (n(&i.min_commissions), n(&i.max_commissions)) {
        (Some(lo), Some(hi)) if lo != hi => order.push(row(
            "Commission range",
            format!(
                "{} to {}",
                amount(lo, &i.commissions_currency),
                amount(hi, &i.commissions_currency)
            ),
        )),
        _ => {}
    }
    let mut margin = Vec::new();
    for (title, before, after) in [
        ("Initial margin", &i.init_margin_before, &i.init_margin),
        ("Maintenance margin", &i.maint_margin_before, &i.maint_margin),
    ] {
        if let Some(b) = n(before) {
            margin.push(row(&format!("{title} before"), amount(b, &i.margin_currency)));
        }
        if let Some(a) = n(after) {
            margin.push(row(&format!("{title} after"), amount(a, &i.margin_currency)));
        }
    }
    if let Some(e) = n(&i.equity_with_loan) {
        margin.push(row("Equity with loan", amount(e, &i.margin_currency)));
    }
    let mut sections = Vec::new();
    if !order.is_empty() {
        sections.push(tv::PreviewSection {
            header: Some("Order".into()),
            rows: order,
        });
    }
    if !margin.is_empty() {
        sections.push(tv::PreviewSection {
            header: Some("Margin and equity".into()),
            rows: margin,
        });
    }
    let mut warnings = Vec::new();
    if let (Some(init), Some(equity)) = (n(&i.init_margin), n(&i.equity_with_loan)) {
        if init > equity {
            warnings.push("The initial margin after this order is more than the equity with loan".into());
        }
    }
    tv::OrderPreview {
        confirm_id: Some(confirm_id),
        sections,
        warnings,
        errors: Vec::new(),
    }
}

pub use crate::upstream::confirms::Confirms;

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn impact_is_shown_by_section_and_confirm_ids_redeem_once() {
        let i: Impact = serde_json::from_str(
            r#"{"EquityWithLoan":99000,"InitMargin":21000,"InitMarginBefore":20000,"MaintMargin":16000,
                "MaintMarginBefore":15000,"MarginCurrency":"USD","Commission":1.0,"MinCommissions":1,
                "MaxCommissions":1.5,"CommissionsCurrency":"USD"}"#,
        )
        .unwrap();
        let p = preview(&i, "c1".into());
        assert_eq!(p.confirm_id.as_deref(), Some("c1"));
        assert_eq!(p.sections[0].rows[0].value, "1 USD");
        assert_eq!(p.sections[0].rows[1].value, "1 USD to 1.5 USD");
        let margin = &p.sections[1].rows;
        assert!(margin
            .iter()
            .any(|r| r.title == "Initial margin after" && r.value == "21000 USD"));
        assert!(margin
            .iter()
            .any(|r| r.title == "Equity with loan" && r.value == "99000 USD"));
        assert!(p.warnings.is_empty());
        let confirms = Confirms::default();
        let order = tv::PlaceOrder::new("AAPL", tv::Side::Buy, tv::OrderType::Market, dec!(10));
        let id = confirms.issue("U1", &order);
        assert!(confirms.redeem("U2", &id, &order).is_err());
        assert!(confirms.redeem("U1", &id, &order).is_ok());
        assert!(confirms.redeem("U1", &id, &order).is_err(), "once");
    }
}
