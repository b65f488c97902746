//! Stop loss and take profit through the bridge on the fake IBKR gateway: on a position (an
//! `isSingleGroup` pair at IBKR, one filling cancels the other; a level changed in place, a leg removed,
//! a leg added beside a resting one sent again with it as a new pair, a resend placing nothing, the legs
//! following a close, legs outgrown or left by a position changed otherwise cut or cancelled) and on a working order (its children changed, added and removed). No submission
//! ever puts a parent in one group with its children.

use crate::support;

use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use support::dec;
use support::fake_ibkr::FakeIbkr;
use support::ibkr::{self, fake_order, next_refresh, AAPL, ACCT};
use support::TestApp;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn num(v: &Value) -> Decimal {
    match v {
        Value::String(s) => d(s),
        v => dec(v),
    }
}

fn id_of(row: &Value) -> String {
    row["orderId"].to_string().trim_matches('"').to_owned()
}

fn is_working(row: &Value) -> bool {
    matches!(row["status"].as_str(), Some("PreSubmitted" | "Submitted"))
}

/// The fake's working orders that are position legs (placed with a position leg's `cOID`).
fn position_legs(fake: &FakeIbkr) -> Vec<Value> {
    fake.orders(ACCT)
        .into_iter()
        .filter(|o| o["order_ref"].as_str().is_some_and(|r| r.starts_with("tvbp-")))
        .filter(is_working)
        .collect()
}

/// The one working leg of `kind` (`Limit`: take profit, `Stop`: stop loss) among `legs`.
fn leg<'a>(legs: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = legs.iter().filter(|o| o["orderType"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} leg: {legs:?}");
    found[0]
}

/// No submission held a parent (or a child) together with `isSingleGroup`: a parent in its children's group
/// would cancel them with its own fill.
fn assert_no_parent_in_a_group(fake: &FakeIbkr) {
    for s in fake.submissions() {
        assert!(!(s.single_group && s.holds_a_bracket()), "{s:?}");
    }
}

/// A bridge on a fake quoting AAPL 185.42 / 185.44, logged in, long 2 AAPL.
async fn long_two() -> (FakeIbkr, TestApp, String) {
    long_two_with("").await
}

/// [`long_two`] with `backend_extra` in the bridge's `[backend]` table.
async fn long_two_with(backend_extra: &str) -> (FakeIbkr, TestApp, String) {
    let (fake, app) = ibkr::start_with(ibkr::relaxed(), backend_extra, "").await;
    let token = app.login().await;
    app.place(&token, ACCT, "instrument=AAPL&qty=2&side=buy&type=market")
        .await;
    assert_eq!(fake.position(ACCT, AAPL), d("2"));
    (fake, app, token)
}

fn on_position() -> String {
    format!("/accounts/{ACCT}/positions/AAPL?locale=en")
}

#[tokio::test]
async fn a_positions_stop_loss_and_take_profit_are_one_group_and_one_filling_cancels_the_other() {
    let (fake, app, token) = long_two().await;
    app.put(&token, &on_position(), "stopLoss=170&takeProfit=195")
        .await;
    let legs = position_legs(&fake);
    assert_eq!(legs.len(), 2, "{legs:?}");
    let (tp, sl) = (leg(&legs, "Limit"), leg(&legs, "Stop"));
    for l in [tp, sl] {
        assert_eq!(l["side"], "SELL", "{l}");
        assert_eq!(num(&l["totalSize"]), d("2"), "{l}");
        assert_eq!(l["timeInForce"], "GTC", "{l}");
        assert!(l["parentId"].is_null(), "a position leg has no parent order: {l}");
    }
    assert_eq!(num(&tp["price"]), d("195"));
    assert_eq!(num(&sl["price"]), d("170"));
    let last = fake.submissions().pop().unwrap();
    assert!(
        last.single_group && last.coids.len() == 2,
        "sent together as one group: {last:?}"
    );
    // TradingView sees them as the position's brackets.
    next_refresh().await;
    let listed = app.orders(&token, ACCT).await;
    let shown: Vec<&Value> = listed
        .iter()
        .filter(|o| o["parentType"] == "position" && o["status"] == "working")
        .collect();
    assert_eq!(shown.len(), 2, "{listed:?}");
    assert!(shown
        .iter()
        .all(|o| o["parentId"] == "AAPL" && o["side"] == "sell"));
    // The market falls to the stop: it fills, the take profit is cancelled, the position is flat.
    let (tp_id, sl_id) = (id_of(tp), id_of(sl));
    fake.set_price(AAPL, d("169.00"), d("169.02"));
    assert_eq!(fake_order(&fake, ACCT, &sl_id)["status"], "Filled");
    assert_eq!(fake_order(&fake, ACCT, &tp_id)["status"], "Cancelled");
    assert_eq!(fake.position(ACCT, AAPL), Decimal::ZERO);
    assert_no_parent_in_a_group(&fake);
}

