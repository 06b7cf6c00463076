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

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::{common, instances};
use crate::harness::{HubEnv, Sandbox, SandboxOpts, connect_stores, get_json, http};
use crate::{db, util};

const BENCH_DB: &str = "tiktok_hub_bench";
/// TikTok's budget per endpoint per minute.
const TIKTOK_PER_MIN: f64 = 600.0;
/// The hub's client-side budget per endpoint per minute (a little under TikTok's).
const HUB_PER_MIN: f64 = 570.0;
const ENDPOINTS: [&str; 3] = ["user_info", "video_list", "video_query"];

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
        Some(b) => Some(instances::Pair::start(&hub_bin, &env, b, &work)?),
        None => None,
    };
    let one_day = |n: u32| -> Result<Vec<String>> {
        match &pair {
            Some(p) => rt.block_on(p.day(n, args, &sb, &hub_bin, &env, &work)),
            None => rt
                .block_on(day(n, args, &sb, &hub_bin, &env, &work))
                .map(|ok| if ok { Vec::new() } else { vec!["tiktok-hub exited non-zero".to_owned()] }),
        }
    };

    // 5. Day 1.
    let mut failures = Vec::new();
    match one_day(1) {
        Ok(problems) => failures.extend(problems.into_iter().map(|p| format!("day 1: {p}"))),
        Err(e) => failures.push(format!("day 1: {e:#}")),
    }

    // 6. Day 2: a day passes for the hub's data and for TikTok.
    if failures.is_empty() {
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

pub(super) async fn reset_stats(sb: &str) -> Result<()> {
    let (status, body) = http(sb, "POST", "/sandbox/stats/reset", None).await?;
    if status != 200 {
        bail!("POST /sandbox/stats/reset answered {status}: {body}");
    }
    Ok(())
}

/// A finished `tiktok-hub sync --job all`.
pub(super) struct Nightly {
    pub(super) exit: std::process::ExitStatus,
    /// Seconds from its start to its exit.
    pub(super) wall: f64,
    pub(super) hwm_kb: u64,
    pub(super) summary: Option<Value>,
    /// Failed stores of the user and video jobs (`None`: no summary).
    pub(super) failed: Option<i64>,
    log_path: std::path::PathBuf,
}

impl Nightly {
    /// The hub's summary and log, on stderr.
    pub(super) fn print_details(&self) {
        if let Some(s) = &self.summary {
            eprintln!(
                "xtask:   summary refresh={} user={} video={}",
                s.get("refresh_tokens").map_or("-".into(), Value::to_string),
                s.get("user_sync").map_or("-".into(), Value::to_string),
                s.get("video_sync").map_or("-".into(), Value::to_string)
            );
        }
        let log_lines = std::fs::read_to_string(&self.log_path).map(|s| s.lines().count()).unwrap_or(0);
        if log_lines > 0 {
            eprintln!("xtask:   tiktok-hub wrote {log_lines} log lines: {}", self.log_path.display());
        }
        if !self.exit.success() {
            eprintln!("xtask: tiktok-hub exited with {} (see {})", self.exit, self.log_path.display());
        }
    }
}

/// Runs `tiktok-hub sync --job all` (with `more` settings) to its end: its wall time, peak
/// RSS and summary; its log is `hub-day<n>.log`.
pub(super) async fn nightly(
    n: u32,
    hub_bin: &Path,
    env: &HubEnv,
    work: &Path,
    more: impl FnOnce(&mut std::process::Command),
) -> Result<Nightly> {
    let log_path = work.join(format!("hub-day{n}.log"));
    let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let mut cmd = env.command(hub_bin, &["sync", "--job", "all"], work);
    more(&mut cmd);
    cmd.stdout(Stdio::piped()).stderr(log);
    let started = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("cannot start {}", hub_bin.display()))?;
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    // Peak RSS: VmHWM of the live process, polled until it exits.
    let mut hwm_kb = 0u64;
    let exit = loop {
        if let Some(kb) = common::vm_hwm_kb(pid) {
            hwm_kb = hwm_kb.max(kb);
        }
        match child.try_wait()? {
            Some(status) => break status,
            None => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let summary_text = reader.join().unwrap_or_default();
    let summary: Option<Value> = summary_text.find('{').and_then(|s| serde_json::from_str(&summary_text[s..]).ok());
    let failed = summary.as_ref().map(|s| {
        ["user_sync", "video_sync"]
            .iter()
            .map(|j| s.get(j).and_then(|x| x.get("failed")).and_then(Value::as_i64).unwrap_or(0))
            .sum::<i64>()
    });
    Ok(Nightly { exit, wall, hwm_kb, summary, failed, log_path })
}

/// The sandbox's call counts since its stats were reset, and the rate-limit floor they set.
pub(super) struct Calls {
    stats: Value,
    /// Calls of the three rate-limited endpoints.
    pub(super) calls: u64,
    pub(super) http_429: u64,
    /// The busiest endpoint's calls at TikTok's 600·K per minute, in seconds.
    pub(super) floor: f64,
}

impl Calls {
    pub(super) async fn read(sb: &str, time_scale: f64) -> Result<Self> {
        let stats = get_json(sb, "/sandbox/stats").await?;
        let mut c = Self { stats, calls: 0, http_429: 0, floor: 0.0 };
        c.calls = ENDPOINTS.iter().map(|e| c.num(e, "calls")).sum();
        c.http_429 = ENDPOINTS.iter().map(|e| c.num(e, "http_429")).sum();
        let busiest = ENDPOINTS.iter().map(|e| c.num(e, "calls")).max().unwrap_or(0);
        c.floor = busiest as f64 / (TIKTOK_PER_MIN * time_scale) * 60.0;
        Ok(c)
    }

    fn num(&self, ep: &str, field: &str) -> u64 {
        self.stats.get(ep).and_then(|e| e.get(field)).and_then(Value::as_u64).unwrap_or(0)
    }

    /// One line per endpoint, on stderr.
    pub(super) fn print_endpoints(&self) {
        for ep in ENDPOINTS.iter().chain(["token"].iter()) {
            eprintln!(
                "xtask:   {ep:<11} calls={:<6} ok={:<6} http_429={:<4} errors={:<5} peak_window={}",
                self.num(ep, "calls"),
                self.num(ep, "ok"),
                self.num(ep, "http_429"),
                self.num(ep, "errors"),
                self.num(ep, "peak_window")
            );
        }
    }
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
