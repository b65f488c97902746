//! The streams: only on the stream listener, NDJSON with heartbeats, prices on `set_price`,
//! transactions as they happen, counted, ended by `drop_streams`, `revoke_token` and drop; v1 ticks
//! and events.

use crate::client::{dec, eventually, start, Client, Lines, NET, TOKEN, V1};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(3);

fn is_heartbeat(v: &Value) -> bool {
    v["type"] == "HEARTBEAT"
}

#[tokio::test]
async fn the_pricing_stream_sends_a_snapshot_heartbeats_and_each_new_price() {
    let fake = start().await;
    let c = Client::new(&fake);
    let resp = c
        .open_stream(&format!(
            "/v3/accounts/{NET}/pricing/stream?instruments=EUR_USD%2CUSD_JPY"
        ))
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json")));
    assert_eq!(fake.open_streams(), 1);
    assert_eq!(fake.stream_connections(), 1);
    let mut lines = Lines::new(resp);
    let first = lines.next(WAIT).await.unwrap_or_default();
    assert_eq!(first["type"], "PRICE");
    assert_eq!(first["instrument"], "EUR_USD");
    assert_eq!(first["bids"][0]["price"], "1.08512");
    let second = lines.next(WAIT).await.unwrap_or_default();
    assert_eq!(second["instrument"], "USD_JPY");
    let beat = lines.next(WAIT).await.unwrap_or_default();
    assert!(is_heartbeat(&beat), "{beat}");
    assert!(beat["time"].is_string());
    fake.set_price("GBP_USD", dec("1.27000"), dec("1.27018"));
    fake.set_price("EUR_USD", dec("1.09000"), dec("1.09014"));
    let price = lines
        .until(WAIT, |l| l["type"] == "PRICE")
        .await
        .unwrap_or_default();
    // GBP_USD is not subscribed: the next price is EUR_USD's.
    assert_eq!(price["instrument"], "EUR_USD");
    assert_eq!(price["asks"][0]["price"], "1.09014");
    fake.drop_streams();
    // The body just ends.
    assert!(lines.next(WAIT).await.is_none());
    assert!(lines.ended);
    assert!(eventually(WAIT, || fake.open_streams() == 0).await);
}

#[tokio::test]
async fn the_transaction_stream_sends_each_new_transaction() {
    let fake = start().await;
    let c = Client::new(&fake);
    let resp = c
        .open_stream(&format!("/v3/accounts/{NET}/transactions/stream"))
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let mut lines = Lines::new(resp);
    let beat = lines.next(WAIT).await.unwrap_or_default();
    assert!(is_heartbeat(&beat), "{beat}");
    assert_eq!(beat["lastTransactionID"], "2");
    c.market(NET, "EUR_USD", 10).await;
    let create = lines.until(WAIT, |l| !is_heartbeat(l)).await.unwrap_or_default();
    assert_eq!(create["type"], "MARKET_ORDER");
    let fill = lines.until(WAIT, |l| !is_heartbeat(l)).await.unwrap_or_default();
    assert_eq!(fill["type"], "ORDER_FILL");
    assert_eq!(fill["id"], "4");
    let beat = lines.until(WAIT, is_heartbeat).await.unwrap_or_default();
    assert_eq!(beat["lastTransactionID"], "4");
    // Revoking the token ends its streams, and new ones are refused.
    fake.revoke_token(TOKEN);
    assert!(lines.until(WAIT, |_| false).await.is_none());
    assert!(lines.ended);
    let again = c
        .open_stream(&format!("/v3/accounts/{NET}/transactions/stream"))
        .await;
    assert_eq!(again.status().as_u16(), 401);
}

