//! Accounts and portfolio: account lists, switching, summary and ledger after fills, paged positions.

use crate::client::{dec, mkt, Api, AAPL, ACCT, CFD, ES, EURUSD, MSFT};
use fakes::ibkr::{FakeIbkr, FakeIbkrAccount, FakeIbkrOptions};
use serde_json::json;

async fn two_accounts() -> FakeIbkr {
    FakeIbkr::start(FakeIbkrOptions {
        accounts: vec![
            FakeIbkrAccount::paper(ACCT, "USD"),
            FakeIbkrAccount::paper("DU7654321", "USD"),
        ],
        positions_page_size: 2,
        ..FakeIbkrOptions::relaxed()
    })
    .await
}

#[tokio::test]
async fn accounts_are_listed_by_both_resources() {
    let fake = two_accounts().await;
    let api = Api::new(&fake);
    let (_, body) = api.get("/iserver/accounts").await;
    assert_eq!(body["accounts"], json!([ACCT, "DU7654321"]));
    assert_eq!(body["selectedAccount"], ACCT);
    assert_eq!(body["isPaper"], true);
    let (_, rows) = api.get("/portfolio/accounts").await;
    assert_eq!(rows[1]["id"], "DU7654321");
    assert_eq!(rows[0]["currency"], "USD");
    assert_eq!(rows[0]["type"], "DEMO");
}

#[tokio::test]
async fn switching_accounts_changes_what_live_orders_report() {
    let fake = two_accounts().await;
    let api = Api::ready(&fake).await;
    let id = api.place_one(crate::client::lmt(AAPL, "BUY", 1, 180.0)).await;
    assert_eq!(api.live_orders().await.len(), 1);
    // Another account's path cannot touch it.
    let (_, body) = api
        .delete(&format!("/iserver/account/DU7654321/order/{id}"))
        .await;
    assert_eq!(body["error"], format!("OrderID {id} belongs to another account"));
    let (status, body) = api
        .post("/iserver/account", json!({ "acctId": "DU7654321" }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["set"], true);
    assert_eq!(api.live_orders().await.len(), 0);
    let (_, body) = api
        .get(&format!("/iserver/account/orders?accountId={ACCT}"))
        .await;
    assert_eq!(body["orders"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        api.post("/iserver/account", json!({ "acctId": "U0" })).await.0,
        400
    );
}

#[tokio::test]
async fn positions_come_in_pages() {
    let fake = two_accounts().await;
    let api = Api::ready(&fake).await;
    for conid in [AAPL, MSFT, EURUSD, ES, CFD] {
        api.place_one(mkt(conid, "BUY", 1)).await;
    }
    let mut all = Vec::new();
    for page in 0..4 {
        let (status, rows) = api.get(&format!("/portfolio/{ACCT}/positions/{page}")).await;
        assert_eq!(status, 200);
        let rows = rows.as_array().cloned().unwrap_or_default();
        assert_eq!(rows.len(), [2, 2, 1, 0][page]);
        all.extend(rows);
    }
    let conids: Vec<i64> = all.iter().filter_map(|r| r["conid"].as_i64()).collect();
    assert_eq!(conids.len(), 5);
    let es = all.iter().find(|r| r["conid"] == ES).unwrap();
    assert_eq!(es["assetClass"], "FUT");
    assert_eq!(es["avgPrice"], 5012.5);
    assert_eq!(es["avgCost"], 250_625);
    assert_eq!(api.get(&format!("/portfolio/{ACCT}/positions/x")).await.0, 400);
    assert_eq!(api.get("/portfolio/U0/positions/0").await.0, 400);
}

#[tokio::test]
async fn summary_and_ledger_follow_fills_and_prices() {
    let fake = two_accounts().await;
    let api = Api::ready(&fake).await;
    api.place_one(mkt(AAPL, "BUY", 100)).await;
    let (_, ledger) = api.get(&format!("/portfolio/{ACCT}/ledger")).await;
    // 1,000,000 - 100 x 185.44 - 1.
    assert_eq!(ledger["USD"]["cashbalance"], 981_455);
    assert_eq!(ledger["BASE"]["key"], "LedgerList");
    // Valued at the middle 185.43: 18,543; the spread and commission are lost.
    assert_eq!(ledger["USD"]["netliquidationvalue"], 999_998);
    assert_eq!(ledger["USD"]["unrealizedpnl"], -1);
    fake.set_price(AAPL, dec("190"), dec("190.02"));
    let (_, summary) = api.get(&format!("/portfolio/{ACCT}/summary")).await;
    assert_eq!(summary["netliquidation"]["amount"], 1_000_456);
    assert_eq!(summary["netliquidation"]["currency"], "USD");
    assert_eq!(summary["totalcashvalue"]["amount"], 981_455);
    assert_eq!(summary["accountcode"]["value"], ACCT);
    assert!(summary["availablefunds"]["amount"].as_f64().unwrap() < 1_000_456.0);
    let (_, other) = api.get("/portfolio/DU7654321/ledger").await;
    assert_eq!(other["USD"]["cashbalance"], 1_000_000);
}
