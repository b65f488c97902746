//! What one paper `/history` request costs, in CPU time: the worst requests of every resolution family (the
//! largest ranges and countbacks, `from` in the year 1800 or at -1, `to` far in the future), each first on a
//! cold day-bar cache (a symbol nobody asked for yet) and then warm. Prints only. (`serve` warms every
//! symbol's daily bars at start, so the cold figures are start-up work, not a request's.)
//!
//! ```sh
//! cargo run --release --example history_cost                      # the default data start (three years)
//! cargo run --release --example history_cost -- --data-start 365   # days back, or a date YYYY-MM-DD
//! ```
//!
//! CPU time is the process's, summed over its threads from `/proc/self/task/*/schedstat` (nanoseconds; Linux
//! only), around one request sent through the whole router (token check, handler, JSON body): the blocking
//! thread that computes the bars is counted with the rest. The kernel updates a running thread's figure at
//! scheduler ticks, so a single figure is good to a few milliseconds; the mean of the warm runs is finer.

use axum::body::Body;
use axum::http::{header, Request};
use clap::Parser;
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;
use tvbridge::backends::paper::{DataStart, PaperBroker};
use tvbridge::config::{BackendConfig, Config};
use tvbridge::AppState;

#[derive(Parser)]
struct Args {
    /// `[backend] data_start`: days back or a date YYYY-MM-DD (default: the configuration's default).
    #[arg(long)]
    data_start: Option<String>,
    /// Warm runs of each request; the worst and the mean are printed.
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

/// CPU time of this process so far, in nanoseconds (every thread alive; pool threads outlive the requests).
fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| {
            let text = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            text.split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum()
}

/// One measured request: CPU ms, wall ms, bars answered, minute bars computed.
struct Cost {
    cpu_ms: f64,
    wall_ms: f64,
    bars: usize,
    minutes: u64,
}

async fn measure(app: &axum::Router, broker: &PaperBroker, token: &str, query: &str) -> Cost {
    let req = Request::get(format!("/api/history?{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let (cpu, wall, minutes) = (cpu_ns(), Instant::now(), broker.history_stats().minutes_computed);
    let res = app.clone().oneshot(req).await.expect("answer");
    let body = res.into_body().collect().await.expect("body").to_bytes();
    let (cpu, wall) = (cpu_ns() - cpu, wall.elapsed());
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(json["s"], "ok", "{query}: {json}");
    Cost {
        cpu_ms: cpu as f64 / 1e6,
        wall_ms: wall.as_secs_f64() * 1e3,
        bars: json["t"].as_array().map_or(0, Vec::len),
        minutes: broker.history_stats().minutes_computed - minutes,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = Config::from_toml("[[auth.users]]\nlogin = \"demo\"\npassword = \"demo\"\n")?;
    let BackendConfig::Paper(paper) = &mut config.backend else {
        anyhow::bail!("the default backend is the paper broker");
    };
    if let Some(start) = &args.data_start {
        paper.data_start = DataStart::Text(start.clone());
    }
    let paper = paper.clone();
    config.validate()?;
    let broker = Arc::new(PaperBroker::start(paper.clone()).await?);
    let app = tvbridge::app(AppState::new(config, broker.clone()));
    let login = Request::post("/api/authorize")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("login=demo&password=demo&locale=en"))?;
    let body = app
        .clone()
        .oneshot(login)
        .await?
        .into_body()
        .collect()
        .await?
        .to_bytes();
    let token = serde_json::from_slice::<serde_json::Value>(&body)?["d"]["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let now = chrono::Utc::now().timestamp();
    let far = now + 10 * 365 * 86_400;
    // Each day-bar family on a symbol of its own, so its first run meets a cold cache.
    let requests: Vec<(&str, String)> = vec![
        ("EURUSD", format!("resolution=1D&from=-5364662400&to={now}")),
        ("GBPUSD", format!("resolution=12M&countback=50000&to={now}")),
        ("USDJPY", format!("resolution=12M&from=-1&to={far}")),
        ("USDCHF", format!("resolution=W&from=-900000000000000&to={far}")),
        ("AUDUSD", format!("resolution=52W&countback=50000&to={now}")),
        ("USDCAD", format!("resolution=365D&from=-1&to={now}")),
        ("US500", format!("resolution=M&countback=50000&to={far}")),
        ("DE40", format!("resolution=1440&from=-5364662400&to={now}")),
        ("BTCUSD", format!("resolution=1&countback=50000&to={far}")),
        ("BTCUSD", format!("resolution=1&from=0&to={now}")),
        ("BTCUSD", format!("resolution=5&countback=50000&to={now}")),
        ("BTCUSD", format!("resolution=15&countback=50000&to={now}")),
        ("BTCUSD", format!("resolution=60&countback=50000&to={now}")),
        ("BTCUSD", format!("resolution=240&from=-1&to={now}")),
        ("BTCUSD", format!("resolution=720&countback=50000&to={now}")),
        ("BTCUSD", format!("resolution=1439&from=-1&to={far}")),
    ];
    println!(
        "data start {:?}; CPU per request, release build expected ({} warm runs, the worst shown)",
        paper.data_start, args.runs
    );
    println!(
        "{:<8} {:<52} {:>7} {:>9} {:>9} {:>9} {:>9}  minutes swept cold/warm",
        "symbol", "query", "bars", "cold cpu", "cold wall", "warm max", "warm mean"
    );
    let (mut worst_cold, mut worst_warm) = (0f64, 0f64);
    for (symbol, query) in &requests {
        let query = format!("symbol={symbol}&{query}");
        let cold = measure(&app, &broker, &token, &query).await;
        let mut warm = Cost {
            cpu_ms: 0.0,
            wall_ms: 0.0,
            bars: 0,
            minutes: 0,
        };
        let mut warm_sum = 0.0;
        for _ in 0..args.runs {
            let run = measure(&app, &broker, &token, &query).await;
            warm_sum += run.cpu_ms;
            if run.cpu_ms >= warm.cpu_ms {
                warm = run;
            }
        }
        let warm_mean = warm_sum / args.runs.max(1) as f64;
        worst_cold = worst_cold.max(cold.cpu_ms);
        worst_warm = worst_warm.max(warm.cpu_ms);
        let shown = query.split_once('&').map_or(query.as_str(), |(_, q)| q);
        println!(
            "{symbol:<8} {shown:<52} {:>7} {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>7.1}ms  {}/{}",
            cold.bars, cold.cpu_ms, cold.wall_ms, warm.cpu_ms, warm_mean, cold.minutes, warm.minutes
        );
    }
    let stats = broker.history_stats();
    println!(
        "worst cold {worst_cold:.1} ms, worst warm {worst_warm:.1} ms of CPU; {} daily bars cached, {} minute \
         bars computed in all",
        stats.days_cached, stats.minutes_computed
    );
    println!(
        "`serve` computes every symbol's daily bars at start (Broker::warm_up), so TradingView's requests meet \
         the warm figures; the cold ones are that start-up work, paid once per symbol."
    );
    Ok(())
}