#[tokio::test]
async fn streams_live_on_the_stream_listener_only() {
    let fake = start().await;
    let c = Client::new(&fake);
    // On the REST listener the stream paths do not exist...
    let (status, _) = c
        .get(&format!("/v3/accounts/{NET}/pricing/stream?instruments=EUR_USD"))
        .await;
    assert_eq!(status, 404);
    // ...and REST paths do not exist on the stream listener.
    let resp = c.open_stream(&format!("/v3/accounts/{NET}/summary")).await;
    assert_eq!(resp.status().as_u16(), 404);
    let bad = c.open_stream(&format!("/v3/accounts/{NET}/pricing/stream")).await;
    assert_eq!(bad.status().as_u16(), 400);
    let unauth = Client::with_token(&fake, None)
        .open_stream(&format!("/v3/accounts/{NET}/transactions/stream"))
        .await;
    assert_eq!(unauth.status().as_u16(), 401);
    let logged = fake.requests();
    assert!(logged.iter().filter(|r| r.stream).count() >= 3);
    assert_eq!(fake.stream_connections(), 0);
}

#[tokio::test]
async fn a_token_holds_at_most_20_streams() {
    let fake = start().await;
    let c = Client::new(&fake);
    let mut open = Vec::new();
    for _ in 0..20 {
        let resp = c
            .open_stream(&format!("/v3/accounts/{NET}/transactions/stream"))
            .await;
        assert_eq!(resp.status().as_u16(), 200);
        open.push(resp);
    }
    let refused = c
        .open_stream(&format!("/v3/accounts/{NET}/transactions/stream"))
        .await;
    assert_eq!(refused.status().as_u16(), 429);
    assert_eq!(fake.open_streams(), 20);
    // A client hanging up frees its slot.
    drop(open.pop());
    assert!(eventually(WAIT, || fake.open_streams() == 19).await);
    assert_eq!(fake.stream_connections(), 20);
}

#[tokio::test]
async fn dropping_the_fake_ends_its_streams() {
    let fake = start().await;
    let c = Client::new(&fake);
    let resp = c
        .open_stream(&format!("/v3/accounts/{NET}/transactions/stream"))
        .await;
    let mut lines = Lines::new(resp);
    drop(fake);
    assert!(lines.until(WAIT, |_| false).await.is_none());
    assert!(lines.ended);
}

#[tokio::test]
async fn v1_rates_and_events_streams() {
    let fake = start().await;
    let c = Client::new(&fake);
    let resp = c
        .open_stream(&format!(
            "/v1/prices?accountId={V1}&instruments=EUR_USD%2CUSD_JPY"
        ))
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let mut ticks = Lines::new(resp);
    let first = ticks.next(WAIT).await.unwrap_or_default();
    assert_eq!(
        first,
        json!({ "tick": { "instrument": "EUR_USD", "time": first["tick"]["time"], "bid": 1.08512, "ask": 1.08526 } })
    );
    let beat = ticks
        .until(WAIT, |l| l.get("heartbeat").is_some())
        .await
        .unwrap_or_default();
    assert!(beat["heartbeat"]["time"].as_str().is_some_and(|t| t.len() == 27));
    fake.set_price("USD_JPY", dec("150.100"), dec("150.114"));
    let tick = ticks
        .until(WAIT, |l| l.get("tick").is_some())
        .await
        .unwrap_or_default();
    assert_eq!(tick["tick"]["instrument"], "USD_JPY");
    assert_eq!(tick["tick"]["bid"], 150.1);

    let events = c.open_stream(&format!("/v1/events?accountIds={V1}")).await;
    assert_eq!(events.status().as_u16(), 200);
    let mut events = Lines::new(events);
    let (status, _) = c
        .form(
            reqwest::Method::POST,
            &format!("/v1/accounts/{V1}/orders"),
            &[
                ("instrument", "EUR_USD"),
                ("units", "2"),
                ("side", "buy"),
                ("type", "market"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let event = events
        .until(WAIT, |l| l.get("transaction").is_some())
        .await
        .unwrap_or_default();
    assert_eq!(event["transaction"]["type"], "MARKET_ORDER_CREATE");
    assert_eq!(event["transaction"]["units"], 2);
    // The v1 price stream needs an account and instruments.
    assert_eq!(
        c.open_stream("/v1/prices?instruments=EUR_USD")
            .await
            .status()
            .as_u16(),
        400
    );
}
