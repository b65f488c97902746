//! Restarts on the embedded store (the default): a session and its token outlive the process, and an
//! order whose `requestId` TradingView sends again after a kill -9 or a SIGTERM is answered with the first
//! order, never placed a second time (the double order this reproduces was a real bug). A burst of orders
//! cut by a kill -9 and resent in full ends with every order placed exactly once.

use crate::commands::{free_port, http_to, Server};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// The paper demo's netting account.
pub(crate) const ACCOUNT: &str = "demo-net";

/// A bridge on the embedded store in `dir`, with a short `requestId` claim so that an attempt cut by a
/// kill -9 is resolved within seconds.
fn bridge(dir: &std::path::Path, port: u16) -> Server {
    let listen = format!("127.0.0.1:{port}");
    let dir = dir.to_str().unwrap();
    Server::start_with(
        &["serve", "--listen", &listen],
        port,
        &[
            ("TVBRIDGE__STORE__DATA_DIR", dir),
            ("TVBRIDGE__IDEMPOTENCY__CLAIM_LEASE_SECS", "3"),
        ],
    )
}

pub(crate) fn login(server: &Server) -> String {
    let auth = server.json(
        "POST",
        "/api/authorize",
        None,
        Some("login=demo&password=demo&locale=en"),
    );
    auth["d"]["access_token"].as_str().expect("a token").to_owned()
}

/// A limit order far below the market, so it stays working; `n` makes each order of a burst distinct.
fn order_form(n: u32) -> String {
    format!(
        "instrument=EURUSD&side=buy&type=limit&qty={}&limitPrice=0.5",
        qty(n)
    )
}

fn qty(n: u32) -> u32 {
    1000 * (n + 1)
}

/// Places order `n` under `request_id` on the bridge at `port`; `None` when the connection broke.
pub(crate) fn place_at(port: u16, token: &str, request_id: &str, n: u32) -> Option<serde_json::Value> {
    let path = format!("/api/accounts/{ACCOUNT}/orders?locale=en&requestId={request_id}");
    let (status, body) = http_to(port, "POST", &path, Some(token), Some(&order_form(n)))?;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).ok()
}

fn place(server: &Server, token: &str, request_id: &str, n: u32) -> Option<serde_json::Value> {
    place_at(server.port, token, request_id, n)
}

/// The working orders of the account: id -> quantity.
pub(crate) fn working_orders(server: &Server, token: &str) -> BTreeMap<String, f64> {
    let orders = server.json(
        "GET",
        &format!("/api/accounts/{ACCOUNT}/orders?locale=en"),
        Some(token),
        None,
    );
    orders["d"]
        .as_array()
        .expect("orders")
        .iter()
        .filter(|o| o["status"] == "working")
        .map(|o| (o["id"].as_str().unwrap().to_owned(), o["qty"].as_f64().unwrap()))
        .collect()
}

fn restart_keeps_the_session_and_answers_the_resend_with_the_first_order(kill_9: bool) {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut first = bridge(data.path(), port);
    let token = login(&first);
    let placed = place(&first, &token, "restart-1", 0).expect("an answer");
    assert_eq!(placed["s"], "ok", "{placed}");
    let order_id = placed["d"]["orderId"].as_str().unwrap().to_owned();
    if kill_9 {
        first.kill_9();
    } else {
        assert!(first.terminate().success());
    }
    drop(first);

    let second = bridge(data.path(), port);
    // The token issued before the restart still works: the session and the signing key were kept.
    let before = working_orders(&second, &token);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        [&order_id],
        "the order survived the restart"
    );
    // TradingView resends the same request (after logging in again, or with the old token).
    for token in [token.clone(), login(&second)] {
        let again = place(&second, &token, "restart-1", 0).expect("an answer");
        assert_eq!(again["s"], "ok", "{again}");
        assert_eq!(
            again["d"]["orderId"],
            order_id.as_str(),
            "the resend answers the first order"
        );
    }
    assert_eq!(working_orders(&second, &token).len(), 1, "one order, not two");
}

