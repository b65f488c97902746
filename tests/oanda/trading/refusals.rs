//! Refusals reach TradingView as HTTP 200 `s:error` with a readable reason, and nothing is placed: orders
//! OANDA cancels at once (no margin, market halted, a stop loss on the losing side), orders OANDA rejects
//! (an expiry in the past), and what the bridge refuses before asking (quantity step and minimum, unknown
//! symbol).

use super::support::oanda::{self, V20};
use super::{d, find_order, orders_history, refused_place, sent};

#[tokio::test]
async fn orders_oanda_cancels_at_once_are_refused_with_its_reason() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    // 100 million EUR needs about 2.2 million USD of margin; the account has 100 000.
    let msg = refused_place(
        &app,
        &token,
        V20,
        "huge",
        "instrument=EURUSD&qty=100000000&side=buy&type=market",
    )
    .await;
    assert_eq!(
        msg,
        "OANDA did not execute the order: There was not enough margin available to fill the order."
    );
    fake.set_halted("EUR_USD", true);
    let msg = refused_place(
        &app,
        &token,
        V20,
        "halted",
        "instrument=EURUSD&qty=1000&side=buy&type=market",
    )
    .await;
    assert_eq!(
        msg,
        "OANDA did not execute the order: The market was halted or closed."
    );
    fake.set_halted("EUR_USD", false);
    // A stop loss above the price a buy fills at would lose at once.
    let msg = refused_place(
        &app,
        &token,
        V20,
        "badstop",
        "instrument=EURUSD&qty=1000&side=buy&type=market&stopLoss=1.09",
    )
    .await;
    assert_eq!(
        msg,
        "OANDA did not execute the order: The stop loss would have been on the wrong side of the fill price."
    );
    assert!(fake.trades(V20).is_empty(), "nothing was placed");
    let states: Vec<(String, String)> = fake
        .orders(V20)
        .into_iter()
        .map(|o| (o.client_id.unwrap_or_default(), o.state))
        .collect();
    assert_eq!(
        states,
        [
            ("tvb-huge", "CANCELLED"),
            ("tvb-halted", "CANCELLED"),
            ("tvb-badstop", "CANCELLED")
        ]
        .map(|(c, s)| (c.to_string(), s.to_string()))
    );

    // TradingView still sees each as a rejected order, with the reason, until the session ends.
    for (id, text) in [
        (
            "@tvb-huge",
            "There was not enough margin available to fill the order.",
        ),
        ("@tvb-halted", "The market was halted or closed."),
        (
            "@tvb-badstop",
            "The stop loss would have been on the wrong side of the fill price.",
        ),
    ] {
        let o = find_order(&app, &token, V20, id)
            .await
            .unwrap_or_else(|| panic!("{id} in /orders"));
        assert_eq!(
            (o["status"].as_str(), o["message"]["type"].as_str()),
            (Some("rejected"), Some("error"))
        );
        assert_eq!(o["message"]["text"], text);
    }
    let history = orders_history(&app, &token, V20).await;
    assert_eq!(history.len(), 3, "{history:?}");
    assert!(history.iter().all(|o| o["status"] == "rejected"));
}

#[tokio::test]
async fn orders_oanda_rejects_are_refused_with_its_reason_and_message() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    let past = fake.now().timestamp() - 3_600;
    let msg = refused_place(
        &app,
        &token,
        V20,
        "past",
        &format!("instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.08&durationType=GTD&durationDateTime={past}"),
    )
    .await;
    assert_eq!(
        msg,
        "OANDA rejected the order: The expiry date is in the past. (OANDA: The gtdTime specified is in the past)"
    );
    assert_eq!(sent(&fake.requests(), "POST", "/orders").len(), 1);
    assert!(fake.orders(V20).is_empty(), "a rejected request creates no order");
    let reject = fake.transactions(V20).pop().expect("the reject transaction");
    assert_eq!(
        (reject["type"].as_str(), reject["rejectReason"].as_str()),
        (
            Some("LIMIT_ORDER_REJECT"),
            Some("TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST")
        )
    );
}

#[tokio::test]
async fn what_the_bridge_can_tell_is_refused_before_oanda() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    let refusals = [
        (
            "instrument=EURUSD&qty=1000.5&side=buy&type=market",
            "quantity 1000.5 is not a multiple of the quantity step 1 for EURUSD",
        ),
        (
            "instrument=EURUSD&qty=0.4&side=buy&type=market",
            "quantity 0.4 is below the minimum 1 for EURUSD",
        ),
        (
            "instrument=XAUUSD&qty=5001&side=buy&type=market",
            "quantity 5001 is above the maximum 5000 for XAUUSD",
        ),
        (
            "instrument=NOPE&qty=1000&side=buy&type=market",
            "Unknown instrument 'NOPE' for this account",
        ),
        (
            "instrument=EURUSD&qty=1000&side=buy&type=market&trailingStopPips=2",
            "The trailing stop must be at least 5 pips on EUR/USD.",
        ),
        (
            "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.08&durationType=GTX",
            "unknown durationType 'GTX': expected one of GTC, GTD, GFD, FOK, IOC",
        ),
    ];
    for (i, (form, expected)) in refusals.into_iter().enumerate() {
        let msg = refused_place(&app, &token, V20, &format!("x{i}"), form).await;
        assert_eq!(msg, expected, "{form}");
    }
    assert!(sent(&fake.requests(), "POST", "/orders").is_empty());
    assert!(fake.orders(V20).is_empty() && fake.trades(V20).is_empty());
    assert_eq!(fake.balance(V20), Some(d("100000")));
}
