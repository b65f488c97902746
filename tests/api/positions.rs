//! Positions on the paper broker: netting (one per instrument) and hedging (individual plus net), partial
//! close, reverse, brackets on positions, P/L and margin converted into the account currency, and the
//! state file that keeps all of it across a restart.

use crate::support;

use axum::http::Method;
use rust_decimal::Decimal;
use serde_json::Value;
use support::*;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

async fn individual(app: &TestApp, token: &str) -> Vec<Value> {
    app.get(
        token,
        "/accounts/demo-hedge/individualPositions?locale=en",
        "IndividualPositionsResponse",
    )
    .await
    .as_array()
    .cloned()
    .unwrap()
}

async fn net(app: &TestApp, token: &str) -> Vec<Value> {
    app.get(
        token,
        "/accounts/demo-hedge/netPositions?locale=en",
        "NetPositionsResponse",
    )
    .await
    .as_array()
    .cloned()
    .unwrap()
}

#[tokio::test]
async fn netting_aggregates_fills_and_realizes_pl_on_reduction() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let a1 = app.tick("EURUSD", app.now()).ask;
    app.place(&token, NET, "instrument=EURUSD&qty=10000&side=buy&type=market")
        .await;
    app.advance(60);
    let a2 = app.tick("EURUSD", app.now()).ask;
    app.place(&token, NET, "instrument=EURUSD&qty=30000&side=buy&type=market")
        .await;
    let pos = app.positions(&token, NET).await;
    assert_eq!(pos.len(), 1);
    assert_eq!(
        (pos[0]["id"].as_str(), pos[0]["side"].as_str()),
        (Some("EURUSD"), Some("buy"))
    );
    assert_eq!(dec(&pos[0]["qty"]), d("40000"));
    let avg = (a1 * d("10000") + a2 * d("30000")) / d("40000");
    assert_eq!(dec(&pos[0]["avgPrice"]), avg.round_dp(10).normalize());
    // Unrealized P/L: valued at the bid.
    let bid = app.tick("EURUSD", app.now()).bid;
    assert_eq!(
        dec(&pos[0]["unrealizedPl"]),
        ((bid - avg) * d("40000")).round_dp(2)
    );

    app.advance(60);
    let b3 = app.tick("EURUSD", app.now()).bid;
    app.place(&token, NET, "instrument=EURUSD&qty=15000&side=sell&type=market")
        .await;
    let pos = app.positions(&token, NET).await;
    assert_eq!(dec(&pos[0]["qty"]), d("25000"));
    assert_eq!(
        dec(&pos[0]["avgPrice"]),
        avg.round_dp(10).normalize(),
        "reducing keeps the average"
    );
    let state = app.state(&token, NET).await;
    let realized = ((b3 - avg) * d("15000")).round_dp(2);
    assert_eq!(dec(&state["balance"]), d("100000") + realized);
    let equity = dec(&state["equity"]);
    assert_eq!(equity, dec(&state["balance"]) + dec(&state["unrealizedPl"]));
    let am = &state["amData"][0][0];
    assert_eq!(
        am[3].as_str().unwrap(),
        format!("{:.2} USD", realized),
        "realized P&L column"
    );
}

#[tokio::test]
async fn partial_close_close_and_reverse_a_netting_position() {
    let app = TestApp::new().await;
    let token = app.login().await;
    app.place(&token, NET, "instrument=AAPL&qty=100&side=buy&type=market")
        .await;
    let path = "/accounts/demo-net/positions/AAPL?locale=en";
    app.delete(&token, path, Some("amount=40")).await;
    assert_eq!(dec(&app.positions(&token, NET).await[0]["qty"]), d("60"));
    let too_much = app.refused(Method::DELETE, &token, path, Some("amount=61")).await;
    assert_eq!(too_much, "cannot close 61 of position AAPL: it holds 60");
    // Reverse: one request, the position is now short the same size.
    app.put(&token, path, "side=sell").await;
    let pos = app.positions(&token, NET).await;
    assert_eq!(
        (pos[0]["side"].as_str(), dec(&pos[0]["qty"])),
        (Some("sell"), d("60"))
    );
    let same = app.refused(Method::PUT, &token, path, Some("side=sell")).await;
    assert_eq!(same, "position AAPL is already sell");
    app.delete(&token, path, None).await;
    assert!(app.positions(&token, NET).await.is_empty());
    let gone = app.refused(Method::DELETE, &token, path, None).await;
    assert_eq!(gone, "Unknown position 'AAPL' on account demo-net");
    // Every close and the reverse went through the books as market orders with executions.
    let execs = app
        .get(&token, "/accounts/demo-net/executions", "ExecutionsResponse")
        .await;
    assert_eq!(execs.as_array().unwrap().len(), 4);
    let closes = execs
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["isClose"] == true)
        .count();
    assert_eq!(closes, 3);
}