#[test]
fn a_request_id_resent_after_kill_9_answers_the_first_order() {
    restart_keeps_the_session_and_answers_the_resend_with_the_first_order(true);
}

#[test]
fn a_request_id_resent_after_sigterm_answers_the_first_order() {
    restart_keeps_the_session_and_answers_the_resend_with_the_first_order(false);
}

#[test]
fn a_burst_cut_by_kill_9_and_resent_in_full_places_every_order_exactly_once() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let first = bridge(data.path(), port);
    burst_cut_and_resent(first, |port| bridge(data.path(), port));
}

/// Places a burst of orders with four clients on `first`, kills it with SIGKILL while they are at it,
/// then resends every request to the bridge `then` gives (the same one restarted on `first`'s port, or
/// another replica): every request must end with its own order, the one answered before the kill where
/// there was one, and the account must hold exactly those orders.
pub(crate) fn burst_cut_and_resent(mut first: Server, then: impl FnOnce(u16) -> Server) {
    const ORDERS: u32 = 40;
    let port = first.port;
    let token = login(&first);
    // Four clients place the burst; the bridge is killed while they are at it.
    let answered = std::sync::Arc::new(std::sync::Mutex::new(BTreeMap::<u32, String>::new()));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (answered, token) = (answered.clone(), token.clone());
            std::thread::spawn(move || {
                for n in (c..ORDERS).step_by(4) {
                    match place_at(port, &token, &format!("burst-{n}"), n) {
                        Some(r) if r["s"] == "ok" => {
                            let id = r["d"]["orderId"].as_str().unwrap().to_owned();
                            answered.lock().unwrap().insert(n, id);
                        }
                        _ => return,
                    }
                }
            })
        })
        .collect();
    // Once some orders are answered and others are on their way.
    let start = Instant::now();
    while answered.lock().unwrap().len() < 8 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &first.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    first.kill_9();
    for c in clients {
        c.join().unwrap();
    }
    let answered_before = answered.lock().unwrap().clone();
    assert!(
        answered_before.len() < ORDERS as usize,
        "the kill came after the whole burst: nothing was cut"
    );
    drop(first);

    let second = then(port);
    let token = login(&second);
    // TradingView resends every request it has no answer for; here: every request of the burst.
    let mut ids = BTreeMap::new();
    for n in 0..ORDERS {
        let deadline = Instant::now() + Duration::from_secs(30);
        let id = loop {
            let reply = place(&second, &token, &format!("burst-{n}"), n).expect("an answer");
            if reply["s"] == "ok" {
                break reply["d"]["orderId"].as_str().unwrap().to_owned();
            }
            // Only "still being placed" may be answered, while a claim of the killed process lapses.
            let errmsg = reply["errmsg"].as_str().unwrap_or_default();
            assert!(errmsg.contains("still being placed"), "burst-{n}: {reply}");
            assert!(Instant::now() < deadline, "burst-{n} never resolved: {reply}");
            std::thread::sleep(Duration::from_millis(200));
        };
        if let Some(before) = answered_before.get(&n) {
            assert_eq!(
                &id, before,
                "burst-{n}: the resend answers the order answered before the kill"
            );
        }
        ids.insert(n, id);
    }
    let distinct: BTreeSet<&String> = ids.values().collect();
    assert_eq!(
        distinct.len(),
        ORDERS as usize,
        "every request its own order: {ids:?}"
    );
    let working = working_orders(&second, &token);
    assert_eq!(
        working.len(),
        ORDERS as usize,
        "zero doubled, zero lost: {working:?}"
    );
    for (n, id) in &ids {
        assert_eq!(
            working.get(id),
            Some(&f64::from(qty(*n))),
            "burst-{n} is order {id} with its own quantity"
        );
    }
}
