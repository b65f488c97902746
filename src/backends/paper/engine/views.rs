//! Read models for TradingView: orders, positions, account state, instruments, quotes, depth, executions,
//! history, leverage, order preview and order info, all valued in the account currency.

use super::{rejected, AccountBook, Engine, EngineResult, PendingConfirm, MAX_CONFIRMS};
use crate::backends::paper::market::PaperInstrument;
use crate::broker::BrokerError;
use crate::tv::{self, AccountSummary, Side};
use rust_decimal::Decimal;

/// Previews are valid this long.
const CONFIRM_TTL_MS: i64 = 5 * 60 * 1000;
/// Levels per side in `/depth`.
const DEPTH_LEVELS: usize = 10;

impl Engine {
    /// Leverage of `ins` on `book`: chosen by the user or the instrument's maximum.
    pub(super) fn leverage_of(&self, book: &AccountBook, ins: &PaperInstrument) -> Decimal {
        book.leverage
            .get(&ins.cfg.symbol)
            .copied()
            .unwrap_or(ins.cfg.max_leverage)
    }

    /// Unrealized P/L of a position in the account currency: a long is worth the bid, a short the ask.
    fn unrealized(&self, book: &AccountBook, p: &super::PaperPosition, t: i64) -> EngineResult<Decimal> {
        let ins = self.instrument(&p.instrument)?;
        let tick = self.market.tick(ins, t);
        let exit = if p.side == Side::Buy { tick.bid } else { tick.ask };
        let rate = self.to_account(&ins.cfg.currency, &book.currency, t)?;
        Ok(((exit - p.avg_price) * p.qty * p.side.sign() * rate).round_dp(2))
    }

    fn margin_of(&self, book: &AccountBook, p: &super::PaperPosition, t: i64) -> EngineResult<Decimal> {
        let ins = self.instrument(&p.instrument)?;
        let rate = self.to_account(&ins.cfg.currency, &book.currency, t)?;
        Ok(p.qty * self.market.mid(ins, t) * rate / self.leverage_of(book, ins))
    }

    /// Balance, equity, P/L and margin of an account at second `t`.
    pub(super) fn summary(&self, book: &AccountBook, t: i64) -> EngineResult<AccountSummary> {
        let mut upl = Decimal::ZERO;
        let mut margin = Decimal::ZERO;
        for p in &book.positions {
            upl += self.unrealized(book, p, t)?;
            margin += self.margin_of(book, p, t)?;
        }
        let equity = book.balance + upl;
        let margin = margin.round_dp(2);
        Ok(AccountSummary {
            balance: book.balance,
            equity,
            unrealized_pl: upl,
            realized_pl: book.realized_pl,
            margin_used: margin,
            margin_available: equity - margin,
        })
    }

    /// `/state`.
    pub fn account_state(&self, account: &str, now_ms: i64) -> EngineResult<tv::AccountState> {
        let book = self.book(account)?;
        let s = self.summary(book, now_ms.div_euclid(1000))?;
        Ok(tv::AccountState {
            balance: s.balance,
            unrealized_pl: s.unrealized_pl,
            equity: s.equity,
            margin_available: Some(s.margin_available),
            am_data: s.am_data(&book.currency),
        })
    }

    /// `/orders`: active orders and final ones not yet retired.
    pub fn orders(&self, account: &str) -> EngineResult<Vec<tv::Order>> {
        Ok(self
            .book(account)?
            .orders
            .iter()
            .map(|o| o.order.clone())
            .collect())
    }

    /// `/ordersHistory`: final orders, newest first.
    pub fn orders_history(&self, account: &str, max: Option<usize>) -> EngineResult<Vec<tv::Order>> {
        let book = self.book(account)?;
        let mut out: Vec<tv::Order> = book.history.clone();
        out.extend(
            book.orders
                .iter()
                .filter(|o| o.order.status.is_final())
                .map(|o| o.order.clone()),
        );
        out.sort_by_key(|o| std::cmp::Reverse(o.last_modified.unwrap_or(0)));
        out.truncate(max.unwrap_or(usize::MAX));
        Ok(out)
    }

    /// `/executions`, newest first.
    pub fn executions(
        &self,
        account: &str,
        instrument: Option<&str>,
        max: Option<usize>,
    ) -> EngineResult<Vec<tv::Execution>> {
        let book = self.book(account)?;
        Ok(book
            .executions
            .iter()
            .rev()
            .filter(|e| instrument.is_none_or(|i| e.instrument == i))
            .take(max.unwrap_or(usize::MAX))
            .cloned()
            .collect())
    }

