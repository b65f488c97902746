//! The broker against an in-memory double of [`Api`]: resends find their order (never a second order),
//! modifications keep TradingView's id through restarts, 423 serves the last answer and backs off, 204 and
//! 202 say what they mean.

use super::client::{ApiError, ApiResult, SecdefQuery};
use super::model::account::{Accounts, Position, Summary};
use super::model::market::{ExchangeComponent, Secdef, SnapshotRow};
use super::model::orders::{CancelAnswer, Impact, ModifyAnswer, Order, OrderRequest};
use super::model::trades::Trade;
use super::model::{Coid, Conid, Num};
use super::*;
use crate::broker::Broker;
use crate::store::MemoryStore;
use crate::sync::MutexExt;
use crate::upstream::call::CallError;
use rust_decimal_macros::dec;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

const ACCT: &str = "U1";
const AAPL: i64 = 265598;

/// IBKR as the wire contract describes it, for one account, with faults to inject.
#[derive(Default)]
struct Double {
    book: Mutex<Vec<Order>>,
    positions: Mutex<Vec<Position>>,
    /// Outcomes of the next `place` calls, given after the order was taken (a lost answer, a 5xx).
    place_faults: Mutex<VecDeque<ApiError>>,
    /// Outcomes of the next `place` calls, given instead of taking the order.
    place_refusals: Mutex<VecDeque<ApiError>>,
    modify_faults: Mutex<VecDeque<ApiError>>,
    /// Status and warning of the next orders taken.
    place_status: Mutex<VecDeque<(&'static str, &'static str)>>,
    orders_faults: Mutex<VecDeque<ApiError>>,
    /// Outcomes of the next look-ups of one order by id.
    lookup_faults: Mutex<VecDeque<ApiError>>,
    accounts_faults: Mutex<VecDeque<ApiError>>,
    calls: Mutex<HashMap<&'static str, usize>>,
    since: Mutex<Vec<Option<String>>>,
}

impl Double {
    fn count(&self, what: &'static str) {
        *self.calls.locked().entry(what).or_default() += 1;
    }
    fn calls(&self, what: &str) -> usize {
        self.calls.locked().get(what).copied().unwrap_or_default()
    }
    fn order_of(body: &OrderRequest, id: Coid) -> Order {
        Order {
            customer_order_id: id,
            contract_id: Some(Conid(body.contract_id)),
            ticker: Some("AAPL".into()),
            listing_exchange: Some("NASDAQ".into()),
            remaining_quantity: Some(Num(body.order_qty)),
            filled_quantity: Some(Num(dec!(0))),
            order_type: body.order_type.into(),
            time_in_force: Some(body.time_in_force.into()),
            outside_rth: Some(body.outside_rth.into()),
            side: body.side.into(),
            price: body.price.map(Num),
            stop_price: body.stop_price.map(Num),
            avg_price: None,
            status: "0".into(),
            warning: Some(String::new()),
            transaction_time: Some("20261207-15:04:05".into()),
        }
    }
}

