//! Market orders: the request OANDA receives (signed units, on-fill brackets, client id, fill-or-kill),
//! the trade they open shown as an individual position with its working brackets and as a net position;
//! guaranteed stops where the account allows them and refused where it does not.

use super::support::fake_oanda::FakeAccount;
use super::support::oanda::{self, V20, V20_HEDGE};
use super::{bodies, d, find_order, individual, mark, net, num, only, place, refused_place, sent};
use serde_json::json;

#[tokio::test]
async fn a_market_order_with_brackets_opens_a_trade_with_working_legs() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    let id = place(
        &app,
        &token,
        V20,
        "mkt-1",
        "instrument=EURUSD&qty=1000&side=buy&type=market&stopLoss=1.07&takeProfit=1.1&trailingStopPips=20",
    )
    .await;
    assert_eq!(
        id, "@tvb-mkt-1",
        "the TradingView id is built from the client order id"
    );

    // One request, with everything on it: signed units, fill-or-kill, the brackets on fill, the client id.
    assert_eq!(
        only(bodies(&fake, "POST", &format!("/v3/accounts/{V20}/orders"))),
        json!({"order": {
            "type": "MARKET",
            "instrument": "EUR_USD",
            "units": "1000",
            "timeInForce": "FOK",
            "positionFill": "DEFAULT",
            "clientExtensions": {"id": "tvb-mkt-1", "tag": "tvbridge", "comment": mark(V20)},
            "takeProfitOnFill": {"price": "1.10000"},
            "stopLossOnFill": {"price": "1.07000"},
            "trailingStopLossOnFill": {"distance": "0.00200"},
        }})
    );

    // OANDA filled it at the ask and opened trade 4 (the fill's id) with three dependent orders.
    let trade = only(fake.trades(V20));
    assert_eq!(
        (trade.id.as_str(), trade.units, trade.price),
        ("4", d("1000"), d("1.08526"))
    );
    assert_eq!(
        (trade.stop_loss, trade.take_profit, trade.trailing_distance),
        (Some(d("1.07")), Some(d("1.1")), Some(d("0.002")))
    );
    let kinds: Vec<(String, String)> = fake.orders(V20).into_iter().map(|o| (o.kind, o.state)).collect();
    assert_eq!(
        kinds,
        [
            ("MARKET", "FILLED"),
            ("TAKE_PROFIT", "PENDING"),
            ("STOP_LOSS", "PENDING"),
            ("TRAILING_STOP_LOSS", "PENDING")
        ]
        .map(|(k, s)| (k.to_string(), s.to_string()))
    );

    // TradingView: the filled order, and the trade's brackets as working orders of position 4.
    let order = find_order(&app, &token, V20, &id)
        .await
        .expect("the filled order");
    assert_eq!(
        (
            order["status"].as_str(),
            order["type"].as_str(),
            order["side"].as_str()
        ),
        (Some("filled"), Some("market"), Some("buy"))
    );
    assert_eq!(
        (
            num(&order["qty"]),
            num(&order["filledQty"]),
            num(&order["avgPrice"])
        ),
        (d("1000"), d("1000"), d("1.08526"))
    );
    assert_eq!(order["duration"]["type"], "FOK");
    let tp = find_order(&app, &token, V20, "4.tp")
        .await
        .expect("take profit leg");
    let sl = find_order(&app, &token, V20, "4.sl")
        .await
        .expect("stop loss leg");
    let ts = find_order(&app, &token, V20, "4.ts")
        .await
        .expect("trailing stop leg");
    for leg in [&tp, &sl, &ts] {
        assert_eq!(
            (
                leg["parentId"].as_str(),
                leg["parentType"].as_str(),
                leg["status"].as_str(),
                leg["side"].as_str(),
                leg["instrument"].as_str()
            ),
            (
                Some("4"),
                Some("position"),
                Some("working"),
                Some("sell"),
                Some("EURUSD")
            ),
            "{leg}"
        );
        assert_eq!(num(&leg["qty"]), d("1000"));
    }
    assert_eq!(
        (tp["type"].as_str(), num(&tp["limitPrice"])),
        (Some("limit"), d("1.1"))
    );
    assert_eq!(
        (sl["type"].as_str(), num(&sl["stopPrice"])),
        (Some("stop"), d("1.07"))
    );
    assert_eq!(sl.get("isGuaranteedStop"), None);
    assert_eq!(ts["isTrailingStop"], true);
    assert_eq!(num(&ts["trailingStopPips"]), d("20"));
    // The trailing stop starts 20 pips under the fill price.
    assert_eq!(num(&ts["stopPrice"]), d("1.08326"));

    let position = only(individual(&app, &token, V20).await);
    assert_eq!(
        (
            position["id"].as_str(),
            position["instrument"].as_str(),
            position["side"].as_str()
        ),
        (Some("4"), Some("EURUSD"), Some("buy"))
    );
    assert_eq!(
        (num(&position["qty"]), num(&position["price"])),
        (d("1000"), d("1.08526"))
    );
    let netted = only(net(&app, &token, V20).await);
    assert_eq!(netted["id"], "EURUSD");
    assert_eq!(
        (
            num(&netted["qty"]),
            num(&netted["longQty"]),
            num(&netted["shortQty"]),
            num(&netted["avgPrice"])
        ),
        (d("1000"), d("1000"), d("0"), d("1.08526"))
    );
}

