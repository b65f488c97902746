//! Load figures for the HTTP edge (prints numbers; it asserts nothing):
//!
//! 1. slowloris: the p50/p99/max latency of a normal poll (`/accounts/demo-net/orders` over keep-alive) on
//!    its own, then while N slowloris clients each hold a connection that sends one header byte every 10 s
//!    (reconnecting whenever the server closes it, as an attacker would);
//! 2. shutdown: M open `/stream/orders` streams, then the shutdown signal: how long until the server has
//!    returned, and how many streams got the final line and a proper end.
//!
//! The bridge (paper broker) and the clients share one process and loopback; the shutdown signal is sent
//! in-process to the same `tvbridge::server::run` that SIGTERM drives in the binary.
//!
//! ```sh
//! cargo run --release --example edge_load -- --slowloris 1000 --streams 1000
//! ```

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tvbridge::backends::paper::{PaperBroker, SystemClock};
use tvbridge::config::{BackendConfig, Config};
use tvbridge::AppState;

struct Args {
    slowloris: usize,
    streams: usize,
    poll_seconds: u64,
    polls_per_second: u64,
}

fn args() -> Args {
    let mut a = Args {
        slowloris: 1000,
        streams: 1000,
        poll_seconds: 15,
        polls_per_second: 200,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let value = pair.get(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or_else(|| {
            eprintln!("usage: edge_load [--slowloris N] [--streams N] [--poll-seconds S] [--polls-per-second R]");
            std::process::exit(2)
        });
        match pair[0].as_str() {
            "--slowloris" => a.slowloris = value as usize,
            "--streams" => a.streams = value as usize,
            "--poll-seconds" => a.poll_seconds = value,
            "--polls-per-second" => a.polls_per_second = value,
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2)
            }
        }
    }
    a
}