#[tokio::test]
async fn a_level_is_changed_in_place_a_removed_leg_is_cancelled_and_an_added_one_regroups() {
    let (fake, app, token) = long_two().await;
    app.put(&token, &on_position(), "stopLoss=170&takeProfit=195")
        .await;
    let before = fake.order_count();
    let sl_id = id_of(leg(&position_legs(&fake), "Stop"));
    let tp_id = id_of(leg(&position_legs(&fake), "Limit"));
    // A new stop level: the same order, moved.
    app.put(&token, &on_position(), "stopLoss=172&takeProfit=195")
        .await;
    assert_eq!(fake.order_count(), before, "nothing new placed");
    assert_eq!(num(&fake_order(&fake, ACCT, &sl_id)["price"]), d("172"));
    assert_eq!(num(&fake_order(&fake, ACCT, &tp_id)["price"]), d("195"));
    // The take profit removed: cancelled; the stop loss still protects the position.
    app.put(&token, &on_position(), "stopLoss=172").await;
    assert_eq!(fake_order(&fake, ACCT, &tp_id)["status"], "Cancelled");
    assert!(is_working(&fake_order(&fake, ACCT, &sl_id)));
    assert_eq!(position_legs(&fake).len(), 1);
    // A take profit added again: the lone stop goes with it as a new pair (a leg placed on its own would
    // not cancel the resting one when it fills).
    app.put(&token, &on_position(), "stopLoss=172&takeProfit=196")
        .await;
    assert_eq!(fake_order(&fake, ACCT, &sl_id)["status"], "Cancelled");
    let legs = position_legs(&fake);
    assert_eq!(legs.len(), 2, "{legs:?}");
    assert_eq!(num(&leg(&legs, "Stop")["price"]), d("172"));
    assert_eq!(num(&leg(&legs, "Limit")["price"]), d("196"));
    assert!(fake.submissions().pop().unwrap().single_group);
    // ... and they cancel each other.
    let (new_tp, new_sl) = (id_of(leg(&legs, "Limit")), id_of(leg(&legs, "Stop")));
    fake.set_price(AAPL, d("196.00"), d("196.02"));
    assert_eq!(fake_order(&fake, ACCT, &new_tp)["status"], "Filled");
    assert_eq!(fake_order(&fake, ACCT, &new_sl)["status"], "Cancelled");
    assert_eq!(fake.position(ACCT, AAPL), Decimal::ZERO);
    assert_no_parent_in_a_group(&fake);
}

#[tokio::test]
async fn a_resent_request_places_nothing_twice_and_removing_every_leg_cancels_them() {
    let (fake, app, token) = long_two().await;
    app.put(&token, &on_position(), "stopLoss=170&takeProfit=195")
        .await;
    let (orders, submissions) = (fake.order_count(), fake.submissions().len());
    app.put(&token, &on_position(), "stopLoss=170&takeProfit=195")
        .await;
    assert_eq!(fake.order_count(), orders, "the resend placed nothing");
    assert_eq!(fake.submissions().len(), submissions, "nor sent anything");
    assert_eq!(position_legs(&fake).len(), 2);
    app.put(&token, &on_position(), "").await;
    assert!(position_legs(&fake).is_empty(), "{:?}", fake.orders(ACCT));
    assert_eq!(fake.position(ACCT, AAPL), d("2"), "the position itself stays");
}

#[tokio::test]
async fn the_legs_follow_a_partial_close_and_go_with_a_whole_one() {
    let (fake, app, token) = long_two().await;
    app.put(&token, &on_position(), "stopLoss=170&takeProfit=195")
        .await;
    app.delete(&token, &on_position(), Some("amount=1")).await;
    assert_eq!(fake.position(ACCT, AAPL), d("1"));
    let legs = position_legs(&fake);
    assert_eq!(legs.len(), 2, "{legs:?}");
    assert!(
        legs.iter().all(|l| num(&l["totalSize"]) == d("1")),
        "cut to what remains: {legs:?}"
    );
    assert_eq!(num(&leg(&legs, "Stop")["price"]), d("170"), "levels kept");
    next_refresh().await;
    app.delete(&token, &on_position(), None).await;
    assert_eq!(fake.position(ACCT, AAPL), Decimal::ZERO);
    assert!(
        position_legs(&fake).is_empty(),
        "no leg outlives its position: {:?}",
        fake.orders(ACCT)
    );
}

