//! Translation overhead: what the bridge adds to one upstream call, per backend with a fake.
//!
//! ```text
//! cargo run --release --example overhead -- --requests 2000 --concurrency 16
//! cargo run --release --example overhead -- --backend oanda
//! cargo run --release --example overhead -- --backend ibkr,ibkr-third-party
//! ```
//!
//! For each backend the fake upstream runs in this process (no upstream rate limit), the bridge runs in this
//! process on a real loopback socket against it, with its own upstream pacing raised out of the way (the
//! configuration would refuse such a rate; the resolved settings are changed after validation, for this
//! measurement only). One TradingView request is chosen per backend that maps to exactly one upstream
//! request and that no cache of the bridge answers; a probe checks that in the fake's request log before
//! anything is measured, and the measured runs are counted again. Then the same HTTP client (keep-alive,
//! one connection pool) sends that TradingView request to the bridge and the very upstream request the
//! bridge made (method, path and query copied from the fake's log) straight to the fake with the same kind
//! of credentials, sequentially and with `--concurrency` requests in flight. The difference of the
//! percentiles is the bridge's translation overhead: routing, authentication, the session, pacing
//! bookkeeping, the upstream client, decoding and re-encoding.
//!
//! A call the upstream limits per endpoint (IBKR's history: five in flight), which the bridge paces as
//! documented, is measured with the benchmark kept inside that limit on both sides, never with the
//! bridge's per-endpoint pacing raised: the row says the concurrency and rate it ran at. The IBKR rows are
//! in `overhead/ibkr.rs` (the gateway) and `overhead/ibkr_third_party.rs` (the third-party API).
//!
//! The figures are only as quiet as the machine: the load average is printed with them.

use anyhow::{anyhow, bail, Context};
use clap::{Parser, ValueEnum};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "overhead/ibkr.rs"]
mod ibkr;
#[path = "overhead/ibkr_third_party.rs"]
mod ibkr_third_party;
/// The fakes crate's own consumer of the third-party API (RSA and HMAC signing, the live session token),
/// written from IBKR's guide apart from the bridge: the direct calls are signed with it. It keeps the
/// fakes crate's older minimum Rust (1.85, before `is_multiple_of`), which this crate's lint would flag.
#[allow(dead_code, clippy::manual_is_multiple_of)]
#[path = "../fakes/tests/ibkr_third_party/client.rs"]
mod tp_consumer;

#[derive(Parser)]
#[command(about = "The bridge's translation overhead per backend, against its in-process fake")]
struct Args {
    /// Backends to measure (repeat or comma-separate; default: all with a fake the tool can log in to).
    #[arg(long, value_enum, value_delimiter = ',')]
    backend: Vec<Backend>,
    /// Measured requests per run (each run is preceded by a tenth as many unmeasured ones).
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Requests in flight in the concurrent runs.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Capital,
    Oanda,
    Ibkr,
    IbkrThirdParty,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Capital => "capital",
            Backend::Oanda => "oanda",
            Backend::Ibkr => "ibkr",
            Backend::IbkrThirdParty => "ibkr-tp",
        }
    }
}

/// The headers of one request to a URL: fixed ones (a bearer, session headers), or a fresh OAuth 1.0a
/// signature per request (a nonce is never used twice).
type Headers = Arc<dyn Fn(&str) -> anyhow::Result<HeaderMap> + Send + Sync>;

fn fixed(headers: HeaderMap) -> Headers {
    Arc::new(move |_| Ok(headers.clone()))
}

/// A limit the upstream puts on the measured call, which the benchmark keeps below on both sides.
#[derive(Clone, Copy, Default)]
struct Limits {
    /// Most requests in flight (a concurrency above it runs at it).
    concurrency: Option<usize>,
    /// Most request starts per second.
    rate: Option<u32>,
    /// Why, for the report.
    why: &'static str,
}