    /// `/positions` (netting accounts).
    pub fn positions(&self, account: &str, now_ms: i64) -> EngineResult<Vec<tv::Position>> {
        let book = self.book(account)?;
        let t = now_ms.div_euclid(1000);
        book.positions
            .iter()
            .map(|p| {
                Ok(tv::Position {
                    id: p.id.clone(),
                    instrument: p.instrument.clone(),
                    qty: p.qty,
                    side: p.side,
                    avg_price: p.avg_price,
                    unrealized_pl: self.unrealized(book, p, t)?,
                })
            })
            .collect()
    }

    /// `/individualPositions` (hedging accounts).
    pub fn individual_positions(
        &self,
        account: &str,
        now_ms: i64,
    ) -> EngineResult<Vec<tv::IndividualPosition>> {
        let book = self.book(account)?;
        let t = now_ms.div_euclid(1000);
        book.positions
            .iter()
            .map(|p| {
                Ok(tv::IndividualPosition {
                    id: p.id.clone(),
                    instrument: p.instrument.clone(),
                    date: p.opened_ms.to_string(),
                    qty: p.qty,
                    side: p.side,
                    price: p.avg_price,
                    unrealized_pl: self.unrealized(book, p, t)?,
                })
            })
            .collect()
    }

    /// `/netPositions` (hedging accounts): individual positions summed per instrument, id = instrument.
    pub fn net_positions(&self, account: &str) -> EngineResult<Vec<tv::NetPosition>> {
        let book = self.book(account)?;
        let mut out: Vec<tv::NetPosition> = Vec::new();
        for p in &book.positions {
            let i = match out.iter().position(|n| n.instrument == p.instrument) {
                Some(i) => i,
                None => {
                    out.push(tv::NetPosition {
                        id: p.instrument.clone(),
                        instrument: p.instrument.clone(),
                        qty: Decimal::ZERO,
                        long_qty: Decimal::ZERO,
                        short_qty: Decimal::ZERO,
                        avg_price: None,
                    });
                    out.len() - 1
                }
            };
            let n = &mut out[i];
            match p.side {
                Side::Buy => n.long_qty += p.qty,
                Side::Sell => n.short_qty += p.qty,
            }
            n.qty = n.long_qty - n.short_qty;
        }
        for n in &mut out {
            // The average entry of the side that dominates the net.
            let side = if n.qty >= Decimal::ZERO {
                Side::Buy
            } else {
                Side::Sell
            };
            let (value, units) = book
                .positions
                .iter()
                .filter(|p| p.instrument == n.instrument && p.side == side)
                .fold((Decimal::ZERO, Decimal::ZERO), |(v, u), p| {
                    (v + p.avg_price * p.qty, u + p.qty)
                });
            n.avg_price =
                (!units.is_zero() && !n.qty.is_zero()).then(|| (value / units).round_dp(10).normalize());
        }
        Ok(out)
    }

    /// `/instruments` for an account: pip values in its currency, margin rate from its leverage.
    pub fn instruments(&self, account: &str, now_ms: i64) -> EngineResult<Vec<tv::Instrument>> {
        let book = self.book(account)?;
        let t = now_ms.div_euclid(1000);
        self.market
            .instruments()
            .iter()
            .map(|ins| {
                let c = &ins.cfg;
                let rate = self.to_account(&c.currency, &book.currency, t)?;
                Ok(tv::Instrument {
                    name: c.symbol.clone(),
                    description: c.description.clone(),
                    min_qty: c.min_qty,
                    max_qty: c.max_qty,
                    qty_step: c.qty_step,
                    pip_size: c.pip_size,
                    pip_value: (c.pip_size * rate).round_dp(10).normalize(),
                    min_tick: c.tick_size,
                    lot_size: None,
                    base_currency: if c.kind == tv::SymbolType::Crypto {
                        c.base_currency.clone()
                    } else {
                        None
                    },
                    quote_currency: if c.kind == tv::SymbolType::Crypto {
                        Some(c.currency.clone())
                    } else {
                        None
                    },
                    margin_rate: Some(
                        (Decimal::ONE / self.leverage_of(book, ins))
                            .round_dp(6)
                            .normalize(),
                    ),
                    units: None,
                    kind: c.kind,
                    typespecs: c.typespecs.clone(),
                })
            })
            .collect()
    }

