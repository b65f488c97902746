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
    CheckConfig {
        /// Also ask the upstream what it resolves the symbols to (IBKR: each symbol's conid and trading
        /// hours), logging in with the configured credentials.
        #[arg(long)]
        upstream: bool,
    },
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

/// The log lines (and, with `[telemetry]` and the `otel` feature, the OpenTelemetry export): called inside
/// the runtime, on which the trace exporter runs.
fn init_logs(
    format: LogFormat,
    telemetry: &tvbridge::telemetry::TelemetryConfig,
) -> anyhow::Result<tvbridge::telemetry::Telemetry> {
    use std::io::IsTerminal;
    use tracing_subscriber::layer::{Layer, SubscriberExt};
    use tracing_subscriber::util::SubscriberInitExt;
    // The WebSocket library traces each upgrade request whole (URL query and headers: IBKR's
    // `oauth_token`, bearers, session cookies): that one target stays silent whatever `RUST_LOG` asks.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"))
        .add_directive(
            "tungstenite::handshake::client=off"
                .parse()
                .expect("a valid directive"),
        );
    // Colour codes only for a person at a terminal: in files and log collectors they are noise.
    let ansi = std::io::stdout().is_terminal();
    let lines = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer().with_ansi(ansi).json().boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().with_ansi(ansi).boxed(),
    };
    let (export, exporter) = tvbridge::telemetry::layer(telemetry)?;
    tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .with(export)
        .init();
    Ok(exporter)
}

/// `check-config`'s account of the offered symbols (IBKR only: the other backends name their symbols in
/// the configuration itself). With `upstream`, IBKR is asked: a failure exits with 1.
fn check_symbols(config: &Config, upstream: bool) -> ExitCode {
    use tvbridge::backends::ibkr::{check, IbkrBroker};
    if let tvbridge::config::BackendConfig::IbkrThirdParty(tp) = &config.backend {
        // Contracts are looked up with a user's own IBKR grant, which only exists once a user logged in.
        println!("# IBKR third-party symbols (contracts looked up with /secdef at the first use by a logged-in user)");
        for s in &tp.symbols {
            match s.conid {
                Some(conid) => println!("#   {} = conid {conid}", s.symbol),
                None => println!("#   {} = found by /secdef at the first use", s.symbol),
            }
        }
        if upstream {
            println!(
                "# --upstream: needs a user's IBKR grant; the contracts are resolved at the first login"
            );
        }
        return ExitCode::SUCCESS;
    }
    let tvbridge::config::BackendConfig::Ibkr(ibkr) = &config.backend else {
        if upstream {
            println!("# --upstream: this backend's symbols are all in the configuration; nothing to resolve");
        }
        return ExitCode::SUCCESS;
    };
    if !upstream {
        println!(
            "# IBKR symbols (conids searched and trading hours read at the first login; --upstream asks now)"
        );
        for line in check::offline(ibkr) {
            println!("#   {line}");
        }
        return ExitCode::SUCCESS;
    }
    let resolved = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the runtime: {e}"))
        .and_then(|rt| {
            rt.block_on(async {
                let broker = IbkrBroker::start(ibkr).await.map_err(|e| format!("{e:#}"))?;
                check::upstream(&broker).await.map_err(|e| e.to_string())
            })
        });
    match resolved {
        Ok(lines) => {
            println!("# IBKR symbols as IBKR resolves them now");
            for line in lines {
                println!("#   {line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tvbridge: IBKR could not resolve the symbols: {e}");
            ExitCode::FAILURE
        }
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
            None => match Config::load(cli.config.as_deref()) {
                Ok(l) => {
                    tvbridge::healthcheck::default_url(cli.listen.unwrap_or(l.config.server.listen), *live)
                }
                Err(e) => {
                    eprintln!("tvbridge health: {e}");
                    return ExitCode::from(1);
                }
            },
        };
        let timeout = std::time::Duration::from_secs(*timeout_secs);
        return ExitCode::from(tvbridge::healthcheck::run(&url, timeout));
    }
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
        Some(Command::CheckConfig { upstream }) => {
            println!(
                "# effective configuration (secrets masked), from {sources}\n{}",
                config.to_masked_toml()
            );
            return check_symbols(&config, upstream);
        }
        Some(Command::Serve { listen }) => listen.or(cli.listen),
        Some(Command::Health { .. }) | None => cli.listen,
    };
    if let Some(addr) = listen {
        config.server.listen = addr;
        // The address decides whether the demo login may run (see `Config::problems`).
        if let Err(e) = config.validate() {
            eprintln!("tvbridge: {e}");
            return ExitCode::from(2);
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tvbridge: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let telemetry = match runtime.block_on(async { init_logs(config.server.log_format, &config.telemetry) }) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tvbridge: {e:#}");
            return ExitCode::from(2);
        }
    };
    tracing::info!(config = %sources, "configuration loaded");
    let outcome = runtime.block_on(tvbridge::serve(config));
    // The spans still queued go to the collector while the runtime their exporter runs on is up.
    telemetry.shutdown();
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
