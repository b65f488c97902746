use super::*;
use crate::sync::MutexExt;
use rust_decimal::Decimal;
use std::time::Duration;

fn order(id: &str, status: tv::OrderStatus) -> tv::Order {
    tv::Order::new(
        id.into(),
        "EURUSD".into(),
        Decimal::ONE,
        tv::Side::Buy,
        tv::OrderType::Limit,
        status,
        0,
    )
}

fn ids(orders: impl IntoIterator<Item = tv::Order>) -> Vec<String> {
    orders.into_iter().map(|o| o.id).collect()
}

#[test]
fn only_final_orders_are_recorded_and_a_later_final_status_replaces_by_id() {
    let mut f = Finished::default();
    assert!(!f.record(order("A", tv::OrderStatus::Working)));
    assert!(!f.record(order("A", tv::OrderStatus::Placing)));
    assert!(f.is_empty());
    assert!(f.record(order("A", tv::OrderStatus::Rejected)));
    assert!(f.record(order("B", tv::OrderStatus::Cancelled)));
    assert!(f.record(order("A", tv::OrderStatus::Filled)));
    // A final order never goes back to working, whatever a late listing says.
    assert!(!f.record(order("A", tv::OrderStatus::Working)));
    assert_eq!(f.len(), 2);
    assert_eq!(f.get("A").map(|o| o.status), Some(tv::OrderStatus::Filled));
    assert_eq!(
        ids(f.orders().cloned()),
        ["B", "A"],
        "the replaced order is the newest"
    );
}

#[test]
fn the_list_is_bounded_and_drops_the_oldest_first() {
    let mut f = Finished::new(3);
    for id in ["1", "2", "3", "4", "5"] {
        f.record(order(id, tv::OrderStatus::Filled));
    }
    assert_eq!(ids(f.orders().cloned()), ["3", "4", "5"]);
    let mut one = Finished::new(0);
    one.record(order("1", tv::OrderStatus::Filled));
    one.record(order("2", tv::OrderStatus::Filled));
    assert_eq!(
        ids(one.orders().cloned()),
        ["2"],
        "a bound of 0 still keeps the newest"
    );
}

#[test]
fn a_listing_that_lags_does_not_show_finished_orders_as_working() {
    let mut f = Finished::default();
    f.record(order("A", tv::OrderStatus::Cancelled));
    let working = vec![
        order("A", tv::OrderStatus::Working),
        order("B", tv::OrderStatus::Working),
    ];
    assert_eq!(ids(f.hide_finished(working)), ["B"]);
}

#[test]
fn relisted_orders_are_forgotten_only_from_earlier_rounds_and_when_reused() {
    let mut f = Finished::default();
    f.next_round();
    f.record(order("old", tv::OrderStatus::Cancelled));
    f.record(order("kept", tv::OrderStatus::Cancelled));
    f.next_round();
    f.record(order("new", tv::OrderStatus::Cancelled));
    let listed: HashSet<&str> = ["old", "kept", "new"].into_iter().collect();
    f.forget_relisted(&listed, |o| o.id != "kept");
    assert_eq!(ids(f.orders().cloned()), ["kept", "new"]);
}

#[test]
fn vanished_orders_are_reported_once_with_whether_this_bridge_cancelled_them() {
    let mut j = AccountJournal::default();
    let w = [
        order("A", tv::OrderStatus::Working),
        order("B", tv::OrderStatus::Working),
    ];
    assert!(j.observe_working(&w).is_empty());
    j.cancelling("A");
    let gone = j.observe_working(&[]);
    assert_eq!(gone.len(), 2);
    assert!(gone.iter().any(|(o, by_us)| o.id == "A" && *by_us));
    assert!(gone.iter().any(|(o, by_us)| o.id == "B" && !*by_us));
    assert!(j.observe_working(&[]).is_empty());
}

#[test]
fn a_finished_order_is_no_longer_watched_and_cancel_marks_do_not_pile_up() {
    let mut j = AccountJournal::default();
    j.observe_working(&[order("A", tv::OrderStatus::Working)]);
    j.finish(order("A", tv::OrderStatus::Cancelled));
    assert!(j.observe_working(&[]).is_empty(), "A was reported twice");
    assert_eq!(ids(j.finished()), ["A"]);

    let mut w = WorkingWatch::default();
    w.cancelling("never-listed");
    w.watch([order("B", tv::OrderStatus::Working)]);
    assert!(w.cancelling.is_empty(), "a mark outlived the listing");
    w.cancelling("B");
    w.watch([order("B", tv::OrderStatus::Working)]);
    assert_eq!(
        w.vanished(&[]),
        vec![(order("B", tv::OrderStatus::Working), true)]
    );
}

#[test]
fn journals_are_kept_per_login_and_account_and_end_with_the_login() {
    let t: Journals<std::sync::Mutex<AccountJournal>> = Journals::default();
    t.of("s1", "acc")
        .lock()
        .unwrap()
        .finish(order("A", tv::OrderStatus::Filled));
    assert_eq!(t.of("s1", "acc").lock().unwrap().finished().len(), 1);
    assert!(t.of("s2", "acc").lock().unwrap().finished().is_empty());
    assert!(t.of("s1", "other").lock().unwrap().finished().is_empty());
    assert_eq!(t.of_account("acc").len(), 2);
    t.end_login("s1");
    assert_eq!(t.len(), 1);
    assert!(t.of("s1", "acc").lock().unwrap().finished().is_empty());
}

#[tokio::test(start_paused = true)]
async fn idle_journals_are_dropped_past_the_threshold_but_never_the_one_asked_for() {
    let t: Journals<std::sync::Mutex<u32>> = Journals::new(Duration::from_secs(600), 1);
    *t.of("a", "1").lock().unwrap() = 7;
    t.of("b", "1");
    tokio::time::advance(Duration::from_secs(601)).await;
    // "a" is idle, but asking for it keeps it (with what it held); "b" goes.
    assert_eq!(*t.of("a", "1").lock().unwrap(), 7);
    assert_eq!(t.len(), 1);
    tokio::time::advance(Duration::from_secs(300)).await;
    t.of("c", "1");
    assert_eq!(t.len(), 2, "a journal used 300 s ago was dropped");

    let few: Journals<u32> = Journals::new(Duration::from_secs(600), 5);
    few.of("a", "1");
    tokio::time::advance(Duration::from_secs(601)).await;
    few.of("b", "1");
    assert_eq!(few.len(), 2, "idle journals were dropped below the threshold");
}

#[test]
fn journal_keys_never_print_the_login() {
    let t: Journals<u32> = Journals::default();
    t.of("secret-token", "123");
    let key = t.slots.locked().keys().next().cloned().unwrap();
    let printed = format!("{key:?} {t:?}");
    assert!(!printed.contains("secret-token") && printed.contains("123"));
}
