//! Serves the fake Interactive Brokers Client Portal gateway on its own, so the IBKR backend can be tried
//! without an account: `cargo run --example fake_ibkr -- --listen 127.0.0.1:5000` (plain HTTP; the real
//! gateway speaks HTTPS with a self-signed certificate). `--auth oauth1` or `--auth oauth2` puts it behind
//! IBKR's OAuth instead of the gateway's login, with the throw-away keys of `testdata/ibkr/keys/`, and
//! prints what the bridge's configuration needs (these test-only credentials protect nothing).

use clap::{Parser, ValueEnum};
use fakes::ibkr::{FakeIbkr, FakeIbkrOptions, SSO_SESSION_PATH, TOKEN_PATH};

/// How clients authenticate.
#[derive(Clone, Copy, ValueEnum)]
enum Auth {
    /// The gateway holds the login: nothing to send.
    Gateway,
    /// OAuth 1.0a: live session token, every call signed.
    Oauth1,
    /// OAuth 2.0: client assertion, SSO session, bearer calls.
    Oauth2,
}

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
    /// Requests per second before 429 (default: 10 like the gateway, 50 like IBKR under OAuth).
    #[arg(long)]
    requests_per_second: Option<u32>,
    /// The authentication scheme.
    #[arg(long, value_enum, default_value_t = Auth::Gateway)]
    auth: Auth,
    /// The OAuth 1.0a consumer key (`TESTCONS` uses the realm `test_realm`).
    #[arg(long, default_value = "TESTCONS")]
    consumer_key: String,
    /// The OAuth 2.0 client id.
    #[arg(long, default_value = "tvbridge-test-client")]
    client_id: String,
}

/// The fake's options for the scheme, moving or fixed prices.
fn options(cli: &Cli) -> FakeIbkrOptions {
    let base = match cli.auth {
        Auth::Gateway => FakeIbkrOptions::default(),
        Auth::Oauth1 => FakeIbkrOptions::oauth1(&cli.consumer_key),
        Auth::Oauth2 => FakeIbkrOptions::oauth2(&cli.client_id),
    };
    let mut options = if cli.fixed_prices {
        base
    } else {
        let moving = FakeIbkrOptions::moving_market(chrono::Utc::now());
        FakeIbkrOptions {
            now: moving.now,
            moving: true,
            contracts: moving.contracts,
            ..base
        }
    };
    options.seed = cli.seed;
    if let Some(rps) = cli.requests_per_second {
        options.requests_per_second = rps;
    }
    options
}

/// Prints what a client of the scheme is configured with.
fn print_credentials(options: &FakeIbkrOptions, origin: &str) {
    let Some(auth) = &options.oauth else {
        println!("  auth:       gateway (nothing to send)");
        return;
    };
    if let Some(c) = auth.oauth1_client() {
        println!("  auth:       OAuth 1.0a (live session token at {origin}/v1/api/oauth/live_session_token)");
        println!("  consumer key:        {}", c.consumer_key);
        println!("  realm:               {}", c.realm);
        println!("  access token:        {}", c.access_token);
        println!(
            "  access token secret: {} (encrypted)",
            c.encrypted_access_token_secret
        );
        println!("  signature key file:  {}", c.signature_key_file.display());
        println!("  encryption key file: {}", c.encryption_key_file.display());
        println!("  DH parameters file:  {}", c.dh_param_file.display());
        println!(
            "  WebSocket:           ws://{}/v1/api/ws?oauth_token={}",
            origin.trim_start_matches("http://"),
            c.access_token
        );
        println!();
        println!("bridge configuration (config/ibkr.example.toml's keys):");
        println!("  export IBKR_CONSUMER_KEY='{}'", c.consumer_key);
        println!("  export IBKR_ACCESS_TOKEN='{}'", c.access_token);
        println!(
            "  export IBKR_ACCESS_TOKEN_SECRET='{}'",
            c.encrypted_access_token_secret
        );
        println!("  [backend]  transport = \"oauth1\", base_url = \"{origin}/v1/api\"");
        println!("  [backend.oauth1]");
        println!("  consumer_key_env = \"IBKR_CONSUMER_KEY\"");
        println!("  access_token_env = \"IBKR_ACCESS_TOKEN\"");
        println!("  access_token_secret_env = \"IBKR_ACCESS_TOKEN_SECRET\"");
        println!("  signature_key_file = \"{}\"", c.signature_key_file.display());
        println!("  encryption_key_file = \"{}\"", c.encryption_key_file.display());
        println!("  dh_param_file = \"{}\"", c.dh_param_file.display());
        println!("  realm = \"{}\"", c.realm);
    }
    if let Some(c) = auth.oauth2_client() {
        println!("  auth:       OAuth 2.0");
        println!("  token URL:           {origin}{TOKEN_PATH}");
        println!("  SSO session URL:     {origin}{SSO_SESSION_PATH}");
        println!("  client id:           {}", c.client_id);
        println!("  key id:              {}", c.key_id);
        println!("  private key file:    {}", c.private_key_file.display());
        println!("  username:            {}", c.username);
        println!("  audience:            {}", c.audience);
        println!();
        println!("bridge configuration (config/ibkr.example.toml's keys):");
        println!("  export IBKR_CLIENT_ID='{}'", c.client_id);
        println!("  [backend]  transport = \"oauth2\", base_url = \"{origin}/v1/api\"");
        println!("  [backend.oauth2]");
        println!("  client_id_env = \"IBKR_CLIENT_ID\"");
        println!("  key_id = \"{}\"", c.key_id);
        println!("  private_key_file = \"{}\"", c.private_key_file.display());
        println!("  username = \"{}\"", c.username);
        println!("  ip = \"127.0.0.1\"");
        println!("  token_url = \"{origin}{TOKEN_PATH}\"");
        println!("  sso_session_url = \"{origin}{SSO_SESSION_PATH}\"");
        println!("  audience = \"{}\"", c.audience);
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let listener = tokio::net::TcpListener::bind(&cli.listen).await?;
    let addr = listener.local_addr()?;
    let options = options(&cli);
    println!("fake IBKR Client Portal gateway");
    println!("  base URL:   http://{addr}/v1/api");
    println!("  stream URL: ws://{addr}/v1/api/ws");
    println!("  user:       {}", options.username);
    println!(
        "  pacing:     {} requests per second",
        options.requests_per_second
    );
    print_credentials(&options, &format!("http://{addr}"));
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