fn refusal(text: &str) -> ApiError {
    ApiError::Call(CallError::status_of::<errors::TpError>(
        400,
        &format!(r#"{{"error":"{text}"}}"#),
    ))
}

#[async_trait]
impl Api for Double {
    async fn accounts(&self, _user: &str) -> ApiResult<Accounts> {
        self.count("accounts");
        if let Some(e) = self.accounts_faults.locked().pop_front() {
            return Err(e);
        }
        Ok(Accounts {
            accounts: vec![ACCT.into()],
        })
    }
    async fn positions(&self, _user: &str, _account: &str) -> ApiResult<Vec<Position>> {
        self.count("positions");
        Ok(self.positions.locked().clone())
    }
    async fn summary(&self, _user: &str, _account: &str) -> ApiResult<Summary> {
        self.count("summary");
        Ok(serde_json::from_str(r#"{"Currency":"USD","NetLiquidation":1000,"TotalCashValue":900}"#).unwrap())
    }
    async fn orders(&self, _user: &str, _account: &str) -> ApiResult<Vec<Order>> {
        self.count("orders");
        if let Some(e) = self.orders_faults.locked().pop_front() {
            return Err(e);
        }
        Ok(self.book.locked().clone())
    }
    async fn order(&self, _user: &str, _account: &str, id: Coid) -> ApiResult<Vec<Order>> {
        self.count("order");
        if let Some(e) = self.lookup_faults.locked().pop_front() {
            return Err(e);
        }
        Ok(self
            .book
            .locked()
            .iter()
            .filter(|o| o.customer_order_id == id)
            .cloned()
            .collect())
    }
    async fn place(&self, _user: &str, _account: &str, body: &OrderRequest) -> ApiResult<Vec<Order>> {
        self.count("place");
        if let Some(e) = self.place_refusals.locked().pop_front() {
            return Err(e);
        }
        let id = body.customer_order_id.expect("placements carry their id");
        let order = {
            let mut book = self.book.locked();
            if book.iter().any(|o| o.customer_order_id == id) {
                return Err(refusal("Duplicate CustomerOrderId"));
            }
            let mut order = Self::order_of(body, id);
            if let Some((status, warning)) = self.place_status.locked().pop_front() {
                order.status = status.into();
                order.warning = Some(warning.into());
            }
            book.push(order.clone());
            order
        };
        match self.place_faults.locked().pop_front() {
            Some(e) => Err(e),
            None => Ok(vec![order]),
        }
    }
    async fn modify(
        &self,
        _user: &str,
        _account: &str,
        id: Coid,
        body: &OrderRequest,
    ) -> ApiResult<Vec<ModifyAnswer>> {
        self.count("modify");
        let new = body.customer_order_id.expect("the replacement's id");
        {
            let mut book = self.book.locked();
            if book.iter().any(|o| o.customer_order_id == new) {
                return Err(refusal("Duplicate CustomerOrderId"));
            }
            let Some(old) = book
                .iter_mut()
                .find(|o| o.customer_order_id == id && o.status == "0")
            else {
                return Err(refusal("Order is not working"));
            };
            old.status = "5".into();
            let replacement = Self::order_of(body, new);
            book.push(replacement);
        }
        if let Some(e) = self.modify_faults.locked().pop_front() {
            return Err(e);
        }
        Ok(vec![ModifyAnswer {
            orig_customer_order_id: Some(id),
            customer_order_id: new,
            status: Some("E".into()),
            warning: None,
        }])
    }
    async fn cancel(&self, _user: &str, _account: &str, id: Coid) -> ApiResult<Vec<CancelAnswer>> {
        self.count("cancel");
        let mut book = self.book.locked();
        let Some(o) = book
            .iter_mut()
            .find(|o| o.customer_order_id == id && o.status == "0")
        else {
            return Err(refusal("Order is not working"));
        };
        o.status = "4".into();
        Ok(vec![CancelAnswer {
            customer_order_id: id,
            symbol: Some("AAPL".into()),
            status: Some("4".into()),
            warning: None,
        }])
    }
    async fn impact(&self, _user: &str, _account: &str, _body: &OrderRequest) -> ApiResult<Impact> {
        Ok(Impact::default())
    }
    async fn trades(&self, _user: &str, _account: &str, since: Option<&str>) -> ApiResult<Vec<Trade>> {
        self.since.locked().push(since.map(str::to_string));
        Ok(Vec::new())
    }
    async fn secdef(&self, _user: &str, query: &SecdefQuery) -> ApiResult<Secdef> {
        self.count("secdef");
        let (conid, ticker) = match query {
            SecdefQuery::Conid(AAPL) => (AAPL, "AAPL"),
            SecdefQuery::Stock { ticker, .. } if ticker == "AAPL" => (AAPL, "AAPL"),
            SecdefQuery::Conid(8314) => (8314, "IBM"),
            _ => return Err(refusal("No security definition found")),
        };
        Ok(Secdef {
            contract_id: Conid(conid),
            ticker: Some(ticker.into()),
            security_type: Some("STK".into()),
            exchange: Some("NASDAQ".into()),
            company_name: Some(format!("{ticker} INC")),
            currency: Some("USD".into()),
        })
    }
    async fn snapshot(&self, _user: &str, conids: &[i64]) -> ApiResult<Vec<SnapshotRow>> {
        Ok(conids
            .iter()
            .map(|c| {
                serde_json::from_value(serde_json::json!({"Conid":c,"Temporality":1,"Complete":true,
                    "Trade":{"price":180.5,"size":100,"time":1796655845000_i64},
                    "Bid":{"market":1,"price":180.4,"size":300},"Offer":{"market":4,"price":180.6,"size":200}}))
                .unwrap()
            })
            .collect())
    }
    async fn exchange_component(&self, _user: &str, _conids: &[i64]) -> ApiResult<Vec<ExchangeComponent>> {
        Ok(Vec::new())
    }
}

fn settings(attempts: u32) -> Settings {
    Settings {
        symbols: vec![config::SymbolConfig {
            symbol: "AAPL".into(),
            conid: None,
            instrument_type: None,
            ticker: None,
            exchange: Some("NASDAQ".into()),
            currency: None,
            tradingview: Some("NASDAQ:AAPL".into()),
        }],
        patience: Patience {
            attempts,
            wait: Duration::from_millis(1),
        },
        locked_backoff: Duration::from_millis(200),
        read_gap: Duration::ZERO,
        quote_interval: Duration::from_millis(10),
        outside_rth: false,
    }
}

fn session(user: &str) -> SessionCtx {
    SessionCtx {
        session_id: format!("s-{user}"),
        user: user.into(),
    }
}

fn broker(api: &Arc<Double>, store: &Arc<MemoryStore>) -> IbkrThirdPartyBroker {
    IbkrThirdPartyBroker::with_api(settings(3), api.clone(), store.clone())
}

fn limit(qty: rust_decimal::Decimal) -> tv::PlaceOrder {
    let mut o = tv::PlaceOrder::new("AAPL", tv::Side::Buy, tv::OrderType::Limit, qty);
    o.limit_price = Some(dec!(180));
    o
}

#[tokio::test]
async fn a_placement_whose_answer_was_lost_is_found_and_never_posted_twice() {
    let api = Arc::new(Double::default());
    let store = Arc::new(MemoryStore::new());
    let b = broker(&api, &store);
    let alice = session("alice");
    api.place_faults
        .locked()
        .push_back(ApiError::Call(CallError::NoAnswer("timed out".into())));
    let id = b
        .place_order(&alice, ACCT, limit(dec!(10)), Some("r1"))
        .await
        .unwrap();
    assert_eq!(api.calls("place"), 1, "a lost answer is looked up, not resent");
    assert_eq!(id, trading::coid("alice", Some("r1")).to_string());
    // TradingView resends the request: the same id, refused as a duplicate, found again.
    let again = b
        .place_order(&alice, ACCT, limit(dec!(10)), Some("r1"))
        .await
        .unwrap();
    assert_eq!(again, id);
    assert_eq!(api.book.locked().len(), 1, "one order");
    assert_eq!(
        b.order_by_request_id(&alice, ACCT, "r1").await.unwrap(),
        Some(id.clone())
    );
    assert_eq!(b.order_by_request_id(&alice, ACCT, "r2").await.unwrap(), None);
    // Another user's same request id is another order.
    let bob = b
        .place_order(&session("bob"), ACCT, limit(dec!(1)), Some("r1"))
        .await
        .unwrap();
    assert_ne!(bob, id);
}

#[tokio::test]
async fn every_ambiguous_write_outcome_is_looked_up() {
    for fault in [
        ApiError::Accepted,
        ApiError::Locked,
        ApiError::Call(CallError::status_of::<errors::TpError>(408, "")),
        ApiError::Call(CallError::status_of::<errors::TpError>(503, "")),
    ] {
        let api = Arc::new(Double::default());
        let b = broker(&api, &Arc::new(MemoryStore::new()));
        api.place_faults.locked().push_back(fault.clone());
        let id = b
            .place_order(&session("a"), ACCT, limit(dec!(1)), Some("x"))
            .await;
        assert!(id.is_ok(), "{fault:?}: {id:?}");
        assert_eq!(api.calls("place"), 1, "{fault:?}");
    }
    // Not taken and not listed: unconfirmed, and still only one POST.
    let api = Arc::new(Double::default());
    let b = broker(&api, &Arc::new(MemoryStore::new()));
    api.place_refusals
        .locked()
        .push_back(ApiError::Call(CallError::NoAnswer("reset".into())));
    match b
        .place_order(&session("a"), ACCT, limit(dec!(1)), Some("y"))
        .await
    {
        Err(BrokerError::OutcomeUnknown(m)) => assert!(m.contains("did not confirm"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(api.calls("place"), 1);
    // Taken, and the look-up refused: unknown too (not the look-up's own "try again", which would free the
    // requestId for a second placement).
    api.place_faults
        .locked()
        .push_back(ApiError::Call(CallError::status_of::<errors::TpError>(503, "")));
    api.lookup_faults
        .locked()
        .push_back(ApiError::Call(CallError::status_of::<errors::TpError>(429, "")));
    match b
        .place_order(&session("a"), ACCT, limit(dec!(1)), Some("z"))
        .await
    {
        Err(BrokerError::OutcomeUnknown(m)) => assert!(m.contains("could not look it up"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(api.calls("place"), 2);
    // Taken but rejected: IBKR's warning is the error.
    api.place_status
        .locked()
        .push_back(("8", "Order size exceeds the limit"));
    assert_eq!(
        b.place_order(&session("a"), ACCT, limit(dec!(1)), Some("w"))
            .await,
        Err(BrokerError::Rejected("Order size exceeds the limit".into()))
    );
    // A plain refusal is shown as IBKR said it.
    api.place_refusals
        .locked()
        .push_back(refusal("Insufficient funds"));
    assert_eq!(
        b.place_order(&session("a"), ACCT, limit(dec!(1)), Some("z"))
            .await,
        Err(BrokerError::Rejected("Insufficient funds".into()))
    );
}

#[tokio::test]
async fn modifications_keep_the_tradingview_id_across_a_restart() {
    let api = Arc::new(Double::default());
    let store = Arc::new(MemoryStore::new());
    let alice = session("alice");
    let b = broker(&api, &store);
    let id = b
        .place_order(&alice, ACCT, limit(dec!(10)), Some("m1"))
        .await
        .unwrap();
    let change = |qty| tv::ModifyOrder {
        qty: Some(qty),
        limit_price: Some(dec!(181)),
        stop_price: None,
        duration: None,
        brackets: tv::Brackets::default(),
    };
    b.modify_order(&alice, ACCT, &id, change(dec!(5))).await.unwrap();
    b.modify_order(&alice, ACCT, &id, change(dec!(7))).await.unwrap();
    assert_eq!(api.book.locked().len(), 3, "two replacements");
    let shown = b.orders(&alice, ACCT).await.unwrap();
    assert_eq!(shown.len(), 1, "replaced orders are not shown: {shown:?}");
    assert_eq!((shown[0].id.as_str(), shown[0].qty), (id.as_str(), dec!(7)));
    assert_eq!(shown[0].limit_price, Some(dec!(181)));
    // A restart (or another replica): a new broker on the same store.
    let again = broker(&api, &store);
    tokio::time::sleep(MIN_REFRESH).await;
    let shown = again.orders(&alice, ACCT).await.unwrap();
    assert_eq!((shown.len(), shown[0].id.as_str()), (1, id.as_str()));
    again
        .modify_order(&alice, ACCT, &id, change(dec!(3)))
        .await
        .unwrap();
    again.cancel_order(&alice, ACCT, &id).await.unwrap();
    let book = api.book.locked().clone();
    let last = book.last().unwrap();
    assert_eq!(
        (last.status.as_str(), last.remaining_quantity.unwrap().0),
        ("4", dec!(3))
    );
    assert!(book[..3].iter().all(|o| o.status == "5"));
}

#[tokio::test]
async fn a_modification_with_a_lost_answer_is_settled_by_looking_the_new_id_up() {
    let api = Arc::new(Double::default());
    let store = Arc::new(MemoryStore::new());
    let alice = session("alice");
    let b = broker(&api, &store);
    let id = b
        .place_order(&alice, ACCT, limit(dec!(10)), Some("m2"))
        .await
        .unwrap();
    api.modify_faults
        .locked()
        .push_back(ApiError::Call(CallError::NoAnswer("timed out".into())));
    let change = tv::ModifyOrder {
        qty: Some(dec!(4)),
        limit_price: None,
        stop_price: None,
        duration: None,
        brackets: tv::Brackets::default(),
    };
    b.modify_order(&alice, ACCT, &id, change).await.unwrap();
    assert_eq!(api.calls("modify"), 1);
    b.cancel_order(&alice, ACCT, &id).await.unwrap();
    assert_eq!(api.book.locked().last().unwrap().status, "4");
    // A refused modification leaves the order under its id.
    let id2 = b
        .place_order(&alice, ACCT, limit(dec!(10)), Some("m3"))
        .await
        .unwrap();
    b.cancel_order(&alice, ACCT, &id2).await.unwrap();
    let refused = b
        .modify_order(
            &alice,
            ACCT,
            &id2,
            tv::ModifyOrder {
                qty: Some(dec!(1)),
                limit_price: None,
                stop_price: None,
                duration: None,
                brackets: tv::Brackets::default(),
            },
        )
        .await;
    assert_eq!(refused, Err(BrokerError::Rejected("Order is not working".into())));
}

#[tokio::test]
async fn a_locked_resource_serves_its_last_answer_and_backs_off() {
    let api = Arc::new(Double::default());
    let b = broker(&api, &Arc::new(MemoryStore::new()));
    let alice = session("alice");
    // Locked before any answer: rate limited, with the wait.
    api.orders_faults.locked().push_back(ApiError::Locked);
    assert!(matches!(
        b.orders(&alice, ACCT).await,
        Err(BrokerError::RateLimited { retry_after: Some(_) })
    ));
    tokio::time::sleep(Duration::from_millis(250)).await;
    b.place_order(&alice, ACCT, limit(dec!(2)), Some("l1"))
        .await
        .unwrap();
    let first = b.orders(&alice, ACCT).await.unwrap();
    assert_eq!(first.len(), 1);
    api.orders_faults.locked().push_back(ApiError::Locked);
    let before = api.calls("orders");
    assert_eq!(
        b.orders(&alice, ACCT).await.unwrap(),
        first,
        "the last good answer"
    );
    assert_eq!(b.orders(&alice, ACCT).await.unwrap(), first);
    assert_eq!(
        api.calls("orders"),
        before + 1,
        "not asked again while backing off"
    );
    // The back-off doubled (200 ms, then 400 ms): locked again after the first wait, served, not asked.
    tokio::time::sleep(Duration::from_millis(450)).await;
    api.orders_faults.locked().push_back(ApiError::Locked);
    assert_eq!(b.orders(&alice, ACCT).await.unwrap(), first);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(b.orders(&alice, ACCT).await.unwrap(), first);
    assert_eq!(
        api.calls("orders"),
        before + 2,
        "the second lock waits twice as long"
    );
    // Another user's reads are not held up by alice's back-off.
    assert!(b.orders(&session("bob"), ACCT).await.is_ok());
}

#[tokio::test]
async fn an_answer_younger_than_the_gap_is_served_again_without_asking() {
    let api = Arc::new(Double::default());
    let mut s = settings(3);
    s.read_gap = Duration::from_millis(150);
    let b = IbkrThirdPartyBroker::with_api(s, api.clone(), Arc::new(MemoryStore::new()));
    let alice = session("alice");
    b.state(&alice, ACCT).await.unwrap();
    b.state(&alice, ACCT).await.unwrap();
    assert_eq!(api.calls("summary"), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    b.state(&alice, ACCT).await.unwrap();
    assert_eq!(api.calls("summary"), 2);
}

#[tokio::test]
async fn accounts_before_the_nightly_refresh_say_so_and_202_is_asked_again() {
    let api = Arc::new(Double::default());
    let b = broker(&api, &Arc::new(MemoryStore::new()));
    api.accounts_faults.locked().push_back(ApiError::NoContent);
    match b.accounts(&session("new")).await {
        Err(BrokerError::Rejected(m)) => {
            assert!(
                m.contains("nightly refresh") && m.contains("16:55 US/Eastern"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
    // Two 202s then the list: three requests (patience 3).
    api.accounts_faults
        .locked()
        .extend([ApiError::Accepted, ApiError::Accepted]);
    let before = api.calls("accounts");
    let accounts = b.accounts(&session("new")).await.unwrap();
    assert_eq!((accounts.len(), accounts[0].id.as_str()), (1, ACCT));
    assert_eq!(api.calls("accounts"), before + 3);
    // Three 202s exhaust the patience: said plainly.
    api.accounts_faults
        .locked()
        .extend([ApiError::Accepted, ApiError::Accepted, ApiError::Accepted]);
    match b.accounts(&session("other")).await {
        Err(BrokerError::Unavailable(m)) => assert!(m.contains("no answer after 3 attempts"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn positions_of_contracts_not_configured_are_shown_and_closed_with_an_opposite_order() {
    let api = Arc::new(Double::default());
    let b = broker(&api, &Arc::new(MemoryStore::new()));
    let alice = session("alice");
    api.positions.locked().extend([
        Position {
            contract_id: Conid(AAPL),
            position: Num(dec!(-5)),
            average_cost: Some(Num(dec!(180))),
        },
        Position {
            contract_id: Conid(8314),
            position: Num(dec!(3)),
            average_cost: None,
        },
    ]);
    // AAPL is configured by exchange, not resolved yet: its position still shows under its name.
    let p = b.positions(&alice, ACCT).await.unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0].instrument.as_str(), p[0].side, p[0].qty),
        ("AAPL", tv::Side::Sell, dec!(5))
    );
    assert_eq!((p[1].instrument.as_str(), p[1].qty), ("IBM", dec!(3)));
    tokio::time::sleep(MIN_REFRESH).await;
    b.positions(&alice, ACCT).await.unwrap();
    assert_eq!(api.calls("secdef"), 2, "a contract is looked up once");
    b.close_position(&alice, ACCT, "AAPL", None).await.unwrap();
    let placed = api.book.locked().last().cloned().unwrap();
    assert_eq!((placed.side.as_str(), placed.order_type.as_str()), ("1", "1"));
    assert_eq!(placed.remaining_quantity.unwrap().0, dec!(5));
    assert!(
        b.close_position(&alice, ACCT, "IBM", Some(dec!(4)))
            .await
            .is_err(),
        "more than the position"
    );
}

#[tokio::test]
async fn quotes_depth_and_the_trades_window() {
    let api = Arc::new(Double::default());
    let b = broker(&api, &Arc::new(MemoryStore::new()));
    let alice = session("alice");
    let q = b
        .quotes(&alice, ACCT, &["AAPL".into(), "NOPE".into()])
        .await
        .unwrap();
    assert_eq!(q[1].s, "error");
    assert!(matches!(&q[0].v, tv::QuoteValue::Quote(q) if q.bid == dec!(180.4) && q.ask == dec!(180.6)));
    let d = b.depth(&alice, ACCT, "AAPL").await.unwrap();
    assert_eq!(
        (d.bids, d.asks),
        (vec![[dec!(180.4), dec!(300)]], vec![[dec!(180.6), dec!(200)]])
    );
    let instruments = b.instruments(&alice, ACCT).await.unwrap();
    assert!(
        instruments[0].description.contains("delayed"),
        "{}",
        instruments[0].description
    );
    b.executions(&alice, ACCT, None, None).await.unwrap();
    let since = api.since.locked()[0].clone().unwrap();
    let at = convert::fix_time(&since).unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(at > now - 7 * 86_400 && at < now - 6 * 86_400, "{since}");
    assert!(matches!(
        b.history(&tv::HistoryQuery {
            symbol: "AAPL".into(),
            resolution: tv::Resolution::Days(1),
            from: 0,
            to: 1,
            countback: None
        })
        .await,
        Err(BrokerError::Unsupported(_))
    ));
}

#[tokio::test]
async fn the_quote_stream_waits_for_a_user_then_polls_with_theirs() {
    let api = Arc::new(Double::default());
    let b = broker(&api, &Arc::new(MemoryStore::new()));
    let mut rx = b.subscribe_market("AAPL").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(rx.try_recv().is_err(), "no user yet: nothing");
    b.accounts(&session("alice")).await.unwrap();
    let tick = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (tick.bid, tick.ask, tick.last),
        (dec!(180.4), dec!(180.6), dec!(180.5))
    );
}

#[test]
fn customer_order_ids_are_deterministic_per_user_and_below_2_pow_53() {
    let a = trading::coid("alice", Some("req-1"));
    assert_eq!(a, trading::coid("alice", Some("req-1")));
    assert_ne!(a, trading::coid("bob", Some("req-1")));
    assert_ne!(a, trading::coid("alice", Some("req-2")));
    for id in [a, trading::coid("x", None), trading::fresh()] {
        assert!(id.0 > 0 && id.0 < model::COID_LIMIT);
    }
    assert_ne!(trading::coid("x", None), trading::coid("x", None));
}

#[test]
fn the_trades_window_is_clipped_to_what_ibkr_allows() {
    let now = 1_796_655_845;
    let week = 7 * 86_400;
    let at = |from| convert::fix_time(&account::trades_since(from, now)).unwrap();
    assert!(at(Some(now - 30 * 86_400)) > now - week);
    assert_eq!(at(Some(now + 3600)), now, "never in the future");
    assert_eq!(at(Some(now - 3600)), now - 3600);
    assert!(at(None) > now - week);
}

#[test]
fn the_backend_kind_is_read_summarised_and_checked() {
    let text = r#"
[backend]
kind = "ibkr-third-party"
consumer_key_env = "IBKR_CONSUMER_KEY"
link_key_env = "IBKR_LINK_KEY"
[[backend.symbols]]
symbol = "AAPL"
exchange = "NASDAQ"
"#;
    let config: crate::config::Config = toml::from_str(text).expect("parses");
    let crate::config::BackendConfig::IbkrThirdParty(tp) = &config.backend else {
        panic!("not the third-party backend: {:?}", config.backend)
    };
    assert_eq!(tp.symbols[0].exchange.as_deref(), Some("NASDAQ"));
    let summary = config.backend.summary();
    assert_eq!(
        (summary.kind, summary.rest_url.as_str()),
        ("ibkr-third-party", config::BASE_URL)
    );
    assert!(
        config
            .problems()
            .iter()
            .any(|p| p.starts_with("auth.users:") && p.contains("ibkr-third-party")),
        "{:?}",
        config.problems()
    );
    assert!(config.backend.mapped_logins().is_empty());
    assert!(
        toml::from_str::<crate::config::Config>("[backend]\nkind = \"ibkr-third-party\"\nnope = 1\n")
            .is_err()
    );
}
