//! Order lifecycle on the paper broker, end to end through `app()`: every order type, brackets with
//! one-cancels-other, trailing and guaranteed stops, durations, modify, cancel, idempotent `requestId`,
//! previews with `confirmId`, order info, leverage, margin, executions and history.

use crate::support;

use axum::http::Method;
use rust_decimal::Decimal;
use serde_json::Value;
use support::*;

const ORDERS: &str = "/accounts/demo-net/orders?locale=en";

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[tokio::test]
async fn market_orders_fill_at_the_touch_and_record_an_execution() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let tick = app.tick("EURUSD", app.now());
    let buy = app
        .place(&token, NET, "instrument=EURUSD&qty=10000&side=buy&type=market")
        .await;
    let order = app.order(&token, NET, &buy).await;
    assert_eq!(
        (order["status"].as_str(), order["type"].as_str()),
        (Some("filled"), Some("market"))
    );
    assert_eq!(dec(&order["avgPrice"]), tick.ask, "a buy lifts the ask");
    assert_eq!(dec(&order["filledQty"]), d("10000"));
    let sell = app
        .place(&token, NET, "instrument=EURUSD&qty=4000&side=sell&type=market")
        .await;
    assert_eq!(
        dec(&app.order(&token, NET, &sell).await["avgPrice"]),
        tick.bid,
        "a sell hits the bid"
    );

    let execs = app
        .get(
            &token,
            "/accounts/demo-net/executions?locale=en",
            "ExecutionsResponse",
        )
        .await;
    let execs = execs.as_array().unwrap();
    assert_eq!(execs.len(), 2);
    assert_eq!(execs[0]["orderId"], sell.as_str(), "newest first");
    assert_eq!(execs[0]["isClose"], true);
    assert_eq!(execs[1]["isClose"], false);
    let only = app
        .get(
            &token,
            "/accounts/demo-net/executions?locale=en&maxCount=1",
            "ExecutionsResponse",
        )
        .await;
    assert_eq!(only.as_array().unwrap().len(), 1);
    let none = app
        .get(
            &token,
            "/accounts/demo-net/executions?instrument=AAPL",
            "ExecutionsResponse",
        )
        .await;
    assert!(none.as_array().unwrap().is_empty());

    // Realized P/L of the 4000 closed: (bid - ask) * 4000, in USD: the spread paid.
    let state = app.state(&token, NET).await;
    let realized = (tick.bid - tick.ask) * d("4000");
    assert_eq!(dec(&state["balance"]), d("100000") + realized.round_dp(2));
}

#[tokio::test]
async fn stock_commission_has_a_minimum_and_is_charged_to_the_balance() {
    let app = TestApp::new().await;
    let token = app.login().await;
    app.place(&token, NET, "instrument=AAPL&qty=10&side=buy&type=market")
        .await;
    let execs = app
        .get(&token, "/accounts/demo-net/executions", "ExecutionsResponse")
        .await;
    assert_eq!(
        dec(&execs[0]["commission"]),
        d("1"),
        "0.005/share on 10 shares is below the 1 USD minimum"
    );
    let state = app.state(&token, NET).await;
    assert_eq!(dec(&state["balance"]), d("99999"));
    app.place(&token, NET, "instrument=AAPL&qty=1000&side=buy&type=market")
        .await;
    let execs = app
        .get(&token, "/accounts/demo-net/executions", "ExecutionsResponse")
        .await;
    assert_eq!(dec(&execs[0]["commission"]), d("5"));
}

#[tokio::test]
async fn a_limit_order_works_until_the_market_reaches_it() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let t0 = app.now();
    let ask0 = app.tick("EURUSD", t0).ask;
    let low = (t0 + 1..=t0 + 3600)
        .map(|t| app.tick("EURUSD", t).ask)
        .min()
        .unwrap();
    assert!(low < ask0, "the feed dips within the hour");
    let hit = app.first_second("EURUSD", t0, 3600, |k| k.ask <= low).unwrap();
    let id = app
        .place(
            &token,
            NET,
            &format!("instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice={low}"),
        )
        .await;
    let working = app.order(&token, NET, &id).await;
    assert_eq!(working["status"], "working");
    assert_eq!(dec(&working["limitPrice"]), low);
    assert!(app.positions(&token, NET).await.is_empty());

    app.advance(hit - t0 - 1);
    assert_eq!(
        app.order(&token, NET, &id).await["status"],
        "working",
        "one second before the touch"
    );
    app.advance(1);
    let filled = app.order(&token, NET, &id).await;
    assert_eq!(filled["status"], "filled");
    assert!(
        dec(&filled["avgPrice"]) <= low,
        "a buy limit never fills above its limit"
    );
    let pos = app.positions(&token, NET).await;
    assert_eq!(dec(&pos[0]["avgPrice"]), dec(&filled["avgPrice"]));
}