/// The soft limit of open files, from /proc (Linux).
fn fd_limit() -> String {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .map(|l| l.split_whitespace().nth(3).unwrap_or("?").to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

struct Bridge {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<tvbridge::server::Stopped>,
}

/// The bridge with the default edge limits, stream limits raised so one login can hold every stream.
async fn start_bridge(streams: usize) -> Bridge {
    let config = Config::from_toml(&format!(
        "[server]\nmax_streams_per_session = {n}\nmax_streams_per_user = {n}\n\
         [[auth.users]]\nlogin = \"demo\"\npassword = \"demo\"\n",
        n = streams.max(1) + 10
    ))
    .expect("config");
    let BackendConfig::Paper(paper) = config.backend.clone() else {
        unreachable!()
    };
    let broker = PaperBroker::start_with_clock(paper, Arc::new(SystemClock))
        .await
        .expect("paper");
    let state = AppState::new(config, Arc::new(broker));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = tvbridge::app(state.clone());
    let server = tokio::spawn(tvbridge::server::run(listener, state, app, async {
        let _ = stopped.await;
    }));
    Bridge { addr, stop, server }
}

async fn login(http: &reqwest::Client, base: &str) -> String {
    let v: serde_json::Value = http
        .post(format!("{base}/authorize"))
        .form(&[("login", "demo"), ("password", "demo")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["d"]["access_token"].as_str().unwrap().to_owned()
}

/// Polls at `rate` per second for `seconds`; returns the sorted latencies and the error count.
async fn poll(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    rate: u64,
    seconds: u64,
) -> (Vec<Duration>, usize) {
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    while Instant::now() < end {
        tick.tick().await;
        let (http, url, token) = (
            http.clone(),
            format!("{base}/accounts/demo-net/orders"),
            token.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let ok = http
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            (t.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (d, ok) = t.await.unwrap();
        if !ok {
            errors += 1;
        }
        latencies.push(d);
    }
    latencies.sort();
    (latencies, errors)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(label: &str, (lat, errors): &(Vec<Duration>, usize)) {
    println!(
        "  {label:<28} {:>6} polls  p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  errors {errors}",
        lat.len(),
        pct(lat, 0.5),
        pct(lat, 0.99),
        lat.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(f64::NAN),
    );
}

/// One slowloris client: a request head that never ends, one byte every 10 s, reconnecting when closed.
async fn slowloris(
    addr: std::net::SocketAddr,
    open: Arc<AtomicUsize>,
    closed: Arc<AtomicU64>,
    stop: Arc<tokio::sync::Notify>,
) {
    loop {
        let Ok(mut s) = TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .is_err()
        {
            continue;
        }
        open.fetch_add(1, Ordering::Relaxed);
        let mut byte = [0u8; 1];
        loop {
            tokio::select! {
                _ = stop.notified() => return,
                _ = tokio::time::sleep(Duration::from_secs(10)) => {
                    if s.write_all(b"X").await.is_err() { break; }
                }
                r = s.read(&mut byte) => if matches!(r, Ok(0) | Err(_)) { break; },
            }
        }
        open.fetch_sub(1, Ordering::Relaxed);
        closed.fetch_add(1, Ordering::Relaxed);
    }
}

async fn slowloris_scenario(a: &Args) {
    let bridge = start_bridge(0).await;
    let base = format!("http://{}/api", bridge.addr);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let token = login(&http, &base).await;
    println!(
        "slowloris: {} connections, polls at {}/s for {} s each phase",
        a.slowloris, a.polls_per_second, a.poll_seconds
    );
    let quiet = poll(&http, &base, &token, a.polls_per_second, a.poll_seconds).await;
    report("without slowloris", &quiet);
    let open = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(tokio::sync::Notify::new());
    let attackers: Vec<_> = (0..a.slowloris)
        .map(|_| tokio::spawn(slowloris(bridge.addr, open.clone(), closed.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let holding = open.load(Ordering::Relaxed);
    let busy = poll(&http, &base, &token, a.polls_per_second, a.poll_seconds).await;
    report(&format!("with {holding} slowloris open"), &busy);
    println!(
        "  slowloris connections closed by the server during the run: {} (header timeout 10 s)",
        closed.load(Ordering::Relaxed)
    );
    stop.notify_waiters();
    for t in attackers {
        t.abort();
    }
    let _ = bridge.stop.send(());
    let _ = bridge.server.await;
}

async fn shutdown_scenario(a: &Args) {
    let bridge = start_bridge(a.streams).await;
    let base = format!("http://{}/api", bridge.addr);
    let http = reqwest::Client::new();
    let token = login(&http, &base).await;
    let final_lines = Arc::new(AtomicUsize::new(0));
    let ended = Arc::new(AtomicUsize::new(0));
    let opened = Instant::now();
    let mut readers = Vec::new();
    for _ in 0..a.streams {
        let mut s = TcpStream::connect(bridge.addr).await.unwrap();
        let req = format!(
            "GET /api/accounts/demo-net/stream/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let (final_lines, ended) = (final_lines.clone(), ended.clone());
        readers.push(tokio::spawn(async move {
            let mut all = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = s.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                all.extend_from_slice(&buf[..n]);
            }
            let text = String::from_utf8_lossy(&all);
            if text.contains("The server is restarting; reconnect.") {
                final_lines.fetch_add(1, Ordering::Relaxed);
            }
            if text.ends_with("0\r\n\r\n") {
                ended.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "shutdown: {} streams opened in {:.2} s",
        a.streams,
        opened.elapsed().as_secs_f64() - 2.0
    );
    let started = Instant::now();
    let _ = bridge.stop.send(());
    let stopped = bridge.server.await.unwrap();
    let took = started.elapsed();
    for r in readers {
        let _ = tokio::time::timeout(Duration::from_secs(5), r).await;
    }
    println!(
        "  server returned {:.0} ms after the signal (grace 10 s), connections cut {}, streams with the final line {}/{}, \
         ended properly {}/{}",
        took.as_secs_f64() * 1000.0,
        stopped.cut,
        final_lines.load(Ordering::Relaxed),
        a.streams,
        ended.load(Ordering::Relaxed),
        a.streams
    );
}

#[tokio::main]
async fn main() {
    let a = args();
    println!(
        "open files limit (soft): {}; CPUs: {}",
        fd_limit(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    if a.slowloris > 0 {
        slowloris_scenario(&a).await;
    }
    if a.streams > 0 {
        shutdown_scenario(&a).await;
    }
}