#[tokio::test]
async fn a_close_that_has_not_filled_leaves_the_legs_protecting_the_position() {
    let (fake, app, token) = long_two().await;
    app.put(&token, &on_position(), "stopLoss=170&takeProfit=195")
        .await;
    // Trading halted: the close is accepted but rests inactive.
    fake.halt(AAPL, true);
    app.delete(&token, &on_position(), None).await;
    assert_eq!(fake.position(ACCT, AAPL), d("2"));
    let legs = position_legs(&fake);
    assert_eq!(legs.len(), 2, "still protected: {:?}", fake.orders(ACCT));
    assert!(legs.iter().all(|l| num(&l["totalSize"]) == d("2")));
}

#[tokio::test]
async fn a_working_orders_brackets_are_changed_added_and_removed_as_its_children() {
    let (fake, app) = ibkr::start().await;
    let token = app.login().await;
    let parent = app
        .place(
            &token,
            ACCT,
            "instrument=AAPL&qty=2&side=buy&type=limit&limitPrice=150&durationType=GTC&stopLoss=140&takeProfit=160",
        )
        .await;
    let children = |fake: &FakeIbkr| -> Vec<Value> {
        fake.orders(ACCT)
            .into_iter()
            .filter(|o| o["parentId"].to_string().trim_matches('"') == parent)
            .filter(is_working)
            .collect()
    };
    let on_order = format!("/accounts/{ACCT}/orders/{parent}?locale=en");
    let sl_id = id_of(leg(&children(&fake), "Stop"));
    let tp_id = id_of(leg(&children(&fake), "Limit"));
    // A new stop level: that child moved, the parent left alone.
    let before = fake.order_count();
    app.put(&token, &on_order, "limitPrice=150&stopLoss=141&takeProfit=160")
        .await;
    assert_eq!(num(&fake_order(&fake, ACCT, &sl_id)["price"]), d("141"));
    assert_eq!(num(&fake_order(&fake, ACCT, &parent)["price"]), d("150"));
    assert_eq!(fake.order_count(), before);
    // The take profit left out: cancelled.
    app.put(&token, &on_order, "limitPrice=150&stopLoss=141").await;
    assert_eq!(fake_order(&fake, ACCT, &tp_id)["status"], "Cancelled");
    assert!(is_working(&fake_order(&fake, ACCT, &sl_id)));
    // A take profit again, and the parent's price and size: a new child, and both children resized.
    app.put(
        &token,
        &on_order,
        "qty=3&limitPrice=151&stopLoss=141&takeProfit=165",
    )
    .await;
    let kids = children(&fake);
    assert_eq!(kids.len(), 2, "{kids:?}");
    let new_tp = leg(&kids, "Limit");
    assert_eq!(num(&new_tp["price"]), d("165"));
    assert!(kids.iter().all(|k| num(&k["totalSize"]) == d("3")), "{kids:?}");
    assert_eq!(num(&fake_order(&fake, ACCT, &parent)["price"]), d("151"));
    assert!(!fake.submissions().pop().unwrap().single_group);
    // The parent fills: the children work, and one filling cancels the other.
    let new_tp = id_of(new_tp);
    fake.set_price(AAPL, d("150.90"), d("150.92"));
    assert_eq!(fake_order(&fake, ACCT, &parent)["status"], "Filled");
    assert_eq!(fake.position(ACCT, AAPL), d("3"));
    fake.set_price(AAPL, d("165.00"), d("165.02"));
    assert_eq!(fake_order(&fake, ACCT, &new_tp)["status"], "Filled");
    assert_eq!(fake_order(&fake, ACCT, &sl_id)["status"], "Cancelled");
    assert_eq!(fake.position(ACCT, AAPL), Decimal::ZERO);
    assert_no_parent_in_a_group(&fake);
}