#[tokio::test]
async fn a_marketable_limit_fills_at_once_at_the_better_market_price() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let tick = app.tick("BTCUSD", app.now());
    let limit = tick.ask + d("50");
    let id = app
        .place(
            &token,
            NET,
            &format!("instrument=BTCUSD&qty=0.01&side=buy&type=limit&limitPrice={limit}"),
        )
        .await;
    let o = app.order(&token, NET, &id).await;
    assert_eq!(o["status"], "filled");
    assert_eq!(dec(&o["avgPrice"]), tick.ask);
}

#[tokio::test]
async fn a_stop_order_triggers_when_crossed_and_fills_at_the_market() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let t0 = app.now();
    let high = (t0 + 1..=t0 + 3600)
        .map(|t| app.tick("USDJPY", t).ask)
        .max()
        .unwrap();
    let stop = high - d("0.005");
    assert!(
        stop > app.tick("USDJPY", t0).ask,
        "the feed rises within the hour"
    );
    let hit = app.first_second("USDJPY", t0, 3600, |k| k.ask >= stop).unwrap();
    let id = app
        .place(
            &token,
            NET,
            &format!("instrument=USDJPY&qty=1000&side=buy&type=stop&stopPrice={stop}"),
        )
        .await;
    app.advance(hit - t0 - 1);
    assert_eq!(app.order(&token, NET, &id).await["status"], "working");
    app.advance(1);
    let o = app.order(&token, NET, &id).await;
    assert_eq!(o["status"], "filled");
    assert_eq!(
        dec(&o["avgPrice"]),
        app.tick("USDJPY", hit).ask,
        "a stop becomes a market order"
    );
}

#[tokio::test]
async fn a_stop_limit_waits_for_its_stop_then_fills_within_its_limit() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let t0 = app.now();
    let high = (t0 + 1..=t0 + 3600)
        .map(|t| app.tick("GBPUSD", t).ask)
        .max()
        .unwrap();
    let stop = high - d("0.0002");
    let limit = stop + d("0.0001");
    assert!(stop > app.tick("GBPUSD", t0).ask);
    let trigger = app.first_second("GBPUSD", t0, 3600, |k| k.ask >= stop).unwrap();
    let fill = (trigger..=t0 + 3600)
        .find(|t| app.tick("GBPUSD", *t).ask <= limit)
        .unwrap();
    let form =
        format!("instrument=GBPUSD&qty=1000&side=buy&type=stoplimit&stopPrice={stop}&limitPrice={limit}");
    let id = app.place(&token, NET, &form).await;
    app.advance(fill - t0 - 1);
    let before = app.order(&token, NET, &id).await;
    assert_eq!(before["status"], "working");
    app.advance(1);
    let o = app.order(&token, NET, &id).await;
    assert_eq!(o["status"], "filled");
    assert!(dec(&o["avgPrice"]) <= limit);
    assert_eq!(o["type"], "stoplimit");
}

