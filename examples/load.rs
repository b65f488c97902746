//! Load generator: simulates TradingView's traffic against tvbridge (paper backend, or OANDA against the fake
//! OANDA) and prints the figures behind the project's speed and memory targets, next to a hello-world axum
//! baseline measured in the same run with the same client and the same request rate.
//!
//! ```sh
//! cargo run --release --example load -- --tabs 1000 --accounts 100 --seconds 20
//! cargo run --release --example load -- --streams 1000 --stream-only
//! cargo run --release --example load -- --streams 10000 --stream-only --split
//! cargo run --release --example load -- --tabs 1000 --accounts 100 --replicas 3   # over one Redis
//! cargo run --release --example load -- --tabs 1000 --accounts 40 --replicas 3 --upstream oanda
//! cargo run --release --example load -- --serve --seconds 600   # prints wrk commands, then serves
//! cargo run --release --example load -- --fanout 1000 --seconds 30   # tick -> 1,000 /stream/quotes
//! ```
//!
//! Everything runs on 127.0.0.1 in this process: tvbridge and the baseline on one tokio runtime, the
//! simulated browser tabs on another (each as many workers as there are cores), so the per-thread CPU
//! figures tell whether the server or the client ran out of CPU. With `--split` the stream clients run
//! in a child process instead, so the server's memory per stream is measured alone and each process
//! needs one descriptor per stream rather than two. With `--redis` (or `--replicas N`, N > 1) the bridge runs
//! as N replicas in this process, each with its own connections to one `redis-server` the tool starts on
//! a free loopback port, and every poll goes to the next replica in turn, as a round-robin load balancer
//! would send it. With `--upstream oanda` the bridge trades on OANDA instead, against the fake OANDA of
//! `fakes::oanda` served in this process on a runtime of its own (each user a mapped login with a token of
//! its own reaching a netting and a hedging v20 account), and the tool also counts what the fake saw: the
//! account reads (`GET /v3/accounts/{id}`, one per account snapshot) per account per refresh interval, which
//! must stay at about one whatever the number of replicas. OANDA allows 120 requests/s (the bridge's
//! `backend.requests_per_second` is 100 per process), so at one read per account per 500 ms about 40 accounts
//! fit. Request counts and duration are bounded; the tool stops by itself.

use anyhow::{bail, Context};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use clap::Parser;
use futures_util::stream::{self, Stream, StreamExt};
use rand::Rng;
use reqwest::header::{HeaderValue, AUTHORIZATION};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tvbridge::config::Config;
use tvbridge::AppState;

/// Password of every generated user (loopback only, never a real secret).
const PASSWORD: &str = "load-pass";
/// Thread-name prefixes of the two runtimes, for the CPU split (Linux truncates names to 15 bytes).
const SERVER_THREADS: &str = "tvb-server";
const CLIENT_THREADS: &str = "load-client";
/// The fake upstream's runtime (`--upstream oanda`): its CPU shows under "rest of this process".
const FAKE_THREADS: &str = "fake-upstream";
/// Polls start during this warm-up (hubs get created, connections opened) and are not measured.
const WARM_UP: Duration = Duration::from_secs(1);
/// A poll slower than this counts as a timeout error.
const POLL_TIMEOUT: Duration = Duration::from_secs(10);
/// Opening one stream (up to its snapshot line) may take this long.
const OPEN_TIMEOUT: Duration = Duration::from_secs(60);
/// Streams are opened this many at a time: well under the listen backlog, so no SYN is dropped.
const OPEN_CONCURRENCY: usize = 256;
/// Streams are held this long after opening, longer than `hub.ping_secs` (5 s), so every stream also
/// carries a keep-alive line before the second memory reading.
const STREAM_HOLD: Duration = Duration::from_secs(6);
/// Descriptors kept free for listeners, the epoll instance, /proc reads and the child's pipes.
const FD_MARGIN: u64 = 64;
/// What the server's envelope starts with on success (`TvOk` serialises `s` first).
const OK_PREFIX: &[u8] = br#"{"s":"ok""#;

#[derive(Parser, Debug, Clone)]
#[command(about = "Simulates TradingView's polling and streams against tvbridge on 127.0.0.1")]
struct Args {
    /// Browser tabs; each polls one account at /config's pulling intervals.
    #[arg(long, default_value_t = 1000)]
    tabs: usize,
    /// Paper accounts (half netting, half hedging): `accounts / 2` users, two accounts each.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    accounts: u64,
    /// Concurrent `/accounts/{id}/stream/orders` connections.
    #[arg(long, default_value_t = 0)]
    streams: usize,
    /// Measured polling time (after a 1 s warm-up), per phase.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
    /// Also measure the hello-world baseline at the same rate (the default).
    #[arg(long, overrides_with = "no_baseline")]
    baseline: bool,
    /// Skip the baseline.
    #[arg(long, overrides_with = "baseline")]
    no_baseline: bool,
    /// Open the streams, measure memory, exit (no polling).
    #[arg(long)]
    stream_only: bool,
    /// Run the stream clients in a child process: server-only memory per stream, one fd per stream each.
    #[arg(long)]
    split: bool,
    /// `[hub] freshness_ms`; default: the server's default.
    #[arg(long)]
    freshness_ms: Option<u64>,
    /// Open the streams on the hello-world server's `/stream` (one line, then silence) instead of
    /// tvbridge: what a bare axum streaming connection costs, to set tvbridge's figure against.
    #[arg(long)]
    baseline_streams: bool,
    /// Bridge replicas sharing one Redis (started by the tool); polls go round robin over them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=16))]
    replicas: u64,
    /// Keep the state in a Redis (started by the tool) even with one replica.
    #[arg(long)]
    redis: bool,
    /// What the bridge trades on: its built-in paper broker, or OANDA (the fake OANDA, in this process).
    #[arg(long, value_enum, default_value_t = Upstream::Paper)]
    upstream: Upstream,
    /// Start tvbridge and the baseline, log in, print the URLs, an `Authorization` header and ready-made
    /// `wrk` commands, then serve for `--seconds` (for an external client such as wrk; nothing is measured).
    #[arg(long)]
    serve: bool,
    /// Quote fan-out: open this many `/stream/quotes` clients on one symbol and measure, for every tick of
    /// `--seconds`, the time from the hub receiving it from the backend to each client reading its line.
    #[arg(long, default_value_t = 0)]
    fanout: usize,
    /// The symbol of `--fanout` (the paper backend ticks every symbol once a second).
    #[arg(long, default_value = "EURUSD")]
    fanout_symbol: String,
    /// Internal: run as the `--split` child, logging in at this API base URL.
    #[arg(long, hide = true)]
    child_streams: Option<String>,
    /// Internal: the `--split` child opens its streams at this URL (the baseline's `/stream`).
    #[arg(long, hide = true)]
    child_stream_url: Option<String>,
}

/// The backend under load.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Upstream {
    Paper,
    Oanda,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // Same worker count as a default tokio runtime on this machine, for each side.
    let client_rt = runtime(CLIENT_THREADS, cores)?;
    if let Some(base) = args.child_streams.clone() {
        return client_rt.block_on(child_main(args, base));
    }
    let server_rt = runtime(SERVER_THREADS, cores)?;
    let fake_rt = runtime(FAKE_THREADS, 1)?;
    let result = run(&args, &server_rt, &client_rt, &fake_rt);
    // Open streams and idle connections would make a graceful shutdown wait; nothing needs to finish.
    client_rt.shutdown_background();
    server_rt.shutdown_background();
    fake_rt.shutdown_background();
    result
}

fn runtime(name: &str, workers: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .enable_all()
        .build()
        .context("tokio runtime")
}

// ---------------------------------------------------------------------------------------------------------
// Setup

/// The generated users and accounts: account `a` is `load{a/2}-net` (even) or `load{a/2}-hedge` (odd).
#[derive(Clone)]
struct Population {
    accounts: usize,
    users: usize,
    upstream: Upstream,
}

impl Population {
    fn new(accounts: u64, upstream: Upstream) -> Population {
        let accounts = accounts as usize;
        Population {
            accounts,
            users: accounts.div_ceil(2),
            upstream,
        }
    }

    fn login(user: usize) -> String {
        format!("load{user}")
    }

