//! Placing, modifying and cancelling orders, with their brackets (created `inactive`, one-cancels-other).

use super::{
    on_grid, rejected, to_grid, BracketRole, Engine, EngineResult, PaperOrder, PlacedRequest,
    MAX_ACTIVE_ORDERS, MAX_POSITIONS, MAX_REQUEST_IDS, REQUEST_ID_TTL_MS,
};
use crate::backends::paper::feed::Tick;
use crate::backends::paper::market::PaperInstrument;
use crate::broker::BrokerError;
use crate::tv::{self, Brackets, OrderStatus, OrderType, ParentType, Side};
use rust_decimal::Decimal;

/// Duration ids the paper broker offers.
pub const GTC: &str = "gtc";
pub const DAY: &str = "day";
pub const GTT: &str = "gtt";

/// What a set of brackets hangs on.
#[derive(Debug, Clone)]
pub(super) struct BracketParent {
    pub id: String,
    pub kind: ParentType,
    /// Side of the parent order or position (brackets take the other side).
    pub side: Side,
    pub qty: Decimal,
    /// Price the brackets are checked against: the entry price of an order, the market for a position.
    pub reference: Decimal,
    pub status: OrderStatus,
    /// The position the brackets close, once there is one.
    pub close_target: Option<String>,
}

impl Engine {
    /// Places `req` on `account` unless `request_id` already placed an order there (in the last 24 hours),
    /// in which case that order's id is the answer: a placement retried after a crash finds its order
    /// instead of doubling it.
    /// The order placed for `request_id` on `account` within the last day, if any.
    pub fn order_for_request(
        &self,
        account: &str,
        request_id: &str,
        now_ms: i64,
    ) -> EngineResult<Option<String>> {
        let key = crate::store::digest(&[request_id]);
        Ok(self
            .book(account)?
            .requests
            .get(&key)
            .filter(|r| now_ms - r.at_ms < REQUEST_ID_TTL_MS)
            .map(|r| r.order_id.clone()))
    }

