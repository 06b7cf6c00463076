//! `cargo xtask bench api [--connections 50] [--seconds 15]`: the admin read API under load.
//!
//! 1. builds the release `tiktok-hub`;
//! 2. recreates the database `tiktok_hub_benchapi` on the server of `cargo xtask db url` and
//!    seeds it with `cargo xtask seed`'s statements ([`STORES`] × [`DAYS`] × [`VIDEOS`]) plus
//!    [`SYNC_LOGS`] sync-log lines, then `VACUUM ANALYZE`;
//! 3. starts `tiktok-hub serve` on a free port of 127.0.0.1 with its limits off
//!    (`RATE_LIMIT_ADMIN_PER_MIN=0`, `AUTH_FAILURE_MAX=0`: the load generator is one address),
//!    `CRON_ENABLED=false`, `LOG_LEVEL=warn`; TikTok is never contacted;
//! 4. runs `wrk --latency` with N connections (2 threads) for S seconds against each route of
//!    [`paths`] in turn — `GET /health` first, the ceiling — and prints one line per route:
//!    `api path=… conns=N rps=… p50_ms=… p99_ms=… errors=…` (`errors` = non-2xx/3xx answers
//!    plus socket errors and timeouts as wrk counts them);
//! 5. stops the hub and drops the database.
//!
//! `wrk` must be on PATH (`apt-get install -y wrk`). All load goes to 127.0.0.1.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::common::{self, Hub};
use crate::{db, util};

const DB_NAME: &str = "tiktok_hub_benchapi";
const STORES: u64 = 300;
const DAYS: u64 = 30;
const VIDEOS: u64 = 50;
/// Sync-log lines: 300 stores × 30 nights × 2 jobs.
const SYNC_LOGS: u64 = 18_000;
/// The routes under load, in order (the per-store ones read `seed_00150`, in the middle);
/// `/health` is the ceiling (no authentication, one database round trip). The reports are
/// pinned to `last`, the newest seeded day (yesterday): by default they read today, which
/// has no snapshots before the nightly sync and would measure empty days.
fn paths(last: chrono::NaiveDate) -> Vec<String> {
    vec![
        "/health".to_owned(),
        "/admin/stores".to_owned(),
        "/admin/stores/seed_00150".to_owned(),
        "/admin/stores/seed_00150/user-stats?days=30".to_owned(),
        "/admin/stores/seed_00150/video-stats?days=30".to_owned(),
        "/admin/sync/logs".to_owned(),
        format!("/admin/reports/overview?date={last}"),
        format!("/admin/reports/stores?sort=follower_growth&to={last}"),
        format!("/admin/reports/videos/top?to={last}"),
        format!("/admin/reports/gaps?to={last}"),
    ]
}

/// The options of `cargo xtask bench api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct Args {
    /// wrk's open connections (1..=1000)
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub connections: u32,
    /// Seconds of load per route (1..=300)
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=300))]
    pub seconds: u32,
}

pub fn run(args: &Args) -> Result<()> {
    let args = *args;
    if !util::succeeds("wrk", &["--version"]) && !util::succeeds("sh", &["-c", "command -v wrk"]) {
        bail!("wrk is not on PATH: apt-get install -y wrk");
    }
    let hub_bin = common::build_hub()?;
    let work = common::work_dir()?;
    let server_url = db::up_quiet()?;
    let admin_url = db::with_database(&server_url, "postgres")?;
    let url = util::block_on(async {
        let url = common::fresh_seeded_db(&server_url, DB_NAME, STORES, DAYS, VIDEOS).await?;
        common::seed_sync_logs(&url, STORES, SYNC_LOGS).await?;
        hub_postgres::execute_batch(&url, "VACUUM ANALYZE").await?;
        anyhow::Ok(url)
    })?;
    let result = load(&hub_bin, &url, &work, args);
    if let Err(e) = util::block_on(hub_postgres::execute_batch(
        &admin_url,
        &format!("DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"),
    )) {
        eprintln!("xtask: could not drop the database {DB_NAME}: {e:#}");
    }
    result
}

