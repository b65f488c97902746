//! The contract universe: search, security definitions, contract info and rules, trading schedule.

use crate::client::{start, Api, AAPL, CFD, ES, EURUSD, MSFT};
use serde_json::json;

#[tokio::test]
async fn search_finds_contracts_by_symbol_with_get_and_post() {
    let fake = start().await;
    let api = Api::new(&fake);
    let (status, rows) = api.get("/iserver/secdef/search?symbol=aapl").await;
    assert_eq!(status, 200);
    assert_eq!(rows[0]["conid"], AAPL.to_string());
    assert_eq!(rows[0]["companyHeader"], "APPLE INC - NASDAQ");
    assert_eq!(rows[0]["sections"][0]["secType"], "STK");
    let (_, rows) = api
        .post("/iserver/secdef/search", json!({ "symbol": "EUR.USD" }))
        .await;
    assert_eq!(rows[0]["conid"], EURUSD.to_string());
    let (_, rows) = api.get("/iserver/secdef/search?symbol=ES&secType=STK").await;
    assert_eq!(rows.as_array().map(Vec::len), Some(0));
    let (_, rows) = api.get("/iserver/secdef/search?symbol=micro&name=true").await;
    assert_eq!(rows[0]["conid"], MSFT.to_string());
    assert_eq!(api.get("/iserver/secdef/search").await.0, 400);
}

#[tokio::test]
async fn secdef_and_info_describe_ticks_lots_and_currencies() {
    let fake = start().await;
    let api = Api::new(&fake);
    let (status, body) = api.get(&format!("/trsrv/secdef?conids={ES},{CFD},999")).await;
    assert_eq!(status, 200);
    let rows = body["secdef"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["assetClass"], "FUT");
    assert_eq!(rows[0]["multiplier"], 50);
    assert_eq!(rows[0]["incrementRules"][0]["increment"], 0.25);
    assert_eq!(rows[1]["assetClass"], "CFD");
    let (_, info) = api
        .get(&format!("/iserver/contract/{EURUSD}/info-and-rules"))
        .await;
    assert_eq!(info["instrument_type"], "CASH");
    assert_eq!(info["exchange"], "IDEALPRO");
    assert_eq!(info["currency"], "USD");
    assert_eq!(info["rules"]["increment"], 0.00005);
    assert_eq!(info["rules"]["sizeIncrement"], 1);
    let (_, info) = api.get(&format!("/iserver/contract/{AAPL}/info")).await;
    assert_eq!(info["con_id"], AAPL);
    assert!(info.get("rules").is_none());
    assert_eq!(api.get("/iserver/contract/42/info").await.0, 400);
}

#[tokio::test]
async fn the_schedule_lists_a_week_of_sessions() {
    let fake = start().await;
    let api = Api::new(&fake);
    let (status, body) = api.get("/trsrv/secdef/schedule?assetClass=STK&symbol=AAPL").await;
    assert_eq!(status, 200);
    // The template week, 20000101 (a Saturday) to 20000107 (a Friday).
    assert_eq!(body[0]["schedules"].as_array().map(Vec::len), Some(7));
    assert_eq!(body[0]["schedules"][0]["tradingScheduleDate"], "20000101");
    // The default universe trades at all hours.
    assert_eq!(body[0]["timezone"], "Etc/UTC");
    let day = &body[0]["schedules"][0]["tradingtimes"][0];
    assert_eq!(
        (&day["openingTime"], &day["closingTime"]),
        (&json!("0000"), &json!("2400"))
    );
    // IBKR's asset classes name forex SWP; CASH is not one of them.
    let (status, _) = api.get("/trsrv/secdef/schedule?assetClass=CASH&symbol=EUR").await;
    assert_eq!(status, 400);
    let (_, body) = api.get("/trsrv/secdef/schedule?assetClass=SWP&symbol=EUR").await;
    assert_eq!(body[0]["exchange"], "IDEALPRO");
    let (_, body) = api
        .get("/trsrv/secdef/schedule?assetClass=STK&symbol=AAPL&exchange=NYSE")
        .await;
    assert_eq!(body.as_array().map(Vec::len), Some(0), "AAPL is listed on NASDAQ");
}

#[tokio::test]
async fn usual_hours_are_listed_in_the_exchanges_time_zone_with_liquid_sessions_and_holidays() {
    // Wednesday 2026-03-18: Good Friday (April 3) is within the month the schedule covers.
    let now = chrono::DateTime::from_timestamp(1_773_846_000, 0).unwrap();
    let fake = fakes::ibkr::FakeIbkr::start(fakes::ibkr::FakeIbkrOptions::moving_market(now)).await;
    let api = Api::new(&fake);
    let (_, body) = api.get("/trsrv/secdef/schedule?assetClass=STK&symbol=AAPL").await;
    assert_eq!(body[0]["timezone"], "America/New_York");
    let days = body[0]["schedules"].as_array().cloned().unwrap_or_default();
    let monday = &days[2];
    assert_eq!(monday["tradingtimes"][0]["openingTime"], "0400");
    assert_eq!(monday["sessions"][0]["openingTime"], "0930");
    assert_eq!(monday["sessions"][0]["closingTime"], "1600");
    assert_eq!(monday["sessions"][0]["prop"], "LIQUID");
    let good_friday = days.iter().find(|d| d["tradingScheduleDate"] == "20260403");
    assert_eq!(
        good_friday.map(|d| d["tradingtimes"][0]["closingTime"].clone()),
        Some(json!("0000")),
        "closed"
    );
    let (_, body) = api.get("/trsrv/secdef/schedule?assetClass=FUT&symbol=ES").await;
    assert_eq!(body[0]["timezone"], "America/Chicago");
    assert_eq!(body[0]["schedules"][2]["tradingtimes"][0]["openingTime"], "1700");
    assert_eq!(body[0]["schedules"][2]["tradingtimes"][0]["closingTime"], "1600");
}
