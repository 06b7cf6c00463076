//! `cargo xtask …`: the hub's developer commands.
//!
//! ```text
//! cargo xtask db up|migrate|reset|down|url   the database (a private cluster under target/ by default)
//! cargo xtask seed --stores N --days D       synthetic stores with D days of history
//! cargo xtask test [ARGS…]                   the whole test suite (brings the database up first)
//! cargo xtask tidy                           fmt, clippy -D warnings, crate-boundary checks
//! cargo xtask bench sync --stores N --videos M   the daily sync against tiktok-sandbox at TikTok's limits
//! cargo xtask bench db|api                  database and HTTP read/ingest benchmarks
//! cargo xtask chaos [--stores N] [--trials T]   crash matrix (SIGKILL, PostgreSQL restarts) and load during sync
//! cargo xtask apicheck [ARGS…]               schemathesis against the real hub (ARGS go to schemathesis)
//! ```

mod apicheck;
mod bench;
mod bench_api;
mod bench_db;
mod chaos;
mod chaos_load;
mod db;
mod demo;
mod fuzz;
mod harness;
mod seed;
mod tidy;
mod util;

use anyhow::{Result, bail};

const USAGE: &str = "\
usage: cargo xtask <command>

  demo [--exit] [--stores N]
               the hub's whole job end to end: a private PostgreSQL, the TikTok sandbox,
               the real hub; N (300) stores created and connected, 30 days of history, the
               daily sync with a progress bar, a report; the hub stays up until Ctrl-C

  db up        start the database: DATABASE_URL when it answers, else a private PostgreSQL
               cluster under target/pg (prints the URL; idempotent)
  db migrate   apply pending migrations
  db reset     drop and recreate the database, then migrate
  db down      stop the private cluster
  db url       print the URL the other commands use
  seed --stores N --days D [--videos V]
               synthetic stores with D days of user and video history (idempotent)
  test [ARGS]  bring the database up and run every test (ARGS go to the test runner)
  tidy         cargo fmt --check, clippy -D warnings, crate-boundary checks
  bench sync --stores N --videos M [--time-scale K] [--latency MIN-MAX] [--release|--debug]
               run `tiktok-hub sync --job all` twice (day 1, day 2) against tiktok-sandbox at
               TikTok's limits in a fresh database tiktok_hub_bench; one line per day with
               wall time, the rate-limit floor, 429s, failures and peak RSS (docs/PERFORMANCE.md)
  bench db [--stores 1000] [--days 365] [--videos 100] [--export-rows 10000000] [--reps 100] [--reuse]
               database throughput and latency in tiktok_hub_benchdb: ingest (adapter upserts vs
               COPY), p50/p99 of the store list, history and report queries, and a CSV export
               streamed through the real hub with its peak RSS (docs/PERFORMANCE.md)
  bench api [--connections 50] [--seconds 15]
               wrk against the release `tiktok-hub serve` (tiktok_hub_benchapi, 300 stores x 30
               days x 50 videos): requests/s, p50, p99 and errors per admin read route and /health
  chaos [--stores 300] [--trials 20] [--pg-restarts 3] [--terminations 3] [--seed N]
        [--rotation strict|may] [--skip-load | --only matrix|load] [--rps 20]
               real processes under faults, on a PostgreSQL cluster of its own (target/chaos-pg):
               `tiktok-hub sync` killed with SIGKILL at seeded random points, PostgreSQL
               restarted and its sessions terminated mid-run, each followed by the next run and
               a check of the day (snapshots vs the sandbox, duplicates, locks, leases, RUNNING
               runs, connected stores); then admin reads at RPS/s during a sync through the API
               (errors, p50/p95/p99, pool). One line per part (docs/OPERATIONS.md)
  apicheck [ARGS]
               schemathesis (all checks, 100 examples per operation) against tiktok-hub and
               tiktok-sandbox in a fresh database tiktok_hub_apicheck (ARGS go to schemathesis)
  fuzz [--seconds S] [TARGET…]
               the cargo-fuzz targets of crates/hub-fuzz (nightly; installs cargo-fuzz if
               missing), each S (60) seconds; one line per target; fails on a crash
";

fn main() {
    if let Err(e) = run() {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("db") => match rest.first().map(String::as_str) {
            Some("up") => db::up().map(|url| println!("{url}")),
            Some("migrate") => db::migrate(),
            Some("reset") => db::reset(),
            Some("down") => db::down(),
            Some("url") => db::up_quiet().map(|url| println!("{url}")),
            _ => bail!("{USAGE}"),
        },
        Some("seed") => seed::run(rest),
        Some("test") => test(rest),
        Some("tidy") => tidy::run(),
        Some("demo") => demo::run(rest),
        Some("bench") => bench::run(rest),
        Some("chaos") => chaos::run(rest),
        Some("apicheck") => apicheck::run(rest),
        Some("fuzz") => fuzz::run(rest),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(())
        }
        _ => bail!("{USAGE}"),
    }
}

/// Brings the database up, migrates, and runs the whole workspace's tests against it.
fn test(extra: &[String]) -> Result<()> {
    let url = db::up()?;
    db::migrate()?;
    let nextest = util::succeeds("cargo", &["nextest", "--version"]);
    let mut cmd = std::process::Command::new(util::cargo());
    if nextest {
        cmd.args(["nextest", "run", "--workspace", "--all-features", "--no-fail-fast"]);
    } else {
        cmd.args(["test", "--workspace", "--all-features", "--no-fail-fast"]);
    }
    cmd.args(extra).env("DATABASE_URL", &url);
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
