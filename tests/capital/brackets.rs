//! Capital.com brackets through the bridge under both readings of a field left out of
//! `PUT /positions/{dealId}` and `PUT /workingorders/{dealId}`: no official document says whether it removes
//! the stop or take profit or keeps it, so every test runs against a fake of each reading. The bridge sends
//! the whole intended state, so every change ends the same either way; a removal, which only a field left out
//! can express, either happens or is refused with a clear message, never reported done while the bracket
//! stays.

use crate::support;

use axum::http::Method;
use rust_decimal::Decimal;
use std::str::FromStr;
use support::capital::{self, HEDGE, NET};
use support::fake_capital::{FakeCapital, FakeOptions};
use support::TestApp;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// The fake of one reading and the bridge on it, logged in.
async fn start(kept: bool) -> (FakeCapital, TestApp, String) {
    let options = FakeOptions {
        omitted_stops_kept: kept,
        ..FakeOptions::default()
    };
    let (fake, app) = capital::start_with(options, "", "").await;
    let token = capital::login(&app).await;
    (fake, app, token)
}

/// Runs `$body(kept)` as one test per reading.
macro_rules! both_readings {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test]
            async fn left_out_removes() {
                super::$body(false).await;
            }
            #[tokio::test]
            async fn left_out_keeps() {
                super::$body(true).await;
            }
        }
    };
}

async fn position_brackets_change_whole(kept: bool) {
    let (fake, app, token) = start(kept).await;
    app.place(&token, NET, "instrument=GOLD&qty=1&side=buy&type=market")
        .await;
    let path = format!("/accounts/{NET}/positions/GOLD?locale=en");
    let deal = || fake.positions(NET).pop().expect("the deal");
    app.put(&token, &path, "stopLoss=1900&takeProfit=2100").await;
    assert_eq!(
        (deal().stop_level, deal().profit_level),
        (Some(d("1900")), Some(d("2100")))
    );
    // A guaranteed stop replaces the plain one, the take profit is sent again and stays.
    app.put(&token, &path, "guaranteedStop=1890&takeProfit=2100")
        .await;
    let p = deal();
    assert!(p.guaranteed_stop && !p.trailing_stop, "{p:?}");
    assert_eq!((p.stop_level, p.profit_level), (Some(d("1890")), Some(d("2100"))));
    // Back to a plain stop: the guaranteed flag is cleared explicitly, whatever a missing flag means.
    app.put(&token, &path, "stopLoss=1895&takeProfit=2110").await;
    let p = deal();
    assert!(!p.guaranteed_stop && !p.trailing_stop, "{p:?}");
    assert_eq!((p.stop_level, p.profit_level), (Some(d("1895")), Some(d("2110"))));
    // A trailing stop, then a plain stop again.
    app.put(&token, &path, "trailingStopPips=1000&takeProfit=2110")
        .await;
    let p = deal();
    assert!(p.trailing_stop && p.stop_distance.is_some(), "{p:?}");
    app.put(&token, &path, "stopLoss=1880&takeProfit=2110").await;
    let p = deal();
    assert!(!p.trailing_stop, "{p:?}");
    assert_eq!((p.stop_level, p.profit_level), (Some(d("1880")), Some(d("2110"))));
}
both_readings!(position_brackets, position_brackets_change_whole);

