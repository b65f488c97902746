//! The WebSocket end to end against the fake Client Portal gateway (`fakes::ibkr`): quotes arrive and
//! follow the market, a dropped socket is reopened and resubscribed, and an order filled at the fake
//! reaches the account hub through `sor` without the bridge listing orders more than once per 5 s.

use crate::backends::ibkr::config::SymbolConfig;
use crate::backends::ibkr::{IbkrBroker, IbkrConfig};
use crate::broker::{BridgeUser, Broker, Login, SessionCtx};
use crate::hub::{AccountHubs, HubConfig};
use crate::tv;
use fakes::ibkr::{FakeIbkr, FakeIbkrOptions};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::timeout;

const AAPL: i64 = 265_598;
/// Generous: the fake answers in milliseconds, but the machine may be busy.
const PATIENCE: Duration = Duration::from_secs(15);

async fn broker(fake: &FakeIbkr) -> IbkrBroker {
    let config = IbkrConfig {
        base_url: Some(fake.base_url.clone()),
        symbols: vec![SymbolConfig {
            symbol: "AAPL".into(),
            conid: Some(AAPL),
            search: None,
            sec_type: None,
            tradingview: Some("NASDAQ:AAPL".into()),
        }],
        ..IbkrConfig::default()
    };
    IbkrBroker::start(&config).await.unwrap()
}

/// The next tick whose bid is `bid`, skipping older ones.
async fn tick_with_bid(rx: &mut mpsc::Receiver<tv::MarketTick>, bid: Decimal) -> tv::MarketTick {
    timeout(PATIENCE, async {
        loop {
            let tick = rx.recv().await.expect("the tick stream ended");
            if tick.bid == bid {
                return tick;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no tick with bid {bid}"))
}

#[tokio::test]
async fn quotes_arrive_follow_the_market_and_survive_a_dropped_socket() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let broker = broker(&fake).await;
    let mut ticks = broker.subscribe_market("AAPL").await.unwrap();
    let (bid, ask) = fake.quote(AAPL).unwrap();
    let first = tick_with_bid(&mut ticks, bid).await;
    assert_eq!((first.symbol.as_str(), first.ask), ("AAPL", ask));
    assert_eq!(first.day.close, bid, "the day's bar ends at the latest bid");

    fake.set_price(AAPL, dec!(190.10), dec!(190.14));
    let moved = tick_with_bid(&mut ticks, dec!(190.10)).await;
    assert_eq!(moved.ask, dec!(190.14));
    assert!(moved.day.high >= dec!(190.10));

    // The socket goes without a close frame: the pool reconnects with a fresh tickle session and asks
    // for the contract again, so later moves still arrive.
    fake.drop_websockets();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stats = broker.inner.streams.as_ref().unwrap().stats();
    assert_eq!(stats.keys, 1);
    let again = next_move(&fake, &mut ticks, dec!(191)).await;
    assert!(again.bid >= dec!(191));
    let stats = broker.inner.streams.as_ref().unwrap().stats();
    assert!(stats.reconnects >= 1 && stats.opened >= 2, "{stats:?}");
    assert!(
        fake.calls("POST", "/tickle") >= 2,
        "every socket asks /tickle for its session"
    );
}

/// Moves the price a cent at a time until a tick shows it (a socket being replaced misses some).
async fn next_move(
    fake: &FakeIbkr,
    ticks: &mut mpsc::Receiver<tv::MarketTick>,
    from: Decimal,
) -> tv::MarketTick {
    timeout(PATIENCE, async {
        let mut price = from;
        loop {
            fake.set_price(AAPL, price, price + dec!(0.04));
            if let Ok(Some(t)) = timeout(Duration::from_millis(500), ticks.recv()).await {
                if t.bid == price {
                    return t;
                }
            }
            price += dec!(0.01);
        }
    })
    .await
    .expect("quotes after the socket was replaced")
}

#[tokio::test]
async fn a_lost_session_replaces_the_socket_with_a_fresh_tickle_session() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let broker = broker(&fake).await;
    let mut ticks = broker.subscribe_market("AAPL").await.unwrap();
    next_move(&fake, &mut ticks, dec!(190)).await;

    // The brokerage session ends: the socket hears `sts` not authenticated and closes. Once the user
    // logs in again, a new socket with the new session's id resumes the quotes.
    fake.expire_session();
    tokio::time::sleep(Duration::from_millis(300)).await;
    fake.login();
    let resumed = next_move(&fake, &mut ticks, dec!(192)).await;
    assert!(resumed.bid >= dec!(192));
    assert!(
        fake.calls("POST", "/tickle") >= 2,
        "the new socket asked /tickle for the session again"
    );
    let stats = broker.inner.streams.as_ref().unwrap().stats();
    assert!(stats.opened >= 2, "{stats:?}");
}

#[tokio::test]
async fn an_order_filled_at_the_gateway_reaches_the_account_hub_through_sor() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let broker = Arc::new(broker(&fake).await);
    let ctx = SessionCtx {
        session_id: "s1".into(),
        user: "alice".into(),
    };
    let login = Login::Bridge(BridgeUser {
        login: "alice".into(),
        display_name: "Alice".into(),
    });
    broker.login(&ctx.session_id, &login).await.unwrap();
    let account = broker.accounts(&ctx).await.unwrap().remove(0);
    // Polling alone would take a minute: only a push can refresh the hub within the test.
    let hubs = AccountHubs::new(
        broker.clone(),
        HubConfig {
            poll_interval_ms: 60_000,
            ..HubConfig::default()
        },
    );
    let hub = hubs.get(&ctx, &account);
    let (first, _updates) = hub.subscribe().await.unwrap();
    assert!(first.orders.is_empty());
    // Give the socket time to subscribe `sor` before the order goes in.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // An order placed at the gateway by someone else (TWS, the IBKR app): the bridge only hears of it.
    let url = format!("{}/iserver/account/{}/orders", fake.base_url, account.id);
    let ticket = serde_json::json!({ "orders": [{ "conid": AAPL, "orderType": "MKT", "side": "BUY",
        "quantity": 3, "tif": "DAY" }] });
    let placed = reqwest::Client::new()
        .post(url)
        .json(&ticket)
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), 200);

    let filled = timeout(PATIENCE, async {
        loop {
            if let Some(s) = hub.latest() {
                if let Some(o) = s.orders.iter().find(|o| o.status == tv::OrderStatus::Filled) {
                    return o.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the fill reached the hub");
    assert_eq!(filled.qty, Decimal::from_str("3").unwrap());
    assert_eq!(
        fake.max_calls_in_window("GET", "/iserver/account/orders", Duration::from_millis(4_900)),
        1,
        "never more than one order listing per 5 s"
    );
}