/// One backend ready to measure: the bridge's request, the upstream request it maps to, and the fake's
/// request log.
struct Target {
    backend: Backend,
    /// The TradingView request (URL on the bridge) and its bearer.
    bridge_url: String,
    bridge_headers: Headers,
    /// Why this request: which upstream call it maps to and why no cache answers it.
    why: &'static str,
    /// The fake's base URL and the path prefix its log leaves out.
    upstream_base: String,
    /// The upstream credentials for a direct call (bearer, session headers, a signature...).
    direct_headers: Headers,
    /// The upstream's limits on the call, kept on both sides.
    limits: Limits,
    /// The fake's request log: (method, path, query), in arrival order.
    log: Box<dyn Fn() -> Vec<(String, String, String)> + Send + Sync>,
    /// The fake and the bridge's server, kept alive while measuring.
    _keep: Vec<Box<dyn Any + Send>>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.requests == 0 || args.concurrency == 0 {
        bail!("--requests and --concurrency must be at least 1");
    }
    let backends = if args.backend.is_empty() {
        vec![
            Backend::Capital,
            Backend::Oanda,
            Backend::Ibkr,
            Backend::IbkrThirdParty,
        ]
    } else {
        args.backend.clone()
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(run(args, backends))
}

async fn run(args: Args, backends: Vec<Backend>) -> anyhow::Result<()> {
    println!(
        "# translation overhead, {} requests per run, concurrency 1 and {}",
        args.requests, args.concurrency
    );
    println!("# load average at start: {}", loadavg());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(1) * 2)
        .build()?;
    let mut rows = Vec::new();
    for backend in backends {
        let target = match backend {
            Backend::Capital => capital().await,
            Backend::Oanda => oanda().await,
            Backend::Ibkr => ibkr::target().await,
            Backend::IbkrThirdParty => ibkr_third_party::target().await,
        }
        .with_context(|| format!("setting up {}", backend.name()))?;
        let direct = match probe(&client, &target).await {
            Ok(direct) => direct,
            Err(e) => {
                println!("\n## {}: not measured: {e:#}", backend.name());
                continue;
            }
        };
        println!(
            "\n## {}: GET {} -> {} {}\n#   {}",
            backend.name(),
            target.bridge_url,
            direct.0,
            direct.1,
            target.why
        );
        let limits = target.limits;
        if limits.concurrency.is_some() || limits.rate.is_some() {
            println!("#   paced on both sides: {}", limits.why);
        }
        let direct_url = direct.1.clone();
        // The fake logs the path without the query.
        let direct_path = direct_url.split('?').next().unwrap_or_default().to_owned();
        let mut runs = vec![1, args.concurrency.min(limits.concurrency.unwrap_or(usize::MAX))];
        runs.dedup();
        for concurrency in runs {
            let before = (target.log)().len();
            let bridge = measure(
                &client,
                &target.bridge_url,
                &target.bridge_headers,
                args.requests,
                concurrency,
                limits.rate,
            )
            .await?;
            let upstream = (target.log)()[before..]
                .iter()
                .filter(|(m, p, _)| m == "GET" && direct_path.ends_with(p.as_str()))
                .count();
            let straight = measure(
                &client,
                &direct_url,
                &target.direct_headers,
                args.requests,
                concurrency,
                limits.rate,
            )
            .await?;
            let warm = args.requests / 10;
            rows.push(Row {
                backend: backend.name(),
                concurrency,
                rate: limits.rate,
                bridge,
                direct: straight,
                upstream_per_call: upstream as f64 / (args.requests + warm) as f64,
            });
        }
        drop(target);
    }
    println!(
        "\n# latencies in microseconds; added = bridge - direct; up/call = upstream calls per bridge call; \
         pace = most request starts per second (paced rows)"
    );
    println!(
        "{:<8} {:>4} {:>5} | {:>7} {:>7} {:>7} {:>8} | {:>7} {:>7} {:>7} {:>8} | {:>7} {:>7} | {:>7}",
        "backend",
        "conc",
        "pace",
        "dir p50",
        "dir p99",
        "dir max",
        "dir r/s",
        "brg p50",
        "brg p99",
        "brg max",
        "brg r/s",
        "add p50",
        "add p99",
        "up/call"
    );
    for r in &rows {
        println!(
            "{:<8} {:>4} {:>5} | {:>7} {:>7} {:>7} {:>8.0} | {:>7} {:>7} {:>7} {:>8.0} | {:>7} {:>7} | {:>7.3}",
            r.backend,
            r.concurrency,
            r.rate.map_or_else(|| "-".to_string(), |r| r.to_string()),
            r.direct.p50,
            r.direct.p99,
            r.direct.max,
            r.direct.rate,
            r.bridge.p50,
            r.bridge.p99,
            r.bridge.max,
            r.bridge.rate,
            r.bridge.p50 as i64 - r.direct.p50 as i64,
            r.bridge.p99 as i64 - r.direct.p99 as i64,
            r.upstream_per_call,
        );
    }
    println!("# load average at end: {}", loadavg());
    Ok(())
}

