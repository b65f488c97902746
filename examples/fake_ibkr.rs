//! Serves the fake Interactive Brokers Client Portal gateway on its own, so the IBKR backend can be tried
//! without an account: `cargo run --example fake_ibkr -- --listen 127.0.0.1:5000` (plain HTTP; the real
//! gateway speaks HTTPS with a self-signed certificate).

use clap::Parser;
use fakes::ibkr::{FakeIbkr, FakeIbkrOptions};

/// Command line of the fake.
#[derive(Parser)]
#[command(
    about = "A fake Interactive Brokers Client Portal gateway (REST and WebSocket) for trying tvbridge"
)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5000")]
    listen: String,
    /// Seed of the price process (the same seed and start time give the same prices).
    #[arg(long, default_value_t = 20_240_101)]
    seed: u64,
    /// Keep prices where they start instead of moving them every second.
    #[arg(long)]
    fixed_prices: bool,
    /// Requests per second before 429 (10 like the gateway; 50 like OAuth).
    #[arg(long, default_value_t = 10)]
    requests_per_second: u32,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let listener = tokio::net::TcpListener::bind(&cli.listen).await?;
    let addr = listener.local_addr()?;
    let mut options = if cli.fixed_prices {
        FakeIbkrOptions::default()
    } else {
        FakeIbkrOptions::moving_market(chrono::Utc::now())
    };
    options.seed = cli.seed;
    options.requests_per_second = cli.requests_per_second;
    println!("fake IBKR Client Portal gateway");
    println!("  base URL:   http://{addr}/v1/api");
    println!("  stream URL: ws://{addr}/v1/api/ws");
    println!("  user:       {}", options.username);
    for a in &options.accounts {
        println!("  account:    {} ({} {})", a.id, a.cash, a.currency);
    }
    for c in &options.contracts {
        println!(
            "  contract:   {} {} conid {}",
            c.sec_type, c.local_symbol, c.conid
        );
    }
    println!("press Ctrl-C to stop");
    tokio::select! {
        served = FakeIbkr::serve(listener, options) => served,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