async fn removing_a_bracket_happens_or_is_refused(kept: bool) {
    let (fake, app, token) = start(kept).await;
    app.place(
        &token,
        NET,
        "instrument=EURUSD&qty=1000&side=buy&type=market&stopLoss=1.05&takeProfit=1.15",
    )
    .await;
    let deal = fake.positions(NET).pop().unwrap().deal_id;
    // Moving one leg keeps the other, under both readings.
    app.put(
        &token,
        &format!("/accounts/{NET}/orders/{deal}.tp?locale=en"),
        "qty=1000&limitPrice=1.12",
    )
    .await;
    let p = fake.positions(NET).pop().unwrap();
    assert_eq!((p.stop_level, p.profit_level), (Some(d("1.05")), Some(d("1.12"))));
    // Removing the stop loss: done, or refused in words while nothing else changed.
    let path = format!("/accounts/{NET}/orders/{deal}.sl?locale=en");
    if kept {
        let msg = app.refused(Method::DELETE, &token, &path, None).await;
        assert!(msg.contains("kept the stop loss") && msg.contains(&deal), "{msg}");
        let p = fake.positions(NET).pop().unwrap();
        assert_eq!((p.stop_level, p.profit_level), (Some(d("1.05")), Some(d("1.12"))));
    } else {
        app.delete(&token, &path, None).await;
        let p = fake.positions(NET).pop().unwrap();
        assert_eq!((p.stop_level, p.profit_level), (None, Some(d("1.12"))));
    }
    // What the bridge lists is what Capital.com holds.
    let legs: Vec<String> = app
        .orders(&token, NET)
        .await
        .into_iter()
        .filter(|o| o["parentType"] == "position")
        .map(|o| o["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let expected = if kept { 2 } else { 1 };
    assert_eq!(legs.len(), expected, "{legs:?}");
}
both_readings!(bracket_removal, removing_a_bracket_happens_or_is_refused);

async fn working_order_brackets_change_whole(kept: bool) {
    let (fake, app, token) = start(kept).await;
    let id = app
        .place(
            &token,
            NET,
            "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.0&stopLoss=0.95&takeProfit=1.1",
        )
        .await;
    let path = format!("/accounts/{NET}/orders/{id}?locale=en");
    let order = || {
        fake.working_orders(NET)
            .into_iter()
            .find(|w| w.deal_id == id)
            .expect("the working order")
    };
    // Price and stop move, the take profit is sent again.
    app.put(
        &token,
        &path,
        "qty=1000&limitPrice=1.01&stopLoss=0.96&takeProfit=1.1",
    )
    .await;
    let w = order();
    assert_eq!(
        (w.level, w.stop_level, w.profit_level),
        (d("1.01"), Some(d("0.96")), Some(d("1.1")))
    );
    // The take profit's own leg moved: the stop stays.
    app.put(
        &token,
        &format!("/accounts/{NET}/orders/{id}.tp?locale=en"),
        "qty=1000&limitPrice=1.105",
    )
    .await;
    let w = order();
    assert_eq!(
        (w.stop_level, w.profit_level),
        (Some(d("0.96")), Some(d("1.105")))
    );
    // The take profit left out of the ticket: removed, or refused in words.
    let form = "qty=1000&limitPrice=1.01&stopLoss=0.96";
    if kept {
        let msg = app.refused(Method::PUT, &token, &path, Some(form)).await;
        assert!(msg.contains("kept the take profit") && msg.contains(&id), "{msg}");
        assert_eq!(order().profit_level, Some(d("1.105")));
    } else {
        app.put(&token, &path, form).await;
        assert_eq!(order().profit_level, None);
    }
    assert_eq!(order().stop_level, Some(d("0.96")));
}
both_readings!(working_order_brackets, working_order_brackets_change_whole);

async fn hedged_deal_brackets_change_whole(kept: bool) {
    let (fake, app, token) = start(kept).await;
    app.place(
        &token,
        HEDGE,
        "instrument=GOLD&qty=1&side=buy&type=market&stopLoss=1900&takeProfit=2100",
    )
    .await;
    let list = app
        .get(
            &token,
            &format!("/accounts/{HEDGE}/individualPositions?locale=en"),
            "IndividualPositionsResponse",
        )
        .await;
    let id = list[0]["id"].as_str().unwrap().to_string();
    let path = format!("/accounts/{HEDGE}/individualPositions/{id}?locale=en");
    let deal = || {
        fake.positions(HEDGE)
            .into_iter()
            .find(|p| p.deal_id == id)
            .expect("the deal")
    };
    app.put(&token, &path, "stopLoss=1910&takeProfit=2100").await;
    let p = deal();
    assert_eq!((p.stop_level, p.profit_level), (Some(d("1910")), Some(d("2100"))));
    assert!(!p.guaranteed_stop);
    let form = "takeProfit=2100";
    if kept {
        let msg = app.refused(Method::PUT, &token, &path, Some(form)).await;
        assert!(msg.contains("kept the stop loss"), "{msg}");
        assert_eq!(deal().stop_level, Some(d("1910")));
    } else {
        app.put(&token, &path, form).await;
        assert_eq!(deal().stop_level, None);
    }
    assert_eq!(deal().profit_level, Some(d("2100")));
}
both_readings!(hedged_deal_brackets, hedged_deal_brackets_change_whole);
