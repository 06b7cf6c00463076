//! `tiktok-hub`: the TikTok Content Reporting Hub.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod cli_json;
mod config;
mod metrics;
#[cfg(test)]
mod redaction;
mod serve;
mod telemetry;
mod users_cli;
mod wiring;

use config::Config;

/// The TikTok Content Reporting Hub: connects stores' TikTok accounts, snapshots their
/// statistics every night and serves the history over a REST API.
///
/// Settings come from the environment (and an optional `.env`); see `.env.example`.
#[derive(Debug, Parser)]
#[command(name = "tiktok-hub", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the admin API, the OAuth pages and the docs, and run the scheduled jobs.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Check the configuration and print it with secrets redacted.
    CheckConfig,
    /// Run a sync job once, now, and print its summary as JSON.
    Sync {
        /// all | user | video | refresh_tokens
        #[arg(long, default_value = "all")]
        job: String,
        /// Sync only this store.
        #[arg(long)]
        store: Option<String>,
    },
    /// Re-encrypt every stored token with the newest TOKEN_ENC_KEY (safe to interrupt and rerun).
    Reencrypt,
    /// People: add, list, set a password, disable.
    User {
        #[command(subcommand)]
        command: users_cli::UserCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A `.env` file fills in what the environment lacks; it never overrides.
    let _ = dotenvy::dotenv();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tiktok-hub: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes. No error here carries a secret.
            eprintln!("tiktok-hub: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env().context("configuration")?;
    telemetry::init(&config);
    telemetry::install_panic_hook(&config);
    match cli.command {
        Command::Serve => serve::run(&config).await,
        Command::Migrate => {
            let applied = hub_postgres::run_migrations(config.database_url.expose()).await?;
            tracing::info!(applied = applied.len(), "migrations applied");
            println!("migrations applied: {}", applied.len());
            Ok(())
        }
        Command::CheckConfig => {
            println!("{config:#?}");
            Ok(())
        }
        Command::Sync { job, store } => {
            let selection = hub_engine::JobSelection::parse(&job)
                .with_context(|| format!("--job must be all, user, video or refresh_tokens, not {job:?}"))?;
            let hub = wiring::build(&config).await?;
            let syncs = hub.engine.syncs();
            // A killed process leaves its runs RUNNING and its refresh leases taken until some
            // instance's sweep declares it dead: do that first, so this run does not wait on
            // (or fail over) a dead instance's leases.
            if let Err(e) = syncs.interrupt_stale_runs(config.sync_stale_after).await {
                tracing::warn!(error = %e, "could not interrupt stale runs");
            }
            let json = match store {
                Some(code) => {
                    let code = hub_domain::StoreCode::parse(&code).map_err(|e| anyhow::anyhow!("--store: {e}"))?;
                    let result = syncs.sync_store(&hub_engine::Actor::cli(), &code, selection).await?;
                    serde_json::to_string_pretty(&cli_json::StoreSyncJson::from(result))?
                }
                None => {
                    let scope = hub_engine::RunScope::All;
                    let summary = syncs.run(selection, &scope, hub_domain::RunTrigger::Cli).await?;
                    serde_json::to_string_pretty(&cli_json::SyncJson::from(summary))?
                }
            };
            println!("{json}");
            Ok(())
        }
        Command::User { command } => {
            let hub = wiring::build(&config).await?;
            users_cli::run(&hub.engine, command).await
        }
        Command::Reencrypt => {
            let hub = wiring::build(&config).await?;
            let report = hub.engine.system().reencrypt_tokens(500).await?;
            println!("{}", serde_json::to_string_pretty(&cli_json::ReencryptJson::from(report))?);
            Ok(())
        }
    }
}