/// Brackets: inactive with the order, working on the position once it fills, and one cancels the other.
#[tokio::test]
async fn brackets_activate_on_fill_and_one_cancels_the_other() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let t0 = app.now();
    let low = (t0 + 1..=t0 + 1800)
        .map(|t| app.tick("EURUSD", t).ask)
        .min()
        .unwrap();
    let entry_at = app.first_second("EURUSD", t0, 1800, |k| k.ask <= low).unwrap();
    // Take profit far away; stop loss just under the lowest bid after the entry, so it is hit.
    let after = |from: i64| (from + 1..=from + 7200).map(|t| app.tick("EURUSD", t).bid);
    let min_bid_after = after(entry_at).min().unwrap();
    let sl = min_bid_after + d("0.00002");
    assert!(sl < low, "stop loss below the entry");
    let tp = low + d("0.05");
    let form = format!(
        "instrument=EURUSD&qty=2000&side=buy&type=limit&limitPrice={low}&stopLoss={sl}&takeProfit={tp}"
    );
    let parent = app.place(&token, NET, &form).await;
    let orders = app.orders(&token, NET).await;
    let children: Vec<&Value> = orders
        .iter()
        .filter(|o| o["parentId"] == parent.as_str())
        .collect();
    assert_eq!(children.len(), 2);
    for c in &children {
        assert_eq!(c["status"], "inactive");
        assert_eq!(c["parentType"], "order");
        assert_eq!(c["side"], "sell");
        assert_eq!(dec(&c["qty"]), d("2000"));
    }
    let sl_id = children.iter().find(|c| c["type"] == "stop").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tp_id = children.iter().find(|c| c["type"] == "limit").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    app.advance(entry_at - t0);
    assert_eq!(app.order(&token, NET, &parent).await["status"], "filled");
    for id in [&sl_id, &tp_id] {
        let c = app.order(&token, NET, id).await;
        assert_eq!(c["status"], "working");
        assert_eq!(c["parentType"], "position");
        assert_eq!(c["parentId"], "EURUSD", "netting position ids are the instrument");
    }
    let sl_hit = app
        .first_second("EURUSD", entry_at, 7200, |k| k.bid <= sl)
        .unwrap();
    app.advance(sl_hit - entry_at);
    let sl_order = app.order(&token, NET, &sl_id).await;
    assert_eq!(sl_order["status"], "filled");
    assert_eq!(
        dec(&sl_order["avgPrice"]),
        app.tick("EURUSD", sl_hit).bid,
        "a plain stop fills at the market"
    );
    assert_eq!(
        app.order(&token, NET, &tp_id).await["status"],
        "cancelled",
        "one-cancels-other"
    );
    assert!(
        app.positions(&token, NET).await.is_empty(),
        "the stop loss closed the position"
    );
}

#[tokio::test]
async fn cancelling_a_parent_cancels_its_brackets_and_final_orders_stay_listed() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let ask = app.tick("EURUSD", app.now()).ask;
    let limit = ask - d("0.0100");
    let form = format!(
        "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice={limit}&stopLoss={}&takeProfit={}&durationType=gtc",
        limit - d("0.0050"),
        limit + d("0.0050")
    );
    let parent = app.place(&token, NET, &form).await;
    app.delete(
        &token,
        &format!("/accounts/demo-net/orders/{parent}?locale=en"),
        None,
    )
    .await;
    let orders = app.orders(&token, NET).await;
    assert_eq!(orders.len(), 3, "final orders stay in /orders");
    assert!(orders.iter().all(|o| o["status"] == "cancelled"), "{orders:?}");
    let again = app
        .refused(
            Method::DELETE,
            &token,
            &format!("/accounts/demo-net/orders/{parent}"),
            None,
        )
        .await;
    assert_eq!(
        again,
        format!("order {parent} is already cancelled and cannot be changed")
    );
    // Still listed a minute later the same day, gone after the day ends, then found in history.
    app.advance(120);
    assert_eq!(app.orders(&token, NET).await.len(), 3);
    app.advance(13 * 3600);
    assert!(
        app.orders(&token, NET).await.is_empty(),
        "retired at the end of the UTC day"
    );
    let history = app
        .get(
            &token,
            "/accounts/demo-net/ordersHistory?locale=en",
            "OrdersHistoryResponse",
        )
        .await;
    assert_eq!(history.as_array().unwrap().len(), 3);
    let one = app
        .get(
            &token,
            "/accounts/demo-net/ordersHistory?maxCount=1",
            "OrdersHistoryResponse",
        )
        .await;
    assert_eq!(one.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn modify_changes_price_quantity_duration_and_the_bracket_set() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let ask = app.tick("EURUSD", app.now()).ask;
    let limit = ask - d("0.0100");
    let id = app
        .place(
            &token,
            NET,
            &format!("instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice={limit}"),
        )
        .await;
    let path = format!("/accounts/demo-net/orders/{id}?locale=en");
    let new_limit = limit - d("0.0010");
    let sl = new_limit - d("0.0040");
    app.put(
        &token,
        &path,
        &format!("qty=3000&limitPrice={new_limit}&stopLoss={sl}&durationType=day"),
    )
    .await;
    let o = app.order(&token, NET, &id).await;
    assert_eq!((dec(&o["qty"]), dec(&o["limitPrice"])), (d("3000"), new_limit));
    assert_eq!(o["duration"]["type"], "day");
    let orders = app.orders(&token, NET).await;
    let child = orders
        .iter()
        .find(|c| c["parentId"] == id.as_str())
        .expect("stop loss added");
    assert_eq!(
        (
            child["type"].as_str(),
            dec(&child["stopPrice"]),
            dec(&child["qty"])
        ),
        (Some("stop"), sl, d("3000"))
    );
    let child_id = child["id"].as_str().unwrap().to_owned();

    // Sending the ticket again with a take profit and no stop loss: SL removed, TP added.
    let tp = new_limit + d("0.0040");
    app.put(
        &token,
        &path,
        &format!("qty=3000&limitPrice={new_limit}&takeProfit={tp}"),
    )
    .await;
    let orders = app.orders(&token, NET).await;
    assert_eq!(
        orders.iter().find(|c| c["id"] == child_id.as_str()).unwrap()["status"],
        "cancelled"
    );
    let tp_order = orders
        .iter()
        .find(|c| c["parentId"] == id.as_str() && c["status"] == "inactive")
        .unwrap();
    assert_eq!(dec(&tp_order["limitPrice"]), tp);

    // Moving the limit through the market fills it at once.
    app.put(
        &token,
        &path,
        &format!("qty=3000&limitPrice={}", ask + d("0.0010")),
    )
    .await;
    assert_eq!(app.order(&token, NET, &id).await["status"], "filled");
    let err = app.refused(Method::PUT, &token, &path, Some("qty=1000")).await;
    assert!(err.contains("already filled"), "{err}");
}

