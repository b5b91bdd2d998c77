//! `redsol`: the command line. Parses arguments, starts logging, loads the settings and hands
//! over to the library.

use clap::{Parser, Subcommand};
use redsol::app::{self, Mode};
use redsol::console::ConsoleOptions;
use redsol::settings::{IncompleteConfig, Settings};
use redsol::telemetry::{self, LogFormat};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "redsol", version, about = "Red Soluciones ISP messaging bot")]
struct Cli {
    /// Verbose logs.
    #[arg(long, global = true)]
    debug: bool,
    /// Log format on stderr.
    #[arg(
        long,
        global = true,
        env = "RUST_LOG_FORMAT",
        value_enum,
        default_value = "human"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Shows what is configured (never the secrets).
    Status {
        /// Also check that each configured integration answers.
        #[arg(long)]
        check: bool,
    },
    /// Runs the bot: the channels of the mode, and the HTTP server.
    Run {
        #[arg(long, value_enum, default_value = "auto")]
        mode: Mode,
        #[command(flatten)]
        console: ConsoleArgs,
    },
    /// An interactive conversation with the bot in the terminal.
    Chat {
        #[command(flatten)]
        console: ConsoleArgs,
    },
    /// Classifies utterances read from stdin, one per line; prints JSON lines.
    Classify {
        /// Use the language model (Gemini) instead of the offline NLU.
        #[arg(long)]
        llm: bool,
    },
}

#[derive(clap::Args)]
struct ConsoleArgs {
    /// Console user id (staff when listed in rules.staff.console_users).
    #[arg(long, default_value = "local")]
    user: String,
    /// The name the bot knows you by, as a platform profile would give it.
    #[arg(long)]
    name: Option<String>,
}

impl ConsoleArgs {
    fn options(self) -> ConsoleOptions {
        let interactive = std::io::stdin().is_terminal();
        ConsoleOptions {
            user: self.user,
            name: self.name,
            echo: !interactive,
            interactive,
            reply_timeout: Duration::from_secs(30),
        }
    }
}

/// `redsol status`'s exit code when a channel or integration is set up in part.
const EXIT_INCOMPLETE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init_logs(cli.debug, cli.log_format);
    let (format, status) = (
        cli.log_format,
        matches!(cli.command, Command::Status { .. }),
    );
    match real_main(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e, format);
            if status && e.downcast_ref::<IncompleteConfig>().is_some() {
                ExitCode::from(EXIT_INCOMPLETE)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Says why redsol stopped, once: a JSON log line when logs are JSON (and errors are not
/// filtered out), else a plain line on stderr.
fn report(e: &anyhow::Error, format: LogFormat) {
    if format == LogFormat::Json && tracing::enabled!(tracing::Level::ERROR) {
        tracing::error!("{e:#}");
    } else {
        eprintln!("error: {e:#}");
    }
}

fn real_main(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    match cli.command {
        Command::Status { check } => block_on(async move {
            redsol::commands::status(&settings, check, &mut std::io::stdout()).await
        }),
        Command::Classify { llm } => block_on(async move {
            redsol::commands::classify(
                &settings,
                llm,
                &mut std::io::stdin().lock(),
                &mut std::io::stdout(),
            )
            .await
        }),
        Command::Chat { console } => block_on(app::chat(settings, console.options())),
        Command::Run { mode, console } => block_on(app::run(settings, mode, console.options())),
    }
}

/// Runs the async part on a multi-threaded runtime. Its shutdown does not wait for a read of
/// stdin still blocked in tokio's blocking pool (the console may be mid-read on SIGTERM).
fn block_on(future: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(future);
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}
