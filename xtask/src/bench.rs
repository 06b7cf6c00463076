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

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::harness::{HubEnv, Sandbox, SandboxOpts, connect_stores, get_json, http};
use crate::{db, util};

const BENCH_DB: &str = "tiktok_hub_bench";
/// TikTok's budget per endpoint per minute.
const TIKTOK_PER_MIN: f64 = 600.0;
/// The hub's client-side budget per endpoint per minute (a little under TikTok's).
const HUB_PER_MIN: f64 = 570.0;
const ENDPOINTS: [&str; 3] = ["user_info", "video_list", "video_query"];

pub const USAGE: &str =
    "cargo xtask bench sync --stores N --videos M [--time-scale K] [--latency MIN-MAX] [--release|--debug]";

#[derive(Debug, Clone, PartialEq)]
struct Args {
    stores: usize,
    videos: u32,
    time_scale: f64,
    latency: String,
    release: bool,
}

fn parse_args(args: &[String]) -> Result<Args> {
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("sync") => {}
        _ => bail!("usage: {USAGE}"),
    }
    let mut a = Args { stores: 0, videos: 50, time_scale: 1.0, latency: "300-800".into(), release: true };
    let mut stores = None;
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} needs a value; usage: {USAGE}"));
        match flag.as_str() {
            "--stores" => stores = Some(value("--stores")?.parse::<usize>().context("--stores needs a number")?),
            "--videos" => a.videos = value("--videos")?.parse().context("--videos needs a number")?,
            "--time-scale" => a.time_scale = value("--time-scale")?.parse().context("--time-scale needs a number")?,
            "--latency" => a.latency = value("--latency")?.clone(),
            "--release" => a.release = true,
            "--debug" => a.release = false,
            other => bail!("unknown argument {other:?}; usage: {USAGE}"),
        }
    }
    a.stores = stores.with_context(|| format!("--stores is required; usage: {USAGE}"))?;
    if a.stores == 0 || a.stores > 99_999 {
        bail!("--stores must be 1..=99999");
    }
    if a.videos > 1000 {
        bail!("--videos must be 0..=1000");
    }
    if !(a.time_scale.is_finite() && a.time_scale >= 1.0 && a.time_scale <= 1000.0) {
        bail!("--time-scale must be from 1 to 1000");
    }
    let ok = a
        .latency
        .split_once('-')
        .is_some_and(|(lo, hi)| matches!((lo.parse::<u64>(), hi.parse::<u64>()), (Ok(lo), Ok(hi)) if lo <= hi));
    if !ok {
        bail!("--latency must be MIN-MAX in ms, e.g. 300-800");
    }
    Ok(a)
}