    pub fn place_once(
        &mut self,
        account: &str,
        req: tv::PlaceOrder,
        request_id: Option<&str>,
        now_ms: i64,
    ) -> EngineResult<String> {
        let Some(request_id) = request_id else {
            return self.place(account, req, now_ms);
        };
        // A digest: fixed length in the record whatever the client sent.
        let key = crate::store::digest(&[request_id]);
        let seen = self
            .book(account)?
            .requests
            .get(&key)
            .filter(|r| now_ms - r.at_ms < REQUEST_ID_TTL_MS)
            .map(|r| r.order_id.clone());
        if let Some(order_id) = seen {
            return Ok(order_id);
        }
        let order_id = self.place(account, req, now_ms)?;
        let book = self.book_mut(account)?;
        book.requests.insert(
            key,
            PlacedRequest {
                order_id: order_id.clone(),
                at_ms: now_ms,
            },
        );
        if book.requests.len() > MAX_REQUEST_IDS {
            // The oldest goes: a retry comes seconds after its first attempt, not a thousand orders later.
            let oldest = book
                .requests
                .iter()
                .min_by_key(|(_, r)| r.at_ms)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                book.requests.remove(&oldest);
            }
        }
        Ok(order_id)
    }

    /// Places `req` on `account`. Market orders (and marketable limits) fill at once.
    pub fn place(&mut self, account: &str, req: tv::PlaceOrder, now_ms: i64) -> EngineResult<String> {
        let t = now_ms.div_euclid(1000);
        let book = self.book(account)?;
        // Bounds on what one account holds: all accounts are one record in the state store.
        let active = book.orders.iter().filter(|o| o.is_active()).count();
        if active >= MAX_ACTIVE_ORDERS {
            return Err(rejected(format!(
                "This account has {active} active orders (brackets included), the most a paper account holds: cancel some first"
            )));
        }
        if book.hedging && book.positions.len() >= MAX_POSITIONS {
            return Err(rejected(format!(
                "This account has {} open positions, the most a paper account holds: close some first",
                book.positions.len()
            )));
        }
        let ins = self.instrument(&req.instrument)?.clone();
        let tick = self.market.tick(&ins, t);
        check_order_prices(&ins, req.kind, req.side, req.limit_price, req.stop_price, &tick)?;
        let reference = entry_reference(req.kind, req.side, req.limit_price, req.stop_price, &tick);
        check_bracket_prices(&ins, &req.brackets, req.side, reference, "the entry price")?;
        let expires_at = expiry(req.duration.as_ref(), req.kind, t)?;
        if req.kind == OrderType::Market {
            self.check_margin(account, &ins, req.side, req.qty, None, t)?;
        }
        let id = self.next_id("");
        let mut order = tv::Order::new(
            id.clone(),
            req.instrument.clone(),
            req.qty,
            req.side,
            req.kind,
            OrderStatus::Working,
            t,
        );
        order.limit_price = req.limit_price;
        order.stop_price = req.stop_price;
        order.duration = req.duration.clone();
        let paper = PaperOrder {
            expires_at,
            ..PaperOrder::new(order)
        };
        self.book_mut(account)?.orders.push(paper);
        let parent = BracketParent {
            id: id.clone(),
            kind: ParentType::Order,
            side: req.side,
            qty: req.qty,
            reference,
            status: OrderStatus::Inactive,
            close_target: None,
        };
        self.sync_brackets(account, &ins, &parent, &req.brackets, t)?;
        self.touch(account);
        self.try_execute(account, &id, &tick, now_ms);
        Ok(id)
    }

    /// Applies `change` to an active order: quantity, prices, duration, and the full set of brackets.
    pub fn modify(
        &mut self,
        account: &str,
        order_id: &str,
        change: tv::ModifyOrder,
        now_ms: i64,
    ) -> EngineResult<()> {
        let t = now_ms.div_euclid(1000);
        let current = self.active_order(account, order_id)?.clone();
        let ins = self.instrument(&current.order.instrument)?.clone();
        let tick = self.market.tick(&ins, t);
        let o = &current.order;
        let qty = change.qty.unwrap_or(o.qty);
        let limit = change.limit_price.or(o.limit_price);
        let mut stop = change.stop_price.or(o.stop_price);
        if let Some(role) = current.bracket {
            // A bracket is changed on its own: its price, its trailing distance, its quantity.
            if role == BracketRole::StopLoss {
                if let Some(pips) = change
                    .brackets
                    .trailing_stop_pips
                    .filter(|_| current.trailing_distance.is_some())
                {
                    let distance = pips * ins.cfg.pip_size;
                    let market = if o.side == Side::Sell { tick.bid } else { tick.ask };
                    stop = Some(to_grid(
                        market - o.side.opposite().sign() * distance,
                        ins.cfg.tick_size,
                    ));
                }
            }
            let price = if role == BracketRole::StopLoss {
                stop
            } else {
                limit
            };
            let price = price.ok_or_else(|| rejected("a bracket order needs its price"))?;
            check_bracket_price_side(
                &ins,
                role,
                o.side.opposite(),
                price,
                self.bracket_reference(account, &current, &tick),
            )?;
            let pips = change.brackets.trailing_stop_pips;
            let po = self.order_mut(account, order_id)?;
            po.order.qty = qty;
            if role == BracketRole::StopLoss {
                po.order.stop_price = Some(price);
                if let (Some(p), Some(_)) = (pips, po.trailing_distance) {
                    po.trailing_distance = Some(p * ins.cfg.pip_size);
                    po.order.trailing_stop_pips = Some(p);
                }
            } else {
                po.order.limit_price = Some(price);
            }
            po.order.last_modified = Some(t);
        } else {
            check_order_prices(&ins, o.kind, o.side, limit, stop, &tick)?;
            let reference = entry_reference(o.kind, o.side, limit, stop, &tick);
            check_bracket_prices(&ins, &change.brackets, o.side, reference, "the entry price")?;
            let duration = change.duration.clone().or_else(|| o.duration.clone());
            let expires_at = expiry(duration.as_ref(), o.kind, t)?;
            let po = self.order_mut(account, order_id)?;
            po.order.qty = qty;
            po.order.limit_price = limit;
            po.order.stop_price = stop;
            po.order.duration = duration;
            po.expires_at = expires_at;
            po.order.last_modified = Some(t);
            let parent = BracketParent {
                id: order_id.to_owned(),
                kind: ParentType::Order,
                side: o.side,
                qty,
                reference,
                status: OrderStatus::Inactive,
                close_target: None,
            };
            self.sync_brackets(account, &ins, &parent, &change.brackets, t)?;
        }
        self.touch(account);
        self.try_execute(account, order_id, &tick, now_ms);
        Ok(())
    }

    /// Cancels an active order and, when it is a parent, its brackets.
    pub fn cancel(&mut self, account: &str, order_id: &str, now_ms: i64) -> EngineResult<()> {
        self.active_order(account, order_id)?;
        self.finish(account, order_id, OrderStatus::Cancelled, None, now_ms);
        self.touch(account);
        Ok(())
    }

    /// The active order `order_id`, or why not.
    pub(super) fn active_order(&self, account: &str, order_id: &str) -> EngineResult<&PaperOrder> {
        let po = self
            .book(account)?
            .orders
            .iter()
            .find(|o| o.id() == order_id)
            .ok_or_else(|| {
                BrokerError::NotFound(format!("Unknown order '{order_id}' on account {account}"))
            })?;
        if !po.is_active() {
            return Err(rejected(format!(
                "order {order_id} is already {} and cannot be changed",
                po.order.status
            )));
        }
        Ok(po)
    }

    pub(super) fn order_mut(&mut self, account: &str, order_id: &str) -> EngineResult<&mut PaperOrder> {
        self.book_mut(account)?
            .orders
            .iter_mut()
            .find(|o| o.order.id == order_id)
            .ok_or_else(|| BrokerError::NotFound(format!("Unknown order '{order_id}' on account {account}")))
    }

    /// Moves an order to a final status; a parent's brackets that never became active go with it, and
    /// every final order is stamped for `/orders` retention.
    pub(super) fn finish(
        &mut self,
        account: &str,
        order_id: &str,
        status: OrderStatus,
        note: Option<String>,
        now_ms: i64,
    ) {
        let t = now_ms.div_euclid(1000);
        let Some(book) = self.state.accounts.get_mut(account) else {
            return;
        };
        for po in book.orders.iter_mut() {
            let is_target = po.order.id == order_id;
            let is_child = po.order.parent_type == Some(ParentType::Order)
                && po.order.parent_id.as_deref() == Some(order_id)
                && status != OrderStatus::Filled;
            if (is_target || is_child) && po.is_active() {
                po.order.status = if is_target { status } else { OrderStatus::Cancelled };
                po.order.last_modified = Some(t);
                po.final_at = Some(now_ms);
                if is_target {
                    if let Some(text) = &note {
                        po.order.message = Some(tv::InfoMessage {
                            text: text.clone(),
                            kind: if status == OrderStatus::Rejected {
                                tv::MessageType::Error
                            } else {
                                tv::MessageType::Information
                            },
                        });
                    }
                }
            }
        }
    }

    /// Makes the brackets of `parent` match `wanted`: updates existing ones in place (keeping their ids),
    /// creates missing ones, cancels those no longer wanted.
    pub(super) fn sync_brackets(
        &mut self,
        account: &str,
        ins: &PaperInstrument,
        parent: &BracketParent,
        wanted: &Brackets,
        t: i64,
    ) -> EngineResult<()> {
        let side = parent.side.opposite();
        let stop_loss = wanted.guaranteed_stop.map(|p| (p, None, true)).or_else(|| {
            wanted.trailing_stop_pips.map(|pips| {
                let distance = pips * ins.cfg.pip_size;
                let initial = wanted
                    .stop_loss
                    .unwrap_or_else(|| to_grid(parent.reference + side.sign() * distance, ins.cfg.tick_size));
                (initial, Some((pips, distance)), false)
            })
        });
        let stop_loss = stop_loss.or_else(|| wanted.stop_loss.map(|p| (p, None, false)));
        if let Some((price, Some((pips, _)), _)) = stop_loss {
            if price <= Decimal::ZERO {
                return Err(rejected(format!(
                    "a trailing stop {pips} pips away would sit at or below zero for {}",
                    ins.cfg.symbol
                )));
            }
        }
        let now_ms = t * 1000;
        for role in [BracketRole::StopLoss, BracketRole::TakeProfit] {
            let existing = self
                .book(account)?
                .orders
                .iter()
                .find(|o| {
                    o.is_active()
                        && o.bracket == Some(role)
                        && o.order.parent_id.as_deref() == Some(&parent.id)
                        && o.order.parent_type == Some(parent.kind)
                })
                .map(|o| o.order.id.clone());
            let desired = match role {
                BracketRole::StopLoss => stop_loss,
                BracketRole::TakeProfit => wanted.take_profit.map(|p| (p, None, false)),
            };
            match (existing, desired) {
                (Some(id), None) => self.finish(account, &id, OrderStatus::Cancelled, None, now_ms),
                (Some(id), Some((price, trailing, guaranteed))) => {
                    let po = self.order_mut(account, &id)?;
                    apply_bracket_shape(po, role, price, trailing, guaranteed);
                    po.order.qty = parent.qty;
                    po.order.last_modified = Some(t);
                }
                (None, Some((price, trailing, guaranteed))) => {
                    let id = self.next_id("");
                    let mut order = tv::Order::new(
                        id,
                        ins.cfg.symbol.clone(),
                        parent.qty,
                        side,
                        OrderType::Limit,
                        parent.status,
                        t,
                    );
                    order.parent_id = Some(parent.id.clone());
                    order.parent_type = Some(parent.kind);
                    let mut po = PaperOrder {
                        bracket: Some(role),
                        close_target: parent.close_target.clone(),
                        ..PaperOrder::new(order)
                    };
                    apply_bracket_shape(&mut po, role, price, trailing, guaranteed);
                    self.book_mut(account)?.orders.push(po);
                }
                (None, None) => {}
            }
        }
        Ok(())
    }

    /// The price a bracket's side is checked against: its parent order's entry, or the market for a position.
    fn bracket_reference(&self, account: &str, bracket: &PaperOrder, tick: &Tick) -> Decimal {
        let parent_side = bracket.order.side.opposite();
        if bracket.order.parent_type == Some(ParentType::Order) {
            if let Some(parent) = self.book(account).ok().and_then(|b| {
                b.orders
                    .iter()
                    .find(|o| Some(o.order.id.as_str()) == bracket.order.parent_id.as_deref())
            }) {
                let p = &parent.order;
                return entry_reference(p.kind, p.side, p.limit_price, p.stop_price, tick);
            }
        }
        // A position closes at the bid when long and at the ask when short.
        if parent_side == Side::Buy {
            tick.bid
        } else {
            tick.ask
        }
    }
}

