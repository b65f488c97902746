//! Logins on the Capital.com backend (pass-through) under attack: throttled guesses never reach
//! Capital.com, and a flood of bogus logins for other identifiers cannot queue a good login behind them
//! at `POST /session`'s one-per-second pacing.

use crate::support;

use axum::http::Method;
use std::time::{Duration, Instant};
use support::capital::{self, LOGIN, PASSWORD};
use support::TestApp;

fn session_posts(fake: &support::fake_capital::FakeCapital) -> usize {
    capital::count(&fake.requests(), "POST", "/session")
}

async fn authorize(app: &TestApp, login: &str, password: &str) -> serde_json::Value {
    let form = format!("login={login}&password={password}&locale=en");
    app.send(Method::POST, "/authorize", None, Some(&form)).await.body
}

#[tokio::test]
async fn throttled_logins_are_refused_before_capital_is_asked() {
    // Defaults: five free failures per login, then 1 s.
    let (fake, app) = capital::start("", "").await;
    for _ in 0..5 {
        let r = authorize(&app, LOGIN, "wrong").await;
        assert_eq!(r["errmsg"], "Invalid login or password");
    }
    assert_eq!(session_posts(&fake), 5);
    let started = Instant::now();
    let r = authorize(&app, LOGIN, PASSWORD).await;
    assert_eq!(
        r["errmsg"], "Too many failed logins for this login; try again in 1 s.",
        "even the right password waits for the back-off"
    );
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "answered at once, not after the upstream pacing: {:?}",
        started.elapsed()
    );
    assert_eq!(session_posts(&fake), 5, "Capital.com was not asked");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    capital::login(&app).await;
    assert_eq!(session_posts(&fake), 6);
}

#[tokio::test]
async fn bogus_logins_for_other_identifiers_cannot_hold_a_good_login_back() {
    let (fake, app) = capital::start("", "").await;
    let app = std::sync::Arc::new(app);
    let started = Instant::now();
    let mut bogus = Vec::new();
    for i in 0..15 {
        let app = app.clone();
        bogus.push(tokio::spawn(async move {
            let r = authorize(&app, &format!("bogus{i}@example.com"), "guess").await;
            (r, started.elapsed())
        }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Without a bound the good login would queue behind all fifteen (one per 1.15 s: ~17 s).
    let good = tokio::time::timeout(Duration::from_secs(6), authorize(&app, LOGIN, PASSWORD))
        .await
        .expect("the good login is answered within the queue bound, not after every bogus one");
    let answered = started.elapsed();
    let token = if good["s"] == "ok" {
        good["d"]["access_token"].as_str().unwrap().to_owned()
    } else {
        // Refused at once, saying when to come back; coming back then works.
        let msg = good["errmsg"].as_str().unwrap();
        assert!(msg.contains("please try again in"), "{msg}");
        tokio::time::sleep(Duration::from_secs(4)).await;
        capital::login(&app).await
    };
    assert!(answered < Duration::from_secs(5), "{answered:?}");
    for b in bogus {
        let (r, at) = b.await.unwrap();
        assert_eq!(r["s"], "error");
        assert!(
            at < Duration::from_secs(5),
            "no login queues for long: {at:?} {r}"
        );
    }
    let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
    assert_eq!(accounts.as_array().unwrap().len(), 2);
    assert!(
        session_posts(&fake) <= 6,
        "only the logins admitted to the queue reached Capital.com: {}",
        session_posts(&fake)
    );
}