#[tokio::test]
async fn a_sell_market_order_sends_negative_units_and_opens_a_short_trade() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    place(
        &app,
        &token,
        V20,
        "short",
        "instrument=USDJPY&qty=2500&side=sell&type=market&stopLoss=150.5&takeProfit=148.25",
    )
    .await;
    let body = only(bodies(&fake, "POST", "/orders"));
    assert_eq!(body["order"]["units"], "-2500");
    assert_eq!(body["order"]["stopLossOnFill"], json!({"price": "150.500"}));
    assert_eq!(body["order"]["takeProfitOnFill"], json!({"price": "148.250"}));
    let trade = only(fake.trades(V20));
    assert_eq!(
        (trade.units, trade.price),
        (d("-2500"), d("149.512")),
        "filled at the bid"
    );
    let position = only(individual(&app, &token, V20).await);
    assert_eq!(
        (position["side"].as_str(), num(&position["qty"])),
        (Some("sell"), d("2500"))
    );
    let sl = find_order(&app, &token, V20, &format!("{}.sl", trade.id))
        .await
        .expect("stop loss");
    assert_eq!(
        (sl["side"].as_str(), num(&sl["stopPrice"])),
        (Some("buy"), d("150.5"))
    );
    let netted = only(net(&app, &token, V20).await);
    assert_eq!(
        (
            num(&netted["qty"]),
            num(&netted["longQty"]),
            num(&netted["shortQty"])
        ),
        (d("-2500"), d("0"), d("2500"))
    );
}

#[tokio::test]
async fn guaranteed_stops_are_sent_where_the_account_allows_them() {
    let mut options = oanda::fake_options();
    let allowed: &mut FakeAccount = options
        .accounts
        .iter_mut()
        .find(|a| a.id == V20)
        .expect("the netting account");
    allowed.guaranteed_stops = true;
    let (fake, app) = oanda::start_with(options, "", "").await;
    let token = oanda::login(&app, V20).await;
    let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
    assert_eq!(accounts[0]["config"]["supportGuaranteedStop"], true, "{accounts}");

    place(
        &app,
        &token,
        V20,
        "gsl",
        "instrument=EURUSD&qty=1000&side=buy&type=market&guaranteedStop=1.07&takeProfit=1.1",
    )
    .await;
    let body = only(bodies(&fake, "POST", "/orders"));
    assert_eq!(
        body["order"]["stopLossOnFill"],
        json!({"price": "1.07000", "guaranteed": true})
    );
    let trade = only(fake.trades(V20));
    assert_eq!(trade.stop_loss, Some(d("1.07")));
    let sl = find_order(&app, &token, V20, &format!("{}.sl", trade.id))
        .await
        .expect("stop leg");
    assert_eq!(
        (sl["isGuaranteedStop"].as_bool(), num(&sl["stopPrice"])),
        (Some(true), d("1.07"))
    );

    // Moving it keeps it guaranteed.
    app.put(
        &token,
        &format!("/accounts/{V20}/individualPositions/{}?locale=en", trade.id),
        "guaranteedStop=1.072&takeProfit=1.1",
    )
    .await;
    let body = only(bodies(&fake, "PUT", &format!("/trades/{}/orders", trade.id)));
    assert_eq!(
        body,
        json!({"stopLoss": {"price": "1.07200", "guaranteed": true}})
    );
    assert_eq!(only(fake.trades(V20)).stop_loss, Some(d("1.072")));
    let sl = find_order(&app, &token, V20, &format!("{}.sl", trade.id))
        .await
        .expect("stop leg");
    assert_eq!(
        (sl["isGuaranteedStop"].as_bool(), num(&sl["stopPrice"])),
        (Some(true), d("1.072"))
    );
}

#[tokio::test]
async fn guaranteed_stops_are_refused_before_oanda_where_the_account_has_none() {
    let (fake, app) = oanda::start("", "").await;
    for account in [V20, V20_HEDGE] {
        let token = oanda::login(&app, account).await;
        let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
        assert_eq!(accounts[0]["config"]["supportGuaranteedStop"], false);
        let msg = refused_place(
            &app,
            &token,
            account,
            "gsl",
            "instrument=EURUSD&qty=1000&side=buy&type=market&guaranteedStop=1.07",
        )
        .await;
        assert_eq!(msg, "this account does not support guaranteed stops");
    }
    assert!(
        sent(&fake.requests(), "POST", "/orders").is_empty(),
        "nothing reached OANDA"
    );
    assert!(fake.trades(V20).is_empty() && fake.orders(V20).is_empty());
}