#[tokio::test]
async fn durations_expire_day_and_gtt_orders_but_not_gtc() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let t0 = app.now();
    let far = app.tick("EURUSD", t0).ask - d("0.0500");
    let gtt_at = t0 + 600;
    let day = app
        .place(
            &token,
            NET,
            &format!("instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice={far}&durationType=day"),
        )
        .await;
    let gtt = app
        .place(
            &token,
            NET,
            &format!("instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice={far}&durationType=gtt&durationDateTime={gtt_at}"),
        )
        .await;
    let gtc = app
        .place(
            &token,
            NET,
            &format!("instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice={far}&durationType=gtc"),
        )
        .await;
    assert_eq!(
        app.order(&token, NET, &gtt).await["duration"],
        serde_json::json!({"type": "gtt", "datetime": gtt_at})
    );
    app.advance(599);
    assert_eq!(app.order(&token, NET, &gtt).await["status"], "working");
    app.advance(1);
    let expired = app.order(&token, NET, &gtt).await;
    assert_eq!(expired["status"], "cancelled");
    assert_eq!(expired["message"]["text"], "expired");
    // T0 is 12:00 UTC: the DAY order dies at midnight.
    app.advance(12 * 3600 - 600 - 1);
    assert_eq!(app.order(&token, NET, &day).await["status"], "working");
    app.advance(1);
    let history = app
        .get(
            &token,
            "/accounts/demo-net/ordersHistory",
            "OrdersHistoryResponse",
        )
        .await;
    let find = |id: &str| {
        history
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == id)
            .cloned()
    };
    assert_eq!(find(&day).map(|o| o["status"].clone()), Some("cancelled".into()));
    assert_eq!(app.order(&token, NET, &gtc).await["status"], "working");
    let past = app.refused(
        Method::POST,
        &token,
        ORDERS,
        Some(&format!("instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice={far}&durationType=gtt&durationDateTime={t0}")),
    )
    .await;
    assert_eq!(past, format!("the expiry time {t0} is not in the future"));
}