#[tokio::test]
async fn the_children_of_a_filled_order_are_its_positions_brackets() {
    let (fake, app) = ibkr::start().await;
    let token = app.login().await;
    let parent = app
        .place(
            &token,
            ACCT,
            "instrument=AAPL&qty=2&side=buy&type=market&stopLoss=170&takeProfit=195",
        )
        .await;
    let before = fake.order_count();
    next_refresh().await;
    let listed = app.orders(&token, ACCT).await;
    let legs: Vec<&Value> = listed.iter().filter(|o| o["parentType"] == "position").collect();
    assert_eq!(legs.len(), 2, "{listed:?}");
    assert!(legs.iter().all(|o| o["parentId"] == "AAPL"), "{legs:?}");
    let sl_id = legs
        .iter()
        .find(|o| o["type"] == "stop")
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .unwrap();
    // Changing the position's stop moves the child; no second stop loss is placed beside it.
    app.put(&token, &on_position(), "stopLoss=172&takeProfit=195")
        .await;
    assert_eq!(fake.order_count(), before);
    assert_eq!(num(&fake_order(&fake, ACCT, &sl_id)["price"]), d("172"));
    assert_eq!(
        fake_order(&fake, ACCT, &sl_id)["parentId"]
            .to_string()
            .trim_matches('"'),
        parent
    );
    assert_no_parent_in_a_group(&fake);
}

/// Polls TradingView's positions (as its tabs do) until `done` holds at the fake; how long it took.
async fn poll_until(app: &TestApp, token: &str, done: impl Fn() -> bool) -> std::time::Duration {
    let started = std::time::Instant::now();
    while !done() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(45),
            "not fixed in 45 s"
        );
        app.positions(token, ACCT).await;
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn legs_outgrown_or_left_by_a_position_changed_with_other_orders_are_cut_or_cancelled_after_a_grace() {
    let (fake, app, token) = long_two_with("orphan_legs_grace_secs = 5").await;
    app.put(&token, &on_position(), "stopLoss=170&takeProfit=195")
        .await;
    // Reduced by a plain opposite order, not through the position: IBKR leaves the legs at 2.
    app.place(&token, ACCT, "instrument=AAPL&qty=1&side=sell&type=market")
        .await;
    assert_eq!(fake.position(ACCT, AAPL), d("1"));
    assert!(
        position_legs(&fake)
            .iter()
            .all(|l| num(&l["totalSize"]) == d("2")),
        "not at once: IBKR's portfolio may lag a fill"
    );
    let took = poll_until(&app, &token, || {
        let legs = position_legs(&fake);
        legs.len() == 2 && legs.iter().all(|l| num(&l["totalSize"]) == d("1"))
    })
    .await;
    assert!(
        took >= std::time::Duration::from_secs(4),
        "not before the grace: {took:?}"
    );
    // Closed the same way: the legs go.
    app.place(&token, ACCT, "instrument=AAPL&qty=1&side=sell&type=market")
        .await;
    assert_eq!(fake.position(ACCT, AAPL), Decimal::ZERO);
    assert_eq!(position_legs(&fake).len(), 2);
    let took = poll_until(&app, &token, || position_legs(&fake).is_empty()).await;
    assert!(
        took >= std::time::Duration::from_secs(4),
        "not before the grace: {took:?}"
    );
    assert_eq!(fake.position(ACCT, AAPL), Decimal::ZERO, "nothing opened");
}

#[tokio::test]
async fn by_default_the_bridge_never_cancels_or_cuts_a_leg_on_its_own() {
    // IBKR's portfolio is cached and may lag a fill: unless the operator turns the sweep on, legs a
    // position no longer needs are left for the user, as IBKR leaves them.
    let (fake, app, token) = long_two().await;
    app.put(&token, &on_position(), "stopLoss=170&takeProfit=195")
        .await;
    app.place(&token, ACCT, "instrument=AAPL&qty=2&side=sell&type=market")
        .await;
    assert_eq!(fake.position(ACCT, AAPL), Decimal::ZERO);
    // Long enough for the shortest grace the sweep takes (5 s) to run out after the refreshes that notice
    // the legs (IBKR's 5 s pacing): with `orphan_legs_grace_secs = 5` this test fails. (That the default
    // is off is pinned in `config_tests`.)
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(20) {
        app.positions(&token, ACCT).await;
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    let legs = position_legs(&fake);
    assert_eq!(legs.len(), 2, "both legs still rest: {legs:?}");
    assert!(legs.iter().all(|l| num(&l["totalSize"]) == d("2")), "{legs:?}");
}
