//! Trades as individual positions and OANDA positions as net positions: brackets set, moved and removed
//! (through the position and through its legs), partial and full close, net close of the open sides only,
//! an opposite order reversing the position on a FIFO account and opening a second trade on a hedging one.

use super::support::oanda::{self, V20, V20_HEDGE};
use super::{bodies, d, executions, find_order, individual, net, num, only, order_ids, place, sorted};
use serde_json::json;

#[tokio::test]
async fn brackets_of_an_individual_position_are_set_moved_and_removed() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    place(
        &app,
        &token,
        V20,
        "m",
        "instrument=EURUSD&qty=1000&side=buy&type=market",
    )
    .await;
    let trade = only(fake.trades(V20)).id;
    let path = format!("/accounts/{V20}/individualPositions/{trade}?locale=en");
    let orders_put = format!("/trades/{trade}/orders");

    app.put(&token, &path, "stopLoss=1.07&takeProfit=1.1&trailingStopPips=25")
        .await;
    app.put(&token, &path, "stopLoss=1.075&takeProfit=1.1&trailingStopPips=25")
        .await;
    app.put(&token, &path, "stopLoss=1.075&trailingStopPips=25").await;
    // Only what changes is sent: re-sending the trailing stop would restart it from the current price.
    assert_eq!(
        bodies(&fake, "PUT", &orders_put),
        [
            json!({"takeProfit": {"price": "1.10000"}, "stopLoss": {"price": "1.07000"},
                "trailingStopLoss": {"distance": "0.00250"}}),
            json!({"stopLoss": {"price": "1.07500"}}),
            json!({"takeProfit": null}),
        ]
    );
    let t = only(fake.trades(V20));
    assert_eq!(
        (t.stop_loss, t.take_profit, t.trailing_distance),
        (Some(d("1.075")), None, Some(d("0.0025")))
    );
    assert_eq!(
        order_ids(&app, &token, V20).await,
        sorted(&["@tvb-m", &format!("{trade}.sl"), &format!("{trade}.ts")])
    );

    // Through the legs themselves: move the stop loss, drop the trailing stop.
    app.put(
        &token,
        &format!("/accounts/{V20}/orders/{trade}.sl?locale=en"),
        "qty=1000&stopPrice=1.078",
    )
    .await;
    app.delete(
        &token,
        &format!("/accounts/{V20}/orders/{trade}.ts?locale=en"),
        None,
    )
    .await;
    assert_eq!(
        bodies(&fake, "PUT", &orders_put)[3..],
        [
            json!({"stopLoss": {"price": "1.07800"}}),
            json!({"trailingStopLoss": null})
        ]
    );
    let t = only(fake.trades(V20));
    assert_eq!(
        (t.stop_loss, t.take_profit, t.trailing_distance),
        (Some(d("1.078")), None, None)
    );
    let sl = find_order(&app, &token, V20, &format!("{trade}.sl"))
        .await
        .expect("stop loss");
    assert_eq!(
        (num(&sl["stopPrice"]), sl["status"].as_str()),
        (d("1.078"), Some("working"))
    );
    assert_eq!(
        order_ids(&app, &token, V20).await,
        sorted(&["@tvb-m", &format!("{trade}.sl")])
    );
}