#[tokio::test]
async fn position_brackets_are_set_replaced_and_removed_as_a_whole() {
    let app = TestApp::new().await;
    let token = app.login().await;
    app.place(&token, NET, "instrument=EURUSD&qty=5000&side=buy&type=market")
        .await;
    let bid = app.tick("EURUSD", app.now()).bid;
    let path = "/accounts/demo-net/positions/EURUSD?locale=en";
    let (sl, tp) = (bid - d("0.0100"), bid + d("0.0100"));
    app.put(&token, path, &format!("stopLoss={sl}&takeProfit={tp}"))
        .await;
    let brackets = |orders: Vec<Value>| -> Vec<Value> {
        orders
            .into_iter()
            .filter(|o| o["parentType"] == "position" && o["status"] == "working")
            .collect()
    };
    let b = brackets(app.orders(&token, NET).await);
    assert_eq!(b.len(), 2);
    assert!(b
        .iter()
        .all(|o| o["parentId"] == "EURUSD" && o["side"] == "sell" && dec(&o["qty"]) == d("5000")));
    // Move the stop loss, drop the take profit: the stop keeps its id, the take profit is cancelled.
    let sl_id = b.iter().find(|o| o["type"] == "stop").unwrap()["id"].clone();
    let sl2 = sl + d("0.0020");
    app.put(&token, path, &format!("stopLoss={sl2}")).await;
    let b = brackets(app.orders(&token, NET).await);
    assert_eq!(b.len(), 1);
    assert_eq!((b[0]["id"].clone(), dec(&b[0]["stopPrice"])), (sl_id, sl2));
    // Adding to the position resizes its bracket.
    app.place(&token, NET, "instrument=EURUSD&qty=2000&side=buy&type=market")
        .await;
    assert_eq!(dec(&brackets(app.orders(&token, NET).await)[0]["qty"]), d("7000"));
    // A stop loss above the market for a long position is refused.
    let wrong = app
        .refused(
            Method::PUT,
            &token,
            path,
            Some(&format!("stopLoss={}", bid + d("0.0050"))),
        )
        .await;
    assert!(
        wrong.starts_with("the stop loss ") && wrong.contains("must be below the current price"),
        "{wrong}"
    );
    // Closing the position cancels its brackets.
    app.delete(&token, path, None).await;
    assert!(brackets(app.orders(&token, NET).await).is_empty());
}

#[tokio::test]
async fn hedging_keeps_individual_positions_and_nets_them() {
    let app = TestApp::new().await;
    let token = app.login().await;
    app.place(&token, HEDGE, "instrument=EURUSD&qty=10000&side=buy&type=market")
        .await;
    app.place(&token, HEDGE, "instrument=EURUSD&qty=4000&side=buy&type=market")
        .await;
    app.place(&token, HEDGE, "instrument=EURUSD&qty=3000&side=sell&type=market")
        .await;
    let ind = individual(&app, &token).await;
    assert_eq!(
        ind.len(),
        3,
        "a sell on a hedging account opens a short, it does not reduce the long"
    );
    assert!(ind
        .iter()
        .all(|p| p["date"].as_str().unwrap().parse::<i64>().unwrap() == T0_MS / 1000 * 1000));
    let n = net(&app, &token).await;
    assert_eq!(n.len(), 1);
    assert_eq!(
        (dec(&n[0]["qty"]), dec(&n[0]["longQty"]), dec(&n[0]["shortQty"])),
        (d("11000"), d("14000"), d("3000"))
    );

    // Partial close of one individual position, then its brackets, then close the net position.
    let long_id = ind.iter().find(|p| dec(&p["qty"]) == d("10000")).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/accounts/demo-hedge/individualPositions/{long_id}?locale=en");
    app.delete(&token, &path, Some("amount=2000")).await;
    let ind = individual(&app, &token).await;
    assert_eq!(
        dec(&ind.iter().find(|p| p["id"] == long_id.as_str()).unwrap()["qty"]),
        d("8000")
    );
    let bid = app.tick("EURUSD", app.now()).bid;
    app.put(
        &token,
        &path,
        &format!("stopLoss={}&takeProfit={}", bid - d("0.0100"), bid + d("0.0100")),
    )
    .await;
    let b: Vec<Value> = app
        .orders(&token, HEDGE)
        .await
        .into_iter()
        .filter(|o| o["parentId"] == long_id.as_str())
        .collect();
    assert_eq!(b.len(), 2);
    assert!(b
        .iter()
        .all(|o| o["parentType"] == "position" && dec(&o["qty"]) == d("8000")));
    let reverse = app.refused(Method::PUT, &token, &path, Some("side=sell")).await;
    assert_eq!(
        reverse,
        "an individual position cannot be reversed; close it and open a new one"
    );

    app.delete(&token, "/accounts/demo-hedge/netPositions/EURUSD?locale=en", None)
        .await;
    assert!(individual(&app, &token).await.is_empty());
    assert!(net(&app, &token).await.is_empty());
    let cancelled = app
        .orders(&token, HEDGE)
        .await
        .into_iter()
        .filter(|o| o["parentId"] == long_id.as_str())
        .all(|o| o["status"] == "cancelled");
    assert!(cancelled, "brackets of a closed position are cancelled");
}