struct Row {
    backend: &'static str,
    concurrency: usize,
    rate: Option<u32>,
    bridge: Figures,
    direct: Figures,
    upstream_per_call: f64,
}

/// Percentiles (µs) and the rate of one run.
struct Figures {
    p50: u64,
    p99: u64,
    max: u64,
    rate: f64,
}

/// Sends the bridge request a few times and checks that each made exactly one upstream request, always the
/// same one: returns its method and the URL to call it directly.
async fn probe(client: &reqwest::Client, t: &Target) -> anyhow::Result<(String, String)> {
    const PROBES: usize = 20;
    // The first requests may set things up upstream (Capital.com switches the session to the account
    // once: `PUT /session`); the probe looks at the steady state after them.
    for _ in 0..5 {
        send(client, &t.bridge_url, &(t.bridge_headers)(&t.bridge_url)?).await?;
    }
    let before = (t.log)().len();
    for _ in 0..PROBES {
        let before_one = (t.log)().len();
        send(client, &t.bridge_url, &(t.bridge_headers)(&t.bridge_url)?).await?;
        let after_one = (t.log)();
        let made = &after_one[before_one..];
        if made.len() != 1 {
            bail!(
                "{}: one bridge request made {} upstream requests ({:?}); pick another request",
                t.backend.name(),
                made.len(),
                made.iter()
                    .map(|(m, p, _)| format!("{m} {p}"))
                    .collect::<Vec<_>>()
            );
        }
    }
    let log = (t.log)();
    let made = &log[before..];
    let first = made.first().ok_or_else(|| anyhow!("no upstream request seen"))?;
    if made.iter().any(|r| r != first) {
        bail!(
            "{}: the bridge request maps to different upstream requests: {made:?}",
            t.backend.name()
        );
    }
    let (method, path, query) = first.clone();
    if method != "GET" {
        bail!(
            "{}: the upstream request is a {method}, not a read",
            t.backend.name()
        );
    }
    let url = if query.is_empty() {
        format!("{}{path}", t.upstream_base)
    } else {
        format!("{}{path}?{query}", t.upstream_base)
    };
    // The direct request must succeed as the bridge's did.
    send(client, &url, &(t.direct_headers)(&url)?)
        .await
        .context("the same request straight to the fake")?;
    Ok((method, url))
}