#[tokio::test]
async fn a_trade_is_closed_in_part_then_in_full() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20_HEDGE).await;
    place(
        &app,
        &token,
        V20_HEDGE,
        "m",
        "instrument=EURUSD&qty=1000&side=buy&type=market&stopLoss=1.07",
    )
    .await;
    let trade = only(fake.trades(V20_HEDGE)).id;
    let path = format!("/accounts/{V20_HEDGE}/individualPositions/{trade}?locale=en");
    app.delete(&token, &path, Some("amount=400")).await;
    let t = only(fake.trades(V20_HEDGE));
    assert_eq!(
        (t.id.as_str(), t.units, t.stop_loss),
        (trade.as_str(), d("600"), Some(d("1.07")))
    );
    let position = only(individual(&app, &token, V20_HEDGE).await);
    assert_eq!(num(&position["qty"]), d("600"));
    let sl = find_order(&app, &token, V20_HEDGE, &format!("{trade}.sl"))
        .await
        .expect("stop loss");
    assert_eq!(num(&sl["qty"]), d("600"), "the bracket follows the trade's size");

    app.delete(&token, &path, None).await;
    assert_eq!(
        bodies(&fake, "PUT", &format!("/trades/{trade}/close")),
        [json!({"units": "400"}), json!({"units": "ALL"})]
    );
    assert!(fake.trades(V20_HEDGE).is_empty());
    assert!(individual(&app, &token, V20_HEDGE).await.is_empty());
    assert!(net(&app, &token, V20_HEDGE).await.is_empty());
    assert_eq!(
        order_ids(&app, &token, V20_HEDGE).await,
        ["@tvb-m"],
        "the stop loss left with its trade"
    );
    // Closing a trade that is gone is refused with words, and nothing is sent.
    let msg = app.refused(axum::http::Method::DELETE, &token, &path, None).await;
    assert_eq!(msg, format!("Trade {trade} is not open at OANDA."));
    assert_eq!(bodies(&fake, "PUT", &format!("/trades/{trade}/close")).len(), 2);

    // The closes are executions of the trade.
    let fills = executions(&app, &token, V20_HEDGE).await;
    let closes: Vec<(bool, String, String)> = fills
        .iter()
        .map(|e| {
            (
                e["isClose"].as_bool().unwrap_or_default(),
                e["side"].as_str().unwrap_or_default().to_string(),
                num(&e["qty"]).to_string(),
            )
        })
        .collect();
    assert_eq!(
        closes,
        [
            (true, "sell".to_string(), "600".to_string()),
            (true, "sell".to_string(), "400".to_string()),
            (false, "buy".to_string(), "1000".to_string()),
        ]
    );
    assert!(fills.iter().all(|e| e["positionId"] == trade.as_str()));
}

#[tokio::test]
async fn a_net_position_is_closed_on_its_open_sides_only() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20_HEDGE).await;
    place(
        &app,
        &token,
        V20_HEDGE,
        "a",
        "instrument=EURUSD&qty=1000&side=buy&type=market",
    )
    .await;
    place(
        &app,
        &token,
        V20_HEDGE,
        "b",
        "instrument=EURUSD&qty=300&side=buy&type=market",
    )
    .await;
    place(
        &app,
        &token,
        V20_HEDGE,
        "c",
        "instrument=USDJPY&qty=700&side=sell&type=market",
    )
    .await;
    let positions = net(&app, &token, V20_HEDGE).await;
    assert_eq!(positions.len(), 2, "{positions:?}");
    let eur = positions.iter().find(|p| p["id"] == "EURUSD").expect("EURUSD");
    assert_eq!((num(&eur["longQty"]), num(&eur["shortQty"])), (d("1300"), d("0")));
    let path = |symbol: &str| format!("/accounts/{V20_HEDGE}/netPositions/{symbol}?locale=en");
    app.delete(&token, &path("EURUSD"), None).await;
    app.delete(&token, &path("USDJPY"), None).await;
    assert_eq!(
        bodies(&fake, "PUT", "/positions/EUR_USD/close"),
        [json!({"longUnits": "ALL"})]
    );
    assert_eq!(
        bodies(&fake, "PUT", "/positions/USD_JPY/close"),
        [json!({"shortUnits": "ALL"})]
    );
    assert!(fake.trades(V20_HEDGE).is_empty());
    assert!(net(&app, &token, V20_HEDGE).await.is_empty());

    // Both sides open (hedged): both are closed in one request.
    place(
        &app,
        &token,
        V20_HEDGE,
        "d",
        "instrument=EURUSD&qty=1000&side=buy&type=market",
    )
    .await;
    place(
        &app,
        &token,
        V20_HEDGE,
        "e",
        "instrument=EURUSD&qty=400&side=sell&type=market",
    )
    .await;
    app.delete(&token, &path("EURUSD"), None).await;
    assert_eq!(
        bodies(&fake, "PUT", "/positions/EUR_USD/close")[1],
        json!({"longUnits": "ALL", "shortUnits": "ALL"})
    );
    assert!(fake.trades(V20_HEDGE).is_empty());
    let msg = app
        .refused(axum::http::Method::DELETE, &token, &path("EURUSD"), None)
        .await;
    assert_eq!(msg, "There is no open EURUSD position at OANDA.");
}