    /// `/quotes` for an account: prices and pip values in its currency; unknown symbols get error entries.
    pub fn quotes(
        &self,
        account: &str,
        symbols: &[String],
        now_ms: i64,
    ) -> EngineResult<Vec<tv::QuoteEntry>> {
        let book = self.book(account)?;
        let t = now_ms.div_euclid(1000);
        symbols
            .iter()
            .map(|s| {
                let Some(ins) = self.market.get(s) else {
                    return Ok(tv::QuoteEntry::error(s.clone(), format!("Unknown symbol '{s}'")));
                };
                let tick = self.market.tick(ins, t);
                let pip =
                    (ins.cfg.pip_size * self.to_account(&ins.cfg.currency, &book.currency, t)?).round_dp(10);
                Ok(tv::QuoteEntry::ok(
                    s.clone(),
                    tv::Quote {
                        ask: tick.ask,
                        bid: tick.bid,
                        buy_pip_value: Some(pip),
                        sell_pip_value: Some(pip),
                    },
                ))
            })
            .collect()
    }

    /// `/depth`: both sides ascending by price.
    pub fn depth(&self, symbol: &str, now_ms: i64) -> EngineResult<tv::Depth> {
        let ins = self
            .market
            .get(symbol)
            .ok_or_else(|| rejected(format!("Unknown symbol '{symbol}'")))?;
        let (asks, mut bids) = self
            .market
            .feed()
            .depth(&ins.feed, now_ms.div_euclid(1000), DEPTH_LEVELS);
        bids.reverse();
        Ok(tv::Depth {
            asks: asks.into_iter().map(|(p, v)| [p, v]).collect(),
            bids: bids.into_iter().map(|(p, v)| [p, v]).collect(),
        })
    }

    /// `/getLeverage`.
    pub fn get_leverage(&self, account: &str, instrument: &str) -> EngineResult<tv::LeverageInfo> {
        let book = self.book(account)?;
        let ins = self.instrument(instrument)?;
        Ok(tv::LeverageInfo {
            title: format!("{} leverage", ins.cfg.symbol),
            leverage: self.leverage_of(book, ins),
            min: Decimal::ONE,
            max: ins.cfg.max_leverage,
            step: Decimal::ONE,
        })
    }

    fn check_leverage(&self, ins: &PaperInstrument, leverage: Decimal) -> Result<(), String> {
        if leverage < Decimal::ONE || leverage > ins.cfg.max_leverage || !leverage.fract().is_zero() {
            return Err(format!(
                "leverage for {} must be a whole number from 1 to {}, got {leverage}",
                ins.cfg.symbol, ins.cfg.max_leverage
            ));
        }
        Ok(())
    }

    /// `/previewLeverage`: what the change does to the margin of the open positions.
    pub fn preview_leverage(
        &self,
        account: &str,
        instrument: &str,
        leverage: Decimal,
        now_ms: i64,
    ) -> EngineResult<tv::LeveragePreview> {
        let book = self.book(account)?;
        let ins = self.instrument(instrument)?;
        if let Err(e) = self.check_leverage(ins, leverage) {
            return Ok(tv::LeveragePreview {
                errors: vec![e],
                ..Default::default()
            });
        }
        let t = now_ms.div_euclid(1000);
        let current = self.leverage_of(book, ins);
        let mut margin_now = Decimal::ZERO;
        for p in book.positions.iter().filter(|p| p.instrument == ins.cfg.symbol) {
            margin_now += self.margin_of(book, p, t)?;
        }
        let margin_after = margin_now * current / leverage;
        let mut preview = tv::LeveragePreview {
            infos: vec![format!(
                "Margin for {} positions changes from {} to {} {}",
                ins.cfg.symbol,
                margin_now.round_dp(2),
                margin_after.round_dp(2),
                book.currency
            )],
            ..Default::default()
        };
        let free_after = self.summary(book, t)?.margin_available + margin_now - margin_after;
        if free_after < Decimal::ZERO {
            preview
                .errors
                .push(format!("not enough free margin for leverage {leverage}"));
        } else if leverage > current {
            preview
                .warnings
                .push("Higher leverage increases both potential profit and loss".into());
        }
        Ok(preview)
    }

    /// `/setLeverage`.
    pub fn set_leverage(
        &mut self,
        account: &str,
        instrument: &str,
        leverage: Decimal,
        now_ms: i64,
    ) -> EngineResult<tv::LeverageSet> {
        let ins = self.instrument(instrument)?.clone();
        self.check_leverage(&ins, leverage)
            .map_err(BrokerError::Rejected)?;
        let preview = self.preview_leverage(account, instrument, leverage, now_ms)?;
        if let Some(e) = preview.errors.first() {
            return Err(rejected(e.clone()));
        }
        self.book_mut(account)?
            .leverage
            .insert(ins.cfg.symbol.clone(), leverage);
        self.touch(account);
        Ok(tv::LeverageSet { leverage })
    }