#[tokio::test]
async fn hedging_brackets_on_an_order_attach_to_the_position_it_opens() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let ask = app.tick("GBPUSD", app.now()).ask;
    let tp = ask + d("0.0200");
    app.place(
        &token,
        HEDGE,
        &format!("instrument=GBPUSD&qty=1000&side=buy&type=market&takeProfit={tp}"),
    )
    .await;
    let ind = individual(&app, &token).await;
    let tp_order = app
        .orders(&token, HEDGE)
        .await
        .into_iter()
        .find(|o| o["type"] == "limit")
        .unwrap();
    assert_eq!(tp_order["parentType"], "position");
    assert_eq!(tp_order["parentId"], ind[0]["id"]);
    assert_eq!(tp_order["status"], "working");
}

/// A EUR account trading a USD-quoted instrument: P/L, pip value and margin in EUR.
#[tokio::test]
async fn pl_pip_value_and_margin_are_converted_into_the_account_currency() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let ask = app.tick("US500", app.now()).ask;
    app.place(&token, HEDGE, "instrument=US500&qty=2&side=buy&type=market")
        .await;
    app.advance(3600);
    let now = app.now();
    let (k, fx) = (app.tick("US500", now), app.tick("EURUSD", now));
    let usd_per_eur = (fx.bid + fx.ask) / d("2");
    let expected = ((k.bid - ask) * d("2") * (d("1") / usd_per_eur)).round_dp(2);
    let ind = individual(&app, &token).await;
    assert_eq!(
        dec(&ind[0]["unrealizedPl"]),
        expected,
        "USD P/L divided by EURUSD"
    );
    let state = app.state(&token, HEDGE).await;
    assert_eq!(dec(&state["unrealizedPl"]), expected);
    assert!(state["amData"][0][0][0].as_str().unwrap().ends_with(" EUR"));
    let quotes = app
        .get(
            &token,
            "/quotes?locale=en&accountId=demo-hedge&symbols=US500",
            "QuotesResponse",
        )
        .await;
    let pip = dec(&quotes[0]["v"]["buyPipValue"]);
    assert!((pip - d("0.1") / usd_per_eur).abs() < d("0.0000001"), "{pip}");
    // Margin: 2 x mid x (EUR per USD) / 20.
    let mid = (k.bid + k.ask) / d("2");
    let margin = (d("2") * mid / usd_per_eur / d("20")).round_dp(2);
    assert_eq!(dec(&state["marginAvailable"]), dec(&state["equity"]) - margin);
}

#[tokio::test]
async fn quotes_and_depth_come_from_the_same_market() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let q = app
        .get(
            &token,
            "/quotes?locale=en&accountId=demo-net&symbols=EURUSD,AAPL,NOPE",
            "QuotesResponse",
        )
        .await;
    let tick = app.tick("EURUSD", app.now());
    assert_eq!(
        (dec(&q[0]["v"]["bid"]), dec(&q[0]["v"]["ask"])),
        (tick.bid, tick.ask)
    );
    assert_eq!(q[2]["s"], "error");
    assert_eq!(q[2]["v"]["errmsg"], "Unknown symbol 'NOPE'");
    let depth = app
        .get(
            &token,
            "/depth?locale=en&accountId=demo-net&symbol=EURUSD",
            "DepthResponse",
        )
        .await;
    let (asks, bids) = (
        depth["asks"].as_array().unwrap(),
        depth["bids"].as_array().unwrap(),
    );
    assert_eq!((asks.len(), bids.len()), (10, 10));
    assert_eq!(dec(&asks[0][0]), tick.ask, "best ask first");
    assert_eq!(dec(&bids[9][0]), tick.bid, "bids ascending: best bid last");
    for side in [asks, bids] {
        assert!(
            side.windows(2).all(|w| dec(&w[0][0]) < dec(&w[1][0])),
            "ascending by price"
        );
    }
    let unknown = app
        .refused(Method::GET, &token, "/depth?accountId=demo-net&symbol=NOPE", None)
        .await;
    assert_eq!(unknown, "Unknown symbol 'NOPE'");
}

