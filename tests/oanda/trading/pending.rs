//! Pending orders: limit, stop and stop-limit (a STOP with a `priceBound`) with brackets, good till
//! cancelled and good till a date; cancelled; filled when the market reaches them; lapsed.

use super::support::fake_oanda::FakeOanda;
use super::support::oanda::{self, V20};
use super::{
    bodies, d, eventually, find_order, listed, mark, num, only, order_ids, orders_history, place, sent,
};
use axum::http::Method;
use serde_json::json;
use std::time::Duration;

/// The pending OANDA orders of the account: (kind, client id, units, price).
fn pending(fake: &FakeOanda) -> Vec<(String, Option<String>, String, String)> {
    fake.orders(V20)
        .into_iter()
        .filter(|o| o.state == "PENDING")
        .map(|o| {
            (
                o.kind,
                o.client_id,
                o.units.normalize().to_string(),
                o.price.map(|p| p.normalize().to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

fn s(x: &str) -> String {
    x.to_string()
}

#[tokio::test]
async fn limit_stop_and_stop_limit_orders_carry_their_brackets_and_durations() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    let gtd = fake.now().timestamp() + 86_400;
    let gtd_text = chrono::DateTime::from_timestamp(gtd, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let limit = place(
        &app,
        &token,
        V20,
        "lim",
        "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.08&stopLoss=1.07&takeProfit=1.1&durationType=GTC",
    )
    .await;
    let stop = place(
        &app,
        &token,
        V20,
        "stp",
        &format!("instrument=USDJPY&qty=500&side=sell&type=stop&stopPrice=149&takeProfit=148&durationType=GTD&durationDateTime={gtd}"),
    )
    .await;
    let stop_limit = place(
        &app,
        &token,
        V20,
        "stl",
        "instrument=GBPUSD&qty=2000&side=buy&type=stoplimit&stopPrice=1.27&limitPrice=1.271&trailingStopPips=30",
    )
    .await;
    assert_eq!([&limit, &stop, &stop_limit], ["@tvb-lim", "@tvb-stp", "@tvb-stl"]);

    let ext = |id: &str| json!({"id": format!("tvb-{id}"), "tag": "tvbridge", "comment": mark(V20)});
    assert_eq!(
        bodies(&fake, "POST", "/orders"),
        [
            json!({"order": {"type": "LIMIT", "instrument": "EUR_USD", "units": "1000", "price": "1.08000",
                "timeInForce": "GTC", "positionFill": "DEFAULT", "clientExtensions": ext("lim"),
                "takeProfitOnFill": {"price": "1.10000"}, "stopLossOnFill": {"price": "1.07000"}}}),
            json!({"order": {"type": "STOP", "instrument": "USD_JPY", "units": "-500", "price": "149.000",
                "timeInForce": "GTD", "gtdTime": gtd_text, "positionFill": "DEFAULT", "clientExtensions": ext("stp"),
                "takeProfitOnFill": {"price": "148.000"}}}),
            json!({"order": {"type": "STOP", "instrument": "GBP_USD", "units": "2000", "price": "1.27000",
                "priceBound": "1.27100", "timeInForce": "GTC", "positionFill": "DEFAULT",
                "clientExtensions": ext("stl"), "trailingStopLossOnFill": {"distance": "0.00300"}}}),
        ]
    );
    assert_eq!(
        pending(&fake),
        [
            (s("LIMIT"), Some(s("tvb-lim")), s("1000"), s("1.08")),
            (s("STOP"), Some(s("tvb-stp")), s("-500"), s("149")),
            (s("STOP"), Some(s("tvb-stl")), s("2000"), s("1.27")),
        ]
    );
    assert!(fake.trades(V20).is_empty());

    // Working orders, and the legs they will create (inactive, their parent is the order).
    assert_eq!(
        order_ids(&app, &token, V20).await,
        [
            "@tvb-lim",
            "@tvb-lim.sl",
            "@tvb-lim.tp",
            "@tvb-stl",
            "@tvb-stl.ts",
            "@tvb-stp",
            "@tvb-stp.tp"
        ]
    );
    let o = listed(&app, &token, V20, &limit).await;
    assert_eq!(
        (o["type"].as_str(), o["status"].as_str(), o["side"].as_str()),
        (Some("limit"), Some("working"), Some("buy"))
    );
    assert_eq!((num(&o["qty"]), num(&o["limitPrice"])), (d("1000"), d("1.08")));
    assert_eq!(o["duration"], json!({"type": "GTC"}));
    let o = listed(&app, &token, V20, &stop).await;
    assert_eq!(
        (o["type"].as_str(), o["side"].as_str()),
        (Some("stop"), Some("sell"))
    );
    assert_eq!((num(&o["qty"]), num(&o["stopPrice"])), (d("500"), d("149")));
    assert_eq!(o["duration"], json!({"type": "GTD", "datetime": gtd}));
    let o = listed(&app, &token, V20, &stop_limit).await;
    assert_eq!(o["type"], "stoplimit");
    assert_eq!(
        (num(&o["stopPrice"]), num(&o["limitPrice"])),
        (d("1.27"), d("1.271"))
    );
    for (leg, kind, side, price_field, price) in [
        ("@tvb-lim.tp", "limit", "sell", "limitPrice", "1.1"),
        ("@tvb-lim.sl", "stop", "sell", "stopPrice", "1.07"),
        ("@tvb-stp.tp", "limit", "buy", "limitPrice", "148"),
        // A trailing stop starts 30 pips from the entry price.
        ("@tvb-stl.ts", "stop", "sell", "stopPrice", "1.267"),
    ] {
        let o = listed(&app, &token, V20, leg).await;
        let parent = leg.rsplit_once('.').map(|(p, _)| p);
        assert_eq!(
            (
                o["type"].as_str(),
                o["side"].as_str(),
                o["status"].as_str(),
                o["parentType"].as_str(),
                o["parentId"].as_str()
            ),
            (Some(kind), Some(side), Some("inactive"), Some("order"), parent),
            "{o}"
        );
        assert_eq!(num(&o[price_field]), d(price), "{o}");
    }
    let ts = listed(&app, &token, V20, "@tvb-stl.ts").await;
    assert_eq!(
        (ts["isTrailingStop"].as_bool(), num(&ts["trailingStopPips"])),
        (Some(true), d("30"))
    );
}

#[tokio::test]
async fn a_cancelled_order_stays_listed_as_cancelled_and_in_the_history() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    let stop = place(
        &app,
        &token,
        V20,
        "stp",
        "instrument=USDJPY&qty=500&side=sell&type=stop&stopPrice=149&takeProfit=148",
    )
    .await;
    let oanda_id = only(fake.orders(V20)).id;
    app.delete(&token, &format!("/accounts/{V20}/orders/{stop}?locale=en"), None)
        .await;
    assert_eq!(
        sent(&fake.requests(), "PUT", &format!("/orders/{oanda_id}/cancel")).len(),
        1
    );
    assert_eq!(only(fake.orders(V20)).state, "CANCELLED");
    // Its leg goes with it; the order itself stays visible until the session ends.
    assert_eq!(order_ids(&app, &token, V20).await, std::slice::from_ref(&stop));
    let o = listed(&app, &token, V20, &stop).await;
    assert_eq!(o["status"], "cancelled");
    assert_eq!(o["message"]["text"], "Cancelled on request.");
    let history = only(orders_history(&app, &token, V20).await);
    assert_eq!(
        (history["id"].as_str(), history["status"].as_str()),
        (Some(stop.as_str()), Some("cancelled"))
    );
    // A second cancel finds nothing to cancel and says so.
    let again = app
        .refused(
            Method::DELETE,
            &token,
            &format!("/accounts/{V20}/orders/{stop}?locale=en"),
            None,
        )
        .await;
    assert_eq!(
        again,
        "Order @tvb-stp is not pending at OANDA (it was filled or cancelled, or is unknown)."
    );
}

#[tokio::test]
async fn a_limit_order_fills_into_a_trade_whose_legs_take_over() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    let limit = place(
        &app,
        &token,
        V20,
        "lim",
        "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.08&stopLoss=1.07&takeProfit=1.1",
    )
    .await;
    fake.set_price("EUR_USD", d("1.07980"), d("1.07994"));
    let filled = eventually("the limit order filled", || async {
        find_order(&app, &token, V20, &limit)
            .await
            .filter(|o| o["status"] == "filled")
    })
    .await;
    assert_eq!(
        (num(&filled["filledQty"]), num(&filled["avgPrice"])),
        (d("1000"), d("1.07994"))
    );
    let trade = only(fake.trades(V20));
    assert_eq!(
        (trade.price, trade.stop_loss, trade.take_profit),
        (d("1.07994"), Some(d("1.07")), Some(d("1.1")))
    );
    // The order's inactive legs became the trade's working brackets.
    let mut ids = order_ids(&app, &token, V20).await;
    ids.retain(|i| i != &limit);
    assert_eq!(ids, [format!("{}.sl", trade.id), format!("{}.tp", trade.id)]);
    let sl = listed(&app, &token, V20, &format!("{}.sl", trade.id)).await;
    assert_eq!(
        (sl["status"].as_str(), sl["parentType"].as_str()),
        (Some("working"), Some("position"))
    );
}

#[tokio::test]
async fn a_good_till_date_order_lapses_and_is_shown_as_expired() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    let gtd = fake.now().timestamp() + 3_600;
    let id = place(
        &app,
        &token,
        V20,
        "gtd",
        &format!("instrument=EURUSD&qty=1000&side=sell&type=limit&limitPrice=1.09&durationType=GTD&durationDateTime={gtd}"),
    )
    .await;
    fake.advance_clock(Duration::from_secs(3_601));
    assert_eq!(only(fake.orders(V20)).state, "CANCELLED");
    let o = eventually("the order lapsed", || async {
        find_order(&app, &token, V20, &id)
            .await
            .filter(|o| o["status"] != "working")
    })
    .await;
    assert_eq!(o["status"], "cancelled", "an expiry is no rejection: {o}");
    assert_eq!(o["message"]["text"], "The order expired.");
}
