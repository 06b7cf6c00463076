//! The command line of `cargo xtask` (clap derive). Each command's options live with the
//! command (`seed::Args`, `chaos::Args`, …); their doc comments are the help text of
//! `cargo xtask --help` and `cargo xtask <command> --help`.

use clap::{Parser, Subcommand};

use crate::{bench, chaos, db, demo, fuzz, seed, tidy};

/// The hub's developer commands.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    arg_required_else_help = true,
    after_help = "`cargo xtask <command> --help` shows a command's options."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The hub's whole job end to end, with a report; the hub stays up until Ctrl-C
    ///
    /// A private PostgreSQL (or DATABASE_URL), the TikTok sandbox, the real hub; N (300)
    /// stores created and connected, 30 days of history, the daily sync with a progress bar
    /// (on a terminal), a report; the hub stays up until Ctrl-C (or, with --exit, everything
    /// stops after the report).
    Demo(demo::Args),
    /// The development database: up, migrate, reset, down, url
    ///
    /// DATABASE_URL when it answers, else a private PostgreSQL cluster under target/pg (as
    /// root: $TMPDIR/tiktok-hub-pg-<hash of the checkout's path>/pg, where the `postgres`
    /// user can reach it) on 127.0.0.1:54329 (XTASK_PG_PORT to use another port).
    #[command(subcommand)]
    Db(db::Command),
    /// Synthetic stores with D days of user and video history (idempotent)
    Seed(seed::Args),
    /// Bring the database up and run every test (ARGS go to the test runner)
    ///
    /// `cargo nextest run --workspace --all-features --no-fail-fast` when nextest is installed
    /// (then the doctests with `cargo test --doc`), else `cargo test`; every ARG after `test`
    /// is passed on as it is, `--` included.
    Test(TestArgs),
    /// cargo fmt --check, clippy -D warnings, crate boundaries, import circles, file sizes
    ///
    /// The core (hub-domain, hub-ports, hub-engine) reaches no adapter or wire/driver crate;
    /// no adapter (every crates/hub-* but the core and hub-app) depends on another adapter or
    /// on hub-app; no two files of a crate's src/ import each other, directly or not; no
    /// hand-written source file under crates/*/src or xtask/src is over 600 lines. `--only`
    /// runs some of the checks.
    Tidy(tidy::Args),
    /// Benchmarks: the daily sync at TikTok's limits, the database, the admin read API
    ///
    /// Each prints one line per measure (docs/PERFORMANCE.md).
    #[command(subcommand)]
    Bench(bench::Command),
    /// The crash matrix and admin reads during a sync, on a PostgreSQL cluster of its own
    ///
    /// Real processes under faults, on a PostgreSQL cluster of its own (target/chaos-pg; as
    /// root $TMPDIR/tiktok-hub-pg-<hash>/chaos-pg; port 54330): `tiktok-hub sync` killed with
    /// SIGKILL at seeded random points, PostgreSQL restarted and its sessions terminated
    /// mid-run, each followed by the next run and a check of the day (snapshots vs the
    /// sandbox, duplicates, locks, leases, RUNNING runs, connected stores); two instances on
    /// one tick with a PostgreSQL restart; the hub SIGKILLed between changes and their
    /// notifications (the outbox delivers after the restart); then admin reads at RPS/s
    /// during a sync through the API (errors, p50/p95/p99, pool). One line per part
    /// (docs/OPERATIONS.md).
    Chaos(chaos::Args),
    /// Schemathesis against the real hub (ARGS go to schemathesis)
    ///
    /// All checks, 100 examples per operation, against tiktok-hub and tiktok-sandbox in a
    /// fresh database tiktok_hub_apicheck.
    Apicheck(ApicheckArgs),
    /// The cargo-fuzz targets of crates/hub-fuzz, S (60) seconds each; fails on a crash
    ///
    /// Nightly; installs cargo-fuzz if missing. One line per target.
    Fuzz(fuzz::Args),
}

/// `cargo xtask test [ARGS…]`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct TestArgs {
    /// Arguments for the test runner (`cargo nextest run` when installed, else `cargo test`)
    #[arg(value_name = "ARGS", num_args = 0.., allow_hyphen_values = true)]
    args: Vec<String>,
    /// What follows a `--` that comes first (clap takes that `--` for itself).
    #[arg(last = true, hide = true)]
    after: Vec<String>,
}

impl TestArgs {
    /// The arguments as they were given after `test`, `--` included.
    pub fn passed(&self) -> Vec<String> {
        passed(&self.args, &self.after)
    }
}

/// `cargo xtask apicheck [ARGS…]`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct ApicheckArgs {
    /// Arguments for `schemathesis run`, e.g. `--seed 1`
    #[arg(value_name = "ARGS", num_args = 0.., allow_hyphen_values = true)]
    args: Vec<String>,
    /// What follows a `--` that comes first (clap takes that `--` for itself).
    #[arg(last = true, hide = true)]
    after: Vec<String>,
}

impl ApicheckArgs {
    /// The arguments as they were given after `apicheck`, `--` included.
    pub fn passed(&self) -> Vec<String> {
        passed(&self.args, &self.after)
    }
}

fn passed(args: &[String], after: &[String]) -> Vec<String> {
    let mut all = args.to_vec();
    if !after.is_empty() {
        all.push("--".to_owned());
        all.extend_from_slice(after);
    }
    all
}

#[cfg(test)]
mod tests;
