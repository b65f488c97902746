//! Serves the fake Interactive Brokers Third-Party Web API on its own, so the bridge's IBKR third-party
//! backend can be tried without a consumer registration at IBKR:
//! `cargo run --release --example fake_ibkr_thirdparty -- --listen 127.0.0.1:5001` (plain HTTP). It prints
//! what the bridge's configuration needs: consumer key, realm, the throw-away key files of
//! `testdata/ibkr/keys/`, the DH prime, the URLs, and the test users with their passwords and accounts
//! (these test-only credentials protect nothing).

use clap::Parser;
use fakes::ibkr_third_party::{ConsumerMaterial, FakeIbkrThirdParty, FakeIbkrThirdPartyOptions};
use std::time::Duration;

/// Command line of the fake.
#[derive(Parser)]
#[command(
    about = "A fake Interactive Brokers Third-Party Web API (OAuth 1.0a three-legged) for trying tvbridge"
)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5001")]
    listen: String,
    /// The consumer key.
    #[arg(long, default_value = "TVBRIDGETP")]
    consumer_key: String,
    /// The OAuth realm.
    #[arg(long, default_value = "limited_poa")]
    realm: String,
    /// Users start as already covered by IBKR's nightly refresh (no 204 after their first grant).
    #[arg(long)]
    refreshed: bool,
    /// Requests per second before 429 (0: no limit).
    #[arg(long, default_value_t = 50)]
    requests_per_second: u32,
    /// Milliseconds between two polls of one `/accounts/{id}/...` resource before 423 (0: no lock).
    #[arg(long, default_value_t = 1000)]
    lock_interval_ms: u64,
    /// Keep prices where they start instead of moving them every second.
    #[arg(long)]
    fixed_prices: bool,
    /// Seed of the price paths (the same seed and start time give the same prices).
    #[arg(long, default_value_t = 20_240_101)]
    seed: u64,
}

fn print_consumer(c: &ConsumerMaterial, origin: &str) {
    println!("  consumer key:        {}", c.consumer_key);
    println!("  realm:               {}", c.realm);
    println!("  signature key file:  {}", c.signature_key_file.display());
    println!("  encryption key file: {}", c.encryption_key_file.display());
    println!("  DH parameters file:  {}", c.dh_param_file.display());
    println!("  DH generator:        {}", c.dh_generator);
    println!("  DH prime (hex):      {}", c.dh_prime.to_str_radix(16));
    println!();
    println!("bridge configuration (ibkr third-party backend):");
    println!("  base_url = \"{origin}/v1/api\"");
    println!("  authorize_url = \"{origin}/authorize\"");
    println!("  consumer_key = \"{}\"", c.consumer_key);
    println!("  realm = \"{}\"", c.realm);
    println!("  signature_key_file = \"{}\"", c.signature_key_file.display());
    println!("  encryption_key_file = \"{}\"", c.encryption_key_file.display());
    println!("  dh_param_file = \"{}\"", c.dh_param_file.display());
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let listener = tokio::net::TcpListener::bind(&cli.listen).await?;
    let addr = listener.local_addr()?;
    let origin = format!("http://{addr}");
    let mut options = FakeIbkrThirdPartyOptions {
        consumer_key: cli.consumer_key.clone(),
        realm: cli.realm.clone(),
        requests_per_second: cli.requests_per_second,
        lock_interval: Duration::from_millis(cli.lock_interval_ms),
        moving_seed: (!cli.fixed_prices).then_some(cli.seed),
        ..FakeIbkrThirdPartyOptions::default()
    };
    if cli.refreshed {
        for u in &mut options.users {
            u.refreshed = true;
        }
    }
    println!("fake IBKR Third-Party Web API");
    println!("  base URL:            {origin}/v1/api");
    println!("  authorization page:  {origin}/authorize");
    for u in &options.users {
        let accounts: Vec<&str> = u.accounts.iter().map(|a| a.id.as_str()).collect();
        println!(
            "  user:                {} / password {} (accounts {}{})",
            u.username,
            u.password,
            accounts.join(", "),
            if u.refreshed {
                ""
            } else {
                "; 204 on /accounts* until the nightly refresh at 16:55 New York"
            }
        );
    }
    for c in &options.contracts {
        println!(
            "  contract:            {} {} {} conid {} bid {} ask {}{} at start",
            c.sec_type,
            c.ticker,
            c.exchange,
            c.conid,
            c.bid,
            c.ask,
            if c.delayed { " (delayed)" } else { "" }
        );
    }
    println!(
        "  limits:              {} requests/s, lock interval {} ms",
        cli.requests_per_second, cli.lock_interval_ms
    );
    let served = FakeIbkrThirdParty::serve(listener, options, |c| {
        print_consumer(c, &origin);
        println!("press Ctrl-C to stop");
    });
    tokio::select! {
        served = served => served,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