    /// (account id, user index, hedging)
    fn account(&self, a: usize) -> (String, usize, bool) {
        let a = a % self.accounts;
        let hedging = a % 2 == 1;
        let id = match self.upstream {
            Upstream::Paper => format!("{}-{}", Self::login(a / 2), if hedging { "hedge" } else { "net" }),
            // v20 account ids: {site}-{division}-{user}-{number}.
            Upstream::Oanda => format!("101-004-{:07}-{:03}", a / 2, a % 2 + 1),
        };
        (id, a / 2, hedging)
    }

    /// The environment variable naming user `u`'s OANDA token, and the token (loopback only).
    fn token_env(user: usize) -> String {
        format!("LOAD_OANDA_TOKEN_{user}")
    }

    fn token(user: usize) -> String {
        format!("load-oanda-token-{user}")
    }

    /// Resolves the token variables of the configuration (the tool sets no environment variable).
    fn token_of(name: &str) -> Option<String> {
        let user = name.strip_prefix("LOAD_OANDA_TOKEN_")?.parse::<usize>().ok()?;
        Some(Self::token(user))
    }

    /// The fake OANDA's tokens and accounts: each user's token reaches their two accounts.
    fn fake_oanda(&self) -> fakes::oanda::FakeOptions {
        let mut options = fakes::oanda::FakeOptions {
            tokens: Vec::new(),
            accounts: Vec::new(),
            ..fakes::oanda::FakeOptions::default()
        };
        for a in 0..self.accounts {
            let (id, user, hedging) = self.account(a);
            options
                .accounts
                .push(fakes::oanda::FakeAccount::v20(&id, hedging));
            if options.tokens.len() <= user {
                options.tokens.push(fakes::oanda::FakeToken {
                    token: Self::token(user),
                    accounts: Vec::new(),
                });
            }
            options.tokens[user].accounts.push(id);
        }
        options
    }

    /// The `[backend]` table: the built-in paper broker, or OANDA at `fake` with mapped logins.
    fn backend_toml(&self, fake: Option<&fakes::oanda::FakeOanda>) -> String {
        let Some(fake) = fake else {
            return String::new();
        };
        let mut t = format!(
            "\n[backend]\nkind = \"oanda\"\nrest_url = \"{}\"\nstream_url = \"{}\"\nlogin = \"mapped\"\n\
             \n[[backend.instruments]]\ninstrument = \"EUR_USD\"\n",
            fake.rest_url, fake.stream_url
        );
        for u in 0..self.users {
            let _ = write!(
                t,
                "\n[[backend.users]]\nlogin = \"{}\"\ntoken_env = \"{}\"\n",
                Self::login(u),
                Self::token_env(u)
            );
        }
        t
    }

    fn config_toml(&self, freshness_ms: u64) -> String {
        // The load itself is legitimate: no connection, stream or login limit may refuse part of it (every
        // simulated user logs in from 127.0.0.1, up to 32 at once).
        let mut t = format!(
            "[server]\nmax_connections = 1000000\nmax_streams_per_session = 100000\n\
             max_streams_per_user = 1000000\n[auth.login_throttle]\nfree_failures_per_address = 1000\n\
             [hub]\nfreshness_ms = {freshness_ms}\n"
        );
        for u in 0..self.users {
            let _ = write!(
                t,
                "\n[[auth.users]]\nlogin = \"{}\"\npassword = \"{PASSWORD}\"\n",
                Self::login(u)
            );
        }
        t
    }
}

struct Servers {
    state: AppState,
    /// `http://127.0.0.1:port/api`
    api: String,
    /// Every replica (the first is `state`/`api`).
    states: Vec<AppState>,
    apis: Vec<String>,
    /// The Redis the replicas share, stopped with the tool.
    _redis: Option<fakes::redis_server::RedisServer>,
    /// The fake OANDA the bridge trades on (`--upstream oanda`).
    fake: Option<fakes::oanda::FakeOanda>,
    /// `http://127.0.0.1:port/`
    baseline: String,
}

/// tvbridge served like `tvbridge::serve` does (`tvbridge::server::run`, the bridge's own edge; keep this in
/// step with src/lib.rs) and the baseline by plain `axum::serve`.
fn start_servers(
    rt: &tokio::runtime::Runtime,
    config: Config,
    replicas: u64,
    redis: bool,
    fake: Option<fakes::oanda::FakeOanda>,
) -> anyhow::Result<Servers> {
    rt.block_on(async move {
        let base_path = config.server.base_path.clone();
        let redis = if redis || replicas > 1 {
            let Some(server) = fakes::redis_server::RedisServer::start() else {
                bail!("--redis and --replicas need redis-server (Debian package redis-server)");
            };
            Some(server)
        } else {
            None
        };
        let (mut states, mut apis) = (Vec::new(), Vec::new());
        for _ in 0..replicas {
            let store: Arc<dyn tvbridge::store::Store> = match &redis {
                Some(r) => {
                    let mut c = config.clone();
                    c.store.kind = tvbridge::store::StoreKind::Redis;
                    c.store.url = r.url();
                    tvbridge::store::open(&c.store).await?
                }
                // The paper books and sessions in memory: this measures the bridge, not the disk.
                None => Arc::new(tvbridge::store::MemoryStore::new()),
            };
            let broker: Arc<dyn tvbridge::broker::Broker> = match &config.backend {
                // The tokens come from the tool, not from the environment.
                tvbridge::config::BackendConfig::Oanda(oanda) => {
                    let resolved = oanda
                        .resolve(&Population::token_of)
                        .map_err(|e| anyhow::anyhow!(e))?;
                    Arc::new(tvbridge::backends::oanda::OandaBroker::start_resolved(resolved)?)
                }
                _ => tvbridge::build_broker(&config, store.clone()).await?,
            };
            let state = AppState::start(config.clone(), broker, store).await?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            apis.push(format!("http://{}{base_path}", listener.local_addr()?));
            let app = tvbridge::app(state.clone());
            let served = state.clone();
            tokio::spawn(async move {
                tvbridge::server::run(listener, served, app, std::future::pending()).await;
            });
            states.push(state);
        }
        let hello = axum::Router::new()
            .route(
                "/",
                get(|| async { ([(CONTENT_TYPE, "application/json")], r#"{"s":"ok","d":"hello"}"#) }),
            )
            .route("/stream", get(hello_stream));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let baseline = format!("http://{}/", listener.local_addr()?);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, hello).await {
                eprintln!("baseline server stopped: {e}");
            }
        });
        Ok(Servers {
            state: states[0].clone(),
            api: apis[0].clone(),
            states,
            apis,
            _redis: redis,
            fake,
            baseline,
        })
    })
}

/// The smallest streaming answer axum can give: one line, then an open connection that never speaks.
async fn hello_stream() -> axum::response::Response {
    let first = stream::once(async { Ok::<_, std::convert::Infallible>(Bytes::from_static(b"[]\n")) });
    let body = axum::body::Body::from_stream(first.chain(stream::pending()));
    ([(CONTENT_TYPE, "application/json")], body).into_response()
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    // One pooled keep-alive client for every tab, as a browser shares connections across tabs; no
    // overall timeout here because streams never end (polls set their own).
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(usize::MAX)
        .build()
        .context("HTTP client")
}

/// Logs every user in once: `Bearer <token>` per user.
async fn login_all(
    client: &reqwest::Client,
    api: &str,
    pop: &Population,
) -> anyhow::Result<Vec<HeaderValue>> {
    let logins = stream::iter(0..pop.users)
        .map(|u| async move {
            let body = format!("login={}&password={PASSWORD}&locale=en", Population::login(u));
            let r = client
                .post(format!("{api}/authorize"))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body)
                .timeout(POLL_TIMEOUT)
                .send()
                .await?
                .json::<serde_json::Value>()
                .await?;
            let token = r["d"]["access_token"]
                .as_str()
                .with_context(|| format!("login of {} refused: {r}", Population::login(u)))?;
            Ok::<_, anyhow::Error>(HeaderValue::from_str(&format!("Bearer {token}"))?)
        })
        .buffered(32)
        .collect::<Vec<_>>()
        .await;
    logins.into_iter().collect()
}

