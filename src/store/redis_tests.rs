//! The Redis store against a real `redis-server` (started by `fakes::redis_server`, skipped when missing).

use super::*;
use crate::secret::Secret;
use crate::store::{conformance, events, StoreKind};
use fakes::redis_server::{Options, RedisServer};
use std::time::Instant;

const TTL: Duration = Duration::from_secs(60);

fn config(server: &RedisServer) -> StoreConfig {
    StoreConfig {
        kind: StoreKind::Redis,
        url: server.url(),
        key_prefix: format!("test-{}:", uuid::Uuid::new_v4().simple()),
        pool_size: 2,
        timeout_ms: 300,
        connect_timeout_ms: 1_000,
        ..StoreConfig::default()
    }
}

/// The next message on `channel` (skipping others), within `within`.
async fn message_on(rx: &mut broadcast::Receiver<Notice>, channel: &str, within: Duration) -> Bytes {
    tokio::time::timeout(within, async {
        loop {
            match events::next(rx).await {
                Some(Notice::Message { channel: c, payload }) if *c == *channel => return payload,
                Some(_) => continue,
                None => panic!("the bus closed"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no message on {channel} within {within:?}"))
}

/// Retries `ping` until it succeeds, within `within`; how long it took.
async fn until_it_answers(store: &RedisStore, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if store.ping().await.is_ok() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "the store did not recover within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn conforms_on_a_real_redis() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::open(&config(&server)).await.unwrap();
    assert_eq!((store.kind(), store.shared()), ("redis", true));
    conformance::run(&store).await;
}

#[tokio::test]
async fn two_stores_on_one_redis_see_each_others_writes_and_messages() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let cfg = config(&server);
    let a = RedisStore::open(&cfg).await.unwrap();
    let b = RedisStore::open(&cfg).await.unwrap();

    let v1 = a
        .swap("k", Expect::Absent, Some(b"from a"), TTL)
        .await
        .unwrap()
        .unwrap();
    let seen = b.get("k").await.unwrap().unwrap();
    assert_eq!((seen.version, &seen.value[..]), (v1, &b"from a"[..]));
    assert_eq!(
        b.swap("k", Expect::Absent, Some(b"b too"), TTL).await.unwrap(),
        None
    );
    let v2 = b
        .swap("k", Expect::Version(v1), Some(b"from b"), TTL)
        .await
        .unwrap()
        .unwrap();
    assert!(v2 > v1, "one version counter for both");
    assert_eq!(
        a.swap("k", Expect::Version(v1), Some(b"stale"), TTL)
            .await
            .unwrap(),
        None
    );
    assert_eq!(&a.get("k").await.unwrap().unwrap().value[..], b"from b");

    let (mut rx_a, mut rx_b) = (a.subscribe(), b.subscribe());
    // Several health-check PINGs on the subscription connections: a healthy one is kept, no gap.
    tokio::time::sleep(SUBSCRIPTION_PING_EVERY * 4).await;
    assert!(
        rx_a.is_empty() && rx_b.is_empty(),
        "nothing was published, and nothing lost"
    );
    a.publish("news", b"hello").await.unwrap();
    assert_eq!(
        &message_on(&mut rx_b, "news", Duration::from_secs(5)).await[..],
        b"hello"
    );
    assert_eq!(
        &message_on(&mut rx_a, "news", Duration::from_secs(5)).await[..],
        b"hello"
    );
}

#[tokio::test]
async fn key_prefix_keeps_two_bridges_on_one_redis_apart() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    // A glob character in a prefix must not let it match the other's channels.
    let one = RedisStore::open(&StoreConfig {
        key_prefix: "one*".into(),
        ..config(&server)
    })
    .await
    .unwrap();
    let two = RedisStore::open(&StoreConfig {
        key_prefix: "one-two:".into(),
        ..config(&server)
    })
    .await
    .unwrap();
    one.swap("k", Expect::Any, Some(b"1"), TTL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(two.get("k").await.unwrap(), None);
    two.swap("k", Expect::Absent, Some(b"2"), TTL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&one.get("k").await.unwrap().unwrap().value[..], b"1");

    let mut rx_one = one.subscribe();
    two.publish("chan", b"for two").await.unwrap();
    one.publish("chan", b"for one").await.unwrap();
    assert_eq!(
        &message_on(&mut rx_one, "chan", Duration::from_secs(5)).await[..],
        b"for one"
    );
}

#[tokio::test]
async fn a_paused_redis_times_out_within_the_limit_and_works_again_when_resumed() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let cfg = config(&server);
    let store = RedisStore::open(&cfg).await.unwrap();
    let mut rx = store.subscribe();
    store.swap("k", Expect::Any, Some(b"v"), TTL).await.unwrap();

    server.pause();
    let limit = Duration::from_millis(cfg.timeout_ms);
    // The margin is for a busy test machine; the figure printed below is what to look at.
    let mut slowest = Duration::ZERO;
    for _ in 0..6 {
        let start = Instant::now();
        let err = store.get("k").await.unwrap_err();
        slowest = slowest.max(start.elapsed());
        assert_eq!(err, StoreError::Timeout(cfg.timeout_ms));
    }
    let start = Instant::now();
    assert_eq!(
        store.swap("k", Expect::Any, Some(b"w"), TTL).await.unwrap_err(),
        StoreError::Timeout(cfg.timeout_ms)
    );
    slowest = slowest.max(start.elapsed());
    assert!(
        slowest < limit + Duration::from_millis(500),
        "slowest call {slowest:?} for a limit of {limit:?}"
    );

    server.resume();
    let took = until_it_answers(&store, Duration::from_secs(5)).await;
    println!(
        "calls on a paused redis: slowest {slowest:?} (limit {limit:?}); answering {took:?} after SIGCONT"
    );
    // The timed-out swap may have been applied once the server ran again: either value is right.
    let value = store.get("k").await.unwrap().unwrap().value;
    assert!(value == "v" || value == "w", "{value:?}");

    // The subscription's PING went unanswered: it was replaced, and subscribers are told of the gap.
    let gap = tokio::time::timeout(Duration::from_secs(10), async {
        while !matches!(events::next(&mut rx).await, Some(Notice::Gap)) {}
    })
    .await;
    assert!(gap.is_ok(), "no Gap after a pause longer than the PING check");
    store.publish("after", b"resumed").await.unwrap();
    assert_eq!(
        &message_on(&mut rx, "after", Duration::from_secs(5)).await[..],
        b"resumed"
    );
}

#[tokio::test]
async fn a_restarted_redis_fails_calls_then_recovers_and_subscribers_hear_of_the_gap() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::open(&config(&server)).await.unwrap();
    let mut rx = store.subscribe();
    store.swap("k", Expect::Any, Some(b"v"), TTL).await.unwrap();

    server.stop();
    let err = store.ping().await.unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable(_) | StoreError::Timeout(_)),
        "{err:?}"
    );
    assert!(store.get("k").await.is_err());

    server.restart_same_port();
    let took = until_it_answers(&store, Duration::from_secs(10)).await;
    let gap = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(Notice::Gap) = events::next(&mut rx).await {
                return;
            }
        }
    })
    .await;
    assert!(gap.is_ok(), "no Gap after the subscription came back");
    println!("a restarted redis answered {took:?} after it was up again");

    // A new, empty Redis: its script cache too (EVALSHA falls back to loading the script).
    assert_eq!(store.get("k").await.unwrap(), None);
    let v = store
        .swap("k", Expect::Absent, Some(b"again"), TTL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.get("k").await.unwrap().unwrap().version, v);
    store.publish("after", b"back").await.unwrap();
    assert_eq!(
        &message_on(&mut rx, "after", Duration::from_secs(5)).await[..],
        b"back"
    );
}