#[tokio::test]
async fn a_trailing_stop_follows_the_market_up_and_never_down() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let t0 = app.now();
    let ask0 = app.tick("BTCUSD", t0).ask;
    app.place(
        &token,
        NET,
        "instrument=BTCUSD&qty=0.01&side=buy&type=market&trailingStopPips=2000",
    )
    .await;
    let trail = app
        .orders(&token, NET)
        .await
        .into_iter()
        .find(|o| o["isTrailingStop"] == true)
        .expect("created");
    let id = trail["id"].as_str().unwrap().to_owned();
    assert_eq!(trail["parentType"], "position");
    assert_eq!(dec(&trail["trailingStopPips"]), d("2000"));
    // 2000 pips of 0.1 = 200 USD from the entry, then from the best bid seen, second by second.
    let distance = d("200");
    assert_eq!(dec(&trail["stopPrice"]), ask0 - distance);
    let mut expected = ask0 - distance;
    let mut moved = false;
    for step in 1..=240 {
        app.advance(60);
        let o = app.order(&token, NET, &id).await;
        let mut hit = None;
        for t in t0 + (step - 1) * 60 + 1..=t0 + step * 60 {
            let bid = app.tick("BTCUSD", t).bid;
            if bid - distance > expected {
                expected = bid - distance;
                moved = true;
            }
            if bid <= expected {
                hit = Some(t);
                break;
            }
        }
        match hit {
            Some(t) => {
                assert_eq!(o["status"], "filled", "stop {expected} crossed at {t}");
                assert_eq!(dec(&o["avgPrice"]), app.tick("BTCUSD", t).bid);
                break;
            }
            None => assert_eq!(dec(&o["stopPrice"]), expected, "after {step} minutes"),
        }
    }
    assert!(
        moved,
        "over four hours the market rose at least once and the stop followed"
    );
}

#[tokio::test]
async fn a_guaranteed_stop_fills_exactly_at_its_price() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let t0 = app.now();
    let bid0 = app.tick("US500", t0).bid;
    let low = (t0 + 1..=t0 + 7200)
        .map(|t| app.tick("US500", t).bid)
        .min()
        .unwrap();
    let gs = low + d("0.5");
    assert!(gs < bid0);
    app.place(
        &token,
        NET,
        &format!("instrument=US500&qty=1&side=buy&type=market&guaranteedStop={gs}"),
    )
    .await;
    let gs_order = app
        .orders(&token, NET)
        .await
        .into_iter()
        .find(|o| o["isGuaranteedStop"] == true)
        .unwrap();
    let hit = app.first_second("US500", t0, 7200, |k| k.bid <= gs).unwrap();
    app.advance(hit - t0);
    let o = app.order(&token, NET, gs_order["id"].as_str().unwrap()).await;
    assert_eq!(o["status"], "filled");
    assert_eq!(dec(&o["avgPrice"]), gs, "no slippage on a guaranteed stop");
}

#[tokio::test]
async fn the_same_request_id_never_creates_a_second_order() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let token = app.login().await;
    let form = "instrument=EURUSD&qty=1000&side=buy&type=market";
    let path = "/accounts/demo-net/orders?locale=en&requestId=abc-1";
    let first = app.post(&token, path, form, "PostOrderResponse").await;
    let again = app.post(&token, path, form, "PostOrderResponse").await;
    assert_eq!(first["orderId"], again["orderId"]);
    // Concurrent resends of another request id: still one order.
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (app, token) = (app.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            app.post(
                &token,
                "/accounts/demo-net/orders?requestId=abc-2",
                form,
                "PostOrderResponse",
            )
            .await["orderId"]
                .clone()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(app.orders(&token, NET).await.len(), 2);
    let pos = app.positions(&token, NET).await;
    assert_eq!(dec(&pos[0]["qty"]), d("2000"), "two orders, not eighteen");
    // The same request id on the other account is another request.
    app.post(
        &token,
        "/accounts/demo-hedge/orders?requestId=abc-1",
        form,
        "PostOrderResponse",
    )
    .await;
    assert_eq!(app.orders(&token, HEDGE).await.len(), 1);
}

#[tokio::test]
async fn preview_returns_costs_and_a_confirm_id_that_placing_honours_once() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let form = "instrument=EURUSD&qty=10000&side=buy&type=market";
    let preview = app
        .post(
            &token,
            "/accounts/demo-net/previewOrder?locale=en",
            form,
            "PreviewOrderResponse",
        )
        .await;
    let titles: Vec<&str> = preview["sections"][1]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Price",
            "Notional value",
            "Margin required",
            "Commission",
            "Pip value"
        ]
    );
    let confirm = preview["confirmId"].as_str().unwrap().to_owned();
    // Same order: placed. Used twice: refused. A different order with a fresh confirm id: refused.
    app.post(
        &token,
        &format!("{ORDERS}&confirmId={confirm}"),
        form,
        "PostOrderResponse",
    )
    .await;
    let reuse = app
        .refused(
            Method::POST,
            &token,
            &format!("{ORDERS}&confirmId={confirm}"),
            Some(form),
        )
        .await;
    assert_eq!(
        reuse,
        format!("unknown or already used confirmId '{confirm}': preview the order again")
    );
    let p2 = app
        .post(
            &token,
            "/accounts/demo-net/previewOrder",
            form,
            "PreviewOrderResponse",
        )
        .await;
    let c2 = p2["confirmId"].as_str().unwrap();
    let other = "instrument=EURUSD&qty=20000&side=buy&type=market";
    let changed = app
        .refused(
            Method::POST,
            &token,
            &format!("{ORDERS}&confirmId={c2}"),
            Some(other),
        )
        .await;
    assert_eq!(changed, "the order differs from its preview: preview it again");
    assert_eq!(app.orders(&token, NET).await.len(), 1);
    // Expired after five minutes.
    let p3 = app
        .post(
            &token,
            "/accounts/demo-net/previewOrder",
            form,
            "PreviewOrderResponse",
        )
        .await;
    app.advance(301);
    let c3 = p3["confirmId"].as_str().unwrap();
    let expired = app
        .refused(
            Method::POST,
            &token,
            &format!("{ORDERS}&confirmId={c3}"),
            Some(form),
        )
        .await;
    assert!(expired.contains("preview the order again"), "{expired}");
}