#[tokio::test]
async fn on_a_fifo_account_an_opposite_order_of_twice_the_size_reverses_the_position() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    place(
        &app,
        &token,
        V20,
        "long",
        "instrument=EURUSD&qty=1000&side=buy&type=market",
    )
    .await;
    let long = only(fake.trades(V20));
    let reverse = place(
        &app,
        &token,
        V20,
        "rev",
        "instrument=EURUSD&qty=2000&side=sell&type=market",
    )
    .await;
    let short = only(fake.trades(V20));
    assert_ne!(short.id, long.id);
    assert_eq!((short.units, short.price), (d("-1000"), d("1.08512")));
    let position = only(individual(&app, &token, V20).await);
    assert_eq!(
        (
            position["id"].as_str(),
            position["side"].as_str(),
            num(&position["qty"])
        ),
        (Some(short.id.as_str()), Some("sell"), d("1000"))
    );
    let netted = only(net(&app, &token, V20).await);
    assert_eq!(
        (
            num(&netted["qty"]),
            num(&netted["longQty"]),
            num(&netted["shortQty"])
        ),
        (d("-1000"), d("0"), d("1000"))
    );
    // One fill, two executions: the close of the long trade and the opening of the short one.
    let fills = executions(&app, &token, V20).await;
    let of_reverse: Vec<_> = fills
        .iter()
        .filter(|e| e["orderId"] == reverse.as_str())
        .collect();
    assert_eq!(of_reverse.len(), 2, "{fills:?}");
    let close = of_reverse
        .iter()
        .find(|e| e["isClose"] == true)
        .expect("the close");
    let open = of_reverse
        .iter()
        .find(|e| e["isClose"] == false)
        .expect("the opening");
    assert_eq!(
        (
            close["positionId"].as_str(),
            num(&close["qty"]),
            close["side"].as_str()
        ),
        (Some(long.id.as_str()), d("1000"), Some("sell"))
    );
    assert_eq!(
        (
            open["positionId"].as_str(),
            num(&open["qty"]),
            open["side"].as_str()
        ),
        (Some(short.id.as_str()), d("1000"), Some("sell"))
    );
    assert_ne!(close["id"], open["id"]);
    let order = find_order(&app, &token, V20, &reverse)
        .await
        .expect("the reversing order");
    assert_eq!(
        (order["status"].as_str(), num(&order["filledQty"])),
        (Some("filled"), d("2000"))
    );
}

#[tokio::test]
async fn on_a_hedging_account_an_opposite_order_opens_a_second_trade() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20_HEDGE).await;
    place(
        &app,
        &token,
        V20_HEDGE,
        "long",
        "instrument=EURUSD&qty=1000&side=buy&type=market",
    )
    .await;
    place(
        &app,
        &token,
        V20_HEDGE,
        "short",
        "instrument=EURUSD&qty=2000&side=sell&type=market",
    )
    .await;
    let units: Vec<_> = fake.trades(V20_HEDGE).into_iter().map(|t| t.units).collect();
    assert_eq!(units, [d("1000"), d("-2000")]);
    let positions = individual(&app, &token, V20_HEDGE).await;
    let mut sides: Vec<(String, String)> = positions
        .iter()
        .map(|p| {
            (
                p["side"].as_str().unwrap_or_default().to_string(),
                num(&p["qty"]).to_string(),
            )
        })
        .collect();
    sides.sort();
    assert_eq!(
        sides,
        [
            ("buy".to_string(), "1000".to_string()),
            ("sell".to_string(), "2000".to_string())
        ]
    );
    let netted = only(net(&app, &token, V20_HEDGE).await);
    assert_eq!(
        (
            num(&netted["qty"]),
            num(&netted["longQty"]),
            num(&netted["shortQty"])
        ),
        (d("-1000"), d("1000"), d("2000"))
    );
    assert!(executions(&app, &token, V20_HEDGE)
        .await
        .iter()
        .all(|e| e["isClose"] == false));
}