/// GET `path` under the API as JSON `d`, failing on any error envelope.
async fn get_d(
    client: &reqwest::Client,
    api: &str,
    path: &str,
    auth: &HeaderValue,
) -> anyhow::Result<serde_json::Value> {
    let r: serde_json::Value = client
        .get(format!("{api}{path}"))
        .header(AUTHORIZATION, auth.clone())
        .timeout(POLL_TIMEOUT)
        .send()
        .await?
        .json()
        .await?;
    if r["s"] != "ok" {
        bail!("GET {path}: {r}");
    }
    Ok(r["d"].clone())
}

// ---------------------------------------------------------------------------------------------------------
// Measurement helpers (Linux /proc)

fn proc_status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn rss_kb() -> u64 {
    proc_status_kb("VmRSS:")
}

/// Soft and hard `RLIMIT_NOFILE`. Without `libc` (not a dependency, and `unsafe` is forbidden) the
/// limit cannot be raised from here; it is reported, and stream counts are capped to fit it.
fn fd_limits() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let line = text
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap_or("");
    let mut nums = line.split_whitespace().filter_map(|w| w.parse::<u64>().ok());
    let soft = nums.next().unwrap_or(1024);
    (soft, nums.next().unwrap_or(soft))
}

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

/// How many more streams fit in this process when each costs `fds_per_stream` descriptors.
fn stream_budget(fds_per_stream: u64) -> u64 {
    let (soft, _) = fd_limits();
    soft.saturating_sub(open_fds() + FD_MARGIN) / fds_per_stream
}

/// CPU time of this process's threads in nanoseconds, grouped as server runtime, client runtime, other.
/// `schedstat` gives nanoseconds; `stat` (clock ticks, assumed 100/s) is the fallback.
fn cpu_ns() -> [u64; 3] {
    let mut out = [0u64; 3];
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let dir = task.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let group = if comm.starts_with(SERVER_THREADS) {
            0
        } else if comm.starts_with(CLIENT_THREADS) {
            1
        } else {
            2
        };
        let ns = std::fs::read_to_string(dir.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .or_else(|| {
                let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
                let rest = &stat[stat.rfind(')')? + 2..];
                let f: Vec<u64> = rest.split_whitespace().filter_map(|w| w.parse().ok()).collect();
                // Fields 14 and 15 (utime, stime); `rest` starts at field 3, whose value is not numeric.
                Some((f.get(10)? + f.get(11)?) * 10_000_000)
            })
            .unwrap_or(0);
        out[group] += ns;
    }
    out
}

/// Clock ticks per second of /proc/stat and /proc/*/stat: USER_HZ, 100 on every mainstream Linux
/// architecture (sysconf would need libc).
const TICK_NS: u64 = 10_000_000;

/// CPU time, in nanoseconds: this process's threads by group (server runtime, client runtime, other),
/// this whole process, the whole machine (busy, and stolen by the hypervisor).
#[derive(Clone, Copy, Default)]
struct CpuSample {
    threads: [u64; 3],
    process: u64,
    machine_busy: u64,
    machine_steal: u64,
}

impl CpuSample {
    fn now() -> CpuSample {
        let process = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|stat| {
                let rest = &stat[stat.rfind(')')? + 2..];
                let f: Vec<&str> = rest.split_whitespace().collect();
                Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
            })
            .unwrap_or(0);
        // cpu user nice system idle iowait irq softirq steal ...
        let (busy, steal) = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| {
                let f: Vec<u64> = s
                    .lines()
                    .next()?
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|w| w.parse().ok())
                    .collect();
                let busy = [0, 1, 2, 5, 6]
                    .iter()
                    .map(|&i| f.get(i).copied().unwrap_or(0))
                    .sum();
                Some((busy, f.get(7).copied().unwrap_or(0)))
            })
            .unwrap_or((0, 0));
        CpuSample {
            threads: cpu_ns(),
            process: process * TICK_NS,
            machine_busy: busy * TICK_NS,
            machine_steal: steal * TICK_NS,
        }
    }

    fn since(&self, earlier: &CpuSample) -> CpuSample {
        CpuSample {
            threads: [0, 1, 2].map(|i| self.threads[i].saturating_sub(earlier.threads[i])),
            process: self.process.saturating_sub(earlier.process),
            machine_busy: self.machine_busy.saturating_sub(earlier.machine_busy),
            machine_steal: self.machine_steal.saturating_sub(earlier.machine_steal),
        }
    }
}

/// How busy the machine is without us: CPU used over one second before anything starts, % of one core.
fn machine_idle_check() -> f64 {
    let before = CpuSample::now();
    std::thread::sleep(Duration::from_secs(1));
    let d = CpuSample::now().since(&before);
    d.machine_busy.saturating_sub(d.process) as f64 / 1e9 * 100.0
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_owned();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next()?.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!(
        "nproc {nproc}, {model}, {mem_gib:.0} GiB RAM, Linux {}",
        kernel.trim()
    )
}

// ---------------------------------------------------------------------------------------------------------
// Polling

const ENDPOINTS: [&str; 5] = [
    "orders",
    "state",
    "positions",
    "netPositions",
    "individualPositions",
];

/// One timer of one tab: an endpoint polled every `period` from `first` on.
struct Poller {
    endpoint: usize,
    /// The same request at each replica; polls take them in turn.
    urls: Vec<reqwest::Url>,
    next: usize,
    auth: Option<HeaderValue>,
    period: Duration,
    first: Instant,
}

#[derive(Default)]
struct Errors {
    status: u64,
    envelope: u64,
    transport: u64,
    timeout: u64,
    sample: Option<String>,
}

impl Errors {
    fn total(&self) -> u64 {
        self.status + self.envelope + self.transport + self.timeout
    }

    fn add(&mut self, other: Errors) {
        self.status += other.status;
        self.envelope += other.envelope;
        self.transport += other.transport;
        self.timeout += other.timeout;
        if self.sample.is_none() {
            self.sample = other.sample;
        }
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (n, what) in [
            (self.status, "non-200"),
            (self.envelope, "s:error"),
            (self.transport, "network"),
            (self.timeout, "timeout"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        parts.join(", ")
    }
}

/// What one poller measured inside the window.
#[derive(Default)]
struct Samples {
    /// Latency (request sent to whole body read), microseconds.
    latency_us: Vec<u32>,
    /// How late the timer fired against its schedule: a busy client runtime shows up here first.
    lag_us: Vec<u32>,
    errors: Errors,
}

enum Failure {
    Status(u16, String),
    Envelope(String),
    Transport(String),
    Timeout,
}

impl Failure {
    fn from_reqwest(e: reqwest::Error) -> Failure {
        if e.is_timeout() {
            Failure::Timeout
        } else {
            Failure::Transport(error_chain(&e))
        }
    }
}

/// An error and its causes on one line (reqwest's own message alone says little: "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let _ = write!(text, ": {c}");
        cause = c.source();
    }
    text
}

fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(160)]).into_owned()
}

async fn poll_once(client: &reqwest::Client, p: &Poller) -> Result<(), Failure> {
    let mut req = client
        .get(p.urls[p.next % p.urls.len()].clone())
        .timeout(POLL_TIMEOUT);
    if let Some(auth) = &p.auth {
        req = req.header(AUTHORIZATION, auth.clone());
    }
    let resp = req.send().await.map_err(Failure::from_reqwest)?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map_err(Failure::from_reqwest)?;
    if status != 200 {
        return Err(Failure::Status(status, snippet(&body)));
    }
    // A prefix check rather than a parse: parsing every body would spend client CPU the server does not.
    if !body.starts_with(OK_PREFIX) {
        return Err(Failure::Envelope(snippet(&body)));
    }
    Ok(())
}

async fn run_poller(client: reqwest::Client, mut p: Poller, window: (Instant, Instant)) -> (usize, Samples) {
    let mut samples = Samples::default();
    let mut tick = tokio::time::interval_at(p.first, p.period);
    // Like a browser timer that is re-armed after the answer: a slow answer delays, never bunches, polls.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let scheduled = tick.tick().await;
        if scheduled >= window.1 {
            break;
        }
        let sent = Instant::now();
        let outcome = poll_once(&client, &p).await;
        p.next += 1;
        if scheduled < window.0 {
            continue;
        }
        let us = |d: Duration| d.as_micros().min(u32::MAX as u128) as u32;
        samples.lag_us.push(us(sent - scheduled));
        match outcome {
            Ok(()) => samples.latency_us.push(us(sent.elapsed())),
            Err(f) => {
                let e = &mut samples.errors;
                let text = match f {
                    Failure::Status(code, body) => {
                        e.status += 1;
                        format!("HTTP {code}: {body}")
                    }
                    Failure::Envelope(body) => {
                        e.envelope += 1;
                        body
                    }
                    Failure::Transport(msg) => {
                        e.transport += 1;
                        msg
                    }
                    Failure::Timeout => {
                        e.timeout += 1;
                        format!("no answer within {POLL_TIMEOUT:?}")
                    }
                };
                e.sample.get_or_insert(text);
            }
        }
    }
    (p.endpoint, samples)
}

