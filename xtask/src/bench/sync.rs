//! `cargo xtask bench sync --stores N --videos M [--time-scale K] [--latency MIN-MAX] [--release|--debug]`:
//! the daily sync of the real `tiktok-hub` binary against `tiktok-sandbox` at TikTok's limits.
//!
//! 1. builds both binaries (release by default);
//! 2. recreates the database `tiktok_hub_bench` on the server of `cargo xtask db url` and
//!    migrates it;
//! 3. starts the sandbox as a process: N accounts, M videos each on average, 600 requests per
//!    minute per endpoint per app (× K), latency 300-800 ms (÷ K);
//! 4. connects stores `bench_00001…` directly (tokens issued by `POST /sandbox/tokens`,
//!    encrypted with the hub's cipher and bound to their store, inserted in batches);
//! 5. day 1: runs `tiktok-hub sync --job all`, measures its wall time and peak RSS, and prints
//!    one `sync day=1 …` line with the sandbox's call counts;
//! 6. day 2: one day passes for both sides (snapshot dates and stored token expiries move
//!    back a day, the sandbox clock forward a day), the same run again, one `sync day=2 …` line.
//!
//! `floor_s` is the busiest endpoint's calls at TikTok's 600·K per minute: no client can be
//! faster. `ratio = wall_s / floor_s`. All load goes to 127.0.0.1 and ends with the run.
//!
//! `--instances 2` runs each day on two instances sharing the database, the sandbox and the
//! TikTok budget (see `instances`); `--redis` keeps that budget in Redis.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::common::{Calls, nightly, reset_stats};
use super::instances;
use crate::harness::{HubEnv, Sandbox, SandboxOpts, connect_stores};
use crate::{db, util};

const BENCH_DB: &str = "tiktok_hub_bench";
/// The hub's client-side budget per endpoint per minute (a little under TikTok's).
const HUB_PER_MIN: f64 = 570.0;

/// The options of `cargo xtask bench sync`.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct Args {
    /// Stores (and sandbox accounts) (1..=99999)
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=99_999))]
    pub stores: usize,
    /// Videos per account, on average (0..=1000)
    #[arg(long, value_name = "M", default_value_t = 50, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub videos: u32,
    /// TikTok's budget × K and its latency ÷ K (1 to 1000)
    #[arg(long, value_name = "K", default_value_t = 1.0, value_parser = time_scale)]
    pub time_scale: f64,
    /// TikTok's latency in ms, before scaling
    #[arg(long, value_name = "MIN-MAX", default_value = "300-800", value_parser = latency)]
    pub latency: String,
    /// Release binaries (the default)
    #[arg(long, overrides_with = "debug")]
    pub release: bool,
    /// Debug binaries
    #[arg(long, overrides_with = "release")]
    pub debug: bool,
    /// Instances sharing the database and the TikTok budget (1 or 2): with 2, the nightly run
    /// on one while the other answers `POST /admin/sync/run` for one store at a time
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub instances: u8,
    /// Keep the shared TikTok budget in Redis (`REDIS_URL`, else redis://127.0.0.1:6379/11);
    /// without it, in PostgreSQL unless `REDIS_URL` is set
    #[arg(long)]
    pub redis: bool,
}

fn time_scale(raw: &str) -> Result<f64, String> {
    let k: f64 = raw.parse().map_err(|_| format!("{raw:?} is not a number"))?;
    if k.is_finite() && (1.0..=1000.0).contains(&k) { Ok(k) } else { Err("must be from 1 to 1000".into()) }
}

fn latency(raw: &str) -> Result<String, String> {
    let ok = raw
        .split_once('-')
        .is_some_and(|(lo, hi)| matches!((lo.parse::<u64>(), hi.parse::<u64>()), (Ok(lo), Ok(hi)) if lo <= hi));
    if ok { Ok(raw.to_owned()) } else { Err("must be MIN-MAX in ms, e.g. 300-800".into()) }
}