/// The embedded store in `dir`, once the previous app's broker has let go of it (its actor stops a
/// moment after the app is dropped).
async fn embedded(dir: &std::path::Path) -> std::sync::Arc<dyn tvbridge::store::Store> {
    for _ in 0..100 {
        if let Ok(store) = tvbridge::store::EmbeddedStore::open(dir).await {
            return std::sync::Arc::new(store);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the embedded store stayed locked");
}

#[tokio::test]
async fn the_state_store_brings_everything_back_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config("");
    let app = TestApp::with_store(cfg.clone(), embedded(dir.path()).await).await;
    let token = app.login().await;
    app.place(
        &token,
        NET,
        "instrument=EURUSD&qty=10000&side=buy&type=market&stopLoss=1.0",
    )
    .await;
    let far = app.tick("AAPL", app.now()).ask - d("20");
    app.place(
        &token,
        NET,
        &format!("instrument=AAPL&qty=5&side=buy&type=limit&limitPrice={far}"),
    )
    .await;
    app.place(&token, HEDGE, "instrument=BTCUSD&qty=0.5&side=sell&type=market")
        .await;
    app.post(
        &token,
        "/accounts/demo-net/setLeverage",
        "instrument=EURUSD&side=buy&orderType=market&leverage=5",
        "SetLeverageResponse",
    )
    .await;
    let before = (
        app.orders(&token, NET).await,
        app.positions(&token, NET).await,
        individual(&app, &token).await,
        app.state(&token, NET).await,
        app.get(&token, "/accounts/demo-net/executions", "ExecutionsResponse")
            .await,
    );
    // No wait needed: the actor answers a change only once the store has it on disk.
    drop(app);

    let again = TestApp::with_store(cfg, embedded(dir.path()).await).await;
    let token = again.login().await;
    let after = (
        again.orders(&token, NET).await,
        again.positions(&token, NET).await,
        individual(&again, &token).await,
        again.state(&token, NET).await,
        again
            .get(&token, "/accounts/demo-net/executions", "ExecutionsResponse")
            .await,
    );
    assert_eq!(before, after);
    let lev = again
        .post(
            &token,
            "/accounts/demo-net/getLeverage",
            "instrument=EURUSD&side=buy&orderType=market",
            "GetLeverageResponse",
        )
        .await;
    assert_eq!(dec(&lev["leverage"]), d("5"));
    // New ids never collide with the reloaded ones.
    let id = again
        .place(&token, NET, "instrument=EURUSD&qty=1000&side=buy&type=market")
        .await;
    assert!(before.0.iter().all(|o| o["id"] != id.as_str()));
}

#[tokio::test]
async fn a_corrupt_state_file_stops_start_up_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("paper.json");
    std::fs::write(&file, "{broken").unwrap();
    let cfg = config(&format!(
        "[backend]\nkind = \"paper\"\nstate_file = {:?}\n",
        file.to_str().unwrap()
    ));
    let tvbridge::config::BackendConfig::Paper(paper) = cfg.backend.clone() else {
        panic!("paper backend expected");
    };
    let err = tvbridge::backends::paper::PaperBroker::start(paper)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("paper.json is not valid"), "{err}");
}

#[tokio::test]
async fn an_instrument_in_an_unconvertible_currency_stops_start_up_with_its_name() {
    let cfg = config(
        r#"
[backend]
kind = "paper"

[[backend.instruments]]
symbol = "XAUSGD"
description = "Gold in Singapore dollars"
type = "commodity"
tradingview_symbol = "OANDA:XAUSGD"
currency = "SGD"
tick_size = 0.01
pip_size = 0.01
qty_step = 1
min_qty = 1
max_qty = 1000
base_price = 3100
daily_volatility = 0.01
spread_ticks = 30
max_leverage = 20
"#,
    );
    let tvbridge::config::BackendConfig::Paper(paper) = cfg.backend.clone() else {
        panic!("paper backend expected");
    };
    let err = tvbridge::backends::paper::PaperBroker::start(paper)
        .await
        .err()
        .expect("refused");
    assert_eq!(
        err.to_string(),
        "backend.instruments (XAUSGD): no FX instrument converts SGD into the account currency USD"
    );
}
