//! The `tvbridge` command line: `serve` (default), `check-config`, `health`, `--version`.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tvbridge::config::{Config, LogFormat};

#[derive(Parser)]
#[command(name = "tvbridge", version, about = "TradingView Broker API bridge")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Configuration file (default: config/default.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Listen address, overriding [server] listen.
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve {
        /// Listen address, overriding [server] listen.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Validate the configuration and print it with secrets masked.
    CheckConfig,
    /// Ask a running server whether it is ready (`/readyz`; `/healthz` with --live): exit 0 when it answers
    /// 200, 1 otherwise. For Docker's HEALTHCHECK.
    Health {
        /// URL to ask (default: /readyz on the configured listen address).
        #[arg(long)]
        url: Option<String>,
        /// Ask /healthz (the process is up) instead of /readyz (it can also reach its upstream).
        #[arg(long)]
        live: bool,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 5)]
        timeout_secs: u64,
    },
}

fn load(cli_config: &Option<PathBuf>) -> Result<Config, String> {
    let (path, explicit) = match cli_config {
        Some(p) => (p.clone(), true),
        None => (PathBuf::from("config/default.toml"), false),
    };
    Config::load(&path, explicit).map_err(|e| e.to_string())
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Health {
        url,
        live,
        timeout_secs,
    }) = &cli.command
    {
        let url = match url {
            Some(u) => u.clone(),
            // Docker treats any exit code but 0 and 1 as reserved: a bad configuration is unhealthy.
            None => match load(&cli.config) {
                Ok(c) => tvbridge::healthcheck::default_url(cli.listen.unwrap_or(c.server.listen), *live),
                Err(e) => {
                    eprintln!("tvbridge health: {e}");
                    return ExitCode::from(1);
                }
            },
        };
        let timeout = std::time::Duration::from_secs(*timeout_secs);
        return ExitCode::from(tvbridge::healthcheck::run(&url, timeout));
    }
    let mut config = match load(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tvbridge: {e}");
            return ExitCode::from(2);
        }
    };
    let listen = match cli.command {
        Some(Command::CheckConfig) => {
            println!(
                "# effective configuration (secrets masked)\n{}",
                config.to_masked_toml()
            );
            return ExitCode::SUCCESS;
        }
        Some(Command::Serve { listen }) => listen.or(cli.listen),
        Some(Command::Health { .. }) | None => cli.listen,
    };
    if let Some(addr) = listen {
        config.server.listen = addr;
    }
    init_logs(config.server.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tvbridge: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(tvbridge::serve(config));
    // Background work (hub pollers, upstream streams, blocking file writes) must not hold the exit.
    runtime.shutdown_timeout(tvbridge::server::RUNTIME_SHUTDOWN);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tvbridge: {e:#}");
            ExitCode::FAILURE
        }
    }
}
