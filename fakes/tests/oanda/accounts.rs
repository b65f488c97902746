//! Account summary and details, instruments and pricing as the v20 OpenAPI file describes them.

use crate::client::{d, dec, start, Client, HEDGE, NET};
use serde_json::Value;

#[tokio::test]
async fn summary_has_the_documented_fields_as_strings() {
    let fake = start().await;
    let c = Client::new(&fake);
    let (status, body) = c.get(&format!("/v3/accounts/{NET}/summary")).await;
    assert_eq!(status, 200);
    let a = &body["account"];
    assert_eq!(a["id"], NET);
    assert_eq!(a["currency"], "USD");
    assert_eq!(a["balance"], "100000.0000");
    assert_eq!(a["NAV"], "100000.0000");
    assert_eq!(a["hedgingEnabled"], false);
    assert_eq!(a["guaranteedStopLossOrderMode"], "DISABLED");
    for key in [
        "unrealizedPL",
        "pl",
        "marginUsed",
        "marginAvailable",
        "positionValue",
        "marginCloseoutPercent",
        "withdrawalLimit",
    ] {
        assert!(a[key].is_string(), "{key} should be a string: {a}");
    }
    for key in ["openTradeCount", "openPositionCount", "pendingOrderCount"] {
        assert_eq!(a[key], 0, "{key}");
    }
    // CREATE and the deposit are the first two transactions.
    assert_eq!(a["lastTransactionID"], "2");
    assert_eq!(body["lastTransactionID"], "2");
    assert!(a.get("trades").is_none());

    let (_, hedge) = c.get(&format!("/v3/accounts/{HEDGE}")).await;
    assert_eq!(hedge["account"]["hedgingEnabled"], true);
    assert_eq!(hedge["account"]["trades"], Value::Array(vec![]));
    assert_eq!(hedge["account"]["orders"], Value::Array(vec![]));
}

#[tokio::test]
async fn margin_and_unrealized_pl_follow_the_market() {
    let fake = start().await;
    let c = Client::new(&fake);
    c.market(NET, "EUR_USD", 10_000).await;
    // Bought at the ask 1.08526; marked at the bid.
    fake.set_price("EUR_USD", dec("1.09026"), dec("1.09040"));
    let (_, body) = c.get(&format!("/v3/accounts/{NET}")).await;
    let a = &body["account"];
    assert_eq!(a["unrealizedPL"], "50.0000");
    assert_eq!(a["NAV"], "100050.0000");
    // 10 000 × mid 1.09033 × 2% margin.
    assert_eq!(a["marginUsed"], "218.0660");
    assert_eq!(d(&a["marginAvailable"]), dec("100050") - dec("218.0660"));
    assert_eq!(a["openTradeCount"], 1);
    assert_eq!(a["openPositionCount"], 1);
    assert_eq!(a["trades"][0]["currentUnits"], "10000");
    assert_eq!(a["positions"][0]["long"]["units"], "10000");
    assert!(
        a["trades"][0].get("takeProfitOrder").is_none(),
        "summaries carry ids only"
    );
}

#[tokio::test]
async fn instruments_describe_pips_precisions_and_limits() {
    let fake = start().await;
    let c = Client::new(&fake);
    let (status, body) = c.get(&format!("/v3/accounts/{NET}/instruments")).await;
    assert_eq!(status, 200);
    let list = body["instruments"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 5);
    let eur = &list[0];
    assert_eq!(eur["name"], "EUR_USD");
    assert_eq!(eur["type"], "CURRENCY");
    assert_eq!(eur["pipLocation"], -4);
    assert_eq!(eur["displayPrecision"], 5);
    assert_eq!(eur["tradeUnitsPrecision"], 0);
    assert_eq!(eur["minimumTradeSize"], "1");
    assert_eq!(eur["minimumTrailingStopDistance"], "0.00050");
    assert_eq!(eur["maximumTrailingStopDistance"], "1.00000");
    assert_eq!(eur["marginRate"], "0.02");
    let (_, body) = c
        .get(&format!(
            "/v3/accounts/{NET}/instruments?instruments=XAU_USD,SPX500_USD"
        ))
        .await;
    let kinds: Vec<&str> = body["instruments"]
        .as_array()
        .map(|l| l.iter().filter_map(|i| i["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["METAL", "CFD"]);
    let (status, _) = c
        .get(&format!("/v3/accounts/{NET}/instruments?instruments=NOPE_USD"))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn pricing_gives_client_prices_and_home_conversions() {
    let fake = start().await;
    let c = Client::new(&fake);
    let (status, body) = c
        .get(&format!(
            "/v3/accounts/{NET}/pricing?instruments=EUR_USD,USD_JPY&includeHomeConversions=true"
        ))
        .await;
    assert_eq!(status, 200);
    let p = &body["prices"][0];
    assert_eq!(p["type"], "PRICE");
    assert_eq!(p["instrument"], "EUR_USD");
    assert_eq!(p["tradeable"], true);
    assert_eq!(p["bids"][0]["price"], "1.08512");
    assert_eq!(p["asks"][0]["price"], "1.08526");
    assert!(p["bids"][0]["liquidity"].is_u64());
    assert!(d(&p["closeoutBid"]) < dec("1.08512"));
    assert!(d(&p["closeoutAsk"]) > dec("1.08526"));
    assert!(p["time"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z') && t.len() == 30));
    // USD_JPY is quoted in yen: converting to USD divides by the rate.
    let jpy = &body["prices"][1]["quoteHomeConversionFactors"]["positiveUnits"];
    assert!(d(jpy) < dec("0.01"));
    let conversions = body["homeConversions"].as_array().cloned().unwrap_or_default();
    let codes: Vec<&str> = conversions
        .iter()
        .filter_map(|c| c["currency"].as_str())
        .collect();
    assert_eq!(codes, ["EUR", "USD", "JPY"]);
    assert_eq!(conversions[1]["accountGain"], "1.00000");
    assert!(body["time"].is_string());

    // `since` keeps only prices that changed after it.
    let since = body["time"].as_str().unwrap_or_default().to_string();
    fake.set_price("USD_JPY", dec("150.001"), dec("150.015"));
    let (_, body) = c
        .get(&format!(
            "/v3/accounts/{NET}/pricing?instruments=EUR_USD,USD_JPY&since={since}"
        ))
        .await;
    let names: Vec<&str> = body["prices"]
        .as_array()
        .map(|l| l.iter().filter_map(|p| p["instrument"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["USD_JPY"]);

    fake.set_halted("EUR_USD", true);
    let (_, body) = c
        .get(&format!("/v3/accounts/{NET}/pricing?instruments=EUR_USD"))
        .await;
    assert_eq!(body["prices"][0]["tradeable"], false);
    assert_eq!(c.get(&format!("/v3/accounts/{NET}/pricing")).await.0, 400);
}