#[tokio::test]
async fn order_info_and_margin_follow_the_leverage_setting() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let lev = app
        .post(
            &token,
            "/accounts/demo-net/getLeverage",
            "instrument=EURUSD&side=buy&orderType=market",
            "GetLeverageResponse",
        )
        .await;
    assert_eq!(
        (dec(&lev["leverage"]), dec(&lev["min"]), dec(&lev["max"])),
        (d("30"), d("1"), d("30"))
    );
    let info_form = "instrument=EURUSD&qty=30000&side=buy&type=market";
    let info = app
        .post(
            &token,
            "/accounts/demo-net/orderInfo",
            info_form,
            "OrderInfoResponse",
        )
        .await;
    let margin_at = |info: &Value| -> Decimal {
        let rows = info["sections"][0]["rows"].as_array().unwrap();
        let v = rows.iter().find(|r| r["title"] == "Margin required").unwrap()["value"]
            .as_str()
            .unwrap();
        v.split(' ').next().unwrap().parse().unwrap()
    };
    let m30 = margin_at(&info);
    let preview = app
        .post(
            &token,
            "/accounts/demo-net/previewLeverage",
            "instrument=EURUSD&side=buy&orderType=market&leverage=10",
            "PreviewLeverageResponse",
        )
        .await;
    assert!(preview["infos"][0]
        .as_str()
        .unwrap()
        .starts_with("Margin for EURUSD positions changes"));
    let set = app
        .post(
            &token,
            "/accounts/demo-net/setLeverage",
            "instrument=EURUSD&side=buy&orderType=market&leverage=10",
            "SetLeverageResponse",
        )
        .await;
    assert_eq!(dec(&set["leverage"]), d("10"));
    let info = app
        .post(
            &token,
            "/accounts/demo-net/orderInfo",
            info_form,
            "OrderInfoResponse",
        )
        .await;
    let m10 = margin_at(&info);
    assert!(
        (m10 - m30 * d("3")).abs() <= d("0.02"),
        "{m30} at 30x, {m10} at 10x"
    );
    let instruments = app
        .get(&token, "/accounts/demo-net/instruments", "InstrumentsResponse")
        .await;
    let eur = instruments
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "EURUSD")
        .unwrap()
        .clone();
    assert_eq!(dec(&eur["marginRate"]), d("0.1"));
    let too_high = app
        .refused(
            Method::POST,
            &token,
            "/accounts/demo-net/setLeverage",
            Some("instrument=EURUSD&side=buy&orderType=market&leverage=31"),
        )
        .await;
    assert_eq!(
        too_high,
        "leverage for EURUSD must be a whole number from 1 to 30, got 31"
    );
}

#[tokio::test]
async fn an_order_beyond_the_free_margin_is_refused_and_nothing_is_created() {
    let app = TestApp::new().await;
    let token = app.login().await;
    // 100,000 USD at 2x buys about 3.3 BTC at 60k; 90 BTC needs far more.
    let err = app
        .refused(
            Method::POST,
            &token,
            ORDERS,
            Some("instrument=BTCUSD&qty=90&side=buy&type=market"),
        )
        .await;
    assert!(err.starts_with("insufficient margin: this order needs "), "{err}");
    assert!(err.ends_with(" USD is available"), "{err}");
    assert!(app.orders(&token, NET).await.is_empty());
    assert!(app.positions(&token, NET).await.is_empty());
}