/// Pulling intervals as `/config` announces them.
#[derive(Clone, Copy)]
struct Intervals {
    orders: u64,
    positions: u64,
    account_manager: u64,
}

impl Intervals {
    fn smallest(&self) -> u64 {
        self.orders.min(self.positions).min(self.account_manager)
    }
}

/// The pollers of `tabs` tabs: netting tabs poll orders, state and positions; hedging tabs (and every OANDA
/// tab) poll orders, state, netPositions and individualPositions. `baseline` sends every poll to the
/// baseline URL instead.
fn pollers(
    args: &Args,
    pop: &Population,
    apis: &[String],
    tokens: &[HeaderValue],
    iv: Intervals,
    baseline: Option<&reqwest::Url>,
    start: Instant,
) -> anyhow::Result<Vec<Poller>> {
    let mut rng = rand::thread_rng();
    let mut out = Vec::new();
    for tab in 0..args.tabs {
        let (account, user, hedging) = pop.account(tab);
        let mut plan = vec![(0, iv.orders), (1, iv.account_manager)];
        // OANDA accounts keep individual positions (trades), netting or not.
        if hedging || pop.upstream == Upstream::Oanda {
            plan.extend([(3, iv.positions), (4, iv.positions)]);
        } else {
            plan.push((2, iv.positions));
        }
        for (endpoint, period_ms) in plan {
            let (urls, auth) = match baseline {
                Some(b) => (vec![b.clone()], None),
                None => {
                    let mut urls = Vec::new();
                    for api in apis {
                        let path = format!("{api}/accounts/{account}/{}?locale=en", ENDPOINTS[endpoint]);
                        urls.push(reqwest::Url::parse(&path)?);
                    }
                    (urls, Some(tokens[user].clone()))
                }
            };
            // A random phase per timer: tabs opened at different moments do not poll in lockstep.
            let offset = Duration::from_millis(rng.gen_range(0..period_ms));
            out.push(Poller {
                endpoint,
                // Tabs start at different replicas.
                next: tab,
                urls,
                auth,
                period: Duration::from_millis(period_ms),
                first: start + offset,
            });
        }
    }
    Ok(out)
}

/// Requests per second the pollers are scheduled to make, per endpoint.
fn target_rates(pollers: &[Poller]) -> [f64; 5] {
    let mut r = [0.0; 5];
    for p in pollers {
        r[p.endpoint] += 1.0 / p.period.as_secs_f64();
    }
    r
}

struct Phase {
    per_endpoint: Vec<Samples>,
    targets: [f64; 5],
    seconds: f64,
    cpu: CpuSample,
    fetches: u64,
    /// With a fake upstream: its account reads (`GET /v3/accounts/{id}`) in the window, by account.
    upstream_reads: Option<BTreeMap<String, u64>>,
}

/// The account reads among the fake OANDA's logged requests, by account (REST only, the account itself: a
/// v20 account snapshot is exactly one such read).
fn account_reads(fake: &fakes::oanda::FakeOanda) -> BTreeMap<String, u64> {
    let mut reads = BTreeMap::new();
    for r in fake.requests() {
        let account = r
            .path
            .strip_prefix("/v3/accounts/")
            .filter(|a| !a.is_empty() && !a.contains('/'));
        if let (Some(account), false, "GET") = (account, r.stream, r.method.as_str()) {
            *reads.entry(account.to_owned()).or_insert(0) += 1;
        }
    }
    reads
}

/// Runs `pollers` through a warm-up and then `seconds` of measurement.
async fn run_phase(
    client: &reqwest::Client,
    pollers: Vec<Poller>,
    start: Instant,
    seconds: u64,
    states: &[AppState],
    fake: Option<&fakes::oanda::FakeOanda>,
) -> Phase {
    // Backend fetches of every replica's hubs together.
    let fetches = || states.iter().map(|s| s.hubs().total_fetches()).sum::<u64>();
    let targets = target_rates(&pollers);
    let window = (start + WARM_UP, start + WARM_UP + Duration::from_secs(seconds));
    let handles: Vec<JoinHandle<(usize, Samples)>> = pollers
        .into_iter()
        .map(|p| tokio::spawn(run_poller(client.clone(), p, window)))
        .collect();
    tokio::time::sleep_until(window.0).await;
    if let Some(fake) = fake {
        fake.clear_requests();
    }
    let (cpu0, fetches0, t0) = (CpuSample::now(), fetches(), Instant::now());
    tokio::time::sleep_until(window.1).await;
    let (cpu1, fetches1, t1) = (CpuSample::now(), fetches(), Instant::now());
    let upstream_reads = fake.map(account_reads);
    let mut per_endpoint: Vec<Samples> = (0..ENDPOINTS.len()).map(|_| Samples::default()).collect();
    for h in handles {
        // A poller can only fail to join by panicking; its samples are lost, nothing else.
        if let Ok((endpoint, s)) = h.await {
            let into = &mut per_endpoint[endpoint];
            into.latency_us.extend(s.latency_us);
            into.lag_us.extend(s.lag_us);
            into.errors.add(s.errors);
        }
    }
    Phase {
        per_endpoint,
        targets,
        seconds: (t1 - t0).as_secs_f64(),
        cpu: cpu1.since(&cpu0),
        fetches: fetches1.saturating_sub(fetches0),
        upstream_reads,
    }
}

/// Percentiles of a sorted sample, in milliseconds.
struct Summary {
    count: usize,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

fn summarize(v: &mut [u32]) -> Option<Summary> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let at = |q: f64| {
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1] as f64 / 1000.0
    };
    Some(Summary {
        count: v.len(),
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        max: at(1.0),
    })
}

fn row(name: &str, target: f64, done: usize, errors: &Errors, secs: f64, lat: &mut [u32]) -> String {
    let rate = (done as u64 + errors.total()) as f64 / secs;
    match summarize(lat) {
        Some(s) => format!(
            "  {name:<22} {target:>9.0} {rate:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7}",
            s.p50,
            s.p90,
            s.p99,
            s.max,
            errors.total()
        ),
        None => format!(
            "  {name:<22} {target:>9.0} {rate:>9.0} {:>8} {:>8} {:>8} {:>8} {:>7}",
            "-",
            "-",
            "-",
            "-",
            errors.total()
        ),
    }
}

const TABLE_HEAD: &str =
    "  endpoint               target/s    done/s  p50 ms   p90 ms   p99 ms   max ms  errors";

