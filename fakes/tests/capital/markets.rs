//! Market search, details and navigation.

use crate::client::{dec, login, num, start};
use serde_json::Value;

fn epics(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["epic"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn search_and_details() {
    let fake = start().await;
    let c = login(&fake).await;
    let (status, body) = c.get("/markets?searchTerm=usd").await;
    assert_eq!(status, 200);
    assert_eq!(epics(&body["markets"]), ["EURUSD", "GBPUSD", "BTCUSD"]);
    let gold = c.get("/markets?searchTerm=gold").await.1["markets"][0].clone();
    for key in [
        "instrumentName",
        "expiry",
        "marketStatus",
        "instrumentType",
        "lotSize",
        "high",
        "low",
        "percentageChange",
        "netChange",
        "bid",
        "offer",
        "updateTime",
        "updateTimeUTC",
        "delayTime",
        "streamingPricesAvailable",
        "scalingFactor",
    ] {
        assert!(gold.get(key).is_some(), "{key} missing in {gold}");
    }
    let (status, body) = c.get("/markets?searchTerm=").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.null.searchTerm"))
    );
    assert_eq!(epics(&c.get("/markets").await.1["markets"]).len(), 6);

    // searchTerm wins over epics; epics gives details and skips unknown ones.
    assert!(c
        .get("/markets?searchTerm=gold&epics=AAPL")
        .await
        .1
        .get("markets")
        .is_some());
    let (status, body) = c.get("/markets?epics=AAPL,NOPE,EURUSD").await;
    assert_eq!(status, 200);
    let details = body["marketDetails"].as_array().cloned().unwrap_or_default();
    assert_eq!(details.len(), 2);
    let too_many = vec!["EURUSD"; 51].join(",");
    assert_eq!(c.get(&format!("/markets?epics={too_many}")).await.0, 400);

    let (status, eur) = c.get("/markets/EURUSD").await;
    assert_eq!(status, 200);
    assert_eq!(eur["instrument"]["type"], "CURRENCIES");
    assert_eq!(num(&eur["instrument"]["marginFactor"]), dec("3.33"));
    assert_eq!(eur["instrument"]["marginFactorUnit"], "PERCENTAGE");
    assert_eq!(eur["instrument"]["openingHours"]["zone"], "UTC");
    let rules = &eur["dealingRules"];
    assert_eq!(
        (
            rules["minDealSize"]["unit"].as_str(),
            num(&rules["minDealSize"]["value"])
        ),
        (Some("POINTS"), dec("100"))
    );
    assert_eq!(num(&rules["maxStopOrLimitDistance"]["value"]), dec("10"));
    assert_eq!(rules["trailingStopsPreference"], "AVAILABLE");
    assert_eq!(eur["snapshot"]["decimalPlacesFactor"], 5);
    assert_eq!(num(&eur["snapshot"]["offer"]), dec("1.08518"));
    assert_eq!(
        c.get("/markets/AAPL").await.1["dealingRules"]["trailingStopsPreference"],
        "NOT_AVAILABLE"
    );
    let (status, body) = c.get("/markets/NOPE").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("error.not-found.epic"))
    );

    // A price move shows in the snapshot.
    let snap = c.get("/markets/EURUSD").await.1["snapshot"].clone();
    assert!(num(&snap["high"]) > num(&snap["offer"]) && num(&snap["low"]) < num(&snap["bid"]));
    fake.set_price("EURUSD", dec("1.09612"), dec("1.09618"));
    let snap = c.get("/markets/EURUSD").await.1["snapshot"].clone();
    assert_eq!(
        (num(&snap["bid"]), num(&snap["netChange"])),
        (dec("1.09612"), dec("0.011"))
    );
    assert_eq!(num(&snap["high"]), dec("1.09618"));
    assert_eq!(num(&snap["percentageChange"]), dec("1.0137"));
}

#[tokio::test]
async fn navigation_lists_one_node_per_instrument_type() {
    let fake = start().await;
    let c = login(&fake).await;
    let (status, body) = c.get("/marketnavigation").await;
    assert_eq!(status, 200);
    let nodes = body["nodes"].as_array().cloned().unwrap_or_default();
    assert_eq!(nodes.len(), 5);
    let fx = nodes
        .iter()
        .find(|n| n["id"] == "hierarchy_v1.currencies_group")
        .cloned();
    assert!(fx.is_some(), "{body}");
    let (status, body) = c.get("/marketnavigation/hierarchy_v1.currencies_group").await;
    assert_eq!(status, 200);
    assert_eq!(body["nodes"], serde_json::json!([]));
    assert_eq!(epics(&body["markets"]), ["EURUSD", "GBPUSD"]);
    let one = c
        .get("/marketnavigation/hierarchy_v1.currencies_group?limit=1")
        .await
        .1;
    assert_eq!(epics(&one["markets"]), ["EURUSD"]);
    let (status, body) = c
        .get("/marketnavigation/hierarchy_v1.currencies_group?limit=0")
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("error.invalid.limit"))
    );
    assert_eq!(c.get("/marketnavigation/nowhere").await.0, 404);
}
