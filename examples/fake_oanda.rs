//! Serves the fake OANDA API (v20 and v1) on its own, so the OANDA backend can be tried without an
//! account: `cargo run --example fake_oanda -- --listen 127.0.0.1:8098 --stream-listen 127.0.0.1:8097`.

use clap::Parser;
use fakes::oanda::{FakeOanda, FakeOptions, FakeToken};

/// Command line of the fake.
#[derive(Parser)]
#[command(
    about = "A fake OANDA v20 and v1 REST API, with its streams, for trying tvbridge without an account"
)]
struct Cli {
    /// Address of the REST listener (`/v3`, `/v1`).
    #[arg(long, default_value = "127.0.0.1:8098")]
    listen: String,
    /// Address of the stream listener (pricing and transaction streams).
    #[arg(long, default_value = "127.0.0.1:8097")]
    stream_listen: String,
    /// The personal access token clients must send as `Authorization: Bearer <token>`.
    #[arg(long, default_value = "fake-token")]
    token: String,
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
    let rest = tokio::net::TcpListener::bind(&cli.listen).await?;
    let stream = tokio::net::TcpListener::bind(&cli.stream_listen).await?;
    let mut options = FakeOptions {
        seed: cli.seed,
        moving: !cli.fixed_prices,
        ..FakeOptions::default()
    };
    options.tokens = vec![FakeToken {
        token: cli.token.clone(),
        accounts: options.accounts.iter().map(|a| a.id.clone()).collect(),
    }];
    println!("fake OANDA API");
    println!("  REST URL:   http://{}", rest.local_addr()?);
    println!("  stream URL: http://{}", stream.local_addr()?);
    println!("  token:      {}", cli.token);
    for a in &options.accounts {
        let kind = match (a.legacy, a.hedging) {
            (true, _) => "v1 legacy",
            (false, true) => "v20, hedging",
            (false, false) => "v20",
        };
        println!("  account:    {} ({kind}, {} {})", a.id, a.balance, a.currency);
    }
    println!("press Ctrl-C to stop");
    tokio::select! {
        served = FakeOanda::serve(rest, stream, options) => served,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
