//! The `tvbridge` command line: `serve` (default), `check-config`, `--version`.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tvbridge::config::{Config, LogFormat};

#[derive(Parser)]
#[command(name = "tvbridge", version, about = "TradingView Broker API bridge")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Configuration file; without one the built-in paper demo runs. `TVBRIDGE_CONFIG` names it too.
    #[arg(long, global = true, env = "TVBRIDGE_CONFIG")]
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
}

fn init_logs(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    // Colour codes only for a person at a terminal: in files and log collectors they are noise.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tvbridge: {e}");
            return ExitCode::from(2);
        }
    };
    let sources = loaded.sources();
    let mut config = loaded.config;
    let listen = match cli.command {
        Some(Command::CheckConfig) => {
            println!(
                "# effective configuration (secrets masked), from {sources}\n{}",
                config.to_masked_toml()
            );
            return ExitCode::SUCCESS;
        }
        Some(Command::Serve { listen }) => listen.or(cli.listen),
        None => cli.listen,
    };
    if let Some(addr) = listen {
        config.server.listen = addr;
        // The address decides whether the demo login may run (see `Config::problems`).
        if let Err(e) = config.validate() {
            eprintln!("tvbridge: {e}");
            return ExitCode::from(2);
        }
    }
    init_logs(config.server.log_format);
    tracing::info!(config = %sources, "configuration loaded");
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tvbridge: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tvbridge::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tvbridge: {e:#}");
            ExitCode::FAILURE
        }
    }
}