pub fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("db") => return crate::bench_db::run(&args[1..]),
        Some("api") => return crate::bench_api::run(&args[1..]),
        _ => {}
    }
    let args = parse_args(args)?;
    let k = args.time_scale;
    let work = util::root().join("target").join("bench");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;

    // 1. Binaries.
    let (hub_bin, sandbox_bin) = crate::harness::build_binaries(args.release)?;

    // 2. Database.
    let server_url = db::up_quiet()?;
    let admin_url = db::with_database(&server_url, "postgres")?;
    let bench_url = db::with_database(&server_url, BENCH_DB)?;

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("tokio runtime")?;
    let setup_started = Instant::now();
    rt.block_on(async {
        hub_postgres::execute_batch(&admin_url, &format!("DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")).await?;
        hub_postgres::execute_batch(&admin_url, &format!("CREATE DATABASE {BENCH_DB}")).await?;
        hub_postgres::run_migrations(&bench_url).await?;
        anyhow::Ok(())
    })
    .with_context(|| format!("recreating the database {BENCH_DB} on {}", db::redact(&admin_url)))?;

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

    // 5. Day 1.
    let mut failures = Vec::new();
    let day1 = rt.block_on(day(1, &args, &sb, &hub_bin, &env, &work));
    match day1 {
        Ok(ok) => {
            if !ok {
                failures.push("day 1: tiktok-hub exited non-zero".to_owned());
            }
        }
        Err(e) => failures.push(format!("day 1: {e:#}")),
    }

    // 6. Day 2: a day passes for the hub's data and for TikTok.
    if failures.is_empty() {
        let next_day = rt.block_on(crate::harness::pass_a_day(&bench_url, &sb));
        match next_day {
            Ok(()) => match rt.block_on(day(2, &args, &sb, &hub_bin, &env, &work)) {
                Ok(true) => {}
                Ok(false) => failures.push("day 2: tiktok-hub exited non-zero".to_owned()),
                Err(e) => failures.push(format!("day 2: {e:#}")),
            },
            Err(e) => failures.push(format!("day 2 setup: {e:#}")),
        }
    }

    sandbox.stop();
    eprintln!(
        "xtask: the database {BENCH_DB} is kept for inspection; drop it with:\n  psql '{}' -c 'DROP DATABASE {BENCH_DB}'",
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
    let (status, body) = http(sb, "POST", "/sandbox/stats/reset", None).await?;
    if status != 200 {
        bail!("POST /sandbox/stats/reset answered {status}: {body}");
    }
    let log_path = work.join(format!("hub-day{n}.log"));
    let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let mut cmd = env.command(hub_bin, &["sync", "--job", "all"], work);
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
        if let Some(kb) = vm_hwm_kb(pid) {
            hwm_kb = hwm_kb.max(kb);
        }
        match child.try_wait()? {
            Some(status) => break status,
            None => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let summary_text = reader.join().unwrap_or_default();

    let stats = get_json(sb, "/sandbox/stats").await?;
    let num = |ep: &str, field: &str| stats.get(ep).and_then(|e| e.get(field)).and_then(Value::as_u64).unwrap_or(0);
    let calls: u64 = ENDPOINTS.iter().map(|e| num(e, "calls")).sum();
    let http_429: u64 = ENDPOINTS.iter().map(|e| num(e, "http_429")).sum();
    let busiest = ENDPOINTS.iter().map(|e| num(e, "calls")).max().unwrap_or(0);
    let floor = busiest as f64 / (TIKTOK_PER_MIN * args.time_scale) * 60.0;
    let ratio = if floor > 0.0 { wall / floor } else { f64::NAN };

    let summary: Option<Value> = summary_text.find('{').and_then(|s| serde_json::from_str(&summary_text[s..]).ok());
    let failed = summary.as_ref().map(|s| {
        ["user_sync", "video_sync"]
            .iter()
            .map(|j| s.get(j).and_then(|x| x.get("failed")).and_then(Value::as_i64).unwrap_or(0))
            .sum::<i64>()
    });
    println!(
        "sync day={n} stores={} calls={calls} wall_s={wall:.1} floor_s={floor:.1} ratio={ratio:.3} http_429={http_429} failed={} peak_rss_mb={:.1}",
        args.stores,
        failed.map_or_else(|| "?".to_owned(), |f| f.to_string()),
        hwm_kb as f64 / 1024.0
    );
    let _ = std::io::stdout().flush();

    // Details for the reader, on stderr.
    for ep in ENDPOINTS.iter().chain(["token"].iter()) {
        eprintln!(
            "xtask:   {ep:<11} calls={:<6} ok={:<6} http_429={:<4} errors={:<5} peak_window={}",
            num(ep, "calls"),
            num(ep, "ok"),
            num(ep, "http_429"),
            num(ep, "errors"),
            num(ep, "peak_window")
        );
    }
    if let Some(s) = &summary {
        eprintln!(
            "xtask:   summary refresh={} user={} video={}",
            s.get("refresh_tokens").map_or("-".into(), Value::to_string),
            s.get("user_sync").map_or("-".into(), Value::to_string),
            s.get("video_sync").map_or("-".into(), Value::to_string)
        );
    }
    let log_lines = std::fs::read_to_string(&log_path).map(|s| s.lines().count()).unwrap_or(0);
    if log_lines > 0 {
        eprintln!("xtask:   tiktok-hub wrote {log_lines} log lines: {}", log_path.display());
    }
    if !exit.success() {
        eprintln!("xtask: tiktok-hub exited with {exit} (see {})", log_path.display());
    }
    Ok(exit.success())
}

pub(crate) fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::strings;

    #[test]
    fn args_table() {
        let a = parse_args(&strings(&["sync", "--stores", "300", "--videos", "50"])).unwrap();
        assert_eq!((a.stores, a.videos, a.time_scale, a.latency.as_str(), a.release), (300, 50, 1.0, "300-800", true));
        let a =
            parse_args(&strings(&["sync", "--stores", "10000", "--time-scale", "20", "--latency", "0-0", "--debug"]))
                .unwrap();
        assert_eq!((a.stores, a.time_scale, a.latency.as_str(), a.release), (10000, 20.0, "0-0", false));
        for bad in [
            &["sync"][..],
            &["load", "--stores", "1"],
            &["sync", "--stores", "0"],
            &["sync", "--stores", "1", "--latency", "800-300"],
            &["sync", "--stores", "1", "--time-scale", "0.5"],
            &["sync", "--stores", "1", "--bogus"],
        ] {
            assert!(parse_args(&strings(bad)).is_err(), "{bad:?}");
        }
    }

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