#[tokio::test]
async fn a_pending_order_that_cannot_be_margined_at_fill_is_rejected_with_the_reason() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let t0 = app.now();
    let low = (t0 + 1..=t0 + 3600)
        .map(|t| app.tick("BTCUSD", t).ask)
        .min()
        .unwrap();
    let hit = app.first_second("BTCUSD", t0, 3600, |k| k.ask <= low).unwrap();
    let id = app
        .place(
            &token,
            NET,
            &format!("instrument=BTCUSD&qty=90&side=buy&type=limit&limitPrice={low}"),
        )
        .await;
    assert_eq!(app.order(&token, NET, &id).await["status"], "working");
    app.advance(hit - t0);
    let o = app.order(&token, NET, &id).await;
    assert_eq!(o["status"], "rejected");
    assert_eq!(o["message"]["type"], "error");
    assert!(o["message"]["text"]
        .as_str()
        .unwrap()
        .starts_with("insufficient margin"));
    assert!(app.positions(&token, NET).await.is_empty());
}

#[tokio::test]
async fn latency_tracking_gets_a_transaction_id_and_accepts_reports() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let placed = app
        .post(
            &token,
            ORDERS,
            "instrument=EURUSD&qty=1000&side=buy&type=market",
            "PostOrderResponse",
        )
        .await;
    let tx = placed["transactionId"]
        .as_str()
        .expect("transactionId when latency tracking is on")
        .to_owned();
    let report = format!(
        "transactionId={tx}&transactionType=place_order&instrument=EURUSD&qty=1000&side=buy&ask=1.1&bid=1.0\
         &timestamp=1548406235000&roundTripStartTime=1548406230000&roundTripDuration=183"
    );
    let r = app
        .send(
            Method::POST,
            "/accounts/demo-net/trackLatency",
            Some(&token),
            Some(&report),
        )
        .await;
    ok(&r, "OkEmpty");
    let missing = app
        .refused(
            Method::POST,
            &token,
            "/accounts/demo-net/trackLatency",
            Some("transactionType=place_order"),
        )
        .await;
    assert_eq!(missing, "form field 'transactionId' is required");
}

#[tokio::test]
async fn absurd_numbers_are_refused_at_the_edge_and_the_broker_keeps_working() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let form = "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1000000000000000000000000000";
    for path in [
        "/accounts/demo-net/previewOrder",
        "/accounts/demo-net/orderInfo",
        ORDERS,
    ] {
        let err = app.refused(Method::POST, &token, path, Some(form)).await;
        assert_eq!(
            err, "form field 'limitPrice' is out of range, got '1000000000000000000000000000'",
            "{path}"
        );
    }
    let id = app
        .place(&token, NET, "instrument=EURUSD&qty=1000&side=buy&type=market")
        .await;
    assert_eq!(app.order(&token, NET, &id).await["status"], "filled");
}

#[tokio::test]
async fn a_trailing_stop_beyond_zero_is_refused_and_nothing_is_placed() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let far = app.tick("EURUSD", app.now()).ask - d("0.0100");
    let form =
        format!("instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice={far}&trailingStopPips=50000");
    let err = app.refused(Method::POST, &token, ORDERS, Some(&form)).await;
    assert_eq!(
        err,
        "a trailing stop 50000 pips away would sit at or below zero for EURUSD"
    );
    assert!(
        app.orders(&token, NET).await.is_empty(),
        "neither the parent nor a bracket was left behind"
    );
}

#[tokio::test]
async fn a_refused_modify_changes_nothing() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let far = app.tick("EURUSD", app.now()).ask - d("0.0100");
    let sl = far - d("0.0050");
    let id = app
        .place(
            &token,
            NET,
            &format!("instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice={far}&stopLoss={sl}"),
        )
        .await;
    let before = app.orders(&token, NET).await;
    let path = format!("/accounts/demo-net/orders/{id}");
    let form = format!("qty=5000&limitPrice={}&trailingStopPips=50000", far - d("0.0010"));
    let err = app.refused(Method::PUT, &token, &path, Some(&form)).await;
    assert_eq!(
        err,
        "a trailing stop 50000 pips away would sit at or below zero for EURUSD"
    );
    assert_eq!(
        app.orders(&token, NET).await,
        before,
        "quantity, price and brackets all as they were"
    );
}