pub fn run(args: &Args) -> Result<()> {
    let k = args.time_scale;
    let work = util::root().join("target").join("bench");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let two = args.instances == 2;
    let backend = if two { Some(instances::Backend::pick(args.redis)?) } else { None };
    let db_name = if two { instances::BENCH_DB } else { BENCH_DB };

    // 1. Binaries.
    let (hub_bin, sandbox_bin) = crate::harness::build_binaries(!args.debug)?;

    // 2. Database.
    let server_url = db::up_quiet()?;
    let admin_url = db::with_database(&server_url, "postgres")?;
    let bench_url = db::with_database(&server_url, db_name)?;

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("tokio runtime")?;
    let setup_started = Instant::now();
    rt.block_on(async {
        hub_postgres::execute_batch(&admin_url, &format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")).await?;
        hub_postgres::execute_batch(&admin_url, &format!("CREATE DATABASE {db_name}")).await?;
        hub_postgres::run_migrations(&bench_url).await?;
        anyhow::Ok(())
    })
    .with_context(|| format!("recreating the database {db_name} on {}", db::redact(&admin_url)))?;

    // 3. Sandbox.
    let opts = SandboxOpts {
        accounts: args.stores,
        videos: args.videos,
        latency: &args.latency,
        time_scale: args.time_scale,
        rotation: "may",
    };
    let mut sandbox = Sandbox::start(&sandbox_bin, &opts, &work.join("sandbox.log"))?;
    let sb = sandbox.addr.clone();

    // 4. Stores and their connected accounts.
    let env = HubEnv::new(&bench_url, &sb, ((HUB_PER_MIN * k).floor() as u64).max(1))?;
    let cipher = crate::harness::cipher_from_hex(&env.token_key)?;
    rt.block_on(connect_stores(&sb, &bench_url, args.stores, cipher, "bench_"))?;
    eprintln!("xtask: {} stores connected in {:.1}s", args.stores, setup_started.elapsed().as_secs_f64());

    // With two instances: B serves the admin API for both days.
    let pair = match &backend {
        Some(b) => Some(instances::Pair::start(&hub_bin, &env, b, &sb, &work)?),
        None => None,
    };
    let one_day = |n: u32| -> Result<Vec<String>> {
        match &pair {
            Some(p) => rt.block_on(p.day(n, args.stores, args.time_scale, &env)),
            None => rt
                .block_on(day(n, args, &sb, &hub_bin, &env, &work))
                .map(|ok| if ok { Vec::new() } else { vec!["tiktok-hub exited non-zero".to_owned()] }),
        }
    };

    // 5. Day 1.
    let mut failures = Vec::new();
    // With two instances a day whose checks failed still ran: day 2 runs as well.
    let day2 = match one_day(1) {
        Ok(problems) => {
            let go_on = two || problems.is_empty();
            failures.extend(problems.into_iter().map(|p| format!("day 1: {p}")));
            go_on
        }
        Err(e) => {
            failures.push(format!("day 1: {e:#}"));
            false
        }
    };

    // 6. Day 2: a day passes for the hub's data and for TikTok.
    if day2 {
        match rt.block_on(crate::harness::pass_a_day(&bench_url, &sb)) {
            Ok(()) => match one_day(2) {
                Ok(problems) => failures.extend(problems.into_iter().map(|p| format!("day 2: {p}"))),
                Err(e) => failures.push(format!("day 2: {e:#}")),
            },
            Err(e) => failures.push(format!("day 2 setup: {e:#}")),
        }
    }

    drop(pair);
    sandbox.stop();
    eprintln!(
        "xtask: the database {db_name} is kept for inspection; drop it with:\n  psql '{}' -c 'DROP DATABASE {db_name}'",
        db::redact(&admin_url)
    );
    if !failures.is_empty() {
        bail!("bench failed:\n  {}", failures.join("\n  "));
    }
    Ok(())
}

/// One day's run: resets the sandbox's stats, runs the hub's sync, prints the day's line.
/// `Ok(false)` when the hub exited non-zero.
async fn day(n: u32, args: &Args, sb: &str, hub_bin: &Path, env: &HubEnv, work: &Path) -> Result<bool> {
    reset_stats(sb).await?;
    let run = nightly(n, hub_bin, env, work, |_| {}).await?;
    let calls = Calls::read(sb, args.time_scale).await?;
    let ratio = if calls.floor > 0.0 { run.wall / calls.floor } else { f64::NAN };
    println!(
        "sync day={n} stores={} calls={} wall_s={:.1} floor_s={:.1} ratio={ratio:.3} http_429={} failed={} peak_rss_mb={:.1}",
        args.stores,
        calls.calls,
        run.wall,
        calls.floor,
        calls.http_429,
        run.failed.map_or_else(|| "?".to_owned(), |f| f.to_string()),
        run.hwm_kb as f64 / 1024.0
    );
    let _ = std::io::stdout().flush();
    calls.print_endpoints();
    run.print_details();
    Ok(run.exit.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_swapped_in_url() {
        let cases = [
            ("postgres://postgres@127.0.0.1:54329/tiktok_hub", "postgres://postgres@127.0.0.1:54329/x"),
            ("postgres://u:p/w@h:5432/db?sslmode=disable", "postgres://u:p/w@h:5432/x?sslmode=disable"),
            ("postgresql://h", "postgresql://h/x"),
        ];
        for (url, want) in cases {
            assert_eq!(db::with_database(url, "x").unwrap(), want);
        }
    }
}