fn load(hub_bin: &Path, url: &str, work: &Path, args: Args) -> Result<()> {
    let hub = Hub::start(hub_bin, url, &work.join("hub-benchapi.log"))?;
    let key_header = format!("X-API-KEY: {}", hub.key());
    let paths = paths(chrono::Utc::now().date_naive() - chrono::Duration::days(1));
    // Every route must answer 200 before it is loaded.
    for path in &paths {
        let out = util::output(
            Command::new("curl")
                .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
                .arg(&key_header)
                .arg(format!("{}{path}", hub.base())),
        )?;
        if out.trim() != "200" {
            bail!("GET {path} answered {} before the load", out.trim());
        }
    }
    for path in &paths {
        let out = util::output(
            Command::new("wrk")
                .args(["-t", "2", "-c", &args.connections.to_string(), "-d", &format!("{}s", args.seconds)])
                .args(["--timeout", "10s", "--latency", "-H", &key_header])
                .arg(format!("{}{path}", hub.base())),
        )?;
        let w = Wrk::parse(&out).with_context(|| format!("wrk output for {path}:\n{out}"))?;
        println!(
            "api path={path} conns={} rps={:.0} p50_ms={:.2} p99_ms={:.2} errors={} requests={}",
            args.connections, w.rps, w.p50_ms, w.p99_ms, w.errors, w.requests
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    drop(hub);
    Ok(())
}

#[derive(Debug, Default, PartialEq)]
struct Wrk {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    requests: u64,
}

impl Wrk {
    /// Reads `wrk --latency`'s report.
    fn parse(out: &str) -> Result<Self> {
        let mut w = Self::default();
        let (mut p50, mut p99, mut rps) = (None, None, None);
        for line in out.lines().map(str::trim) {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("50%"), Some(v)) => p50 = Some(duration_ms(v)?),
                (Some("99%"), Some(v)) => p99 = Some(duration_ms(v)?),
                (Some("Requests/sec:"), Some(v)) => rps = Some(v.parse::<f64>()?),
                _ => {}
            }
            if let Some(n) = line.strip_prefix("Non-2xx or 3xx responses:") {
                w.errors += n.trim().parse::<u64>()?;
            }
            if let Some(rest) = line.strip_prefix("Socket errors:") {
                // "connect 0, read 0, write 0, timeout 0"
                for part in rest.split(',') {
                    w.errors += part.split_whitespace().nth(1).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
                }
            }
            if line.contains("requests in") {
                w.requests = line.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
            }
        }
        w.p50_ms = p50.context("no 50% line")?;
        w.p99_ms = p99.context("no 99% line")?;
        w.rps = rps.context("no Requests/sec line")?;
        Ok(w)
    }
}

/// wrk's `812.00us`, `1.23ms`, `2.01s`, `1.50m` in milliseconds.
fn duration_ms(v: &str) -> Result<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic()).with_context(|| format!("no unit in {v:?}"))?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().with_context(|| format!("not a number: {v:?}"))?;
    Ok(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => bail!("unknown unit in {v:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_report() {
        let out = "Running 15s test @ http://127.0.0.1:1/health
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.10ms    1.20ms  40.00ms   90.00%
    Req/Sec     8.10k   500.00    9.00k    70.00%
  Latency Distribution
     50%  812.00us
     75%    3.50ms
     90%    4.10ms
     99%    1.02s
  241234 requests in 15.00s, 80.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  16082.27
Transfer/sec:      5.33MB
";
        let w = Wrk::parse(out).unwrap();
        assert_eq!(w, Wrk { rps: 16082.27, p50_ms: 0.812, p99_ms: 1020.0, errors: 12, requests: 241_234 });
        assert!(Wrk::parse("garbage").is_err());
    }
}
