//! Serves the fake Capital.com API on its own, so the Capital.com backend can be tried without an
//! account: `cargo run --example fake_capital -- --listen 127.0.0.1:8099`.

use clap::Parser;
use fakes::capital::{FakeCapital, FakeOptions, FakeUser};

/// Command line of the fake.
#[derive(Parser)]
#[command(about = "A fake Capital.com REST and WebSocket API for trying tvbridge without an account")]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8099")]
    listen: String,
    /// The API key clients must send in `X-CAP-API-KEY`.
    #[arg(long, default_value = "fake-api-key")]
    api_key: String,
    /// Seed of the price process (the same seed and start time give the same prices).
    #[arg(long, default_value_t = 20_240_101)]
    seed: u64,
    /// Keep prices where they start instead of moving them every second.
    #[arg(long)]
    fixed_prices: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let listener = tokio::net::TcpListener::bind(&cli.listen).await?;
    let addr = listener.local_addr()?;
    let demo = FakeUser::demo();
    println!("fake Capital.com API");
    println!("  base URL:   http://{addr}/api/v1");
    println!("  stream URL: ws://{addr}/connect");
    println!("  identifier: {}", demo.identifier);
    println!("  password:   {}", demo.password);
    println!("  API key:    {}", cli.api_key);
    println!("press Ctrl-C to stop");
    let mut options = if cli.fixed_prices {
        FakeOptions::default()
    } else {
        FakeOptions::moving_market(chrono::Utc::now())
    };
    options.api_key = cli.api_key;
    options.seed = cli.seed;
    tokio::select! {
        served = FakeCapital::serve(listener, options) => served,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