/// Prints the phase's table; returns the overall latency summary and the achieved rate.
fn print_phase(title: &str, phase: &mut Phase, per_endpoint_rows: bool) -> (Option<Summary>, f64) {
    println!("{title}");
    println!("{TABLE_HEAD}");
    let mut all_lat = Vec::new();
    let mut all_lag = Vec::new();
    let mut all_err = Errors::default();
    let secs = phase.seconds;
    for (i, s) in phase.per_endpoint.iter_mut().enumerate() {
        if phase.targets[i] == 0.0 {
            continue;
        }
        if per_endpoint_rows {
            let done = s.latency_us.len();
            println!(
                "{}",
                row(
                    ENDPOINTS[i],
                    phase.targets[i],
                    done,
                    &s.errors,
                    secs,
                    &mut s.latency_us
                )
            );
        }
        all_lat.extend_from_slice(&s.latency_us);
        all_lag.extend_from_slice(&s.lag_us);
        all_err.add(std::mem::take(&mut s.errors));
    }
    let target: f64 = phase.targets.iter().sum();
    let done = all_lat.len();
    let rate = (done as u64 + all_err.total()) as f64 / secs;
    println!("{}", row("all", target, done, &all_err, secs, &mut all_lat));
    if all_err.total() > 0 {
        println!(
            "  errors: {}; first: {}",
            all_err.describe(),
            all_err.sample.as_deref().unwrap_or("")
        );
    }
    if let Some(lag) = summarize(&mut all_lag) {
        println!(
            "  client timer lag (scheduled -> sent; tokio timers tick in 1 ms steps): p50 {:.2} ms, \
             p99 {:.2} ms, max {:.2} ms over {} polls",
            lag.p50, lag.p99, lag.max, lag.count
        );
    }
    let core = |ns: u64| ns as f64 / 1e9 / secs * 100.0;
    let c = &phase.cpu;
    let capacity = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64 * 100.0;
    let others = core(c.machine_busy.saturating_sub(c.process));
    let busy = core(c.machine_busy);
    println!(
        "  CPU (% of one core): server runtime {:.0}%, client runtime {:.0}%, rest of this process {:.0}% \
         (process total {:.0}%); other processes {others:.0}%; steal {:.0}%; machine busy {busy:.0}% of \
         {capacity:.0}%",
        core(c.threads[0]),
        core(c.threads[1]),
        core(c.threads[2]),
        core(c.process),
        core(c.machine_steal),
    );
    if busy >= 0.9 * capacity {
        println!(
            "  NOTE: the CPUs were saturated: latencies include waiting for a core, and the client competes \
             with the server for it"
        );
    } else if others >= 20.0 {
        println!("  NOTE: other processes used the CPU during this phase; expect noisier maxima");
    } else if core(c.machine_steal) >= 5.0 {
        println!(
            "  NOTE: the hypervisor took CPU from this VM (steal): the tail latencies include moments when \
             neither server nor client could run"
        );
    } else {
        println!("  the CPUs were not saturated: the client is not the bottleneck at this rate");
    }
    (summarize(&mut all_lat), rate)
}

// ---------------------------------------------------------------------------------------------------------
// Streams

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// Open streams, each read by its own task that counts lines.
struct OpenStreams {
    readers: Vec<JoinHandle<()>>,
    failed: u64,
    first_error: Option<String>,
    /// Lines received by every stream (snapshots, updates, keep-alives).
    lines: Arc<AtomicU64>,
    /// Streams that ended or broke after their snapshot.
    ended: Arc<AtomicU64>,
}

impl Drop for OpenStreams {
    fn drop(&mut self) {
        for r in &self.readers {
            r.abort();
        }
    }
}

fn count_lines(chunk: &[u8]) -> u64 {
    chunk.iter().filter(|b| **b == b'\n').count() as u64
}

/// Opens one stream and reads up to its first line (the snapshot).
async fn open_one(client: &reqwest::Client, url: String, auth: HeaderValue) -> Result<(Body, u64), String> {
    let resp = client
        .get(url)
        .header(AUTHORIZATION, auth)
        .send()
        .await
        .map_err(|e| format!("connect: {}", error_chain(&e)))?;
    if resp.status() != 200 {
        let status = resp.status();
        let body = resp.bytes().await.unwrap_or_default();
        return Err(format!("HTTP {status}: {}", snippet(&body)));
    }
    let mut body: Body = Box::pin(resp.bytes_stream());
    let mut lines = 0;
    let mut first = true;
    while lines == 0 {
        match body.next().await {
            Some(Ok(chunk)) => {
                // The snapshot is a JSON array of orders; an error envelope here means the stream refused.
                if first && chunk.starts_with(b"{\"s\":\"error\"") {
                    return Err(format!("stream error: {}", snippet(&chunk)));
                }
                first = false;
                lines += count_lines(&chunk);
            }
            Some(Err(e)) => return Err(format!("body: {}", error_chain(&e))),
            None => return Err("stream ended before its snapshot".into()),
        }
    }
    Ok((body, lines))
}

