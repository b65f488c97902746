//! Confirm ids of order previews (`/previewOrder`'s `confirmId`) for backends whose upstream keeps none:
//! each id is bound to the account and the exact order previewed, and redeemed at most once by placing it.

use crate::broker::{BrokerError, BrokerResult};
use crate::sync::MutexExt;
use crate::tv;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Confirm ids kept at most (the oldest is forgotten first): bounded whatever clients preview.
const MAX_CONFIRMS: usize = 1000;

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

    #[test]
    fn a_confirm_id_redeems_once_for_its_own_order_and_account() {
        let order = tv::PlaceOrder::new(
            "AAPL",
            tv::Side::Buy,
            tv::OrderType::Market,
            rust_decimal::Decimal::ONE,
        );
        let mut other = order.clone();
        other.qty = rust_decimal::Decimal::TWO;
        let confirms = Confirms::default();
        let id = confirms.issue("U1", &order);
        assert!(confirms.redeem("U1", &id, &other).is_err());
        assert!(confirms.redeem("U2", &id, &order).is_err());
        assert!(confirms.redeem("U1", &id, &order).is_ok());
        assert!(confirms.redeem("U1", &id, &order).is_err(), "once");
    }

    #[test]
    fn the_oldest_ids_are_forgotten_beyond_the_bound() {
        let order = tv::PlaceOrder::new(
            "AAPL",
            tv::Side::Buy,
            tv::OrderType::Market,
            rust_decimal::Decimal::ONE,
        );
        let confirms = Confirms::default();
        let first = confirms.issue("U1", &order);
        for _ in 0..MAX_CONFIRMS {
            confirms.issue("U1", &order);
        }
        assert!(confirms.redeem("U1", &first, &order).is_err());
    }
}