fn apply_bracket_shape(
    po: &mut PaperOrder,
    role: BracketRole,
    price: Decimal,
    trailing: Option<(Decimal, Decimal)>,
    guaranteed: bool,
) {
    match role {
        BracketRole::TakeProfit => {
            po.order.kind = OrderType::Limit;
            po.order.limit_price = Some(price);
            po.order.stop_price = None;
        }
        BracketRole::StopLoss => {
            po.order.kind = OrderType::Stop;
            po.order.stop_price = Some(price);
            po.order.limit_price = None;
            po.order.is_guaranteed_stop = guaranteed.then_some(true);
            po.order.is_trailing_stop = trailing.map(|_| true);
            po.order.trailing_stop_pips = trailing.map(|(pips, _)| pips);
            po.trailing_distance = trailing.map(|(_, distance)| distance);
        }
    }
}

/// The price an order is expected to enter at: its limit, its stop, or the market.
pub(super) fn entry_reference(
    kind: OrderType,
    side: Side,
    limit: Option<Decimal>,
    stop: Option<Decimal>,
    tick: &Tick,
) -> Decimal {
    match kind {
        OrderType::Limit | OrderType::StopLimit => limit.unwrap_or(tick.ask),
        OrderType::Stop => stop.unwrap_or(tick.ask),
        OrderType::Market => {
            if side == Side::Buy {
                tick.ask
            } else {
                tick.bid
            }
        }
    }
}

