//! Changes of pending orders: price, quantity, brackets, one leg, duration. OANDA replaces the order (a new
//! OANDA id) and TradingView's id stays the same, for the bridge's own orders and for orders placed elsewhere.

use super::support::oanda::{self, V20};
use super::{bodies, d, listed, num, only, order_ids, place};
use serde_json::json;

#[tokio::test]
async fn a_modified_order_keeps_its_tradingview_id_through_oandas_replacement() {
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
    let first = only(fake.orders(V20)).id;
    let path = format!("/accounts/{V20}/orders/{limit}?locale=en");

    // Price, quantity and stop loss at once (TradingView sends the whole order with its brackets).
    app.put(
        &token,
        &path,
        "qty=2000&limitPrice=1.081&stopLoss=1.075&takeProfit=1.1",
    )
    .await;
    let put = only(bodies(&fake, "PUT", &format!("/orders/{first}")));
    let sent = &put["order"];
    assert_eq!(
        (
            &sent["type"],
            &sent["units"],
            &sent["price"],
            &sent["timeInForce"]
        ),
        (&json!("LIMIT"), &json!("2000"), &json!("1.08100"), &json!("GTC"))
    );
    assert_eq!(sent["stopLossOnFill"]["price"], "1.07500");
    assert_eq!(sent["takeProfitOnFill"]["price"], "1.10000");
    let books = fake.orders(V20);
    assert_eq!(books.len(), 2, "{books:?}");
    assert_eq!(
        (books[0].id.as_str(), books[0].state.as_str()),
        (first.as_str(), "CANCELLED")
    );
    let replacement = &books[1];
    assert_eq!(
        (replacement.state.as_str(), replacement.client_id.as_deref()),
        ("PENDING", Some("tvb-lim")),
        "OANDA carries the client id over to the replacement"
    );
    assert_eq!(
        (replacement.units, replacement.price),
        (d("2000"), Some(d("1.081")))
    );
    assert_ne!(replacement.id, first);

    assert_eq!(
        order_ids(&app, &token, V20).await,
        ["@tvb-lim", "@tvb-lim.sl", "@tvb-lim.tp"]
    );
    let o = listed(&app, &token, V20, &limit).await;
    assert_eq!(
        (o["status"].as_str(), num(&o["qty"]), num(&o["limitPrice"])),
        (Some("working"), d("2000"), d("1.081"))
    );
    assert_eq!(
        num(&listed(&app, &token, V20, "@tvb-lim.sl").await["stopPrice"]),
        d("1.075")
    );
    assert_eq!(
        num(&listed(&app, &token, V20, "@tvb-lim.sl").await["qty"]),
        d("2000")
    );

    // One leg moved on its own: the take profit (TradingView sends the leg's new limit price).
    app.put(
        &token,
        &format!("/accounts/{V20}/orders/{limit}.tp?locale=en"),
        "qty=2000&limitPrice=1.095",
    )
    .await;
    assert_eq!(
        num(&listed(&app, &token, V20, "@tvb-lim.tp").await["limitPrice"]),
        d("1.095")
    );
    assert_eq!(
        num(&listed(&app, &token, V20, "@tvb-lim.sl").await["stopPrice"]),
        d("1.075")
    );
    // One leg removed: the stop loss.
    app.delete(
        &token,
        &format!("/accounts/{V20}/orders/{limit}.sl?locale=en"),
        None,
    )
    .await;
    assert_eq!(order_ids(&app, &token, V20).await, ["@tvb-lim", "@tvb-lim.tp"]);
    let live = only(
        fake.orders(V20)
            .into_iter()
            .filter(|o| o.state == "PENDING")
            .collect(),
    );
    assert_eq!(
        (live.client_id.as_deref(), live.units, live.price),
        (Some("tvb-lim"), d("2000"), Some(d("1.081")))
    );
    assert_eq!(
        fake.orders(V20).len(),
        4,
        "three replacements in all, never a second order"
    );

    // Stop-limit: stop price, limit price (the price bound) and the trailing stop distance.
    let stop_limit = place(
        &app,
        &token,
        V20,
        "stl",
        "instrument=GBPUSD&qty=2000&side=buy&type=stoplimit&stopPrice=1.27&limitPrice=1.271&trailingStopPips=30",
    )
    .await;
    app.put(
        &token,
        &format!("/accounts/{V20}/orders/{stop_limit}?locale=en"),
        "qty=3000&stopPrice=1.275&limitPrice=1.2765&trailingStopPips=40",
    )
    .await;
    let last = bodies(&fake, "PUT", "").pop().expect("a replacement");
    assert_eq!(
        (
            &last["order"]["type"],
            &last["order"]["price"],
            &last["order"]["priceBound"]
        ),
        (&json!("STOP"), &json!("1.27500"), &json!("1.27650"))
    );
    assert_eq!(last["order"]["trailingStopLossOnFill"]["distance"], "0.00400");
    let o = listed(&app, &token, V20, &stop_limit).await;
    assert_eq!(
        (num(&o["qty"]), num(&o["stopPrice"]), num(&o["limitPrice"])),
        (d("3000"), d("1.275"), d("1.2765"))
    );
    assert_eq!(
        num(&listed(&app, &token, V20, "@tvb-stl.ts").await["trailingStopPips"]),
        d("40")
    );
}

