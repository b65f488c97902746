//! Reads: one account read per refresh, accounts, orders with their final states, executions.

use super::*;
use crate::backends::oanda::v20::V20Venue;
use crate::backends::oanda::venue::Venue;
use crate::broker::BrokerError;
use rust_decimal_macros::dec;

#[tokio::test]
async fn one_refresh_reads_the_account_once() {
    let (fake, base) = with_account().await;
    script_finals(&fake);
    let (conn, catalog, venue) = (conn(&base), fixtures::catalog(), V20Venue::new());
    let cx = ctx(&conn, &catalog);
    let snapshot = venue.snapshot(cx).await.unwrap();
    assert_eq!(snapshot.state.equity, dec!(100002.5000));
    assert_eq!(
        (snapshot.individual_positions.len(), snapshot.net_positions.len()),
        (2, 2)
    );
    assert_eq!(snapshot.orders, venue.orders(cx).await.unwrap());
    assert_eq!(
        fake.seen(&Method::GET, &path("")).len(),
        2,
        "one read for the whole refresh, one for the separate /orders"
    );
    assert_eq!(
        fake.seen(&Method::GET, &path("/orders")).len(),
        1,
        "the final orders are listed again only when the last transaction moves"
    );
}

#[tokio::test]
async fn another_token_never_gets_the_cached_account() {
    let (_fake, base) = with_account().await;
    let (good, catalog, venue) = (conn(&base), fixtures::catalog(), V20Venue::new());
    venue.state(ctx(&good, &catalog)).await.unwrap();
    let bad = Conn {
        http: good.http.clone(),
        token: Secret::new("someone-else"),
    };
    let e = venue.state(ctx(&bad, &catalog)).await.unwrap_err();
    assert!(
        matches!(&e, BrokerError::Unauthorized(m) if m.contains("Insufficient authorization")),
        "{e:?}"
    );
    assert!(!format!("{e:?}").contains("someone-else"));
}

#[tokio::test]
async fn accounts_come_with_their_summaries_and_an_unreadable_one_is_left_out() {
    let fake = Fake::default();
    fake.on(
        Method::GET,
        "/v3/accounts",
        200,
        json!({"accounts": [{"id": fixtures::ACCOUNT_ID, "tags": []}, {"id": "101-004-1435156-002", "tags": []}]}),
    );
    let summary = fixtures::account_json()["account"].clone();
    fake.on(
        Method::GET,
        &path("/summary"),
        200,
        json!({"account": summary, "lastTransactionID": "6380"}),
    );
    fake.on(
        Method::GET,
        "/v3/accounts/101-004-1435156-002/summary",
        403,
        json!({"errorMessage": "The account is not accessible"}),
    );
    let base = fake.serve().await;
    let heads = V20Venue::new().accounts(&conn(&base)).await.unwrap();
    assert_eq!(heads.len(), 1);
    assert_eq!(
        (heads[0].name.as_str(), heads[0].currency.as_str()),
        ("Primary", "USD")
    );
}

fn script_finals(fake: &Fake) {
    fake.on(Method::GET, &path("/orders"), 200, fixtures::all_orders_json());
    fake.on(
        Method::GET,
        &path("/transactions/6381"),
        200,
        json!({"transaction": fixtures::market_fill_json(), "lastTransactionID": "6381"}),
    );
    for (id, order, reason) in [
        ("6363", "6362", "INSUFFICIENT_MARGIN"),
        ("6361", "6360", "TIME_IN_FORCE_EXPIRED"),
    ] {
        fake.on(
            Method::GET,
            &path(&format!("/transactions/{id}")),
            200,
            json!({"transaction": fixtures::cancel_json(id, order, reason)}),
        );
    }
    fake.on(
        Method::GET,
        &path("/transactions/6345"),
        200,
        json!({"transaction": {"id": "6345", "type": "ORDER_FILL", "orderID": "6340", "instrument": "EUR_USD",
            "units": "-100", "price": "1.20000",
            "tradesClosed": [{"tradeID": "6331", "units": "-100", "price": "1.20000"}]}}),
    );
}

#[tokio::test]
async fn orders_are_the_pending_ones_and_those_finished_since_the_session_began() {
    let (fake, base) = with_account().await;
    script_finals(&fake);
    let (conn, catalog, venue) = (conn(&base), fixtures::catalog(), V20Venue::new());
    let orders = venue.orders(ctx(&conn, &catalog)).await.unwrap();
    let ids: Vec<&str> = orders.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "@tv-1", "@tv-1.tp", "@tv-1.sl", "@tv-1.ts", "6373", "6374", "6374.sl", "6368.tp", "6368.sl",
            "6368.ts", "6375.sl", "@tv-2", "@tv-3", "6360", "6331.tp"
        ]
    );
    let listed = fake.seen(&Method::GET, &path("/orders"));
    assert_eq!(
        (listed.len(), listed[0].query.as_str()),
        (1, "state=ALL&count=500")
    );

    // The same last transaction: neither the listing nor the transactions are read again.
    let again = venue.orders(ctx(&conn, &catalog)).await.unwrap();
    assert_eq!(again, orders);
    assert_eq!(fake.seen(&Method::GET, &path("/orders")).len(), 1);
    assert_eq!(fake.seen(&Method::GET, &path("/transactions/6381")).len(), 1);

    let history = venue.orders_history(ctx(&conn, &catalog), 3).await.unwrap();
    let ids: Vec<&str> = history.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["@tv-2", "@tv-3", "6360"]);
}

#[tokio::test]
async fn executions_are_read_once_then_only_the_new_ones() {
    let (fake, base) = with_account().await;
    fake.on(
        Method::GET,
        &path("/transactions/idrange"),
        200,
        json!({"transactions": [fixtures::market_fill_json(), fixtures::reversing_fill_json()],
               "lastTransactionID": "6380"}),
    );
    fake.on(
        Method::GET,
        &path("/transactions/idrange"),
        200,
        json!({"transactions": [], "lastTransactionID": "6380"}),
    );
    let (conn, catalog, venue) = (conn(&base), fixtures::catalog(), V20Venue::new());
    let all = venue.executions(ctx(&conn, &catalog), None, 10).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["6390.6368", "6390.6390", "6381"]);
    let scans = fake.seen(&Method::GET, &path("/transactions/idrange"));
    assert_eq!(scans.len(), 4, "four windows back from transaction 6380");
    assert_eq!(scans[0].query, "from=5381&to=6380&type=ORDER_FILL");
    assert_eq!(scans[3].query, "from=2381&to=3380&type=ORDER_FILL");

    let one = venue
        .executions(ctx(&conn, &catalog), Some("EUR_USD"), 1)
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert!(venue
        .executions(ctx(&conn, &catalog), Some("USD_JPY"), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        fake.seen(&Method::GET, &path("/transactions/idrange")).len(),
        4,
        "nothing new happened"
    );
}

#[tokio::test]
async fn a_failed_read_fails_the_refresh_after_one_read() {
    let fake = Fake::default();
    fake.on(Method::GET, &path(""), 503, json!({"errorMessage": "down"}));
    let base = fake.serve().await;
    let (conn, catalog, venue) = (conn(&base), fixtures::catalog(), V20Venue::new());
    let failed = venue.snapshot(ctx(&conn, &catalog)).await;
    assert!(matches!(failed, Err(BrokerError::Unavailable(_))), "{failed:?}");
    // One read, retried by the HTTP layer (three attempts), not one per part of the refresh.
    assert_eq!(fake.seen(&Method::GET, &path("")).len(), 3);
}
