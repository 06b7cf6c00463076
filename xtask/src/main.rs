//! `cargo xtask …`: the hub's developer commands (`cargo xtask --help` lists them, and
//! `cargo xtask <command> --help` shows each one's options).
//!
//! ```text
//! cargo xtask demo [--exit] [--stores N]     the hub's whole job end to end
//! cargo xtask db up|migrate|reset|down|url   the database (a private cluster by default)
//! cargo xtask seed --stores N --days D       synthetic stores with D days of history
//! cargo xtask test [ARGS…]                   the whole test suite (brings the database up first)
//! cargo xtask tidy [--only CHECK,…]          fmt, clippy, crate boundaries, import circles, file sizes
//! cargo xtask bench sync|db|api              the sync at TikTok's limits, database and HTTP benchmarks
//! cargo xtask chaos [--trials T] …           crash matrix, two instances, outbox, load during sync
//! cargo xtask apicheck [ARGS…]               schemathesis against the real hub (ARGS go to schemathesis)
//! cargo xtask fuzz [--seconds S] [TARGET…]   the cargo-fuzz targets
//! ```

mod apicheck;
mod bench;
mod chaos;
mod cli;
mod db;
mod demo;
mod fuzz;
mod harness;
mod pg;
mod seed;
mod tidy;
mod util;

use anyhow::Result;
use clap::Parser;

use crate::cli::{Cli, Command};

fn main() {
    // reqwest is built without a default TLS provider (xtask's clients speak plain HTTP to
    // local processes, but building one asks for a provider): ring, once for every command.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    if let Err(e) = run(cli.command) {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Demo(args) => demo::run(&args),
        Command::Db(cmd) => db::run(&cmd),
        Command::Seed(args) => seed::run(&args),
        Command::Test(args) => test(&args.passed()),
        Command::Tidy(args) => tidy::run(&args),
        Command::Bench(cmd) => bench::run(&cmd),
        Command::Chaos(args) => chaos::run(&args),
        Command::Apicheck(args) => apicheck::run(&args.passed()),
        Command::Fuzz(args) => fuzz::run(&args),
    }
}

/// Said when the dashboard's browser tests are left out.
const BROWSER_SKIPPED: &str = "\n\
    ************************************************************************\n\
    *  SKIPPING the dashboard's browser tests (hub-app browser::*):        *\n\
    *  chromium and chromedriver are not installed. Install them with      *\n\
    *      apt-get install -y chromium chromium-driver                      *\n\
    *  (.ci/run does) and run `cargo xtask test` again.                     *\n\
    ************************************************************************\n";

/// Whether Debian's `chromium` and `chromedriver` are there (the browser tests need both).
fn browser_installed() -> bool {
    let found = |names: &[&str]| {
        let path = std::env::var_os("PATH").unwrap_or_default();
        names.iter().any(|n| {
            std::env::split_paths(&path).chain([std::path::PathBuf::from("/usr/bin")]).any(|d| d.join(n).is_file())
        })
    };
    found(&["chromium", "chromium-browser"]) && found(&["chromedriver"])
}

/// Brings the database up, migrates, and runs the whole workspace's tests against it (the
/// dashboard's browser tests only when Chromium is installed; see [`browser_installed`]).
fn test(extra: &[String]) -> Result<()> {
    let url = db::up()?;
    db::migrate()?;
    let nextest = util::succeeds("cargo", &["nextest", "--version"]);
    let browser = browser_installed();
    let mut cmd = std::process::Command::new(util::cargo());
    if nextest {
        cmd.args(["nextest", "run", "--workspace", "--all-features", "--no-fail-fast"]);
    } else {
        cmd.args(["test", "--workspace", "--all-features", "--no-fail-fast"]);
    }
    if !browser {
        eprintln!("{}", BROWSER_SKIPPED);
        if nextest {
            cmd.args(["-E", "not test(/^browser::/)"]);
        }
    }
    cmd.args(extra);
    if !browser && !nextest {
        if !extra.iter().any(|a| a == "--") {
            cmd.arg("--");
        }
        cmd.args(["--skip", "browser::"]);
    }
    cmd.env("DATABASE_URL", &url);
    util::run(&mut cmd)?;
    if nextest {
        // nextest does not run doctests.
        util::run(
            std::process::Command::new(util::cargo())
                .args(["test", "--workspace", "--all-features", "--doc"])
                .env("DATABASE_URL", &url),
        )?;
    }
    Ok(())
}