#[tokio::test]
async fn a_good_till_date_order_gets_a_new_date_or_becomes_good_till_cancelled() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    let now = fake.now().timestamp();
    let id = place(
        &app,
        &token,
        V20,
        "gtd",
        &format!("instrument=USDJPY&qty=500&side=sell&type=stop&stopPrice=149&durationType=GTD&durationDateTime={}", now + 3_600),
    )
    .await;
    let path = format!("/accounts/{V20}/orders/{id}?locale=en");
    let later = now + 7_200;
    app.put(
        &token,
        &path,
        &format!("qty=500&stopPrice=148.9&durationType=GTD&durationDateTime={later}"),
    )
    .await;
    let sent = bodies(&fake, "PUT", "").pop().expect("the replacement");
    let later_text = chrono::DateTime::from_timestamp(later, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        (
            &sent["order"]["price"],
            &sent["order"]["timeInForce"],
            &sent["order"]["gtdTime"]
        ),
        (&json!("148.900"), &json!("GTD"), &json!(later_text))
    );
    let o = listed(&app, &token, V20, &id).await;
    assert_eq!(o["duration"], json!({"type": "GTD", "datetime": later}));
    assert_eq!(num(&o["stopPrice"]), d("148.9"));

    app.put(&token, &path, "qty=500&stopPrice=148.9&durationType=GTC")
        .await;
    let sent = bodies(&fake, "PUT", "").pop().expect("the replacement");
    assert_eq!(sent["order"]["timeInForce"], "GTC");
    assert_eq!(sent["order"].get("gtdTime"), None);
    assert_eq!(
        listed(&app, &token, V20, &id).await["duration"],
        json!({"type": "GTC"})
    );
    assert_eq!(fake.orders(V20).len(), 3);
}

#[tokio::test]
async fn an_order_placed_elsewhere_keeps_its_oanda_id_when_the_bridge_changes_it() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    // Another OANDA client places a limit order without client extensions.
    let r = reqwest::Client::new()
        .post(format!("{}/v3/accounts/{V20}/orders", fake.rest_url))
        .bearer_auth(oanda::TOKEN)
        .json(
            &json!({"order": {"type": "LIMIT", "instrument": "EUR_USD", "units": "100", "price": "1.08000"}}),
        )
        .send()
        .await
        .expect("the fake answers");
    assert_eq!(r.status(), 201);
    let oanda_id = only(fake.orders(V20)).id;
    let o = listed(&app, &token, V20, &oanda_id).await;
    assert_eq!(
        (o["status"].as_str(), num(&o["qty"])),
        (Some("working"), d("100"))
    );

    app.put(
        &token,
        &format!("/accounts/{V20}/orders/{oanda_id}?locale=en"),
        "qty=200&limitPrice=1.079",
    )
    .await;
    let sent = bodies(&fake, "PUT", &format!("/orders/{oanda_id}"))
        .pop()
        .expect("the replacement");
    assert_eq!(
        sent["order"]["clientExtensions"],
        json!({"id": format!("tvbridge:{oanda_id}"), "tag": "tvbridge"}),
        "the replacement is given a client id that maps back to the id TradingView knows"
    );
    let replacement = fake.orders(V20).pop().expect("the replacement");
    assert_ne!(replacement.id, oanda_id);
    assert_eq!(
        order_ids(&app, &token, V20).await,
        std::slice::from_ref(&oanda_id)
    );
    let o = listed(&app, &token, V20, &oanda_id).await;
    assert_eq!((num(&o["qty"]), num(&o["limitPrice"])), (d("200"), d("1.079")));
    // And it can be changed again, and cancelled, under that id.
    app.put(
        &token,
        &format!("/accounts/{V20}/orders/{oanda_id}?locale=en"),
        "qty=300&limitPrice=1.079",
    )
    .await;
    assert_eq!(num(&listed(&app, &token, V20, &oanda_id).await["qty"]), d("300"));
    app.delete(
        &token,
        &format!("/accounts/{V20}/orders/{oanda_id}?locale=en"),
        None,
    )
    .await;
    assert!(fake.orders(V20).iter().all(|o| o.state == "CANCELLED"));
    assert_eq!(listed(&app, &token, V20, &oanda_id).await["status"], "cancelled");
}

#[tokio::test]
async fn a_replacement_that_lost_its_client_id_gets_it_back() {
    // The other reading of an undocumented behaviour: OANDA's replacement starts without client extensions.
    let options = super::support::fake_oanda::FakeOptions {
        replacements_drop_client_extensions: true,
        ..oanda::fake_options()
    };
    let (fake, app) = oanda::start_with(options, "", "").await;
    let token = oanda::login(&app, V20).await;
    let limit = place(
        &app,
        &token,
        V20,
        "lost",
        "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.08&stopLoss=1.07",
    )
    .await;
    assert_eq!(limit, "@tvb-lost");
    let first = only(fake.orders(V20)).id;
    app.put(
        &token,
        &format!("/accounts/{V20}/orders/{limit}?locale=en"),
        "qty=1000&limitPrice=1.081&stopLoss=1.07",
    )
    .await;
    let books = fake.orders(V20);
    let replacement = books.iter().find(|o| o.id != first).expect("a replacement");
    // The bridge set the client id again on the replacement, so TradingView keeps its order id.
    let set = only(bodies(
        &fake,
        "PUT",
        &format!("/orders/{}/clientExtensions", replacement.id),
    ));
    assert_eq!(set["clientExtensions"]["id"], "tvb-lost", "{set}");
    assert_eq!(replacement.client_id.as_deref(), Some("tvb-lost"));
    assert_eq!(replacement.state, "PENDING");
    assert_eq!(order_ids(&app, &token, V20).await, ["@tvb-lost", "@tvb-lost.sl"]);
    let o = listed(&app, &token, V20, &limit).await;
    assert_eq!(
        (o["status"].as_str(), num(&o["limitPrice"])),
        (Some("working"), d("1.081"))
    );
}