    /// Notional, margin, commission and pip value of an order, in the account currency.
    fn order_costs(
        &self,
        account: &str,
        order: &tv::PlaceOrder,
        t: i64,
    ) -> EngineResult<Vec<tv::PreviewRow>> {
        let book = self.book(account)?;
        let ins = self.instrument(&order.instrument)?;
        let tick = self.market.tick(ins, t);
        let price = super::orders::entry_reference(
            order.kind,
            order.side,
            order.limit_price,
            order.stop_price,
            &tick,
        );
        let rate = self.to_account(&ins.cfg.currency, &book.currency, t)?;
        let notional = order.qty * price * rate;
        let margin = notional / self.leverage_of(book, ins);
        let commission = super::fills::commission_in_quote(ins, order.qty, price) * rate;
        let ccy = &book.currency;
        let row = |title: &str, value: String| tv::PreviewRow {
            title: title.into(),
            value,
        };
        Ok(vec![
            row("Price", format!("{price} {}", ins.cfg.currency)),
            row("Notional value", format!("{} {ccy}", notional.round_dp(2))),
            row("Margin required", format!("{} {ccy}", margin.round_dp(2))),
            row("Commission", format!("{} {ccy}", commission.round_dp(2))),
            row(
                "Pip value",
                format!("{} {ccy}", (ins.cfg.pip_size * order.qty * rate).round_dp(4)),
            ),
        ])
    }

    /// `/previewOrder`: costs plus a `confirmId` that placing the same order redeems.
    pub fn preview(
        &mut self,
        account: &str,
        order: tv::PlaceOrder,
        now_ms: i64,
    ) -> EngineResult<tv::OrderPreview> {
        let t = now_ms.div_euclid(1000);
        let costs = self.order_costs(account, &order, t)?;
        let mut warnings = Vec::new();
        let ins = self.instrument(&order.instrument)?.clone();
        if let Err(BrokerError::Rejected(e)) =
            self.check_margin(account, &ins, order.side, order.qty, None, t)
        {
            warnings.push(e);
        }
        let confirm_id = self.next_id("C");
        let summary = vec![
            tv::PreviewRow {
                title: "Symbol".into(),
                value: order.instrument.clone(),
            },
            tv::PreviewRow {
                title: "Side".into(),
                value: order.side.to_string(),
            },
            tv::PreviewRow {
                title: "Type".into(),
                value: order.kind.to_string(),
            },
            tv::PreviewRow {
                title: "Quantity".into(),
                value: order.qty.to_string(),
            },
        ];
        let book = self.book_mut(account)?;
        book.confirms.insert(
            confirm_id.clone(),
            PendingConfirm {
                order,
                expires_ms: now_ms + CONFIRM_TTL_MS,
            },
        );
        if book.confirms.len() > MAX_CONFIRMS {
            let oldest = book
                .confirms
                .iter()
                .min_by_key(|(_, c)| c.expires_ms)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                book.confirms.remove(&oldest);
            }
        }
        self.dirty = true;
        Ok(tv::OrderPreview {
            confirm_id: Some(confirm_id),
            sections: vec![
                tv::PreviewSection {
                    header: Some("Order".into()),
                    rows: summary,
                },
                tv::PreviewSection {
                    header: Some("Costs".into()),
                    rows: costs,
                },
            ],
            warnings,
            errors: Vec::new(),
        })
    }

    /// Consumes a `confirmId`, which must belong to this account, be fresh, and describe this very order.
    pub fn redeem_confirm(
        &mut self,
        account: &str,
        confirm_id: &str,
        order: &tv::PlaceOrder,
        now_ms: i64,
    ) -> EngineResult<()> {
        let book = self.book_mut(account)?;
        let pending = book.confirms.remove(confirm_id).ok_or_else(|| {
            rejected(format!(
                "unknown or already used confirmId '{confirm_id}': preview the order again"
            ))
        })?;
        if pending.expires_ms <= now_ms {
            return Err(rejected("the order preview has expired: preview the order again"));
        }
        let same = pending.order.instrument == order.instrument
            && pending.order.side == order.side
            && pending.order.kind == order.kind
            && pending.order.qty == order.qty
            && pending.order.limit_price == order.limit_price
            && pending.order.stop_price == order.stop_price
            && pending.order.brackets == order.brackets;
        if !same {
            return Err(rejected("the order differs from its preview: preview it again"));
        }
        self.dirty = true;
        Ok(())
    }

    /// `/orderInfo`: the figures shown in the order ticket's Order Info section.
    pub fn order_info(
        &self,
        account: &str,
        order: &tv::PlaceOrder,
        now_ms: i64,
    ) -> EngineResult<tv::OrderInfo> {
        let rows = self.order_costs(account, order, now_ms.div_euclid(1000))?;
        Ok(tv::OrderInfo {
            sections: vec![tv::PreviewSection { header: None, rows }],
        })
    }
}