/// Prices on the tick grid, and stops on the right side of the market.
fn check_order_prices(
    ins: &PaperInstrument,
    kind: OrderType,
    side: Side,
    limit: Option<Decimal>,
    stop: Option<Decimal>,
    tick: &Tick,
) -> EngineResult<()> {
    let step = ins.cfg.tick_size;
    for (name, price) in [("limit price", limit), ("stop price", stop)] {
        if let Some(p) = price {
            if !on_grid(p, step) {
                return Err(rejected(format!(
                    "{name} {p} is not a multiple of the tick size {step} for {}",
                    ins.cfg.symbol
                )));
            }
        }
    }
    if let (true, Some(s)) = (kind.has_stop_price(), stop) {
        match side {
            Side::Buy if s <= tick.ask => {
                return Err(rejected(format!(
                    "a buy stop must be above the current ask {}, got {s}",
                    tick.ask
                )))
            }
            Side::Sell if s >= tick.bid => {
                return Err(rejected(format!(
                    "a sell stop must be below the current bid {}, got {s}",
                    tick.bid
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Stop loss below and take profit above the reference for a buy (the other way round for a sell).
pub(super) fn check_bracket_prices(
    ins: &PaperInstrument,
    b: &Brackets,
    side: Side,
    reference: Decimal,
    against: &str,
) -> EngineResult<()> {
    let step = ins.cfg.tick_size;
    for (name, price) in [
        ("stop loss", b.stop_loss),
        ("take profit", b.take_profit),
        ("guaranteed stop", b.guaranteed_stop),
    ] {
        let Some(p) = price else { continue };
        if !on_grid(p, step) {
            return Err(rejected(format!(
                "{name} {p} is not a multiple of the tick size {step} for {}",
                ins.cfg.symbol
            )));
        }
        let is_stop = name != "take profit";
        let must_be_below = (side == Side::Buy) == is_stop;
        let ok = if must_be_below {
            p < reference
        } else {
            p > reference
        };
        if !ok {
            let dir = if must_be_below { "below" } else { "above" };
            let pos = if side == Side::Buy { "long" } else { "short" };
            return Err(rejected(format!(
                "the {name} {p} must be {dir} {against} {reference} for a {pos} trade"
            )));
        }
    }
    Ok(())
}

fn check_bracket_price_side(
    ins: &PaperInstrument,
    role: BracketRole,
    bracket_side: Side,
    price: Decimal,
    reference: Decimal,
) -> EngineResult<()> {
    let b = match role {
        BracketRole::StopLoss => Brackets {
            stop_loss: Some(price),
            ..Default::default()
        },
        BracketRole::TakeProfit => Brackets {
            take_profit: Some(price),
            ..Default::default()
        },
    };
    check_bracket_prices(ins, &b, bracket_side.opposite(), reference, "the reference price")
}

/// Expiry second of a duration: GTC none, DAY the next 00:00 UTC, GTT its date (which must be ahead).
fn expiry(duration: Option<&tv::OrderDuration>, kind: OrderType, t: i64) -> EngineResult<Option<i64>> {
    let Some(d) = duration else { return Ok(None) };
    if kind == OrderType::Market {
        return Err(rejected("market orders take no duration"));
    }
    match d.kind.as_str() {
        GTC => Ok(None),
        DAY => Ok(Some((t.div_euclid(86_400) + 1) * 86_400)),
        GTT => match d.datetime {
            Some(at) if at > t => Ok(Some(at)),
            Some(at) => Err(rejected(format!("the expiry time {at} is not in the future"))),
            None => Err(rejected("a good-till-time order needs 'durationDateTime'")),
        },
        other => Err(rejected(format!("unknown duration '{other}'"))),
    }
}