/// Opens `k` orders streams spread over the accounts (or `k` streams at `fixed_url`, the baseline's),
/// `OPEN_CONCURRENCY` at a time.
async fn open_streams(
    client: &reqwest::Client,
    api: &str,
    fixed_url: Option<&str>,
    pop: &Population,
    tokens: &[HeaderValue],
    k: usize,
) -> OpenStreams {
    let lines = Arc::new(AtomicU64::new(0));
    let ended = Arc::new(AtomicU64::new(0));
    let results = stream::iter(0..k)
        .map(|j| {
            let (account, user, _) = pop.account(j);
            let url = fixed_url.map_or_else(
                || format!("{api}/accounts/{account}/stream/orders?locale=en"),
                str::to_owned,
            );
            let auth = tokens[user].clone();
            async move {
                tokio::time::timeout(OPEN_TIMEOUT, open_one(client, url, auth))
                    .await
                    .unwrap_or_else(|_| Err(format!("no snapshot within {OPEN_TIMEOUT:?}")))
            }
        })
        .buffer_unordered(OPEN_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let mut open = OpenStreams {
        readers: Vec::with_capacity(k),
        failed: 0,
        first_error: None,
        lines: lines.clone(),
        ended: ended.clone(),
    };
    for r in results {
        match r {
            Ok((mut body, n)) => {
                lines.fetch_add(n, Ordering::Relaxed);
                let (lines, ended) = (lines.clone(), ended.clone());
                open.readers.push(tokio::spawn(async move {
                    while let Some(Ok(chunk)) = body.next().await {
                        lines.fetch_add(count_lines(&chunk), Ordering::Relaxed);
                    }
                    ended.fetch_add(1, Ordering::Relaxed);
                }));
            }
            Err(e) => {
                open.failed += 1;
                open.first_error.get_or_insert(e);
            }
        }
    }
    open
}

/// What the stream phase measured.
struct StreamReport {
    requested: usize,
    attempted: usize,
    cap_reason: Option<String>,
    opened: u64,
    failed: u64,
    first_error: Option<String>,
    open_secs: f64,
    /// RSS of this process (server, plus the clients unless split): before, all open, after the hold.
    rss: [u64; 3],
    /// The child's RSS with `--split`: before, all open, after the hold.
    child_rss: Option<[u64; 3]>,
    lines: u64,
    ended: u64,
    hold_fetches: u64,
}

/// Streams held open while the rest of the run goes on; dropped at the end.
enum HeldStreams {
    InProcess(OpenStreams),
    Child(Box<ChildStreams>),
    None,
}

struct ChildStreams {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl ChildStreams {
    async fn send(&mut self, line: &str) -> anyhow::Result<()> {
        let stdin = self.stdin.as_mut().context("child stdin closed")?;
        stdin.write_all(format!("{line}\n").as_bytes()).await?;
        stdin.flush().await?;
        Ok(())
    }

    /// The child's next line that starts with `tag`, as key=value pairs (`error=` takes the rest).
    async fn expect(&mut self, tag: &str) -> anyhow::Result<BTreeMap<String, String>> {
        let line = tokio::time::timeout(OPEN_TIMEOUT * 3, self.stdout.next_line())
            .await
            .context("the stream child did not answer in time")??
            .context("the stream child exited early")?;
        let rest = line
            .strip_prefix(tag)
            .with_context(|| format!("stream child said {line:?}, expected {tag}"))?;
        Ok(parse_kv(rest))
    }

    async fn finish(mut self) {
        // Closing stdin tells the child to exit; it is killed if it does not within five seconds.
        self.stdin = None;
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

fn parse_kv(text: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let (pairs, error) = match text.split_once(" error=") {
        Some((p, e)) => (p, Some(e)),
        None => (text, None),
    };
    for kv in pairs.split_whitespace() {
        if let Some((k, v)) = kv.split_once('=') {
            map.insert(k.to_owned(), v.to_owned());
        }
    }
    if let Some(e) = error {
        map.insert("error".into(), e.to_owned());
    }
    map
}

fn num(map: &BTreeMap<String, String>, key: &str) -> u64 {
    map.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Lets the allocator and the hubs settle so that the "before" reading is not mid-burst.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

async fn stream_phase(
    args: &Args,
    pop: &Population,
    servers: &Servers,
    client: &reqwest::Client,
    tokens: &[HeaderValue],
) -> anyhow::Result<(StreamReport, HeldStreams)> {
    let requested = args.streams;
    // In one process each stream is two descriptors (client socket and server socket); split, one each.
    let per_stream = if args.split { 1 } else { 2 };
    let budget = stream_budget(per_stream) as usize;
    let (soft, hard) = fd_limits();
    let attempted = requested.min(budget);
    let cap_reason = (attempted < requested).then(|| {
        format!(
            "capped at {attempted}: RLIMIT_NOFILE is {soft} (hard {hard}), {} already open, {FD_MARGIN} kept \
             spare, {per_stream} fd(s) per stream in this process{}",
            open_fds(),
            if args.split { "" } else { "; --split runs the clients in a child process" }
        )
    });
    let hubs = servers.state.hubs();
    let fixed_url = args
        .baseline_streams
        .then(|| format!("{}stream", servers.baseline));
    if !args.split {
        settle().await;
        let before = rss_kb();
        let started = Instant::now();
        let open = open_streams(client, &servers.api, fixed_url.as_deref(), pop, tokens, attempted).await;
        let open_secs = started.elapsed().as_secs_f64();
        settle().await;
        let all_open = rss_kb();
        let f0 = hubs.total_fetches();
        tokio::time::sleep(STREAM_HOLD).await;
        let report = StreamReport {
            requested,
            attempted,
            cap_reason,
            opened: open.readers.len() as u64,
            failed: open.failed,
            first_error: open.first_error.clone(),
            open_secs,
            rss: [before, all_open, rss_kb()],
            child_rss: None,
            lines: open.lines.load(Ordering::Relaxed),
            ended: open.ended.load(Ordering::Relaxed),
            hold_fetches: hubs.total_fetches().saturating_sub(f0),
        };
        return Ok((report, HeldStreams::InProcess(open)));
    }
    let exe = std::env::current_exe().context("path of this executable")?;
    let mut command = tokio::process::Command::new(exe);
    if let Some(url) = &fixed_url {
        command.args(["--child-stream-url", url]);
    }
    let mut child = command
        .args(["--child-streams", &servers.api])
        .args(["--streams", &attempted.to_string()])
        .args(["--accounts", &pop.accounts.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting the stream child")?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().context("child stdout")?;
    let mut c = ChildStreams {
        child,
        stdin,
        stdout: BufReader::new(stdout).lines(),
    };
    c.expect("LOGGED_IN").await?;
    settle().await;
    let before = rss_kb();
    let started = Instant::now();
    c.send("GO").await?;
    let ready = c.expect("READY").await?;
    let open_secs = started.elapsed().as_secs_f64();
    settle().await;
    let all_open = rss_kb();
    let f0 = hubs.total_fetches();
    tokio::time::sleep(STREAM_HOLD).await;
    let after = rss_kb();
    let hold_fetches = hubs.total_fetches().saturating_sub(f0);
    c.send("MEASURE").await?;
    let held = c.expect("HELD").await?;
    let mut cap_reason = cap_reason;
    if let Some(child_cap) = ready.get("cap_reason") {
        cap_reason = Some(format!("child: {child_cap}"));
    }
    let report = StreamReport {
        requested,
        attempted: num(&ready, "attempted") as usize,
        cap_reason,
        opened: num(&ready, "opened"),
        failed: num(&ready, "failed"),
        first_error: ready.get("error").cloned(),
        open_secs,
        rss: [before, all_open, after],
        child_rss: Some([
            num(&ready, "rss_before_kb"),
            num(&ready, "rss_open_kb"),
            num(&held, "rss_kb"),
        ]),
        lines: num(&held, "lines"),
        ended: num(&held, "ended"),
        hold_fetches,
    };
    Ok((report, HeldStreams::Child(Box::new(c))))
}

/// The `--split` child: logs in, opens the streams on `GO`, reports, holds them until stdin closes.
async fn child_main(args: Args, api: String) -> anyhow::Result<()> {
    let pop = Population::new(args.accounts, args.upstream);
    let client = http_client()?;
    let tokens = login_all(&client, &api, &pop).await?;
    println!("LOGGED_IN");
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    if stdin.next_line().await?.as_deref() != Some("GO") {
        return Ok(());
    }
    let budget = stream_budget(1) as usize;
    let attempted = args.streams.min(budget);
    let before = rss_kb();
    let fixed_url = args.child_stream_url.as_deref();
    let open = open_streams(&client, &api, fixed_url, &pop, &tokens, attempted).await;
    settle().await;
    let mut line = format!(
        "READY attempted={attempted} opened={} failed={} rss_before_kb={before} rss_open_kb={}",
        open.readers.len(),
        open.failed,
        rss_kb()
    );
    if attempted < args.streams {
        let (soft, _) = fd_limits();
        let _ = write!(line, " cap_reason=fd-limit-{soft}");
    }
    if let Some(e) = &open.first_error {
        let _ = write!(line, " error={}", e.replace('\n', " "));
    }
    println!("{line}");
    while let Some(cmd) = stdin.next_line().await? {
        if cmd == "MEASURE" {
            println!(
                "HELD rss_kb={} lines={} ended={}",
                rss_kb(),
                open.lines.load(Ordering::Relaxed),
                open.ended.load(Ordering::Relaxed)
            );
        }
    }
    Ok(())
}

fn print_streams(r: &StreamReport, pop: &Population, baseline: bool) -> Option<f64> {
    let what = if baseline {
        "BASELINE streams: the hello-world server's GET /stream, one line then silence".to_owned()
    } else {
        format!(
            "tvbridge /accounts/{{id}}/stream/orders over {} accounts, one session per user",
            pop.accounts
        )
    };
    println!(
        "streams: {} requested, {} attempted, {} open with their first line, {} failed; opened in {:.1} s \
         ({what})",
        r.requested, r.attempted, r.opened, r.failed, r.open_secs
    );
    if let Some(why) = &r.cap_reason {
        println!("  {why}");
    }
    if let Some(e) = &r.first_error {
        println!("  first failure: {e}");
    }
    println!(
        "  lines received: {} (snapshots plus keep-alives over a {} s hold); streams ended early: {}; \
         hub fetches during the hold: {}",
        r.lines,
        STREAM_HOLD.as_secs(),
        r.ended,
        r.hold_fetches
    );
    let per = |rss: [u64; 3]| -> (f64, f64) {
        let n = r.opened.max(1) as f64;
        let open = rss[1].saturating_sub(rss[0]) as f64 * 1024.0 / n;
        let held = rss[2].saturating_sub(rss[0]) as f64 * 1024.0 / n;
        (open, held)
    };
    let mib = |kb: u64| kb as f64 / 1024.0;
    let (open, held) = per(r.rss);
    let whose = if r.child_rss.is_some() {
        "server process only (clients in the child)"
    } else {
        "client AND server: both ends of every stream live in this process"
    };
    println!(
        "  RSS {whose}: before {:.1} MiB, all open {:.1} MiB, after the hold {:.1} MiB",
        mib(r.rss[0]),
        mib(r.rss[1]),
        mib(r.rss[2])
    );
    println!(
        "  => {:.1} KB per stream when all open, {:.1} KB after the hold",
        open / 1000.0,
        held / 1000.0
    );
    if let Some(c) = r.child_rss {
        let (copen, cheld) = per(c);
        println!(
            "  client child RSS: before {:.1} MiB, all open {:.1} MiB, after the hold {:.1} MiB => {:.1} KB \
             per stream ({:.1} KB after the hold)",
            mib(c[0]),
            mib(c[1]),
            mib(c[2]),
            copen / 1000.0,
            cheld / 1000.0
        );
    }
    (r.opened > 0).then_some(open.max(held))
}

// ---------------------------------------------------------------------------------------------------------
// The run

fn run(
    args: &Args,
    server_rt: &tokio::runtime::Runtime,
    client_rt: &tokio::runtime::Runtime,
    fake_rt: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    if args.tabs == 0 && !args.stream_only {
        bail!("--tabs must be at least 1 (or use --stream-only)");
    }
    let pop = Population::new(args.accounts, args.upstream);
    let freshness = args
        .freshness_ms
        .unwrap_or(tvbridge::hub::HubConfig::default().freshness_ms);
    let fake = match args.upstream {
        Upstream::Paper => None,
        Upstream::Oanda => Some(fake_rt.block_on(fakes::oanda::FakeOanda::start(pop.fake_oanda()))),
    };
    let toml = pop.config_toml(freshness) + &pop.backend_toml(fake.as_ref());
    let config = Config::from_toml(&toml)?;
    let idle = machine_idle_check();
    let servers = start_servers(server_rt, config, args.replicas, args.redis, fake)?;
    let run_baseline = !args.no_baseline && !args.stream_only;
    if args.serve {
        return client_rt.block_on(serve_mode(args, &pop, &servers));
    }
    if args.fanout > 0 {
        return client_rt.block_on(fanout_mode(args, &pop, &servers));
    }

    println!("tvbridge load test");
    let shown: Vec<String> = std::env::args().skip(1).collect();
    println!(
        "command:  cargo run --release --example load -- {}",
        shown.join(" ")
    );
    println!("machine:  {}", machine());
    println!(
        "setup:    tvbridge {} ({}) at {}, baseline hello-world at {}; {} users x 2 = {} accounts \
         (netting and hedging alternate); hub.freshness_ms = {freshness}",
        env!("CARGO_PKG_VERSION"),
        match &servers.fake {
            None => "paper backend".to_owned(),
            Some(f) => format!(
                "OANDA backend, mapped logins, against the fake OANDA at {} in this process",
                f.rest_url
            ),
        },
        match servers.apis.len() {
            1 if servers._redis.is_some() => format!("{} (store: Redis)", servers.api),
            1 => servers.api.clone(),
            n => format!(
                "{n} replicas sharing one Redis ({}), polls round robin",
                servers.apis.join(", ")
            ),
        },
        servers.baseline,
        pop.users,
        pop.accounts
    );
    println!(
        "          server and client in this process on separate tokio runtimes ({} workers each) sharing \
         the same cores, over loopback; client: reqwest 0.12, one pooled keep-alive HTTP/1.1 client",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let (soft, hard) = fd_limits();
    println!("          RLIMIT_NOFILE soft {soft}, hard {hard} (not raised: no libc, unsafe forbidden)");
    println!("          before the run, other processes kept the CPUs {idle:.0}% busy (of one core) for 1 s");

    client_rt.block_on(async {
        let client = http_client()?;
        let tokens = login_all(&client, &servers.api, &pop).await?;
        // Fail early and clearly if the account naming assumed here does not match the backend.
        let accounts = get_d(&client, &servers.api, "/accounts?locale=en", &tokens[0]).await?;
        let (first, _, _) = pop.account(0);
        if !accounts.as_array().is_some_and(|a| a.iter().any(|x| x["id"] == first.as_str())) {
            bail!("account {first} not among {accounts}");
        }
        let cfg = get_d(&client, &servers.api, "/config?locale=en", &tokens[0]).await?;
        let pi = &cfg["pullingInterval"];
        let iv = Intervals {
            orders: pi["orders"].as_u64().context("pullingInterval.orders")?,
            positions: pi["positions"].as_u64().context("pullingInterval.positions")?,
            account_manager: pi["accountManager"].as_u64().context("pullingInterval.accountManager")?,
        };
        println!(
            "          pulling intervals from /config: orders {} ms, positions {} ms, account manager {} ms",
            iv.orders, iv.positions, iv.account_manager
        );
        println!();

        let mut stream_bytes = None;
        let mut held = HeldStreams::None;
        if args.streams > 0 {
            let (report, h) = stream_phase(args, &pop, &servers, &client, &tokens).await?;
            stream_bytes = print_streams(&report, &pop, args.baseline_streams).map(|b| (b, report.child_rss.is_some(), report));
            held = h;
            if !args.stream_only {
                println!();
            }
        }

        let mut poll_verdicts = None;
        if !args.stream_only {
            let start = Instant::now();
            let ps = pollers(args, &pop, &servers.apis, &tokens, iv, None, start)?;
            let mut phase =
                run_phase(&client, ps, start, args.seconds, &servers.states, servers.fake.as_ref()).await;
            let title = format!(
                "polling: {} tabs over {} accounts for {:.1} s (after a {} s warm-up){}",
                args.tabs,
                pop.accounts,
                phase.seconds,
                WARM_UP.as_secs(),
                if args.streams > 0 { ", with the streams above open" } else { "" }
            );
            let (summary, rate) = print_phase(&title, &mut phase, true);
            let intervals = phase.seconds / (iv.smallest() as f64 / 1000.0);
            let per_account = phase.fetches as f64 / pop.accounts as f64 / intervals;
            let polls = summary.as_ref().map_or(0, |s| s.count);
            let cost = match args.upstream {
                Upstream::Paper => "a fetch is 3 backend calls on a netting account, 4 on a hedging one",
                Upstream::Oanda => "a fetch is one GET /v3/accounts/{id} upstream",
            };
            println!(
                "  backend: {} hub fetches in {:.1} s = {:.2} per account per {} ms interval ({:.0} polls \
                 served per fetch; {cost}), all replicas together",
                phase.fetches,
                phase.seconds,
                per_account,
                iv.smallest(),
                polls as f64 / phase.fetches.max(1) as f64
            );
            // What the upstream itself saw, by account.
            let upstream = phase.upstream_reads.as_ref().map(|reads| {
                let per = |n: u64| n as f64 / intervals;
                let total: u64 = reads.values().sum();
                let mean = per(total) / pop.accounts as f64;
                let worst = (0..pop.accounts)
                    .map(|a| per(reads.get(&pop.account(a).0).copied().unwrap_or(0)))
                    .fold(0.0, f64::max);
                println!(
                    "  upstream (counted by the fake OANDA): {total} account reads (GET /v3/accounts/{{id}}) in \
                     {:.1} s = {mean:.2} per account per {} ms interval (worst account {worst:.2}), over {} \
                     replica(s)",
                    phase.seconds,
                    iv.smallest(),
                    servers.apis.len()
                );
                (mean, worst)
            });
            let mut base_p99 = None;
            if run_baseline {
                println!();
                let url = reqwest::Url::parse(&servers.baseline)?;
                let start = Instant::now();
                let ps = pollers(args, &pop, &servers.apis, &tokens, iv, Some(&url), start)?;
                let mut base = run_phase(&client, ps, start, args.seconds, &servers.states, None).await;
                let (b, _) = print_phase(
                    "baseline: the same timers against the hello-world server (GET /)",
                    &mut base,
                    false,
                );
                base_p99 = b.map(|s| s.p99);
            }
            poll_verdicts = Some((summary, rate, per_account, base_p99, phase.targets.iter().sum::<f64>(), upstream));
        }

        println!();
        println!("verdicts:");
        match &poll_verdicts {
            Some((summary, rate, per_account, base_p99, target, upstream)) => {
                // A fetch straddling the edge of the measured window counts in it: allow that one.
                let ok = *per_account <= 1.01;
                println!(
                    "  [{}] backend calls <= 1 per account per interval: {per_account:.2} fetches per account \
                     per {} ms ({} tabs on {} accounts)",
                    if ok { "PASS" } else { "FAIL" },
                    iv.smallest(),
                    args.tabs,
                    pop.accounts
                );
                if !ok && freshness > 0 && freshness < iv.smallest() {
                    println!(
                        "         why: a snapshot serves polls for hub.freshness_ms = {freshness} ms from the \
                         start of its fetch, so an account polled without pause is fetched every ~{freshness} \
                         ms, up to {:.1} times per {} ms interval",
                        iv.smallest() as f64 / freshness as f64,
                        iv.smallest()
                    );
                }
                if let Some((mean, worst)) = upstream {
                    // Reads a refresh interval apart make `intervals` or `intervals + 1` of them in the window,
                    // by phase: one read per account more than the intervals is still one per interval.
                    let intervals = args.seconds as f64 * 1000.0 / iv.smallest() as f64;
                    let ok = *mean <= 1.0 + 1.0 / intervals;
                    println!(
                        "  [{}] upstream calls <= 1 per account per interval (at the fake OANDA, {} replica(s)): \
                         {mean:.2} account reads per account per {} ms (worst account {worst:.2})",
                        if ok { "PASS" } else { "FAIL" },
                        servers.apis.len(),
                        iv.smallest()
                    );
                }
                let near = *rate >= 4500.0 && *rate >= 0.9 * target;
                match summary {
                    Some(s) => {
                        let verdict = match (s.p99 < 5.0, near) {
                            (true, true) => "PASS",
                            (false, _) => "FAIL",
                            (true, false) => "n/a ",
                        };
                        let base = base_p99.map_or(String::new(), |b| format!(" (baseline p99 {b:.2} ms)"));
                        let note = if near { "" } else { "; not at ~5,000 polls/s, so not the target load" };
                        println!(
                            "  [{verdict}] p99 < 5 ms at ~5,000 polls/s: p99 {:.2} ms at {rate:.0} polls/s{base}{note}",
                            s.p99
                        );
                    }
                    None => println!("  [FAIL] p99 < 5 ms at ~5,000 polls/s: no successful poll"),
                }
            }
            None => {
                println!("  [n/a ] backend calls <= 1 per account per interval: not measured (--stream-only)");
                println!("  [n/a ] p99 < 5 ms at ~5,000 polls/s: not measured (--stream-only)");
            }
        }
        match &stream_bytes {
            Some((bytes, split, _)) if args.baseline_streams => {
                let scope = if *split { "server only" } else { "client + server" };
                println!(
                    "  [n/a ] streams < 20 KB each: these were baseline streams, {:.1} KB each ({scope})",
                    bytes / 1000.0
                );
            }
            Some((bytes, split, report)) => {
                let under = *bytes < 20_000.0;
                let full = report.opened >= 10_000;
                let verdict = match (under, split, full) {
                    (true, _, true) => "PASS",
                    (true, _, false) => "part",
                    (false, true, _) => "FAIL",
                    // Both ends counted: over the target does not prove the server is.
                    (false, false, _) => "open",
                };
                let scope = if *split { "server only" } else { "client + server, an upper bound" };
                let count = if full {
                    String::new()
                } else {
                    format!("; only {} streams, not 10,000", report.opened)
                };
                println!(
                    "  [{verdict}] streams < 20 KB each (10,000 streams): {:.1} KB per stream ({scope}){count}",
                    bytes / 1000.0
                );
            }
            None => println!("  [n/a ] streams < 20 KB each: not measured (--streams K)"),
        }
        match held {
            HeldStreams::Child(c) => c.finish().await,
            HeldStreams::InProcess(open) => drop(open),
            HeldStreams::None => {}
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------------------
// --serve: both servers for an external client (wrk), side by side

/// Logs in, prints the URLs, the header and the wrk commands, then serves for `--seconds`.
async fn serve_mode(args: &Args, pop: &Population, servers: &Servers) -> anyhow::Result<()> {
    let client = http_client()?;
    let tokens = login_all(&client, &servers.api, pop).await?;
    let (account, user, _) = pop.account(0);
    let auth = tokens[user].to_str().context("token header")?;
    // Warm the hub so the first wrk request is already a cached poll.
    get_d(
        &client,
        &servers.api,
        &format!("/accounts/{account}/state?locale=en"),
        &tokens[user],
    )
    .await?;
    println!(
        "tvbridge --serve ({} paper accounts; hub.freshness_ms default)",
        pop.accounts
    );
    println!("baseline: {}", servers.baseline);
    println!("api:      {}", servers.api);
    println!("header:   Authorization: {auth}");
    println!("# the same wrk settings for each (2 threads, 64 connections, 10 s), one after the other:");
    println!("wrk -t2 -c64 -d10s --latency {}", servers.baseline);
    for part in ["orders", "positions", "state"] {
        println!(
            "wrk -t2 -c64 -d10s --latency -H 'Authorization: {auth}' '{}/accounts/{account}/{part}?locale=en'",
            servers.api
        );
    }
    println!("ready; serving for {} s", args.seconds);
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// --fanout K: one symbol's ticks to K /stream/quotes clients

/// Opens `--fanout` quote streams on one symbol and measures tick (hub) -> client line latencies.
async fn fanout_mode(args: &Args, pop: &Population, servers: &Servers) -> anyhow::Result<()> {
    let k = args.fanout;
    let symbol = args.fanout_symbol.clone();
    println!(
        "tvbridge quote fan-out: {k} /stream/quotes clients on {symbol} for {} s",
        args.seconds
    );
    println!(
        "command:  cargo run --release --example load -- {}",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    );
    println!("machine:  {}", machine());
    let client = http_client()?;
    let tokens = login_all(&client, &servers.api, pop).await?;
    // The hub's own receipt time of every tick, read from the tick itself (not when this task wakes).
    let (_, mut rx) = servers
        .state
        .quotes()
        .subscribe(&symbol)
        .await
        .map_err(|e| anyhow::anyhow!("subscribe {symbol}: {e:?}"))?;
    let received = Arc::new(std::sync::Mutex::new(Vec::<Instant>::new()));
    let observer = {
        let received = received.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(t) => {
                        if let Ok(mut v) = received.lock() {
                            v.push(Instant::from_std(t.received));
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                }
            }
        })
    };
    let opened = Instant::now();
    let results = stream::iter(0..k)
        .map(|j| {
            let (account, user, _) = pop.account(j);
            let url = format!(
                "{}/stream/quotes?accountId={account}&symbols={symbol}&locale=en",
                servers.api
            );
            let auth = tokens[user].clone();
            let client = &client;
            async move {
                tokio::time::timeout(OPEN_TIMEOUT, open_one(client, url, auth))
                    .await
                    .unwrap_or_else(|_| Err(format!("no snapshot within {OPEN_TIMEOUT:?}")))
            }
        })
        .buffer_unordered(OPEN_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let mut readers = Vec::new();
    let mut failed = Vec::new();
    let start = Instant::now();
    let end = start + Duration::from_secs(args.seconds);
    for r in results {
        match r {
            Ok((mut body, _)) => readers.push(tokio::spawn(async move {
                // Arrival times of quote lines (keep-alives `{"s":"ok"}` are not quotes).
                let mut arrivals = Vec::new();
                while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(end, body.next()).await {
                    let now = Instant::now();
                    let quotes = chunk
                        .split(|b| *b == b'\n')
                        .filter(|l| l.starts_with(b"["))
                        .count();
                    arrivals.extend(std::iter::repeat_n(now, quotes));
                }
                arrivals
            })),
            Err(e) => failed.push(e),
        }
    }
    println!(
        "opened:   {} of {k} streams in {:.1} s{}",
        readers.len(),
        start.duration_since(opened).as_secs_f64(),
        failed.first().map_or(String::new(), |e| format!(
            "; {} failed, first: {e}",
            failed.len()
        ))
    );
    let mut arrivals = Vec::new();
    for r in readers {
        arrivals.extend(r.await.unwrap_or_default());
    }
    observer.abort();
    let mut ticks = received.lock().map(|v| v.clone()).unwrap_or_default();
    ticks.sort();
    // Each line belongs to the latest tick the hub received before it arrived (ticks are 1 s apart, far
    // more than any latency here). Ticks before the window started are not counted.
    let mut lat_us: Vec<u32> = Vec::with_capacity(arrivals.len());
    let mut per_tick: BTreeMap<usize, u32> = BTreeMap::new();
    for a in arrivals {
        let i = ticks.partition_point(|t| *t <= a);
        if i == 0 || ticks[i - 1] < start {
            continue;
        }
        *per_tick.entry(i - 1).or_default() += 1;
        lat_us.push(a.duration_since(ticks[i - 1]).as_micros().min(u32::MAX as u128) as u32);
    }
    lat_us.sort_unstable();
    let pct = |q: f64| lat_us[((lat_us.len() as f64 * q) as usize).min(lat_us.len() - 1)] as f64 / 1000.0;
    if lat_us.is_empty() {
        bail!("no quote line reached a client within {} s", args.seconds);
    }
    let full = per_tick.values().filter(|n| **n as usize == k).count();
    println!(
        "ticks:    {} in the window, {} reached all {k} clients; {} quote lines measured",
        per_tick.len(),
        full,
        lat_us.len()
    );
    println!(
        "latency:  hub receives tick -> client reads its line: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5),
        pct(0.99),
        *lat_us.last().unwrap_or(&0) as f64 / 1000.0
    );
    let p99 = pct(0.99);
    println!(
        "  [{}] a quote reaches {k} /stream/quotes clients within 5 ms p99: {p99:.2} ms",
        if p99 < 5.0 && k >= 1000 {
            "PASS"
        } else if p99 < 5.0 {
            "part"
        } else {
            "FAIL"
        }
    );
    Ok(())
}