#[tokio::test]
async fn a_password_from_store_password_works_and_a_wrong_one_is_refused_without_showing_it() {
    let Some(server) = RedisServer::start_with(Options {
        password: Some("right-pw-7".into()),
        ..Options::default()
    }) else {
        return;
    };
    let store = RedisStore::open(&StoreConfig {
        password: Secret::new("right-pw-7"),
        ..config(&server)
    })
    .await
    .unwrap();
    conformance::run(&store).await;
    assert!(!format!("{store:?}").contains("right-pw-7"));

    // In the URL, too.
    let in_url = RedisStore::open(&StoreConfig {
        url: server.url_with_password(),
        ..config(&server)
    })
    .await
    .unwrap();
    in_url.ping().await.unwrap();

    let wrong = RedisStore::open(&StoreConfig {
        password: Secret::new("wrong-pw-9"),
        ..config(&server)
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(
        wrong.contains("store.url") && wrong.contains("store.password"),
        "{wrong}"
    );
    assert!(!wrong.contains("wrong-pw-9"), "{wrong}");

    let wrong_in_url = RedisStore::open(&StoreConfig {
        url: format!("redis://:wrong-pw-9@127.0.0.1:{}", server.port()),
        ..config(&server)
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(
        wrong_in_url.contains(&format!("redis://:{}@127.0.0.1", crate::secret::MASK)),
        "{wrong_in_url}"
    );
    assert!(!wrong_in_url.contains("wrong-pw-9"), "{wrong_in_url}");

    let none = RedisStore::open(&config(&server)).await.unwrap_err().to_string();
    assert!(none.contains("store.password"), "{none}");
}

#[tokio::test]
async fn an_unreachable_redis_is_refused_at_open_within_the_connect_timeout() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = StoreConfig {
        kind: StoreKind::Redis,
        url: format!("redis://user:hidden-pw@127.0.0.1:{port}/0"),
        connect_timeout_ms: 500,
        ..StoreConfig::default()
    };
    let start = Instant::now();
    let err = RedisStore::open(&cfg).await.unwrap_err().to_string();
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    assert!(
        err.starts_with("store.url redis://user:********@127.0.0.1:"),
        "{err}"
    );
    assert!(!err.contains("hidden-pw"), "{err}");

    let insecure = RedisStore::open(&StoreConfig {
        url: format!("rediss://127.0.0.1:{port}/#insecure"),
        ..cfg.clone()
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(insecure.contains("#insecure"), "{insecure}");
}

#[test]
fn debug_and_check_config_never_show_the_password() {
    let cfg = StoreConfig {
        kind: StoreKind::Redis,
        url: "rediss://admin:url-secret@redis.example:6380/2".into(),
        password: Secret::new("field-secret"),
        ..StoreConfig::default()
    };
    let debug = format!("{cfg:?}");
    let toml = toml::to_string(&cfg).unwrap();
    for text in [&debug, &toml] {
        assert!(
            !text.contains("url-secret") && !text.contains("field-secret"),
            "{text}"
        );
        assert!(
            text.contains("rediss://admin:********@redis.example:6380/2"),
            "{text}"
        );
    }
}

#[test]
fn masked_urls_keep_the_address_and_hide_any_password() {
    for (url, shown) in [
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
        ("redis://:pw@h:1/0", "redis://:********@h:1/0"),
        ("redis://user:pw@h", "redis://user:********@h"),
        ("redis://user:p@w/x@h:1", "redis://user:********@h:1"),
        ("redis://bare-secret@h", "redis://********@h"),
        ("", ""),
    ] {
        assert_eq!(masked_url(url), shown, "{url}");
    }
}

#[test]
fn glob_characters_in_a_prefix_are_escaped() {
    assert_eq!(glob_escape("tvbridge:"), "tvbridge:");
    assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
}

#[test]
fn resubscribing_backs_off_with_jitter_and_a_ceiling() {
    for attempt in 0..40 {
        let wait = backoff(attempt);
        assert!(wait <= RESUBSCRIBE_MAX, "{attempt}: {wait:?}");
        assert!(wait >= RESUBSCRIBE_FIRST / 2, "{attempt}: {wait:?}");
    }
}

#[tokio::test]
async fn rediss_checks_the_servers_certificate() {
    // A TLS Redis with a self-signed certificate, which the webpki roots do not trust.
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        println!("skipped: openssl is not installed (it makes the test certificate)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let tls_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let Some(server) = RedisServer::start_with(Options {
        args: vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            path(&cert),
            "--tls-key-file".into(),
            path(&key),
            "--tls-ca-cert-file".into(),
            path(&cert),
            "--tls-auth-clients".into(),
            "no".into(),
        ],
        ..Options::default()
    }) else {
        return;
    };
    let err = RedisStore::open(&StoreConfig {
        url: format!("rediss://localhost:{tls_port}"),
        ..config(&server)
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("store.url rediss://localhost:"), "{err}");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    println!("rediss:// to an untrusted certificate: {err}");
}

#[tokio::test]
async fn values_live_in_prefixed_hashes_that_expire_and_the_subscription_ends_with_the_store() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let cfg = config(&server);
    let a = RedisStore::open(&cfg).await.unwrap();
    let b = RedisStore::open(&cfg).await.unwrap();
    a.swap("k", Expect::Any, Some(b"v"), Duration::from_secs(30))
        .await
        .unwrap();
    let key = format!("{}kv:k", cfg.key_prefix);
    let pttl: i64 = b
        .call(async |c| ::redis::cmd("PTTL").arg(&key).query_async(c).await)
        .await
        .unwrap();
    assert!((29_000..=30_000).contains(&pttl), "{pttl}");
    let counter: u64 = b
        .call(async |c| {
            ::redis::cmd("GET")
                .arg(format!("{}version", cfg.key_prefix))
                .query_async(c)
                .await
        })
        .await
        .unwrap();
    assert_eq!(counter, b.get("k").await.unwrap().unwrap().version);

    // Connections with a pattern subscription (PUBSUB NUMPAT counts patterns, not subscribers).
    let patterns = async |store: &RedisStore| -> usize {
        let clients: String = store
            .call(async |c| ::redis::cmd("CLIENT").arg("LIST").query_async(c).await)
            .await
            .unwrap();
        clients.lines().filter(|l| l.contains(" psub=1 ")).count()
    };
    assert_eq!(patterns(&b).await, 2);
    drop(a);
    let start = Instant::now();
    while patterns(&b).await != 1 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the dropped store still subscribes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Rough figures for sizing (not run by default):
/// `cargo test --lib store::redis::tests::measure -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn measure() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = Arc::new(
        RedisStore::open(&StoreConfig {
            pool_size: 4,
            ..config(&server)
        })
        .await
        .unwrap(),
    );
    let used_memory = async || -> u64 {
        let info: String = store
            .call(async |c| ::redis::cmd("INFO").arg("memory").query_async(c).await)
            .await
            .unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap()
    };
    let before = used_memory().await;
    let n = 2_000u32;
    let start = Instant::now();
    for i in 0..n {
        store
            .swap(&format!("seq{i}"), Expect::Absent, Some(&[0u8; 200]), TTL)
            .await
            .unwrap();
    }
    let sequential = start.elapsed();
    let start = Instant::now();
    let tasks: Vec<_> = (0..32)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..n / 32 {
                    let key = format!("par{t}-{i}");
                    store
                        .swap(&key, Expect::Absent, Some(&[0u8; 200]), TTL)
                        .await
                        .unwrap();
                    store.get(&key).await.unwrap().unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let parallel = start.elapsed();
    let per_record = (used_memory().await.saturating_sub(before)) / u64::from(2 * n);
    println!(
        "Redis memory per record (a 200-byte value under a key of about 50 bytes): about {per_record} bytes"
    );
    println!(
        "{n} sequential swaps: {:.0}/s ({:?} each); {n} swap+get pairs from 32 tasks: {:.0} pairs/s",
        f64::from(n) / sequential.as_secs_f64(),
        sequential / n,
        f64::from(n) / parallel.as_secs_f64()
    );
}

#[tokio::test]
async fn a_demoted_primary_refuses_writes_and_the_store_recovers_when_it_is_primary_again() {
    let (Some(primary), Some(other)) = (RedisServer::start(), RedisServer::start()) else {
        return;
    };
    let store = RedisStore::open(&StoreConfig {
        pool_size: 1,
        ..config(&primary)
    })
    .await
    .unwrap();
    store.swap("k", Expect::Any, Some(b"v"), TTL).await.unwrap();
    let replica_of = async |host: &str, port: &str| {
        let cmd = ::redis::cmd("REPLICAOF").arg(host).arg(port).clone();
        store
            .call(async |c| cmd.query_async::<String>(c).await)
            .await
            .unwrap();
    };
    replica_of("127.0.0.1", &other.port().to_string()).await;
    let err = store.swap("k", Expect::Any, Some(b"w"), TTL).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Unavailable(m) if m.contains("read only replica")),
        "{err:?}"
    );
    replica_of("NO", "ONE").await;
    let start = Instant::now();
    while store.swap("k", Expect::Any, Some(b"x"), TTL).await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "writes did not come back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
