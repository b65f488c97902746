//! Two replicas of the bridge (two Capital.com brokers) on one shared state store: Capital.com allows one
//! `POST /session` per second per API key, and logins arriving on both at once must keep to it between
//! them, as one bridge would. On stores that share nothing, each replica paces alone and Capital.com
//! refuses one of two logins sent in the same second (what the shared pacing prevents).

use crate::support::capital;
use crate::support::fake_capital::{FakeCapital, FakeOptions, FakeUser};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tvbridge::backends::capital::CapitalBroker;
use tvbridge::broker::{Broker, Credentials, Login};
use tvbridge::config::BackendConfig;
use tvbridge::secret::Secret;
use tvbridge::store::{MemoryStore, Store};

/// The demo user and `n - 1` more, each with accounts of their own: one `POST /session` per login.
fn users(n: usize) -> Vec<FakeUser> {
    (0..n)
        .map(|i| {
            let mut user = FakeUser::demo();
            if i > 0 {
                user.identifier = format!("user{i}@example.com");
                for account in &mut user.accounts {
                    account.id = format!("{}-{i}", account.id);
                }
            }
            user
        })
        .collect()
}

/// A broker (a replica) on `store`, against `fake`.
fn replica(fake: &FakeCapital, store: Arc<dyn Store>) -> Arc<CapitalBroker> {
    let config = capital::config(fake, "", "");
    let BackendConfig::Capital(c) = &config.backend else {
        panic!("capital config expected");
    };
    let resolved = c.resolve(&|_| None).expect("the test configuration resolves");
    Arc::new(CapitalBroker::start_resolved_with_store(resolved, store).expect("capital broker starts"))
}

/// Logs `user` in on each broker of `logins` at the same moment; the outcomes (ok, or the refusal).
async fn log_in_at_once(logins: Vec<(Arc<CapitalBroker>, FakeUser)>) -> Vec<Result<(), String>> {
    let tasks: Vec<_> = logins
        .into_iter()
        .enumerate()
        .map(|(i, (broker, user))| {
            tokio::spawn(async move {
                let login = Login::PassThrough(Credentials {
                    login: user.identifier.clone(),
                    password: Secret::new(user.password.clone()),
                });
                broker
                    .login(&format!("session-{i}"), &login)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("the login task ends"));
    }
    out
}

/// When each `POST /session` reached the fake, in order.
fn session_posts(fake: &FakeCapital) -> Vec<Instant> {
    let mut at: Vec<Instant> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/session")
        .map(|r| r.at)
        .collect();
    at.sort();
    at
}

#[tokio::test]
async fn logins_on_two_replicas_at_once_reach_capital_at_least_a_second_apart() {
    let fake = FakeCapital::start(FakeOptions {
        users: users(3),
        ..FakeOptions::default()
    })
    .await;
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new_shared());
    let (a, b) = (replica(&fake, store.clone()), replica(&fake, store));
    let u = users(3);
    // Three logins (two on A, one on B): the third one's turn, 2.3 s away, is within the 3 s a new login
    // may queue, so none is refused for the queue.
    let outcomes = log_in_at_once(vec![
        (a.clone(), u[0].clone()),
        (b.clone(), u[1].clone()),
        (a.clone(), u[2].clone()),
    ])
    .await;
    let posts = session_posts(&fake);
    let gaps: Vec<Duration> = posts.windows(2).map(|p| p[1] - p[0]).collect();
    println!("POST /session gaps at the fake: {gaps:?}");
    assert_eq!(outcomes, vec![Ok(()), Ok(()), Ok(())]);
    assert_eq!(posts.len(), 3, "one POST /session per login");
    for gap in &gaps {
        assert!(
            *gap >= Duration::from_secs(1),
            "two logins reached Capital.com {gap:?} apart: {gaps:?}"
        );
    }
}

#[tokio::test]
async fn replicas_that_share_no_store_each_pace_alone_and_capital_refuses_one_of_two_logins() {
    let fake = FakeCapital::start(FakeOptions {
        users: users(2),
        ..FakeOptions::default()
    })
    .await;
    let a = replica(&fake, Arc::new(MemoryStore::new()));
    let b = replica(&fake, Arc::new(MemoryStore::new()));
    let u = users(2);
    let outcomes = log_in_at_once(vec![(a, u[0].clone()), (b, u[1].clone())]).await;
    let posts = session_posts(&fake);
    assert_eq!(posts.len(), 2);
    assert!(posts[1] - posts[0] < Duration::from_secs(1), "{posts:?}");
    assert_eq!(
        outcomes.iter().filter(|o| o.is_err()).count(),
        1,
        "Capital.com answers the second login of the second 429: {outcomes:?}"
    );
}