async fn send(client: &reqwest::Client, url: &str, headers: &HeaderMap) -> anyhow::Result<()> {
    let response = client.get(url).headers(headers.clone()).send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    if !status.is_success() {
        bail!(
            "{url} answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    // A TradingView answer can be an error inside a 200 envelope.
    if body.starts_with(br#"{"s":"error""#) {
        bail!(
            "{url} answered {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    Ok(())
}

/// `requests` GETs of `url` with `concurrency` in flight (after a tenth as many unmeasured), at most
/// `rate` starting per second.
async fn measure(
    client: &reqwest::Client,
    url: &str,
    headers: &Headers,
    requests: usize,
    concurrency: usize,
    rate: Option<u32>,
) -> anyhow::Result<Figures> {
    let warm = requests / 10;
    let _ = batch(client, url, headers, warm, concurrency, rate).await?;
    let started = Instant::now();
    let mut lat = batch(client, url, headers, requests, concurrency, rate).await?;
    let secs = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    let at = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    Ok(Figures {
        p50: at(0.50),
        p99: at(0.99),
        max: lat.last().copied().unwrap_or(0),
        rate: requests as f64 / secs,
    })
}

async fn batch(
    client: &reqwest::Client,
    url: &str,
    headers: &Headers,
    requests: usize,
    concurrency: usize,
    rate: Option<u32>,
) -> anyhow::Result<Vec<u64>> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let pace = rate.map(|r| Arc::new(Pace::new(r)));
    let mut workers = Vec::new();
    for _ in 0..concurrency.min(requests.max(1)) {
        let (client, url, headers, next, pace) = (
            client.clone(),
            url.to_owned(),
            headers.clone(),
            next.clone(),
            pace.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < requests {
                if let Some(pace) = &pace {
                    pace.slot().await;
                }
                // Signing is part of the direct call, as it is of the bridge's.
                let t = Instant::now();
                send(&client, &url, &headers(&url)?).await?;
                lat.push(t.elapsed().as_micros() as u64);
            }
            anyhow::Ok(lat)
        }));
    }
    let mut all = Vec::with_capacity(requests);
    for w in workers {
        all.extend(w.await??);
    }
    Ok(all)
}

/// Request starts spaced evenly at a rate: each worker waits for its slot before it sends (the wait is
/// not part of the latency).
struct Pace {
    every: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Pace {
    fn new(per_second: u32) -> Pace {
        Pace {
            every: Duration::from_secs(1) / per_second.max(1),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    async fn slot(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(tokio::time::Instant::now());
            *next = at + self.every;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn header(name: &'static str, value: &str) -> anyhow::Result<(HeaderName, HeaderValue)> {
    Ok((HeaderName::from_static(name), HeaderValue::from_str(value)?))
}

/// Serves `broker` for `config` on a loopback port; returns the API base URL and the server task.
async fn serve(
    config: tvbridge::config::Config,
    broker: Arc<dyn tvbridge::broker::Broker>,
) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let state = tvbridge::AppState::new(config, broker);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = tvbridge::app(state.clone());
    let server = tokio::spawn(async move {
        tvbridge::server::run(listener, state, app, std::future::pending()).await;
    });
    Ok((format!("http://{addr}/api"), server))
}

/// The bridge's password login: the access token.
async fn login(api: &str, login: &str, password: &str) -> anyhow::Result<String> {
    let body = serde_urlencoded::to_string([("login", login), ("password", password), ("locale", "en")])?;
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{api}/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?
        .json()
        .await?;
    answer["d"]["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("login refused: {answer}"))
}

fn bearer(token: &str) -> anyhow::Result<HeaderMap> {
    let mut h = HeaderMap::new();
    let (n, v) = header("authorization", &format!("Bearer {token}"))?;
    h.insert(n, v);
    Ok(h)
}

/// The hub caches nothing (every account read goes upstream): its freshness is zero.
const NO_HUB_CACHE: &str = "[hub]\nfreshness_ms = 0\n";

async fn capital() -> anyhow::Result<Target> {
    use fakes::capital::{FakeCapital, FakeOptions};
    let fake = FakeCapital::start(FakeOptions {
        requests_per_second: 1_000_000,
        session_creations_per_second: 1_000,
        ..FakeOptions::default()
    })
    .await;
    let text = format!(
        "{NO_HUB_CACHE}\n[backend]\nkind = \"capital\"\nbase_url = \"{}\"\nstream_url = \"{}\"\napi_key = \"{}\"\n",
        fake.base_url, fake.ws_url, fake.api_key
    );
    let config = tvbridge::config::Config::from_toml(&text).map_err(|e| anyhow!("{e}"))?;
    let tvbridge::config::BackendConfig::Capital(capital) = &config.backend else {
        bail!("capital configuration expected");
    };
    let mut resolved = capital
        .resolve(&|name| std::env::var(name).ok())
        .map_err(|e| anyhow!(e))?;
    // Capital.com's 10 per second per session would be the figure measured otherwise.
    resolved.requests_per_second = 1_000_000;
    let broker = Arc::new(tvbridge::backends::capital::CapitalBroker::start_resolved(
        resolved,
    )?);
    let (api, server) = serve(config, broker).await?;
    let token = login(&api, "demo@example.com", "demo-password").await?;
    // A session of our own at the fake, logged in as the bridge logs in.
    let session = reqwest::Client::new()
        .post(format!("{}/session", fake.base_url))
        .header("X-CAP-API-KEY", &fake.api_key)
        .json(&serde_json::json!({ "identifier": "demo@example.com", "password": "demo-password" }))
        .send()
        .await?;
    let mut direct = HeaderMap::new();
    for name in ["cst", "x-security-token"] {
        let value = session
            .headers()
            .get(name)
            .ok_or_else(|| anyhow!("the fake's session answer has no {name}"))?;
        direct.insert(HeaderName::from_static(name), value.clone());
    }
    let accounts: serde_json::Value = reqwest::Client::new()
        .get(format!("{api}/accounts"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let account = accounts["d"][0]["id"]
        .as_str()
        .ok_or_else(|| anyhow!("no account: {accounts}"))?
        .to_owned();
    let shared = Arc::new(fake);
    let log_of = shared.clone();
    Ok(Target {
        backend: Backend::Capital,
        bridge_url: format!("{api}/accounts/{account}/ordersHistory?maxCount=20"),
        bridge_headers: fixed(bearer(&token)?),
        why: "ordersHistory reads Capital.com's activity history each time (GET /history/activity): no hub holds it",
        upstream_base: shared.base_url.clone(),
        direct_headers: fixed(direct),
        limits: Limits::default(),
        log: Box::new(move || {
            log_of.requests().into_iter().map(|r| (r.method, r.path, r.query)).collect()
        }),
        _keep: vec![Box::new(server), Box::new(shared)],
    })
}

async fn oanda() -> anyhow::Result<Target> {
    use fakes::oanda::{FakeOanda, FakeOptions};
    let fake = FakeOanda::start(FakeOptions {
        requests_per_second: 1_000_000,
        ..FakeOptions::default()
    })
    .await;
    let text = format!(
        "{NO_HUB_CACHE}\n[backend]\nkind = \"oanda\"\nrest_url = \"{}\"\nstream_url = \"{}\"\n",
        fake.rest_url, fake.stream_url
    );
    let config = tvbridge::config::Config::from_toml(&text).map_err(|e| anyhow!("{e}"))?;
    let tvbridge::config::BackendConfig::Oanda(oanda) = &config.backend else {
        bail!("oanda configuration expected");
    };
    let mut resolved = oanda
        .resolve(&|name| std::env::var(name).ok())
        .map_err(|e| anyhow!(e))?;
    // OANDA's 100 per second would be the figure measured otherwise.
    resolved.requests_per_second = 1_000_000;
    let broker = Arc::new(tvbridge::backends::oanda::OandaBroker::start_resolved(resolved)?);
    let (api, server) = serve(config, broker).await?;
    let account = "101-004-1234567-001";
    let token = login(&api, account, "fake-token").await?;
    let shared = Arc::new(fake);
    let log_of = shared.clone();
    Ok(Target {
        backend: Backend::Oanda,
        bridge_url: format!("{api}/accounts/{account}/ordersHistory?maxCount=20"),
        bridge_headers: fixed(bearer(&token)?),
        why:
            "ordersHistory reads the account (GET /v3/accounts/{id}) each time when the hub's freshness is 0",
        upstream_base: shared.rest_url.clone(),
        direct_headers: fixed(bearer("fake-token")?),
        limits: Limits::default(),
        log: Box::new(move || {
            log_of
                .requests()
                .into_iter()
                .filter(|r| !r.stream)
                .map(|r| (r.method, r.path, r.query))
                .collect()
        }),
        _keep: vec![Box::new(server), Box::new(shared)],
    })
}
