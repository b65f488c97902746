//! `Capabilities`: what a backend can do for one account, and the TradingView flags derived from it.

use crate::tv::{AccountFlags, OrderType};

/// Features a backend declares per account. The account flags TradingView sees are computed from this
/// alone (see [`Capabilities::account_flags`]), and the HTTP layer refuses calls to features left off,
/// so the UI never offers what the backend cannot do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub market_orders: bool,
    pub limit_orders: bool,
    pub stop_orders: bool,
    pub stop_limit_orders: bool,
    /// Stop loss / take profit attached to orders.
    pub order_brackets: bool,
    /// Brackets on market orders too (some brokers only bracket pending orders).
    pub market_brackets: bool,
    /// Stop loss / take profit on open positions (netting model) or individual positions (hedging model).
    pub position_brackets: bool,
    pub trailing_stop: bool,
    pub guaranteed_stop: bool,
    pub modify_order_price: bool,
    pub modify_order_qty: bool,
    pub modify_order_brackets: bool,
    pub modify_order_duration: bool,
    /// Hedging model: individual positions plus net positions instead of one position per instrument.
    pub hedging: bool,
    pub close_position: bool,
    pub partial_close: bool,
    /// The backend reverses a position in one request (`PUT positions/{id}` with `side`).
    pub native_reverse: bool,
    /// In the individual/net positions model, an opposite order first reduces open positions of the
    /// instrument (OANDA's FIFO on accounts without hedging), so the reversing order TradingView places reverses.
    pub opposite_orders_reduce: bool,
    pub order_preview: bool,
    pub order_info: bool,
    pub crypto_balances: bool,
    pub executions: bool,
    pub orders_history: bool,
    pub leverage: bool,
    pub level2: bool,
    pub logout: bool,
    pub track_latency: bool,
    pub partial_fills: bool,
}

impl Capabilities {
    /// Whether orders of this type can be placed.
    pub fn supports_order_type(&self, kind: OrderType) -> bool {
        match kind {
            OrderType::Market => self.market_orders,
            OrderType::Limit => self.limit_orders,
            OrderType::Stop => self.stop_orders,
            OrderType::StopLimit => self.stop_limit_orders,
        }
    }

    /// The `config` flags of `/accounts` for an account with these capabilities.
    pub fn account_flags(&self) -> AccountFlags {
        let netting = !self.hedging;
        AccountFlags {
            support_order_brackets: self.order_brackets,
            support_add_brackets_to_existing_order: self.order_brackets && self.modify_order_brackets,
            support_market_brackets: self.order_brackets && self.market_brackets,
            support_position_brackets: netting && self.position_brackets,
            support_individual_position_brackets: self.hedging && self.position_brackets,
            support_positions: true,
            // Several positions per instrument only exist in the hedging model.
            support_multiposition: self.hedging,
            support_position_netting: self.hedging,
            support_close_position: self.close_position,
            support_partial_close_position: netting && self.close_position && self.partial_close,
            support_close_individual_position: self.hedging && self.close_position,
            support_partial_close_individual_position: self.hedging
                && self.close_position
                && self.partial_close,
            // Reversing without native support is done by TradingView with a market order, which needs
            // market orders and a netting model (on a hedging account an opposite order opens a new position).
            support_reverse_position: (netting && (self.native_reverse || self.market_orders))
                || (self.hedging && self.opposite_orders_reduce && self.market_orders),
            support_native_reverse_position: netting && self.native_reverse,
            support_market_orders: self.market_orders,
            support_limit_orders: self.limit_orders,
            support_stop_orders: self.stop_orders,
            support_stop_limit_orders: self.stop_limit_orders,
            support_stop_loss: self.order_brackets || self.position_brackets,
            support_trailing_stop: self.trailing_stop,
            support_guaranteed_stop: self.guaranteed_stop,
            support_partial_order_execution: self.partial_fills,
            support_modify_order_price: self.modify_order_price,
            support_edit_amount: self.modify_order_qty,
            support_modify_brackets: self.modify_order_brackets,
            support_modify_duration: self.modify_order_duration,
            support_place_order_preview: self.order_preview,
            support_modify_order_preview: false,
            support_balances: self.crypto_balances,
            support_orders_history: self.orders_history,
            support_executions: self.executions,
            support_leverage: self.leverage,
            support_leverage_button: self.leverage,
            support_dom: self.level2,
            support_level2_data: self.level2,
            support_pl_update: true,
            support_logout: self.logout,
            support_track_latency: self.track_latency,
            support_custom_order_info: self.order_info,
            support_custom_account_summary_row: false,
            support_strict_checking_limit_order_price: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_declared_offers_nothing() {
        let flags = Capabilities::default().account_flags();
        assert!(!flags.support_market_orders && !flags.support_order_brackets && !flags.support_leverage);
        assert!(!flags.support_reverse_position && !flags.support_close_position && !flags.support_dom);
    }

    #[test]
    fn hedging_switches_to_individual_positions() {
        let caps = Capabilities {
            hedging: true,
            close_position: true,
            partial_close: true,
            position_brackets: true,
            market_orders: true,
            ..Default::default()
        };
        let f = caps.account_flags();
        assert!(f.support_position_netting && f.support_multiposition);
        assert!(f.support_individual_position_brackets && !f.support_position_brackets);
        assert!(f.support_partial_close_individual_position && !f.support_partial_close_position);
        assert!(!f.support_reverse_position);
        let fifo = Capabilities {
            opposite_orders_reduce: true,
            ..caps
        };
        let f = fifo.account_flags();
        assert!(
            f.support_reverse_position && !f.support_native_reverse_position && f.support_position_netting
        );
    }

    #[test]
    fn netting_reverses_with_market_orders() {
        let caps = Capabilities {
            market_orders: true,
            close_position: true,
            ..Default::default()
        };
        let f = caps.account_flags();
        assert!(f.support_reverse_position && !f.support_native_reverse_position);
        assert!(!f.support_position_netting);
    }
}
