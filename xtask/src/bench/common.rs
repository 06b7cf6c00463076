//! What the benchmarks share: the release `tiktok-hub` and a load-test hub process, seeded
//! databases, the work folder, the peak RSS of a process, a nightly `tiktok-hub sync` run
//! and the sandbox's call counts. Depends on no other bench module.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::harness::{HubEnv, get_json, http};
use crate::util::{self, Proc};
use crate::{db, seed};

/// TikTok's budget per endpoint per minute.
const TIKTOK_PER_MIN: f64 = 600.0;
/// The rate-limited endpoints, as the sandbox's stats name them.
const ENDPOINTS: [&str; 3] = ["user_info", "video_list", "video_query"];
/// Sync-log lines per generated statement.
const LOG_SLICE: u64 = 1_000_000;

/// What a benchmark on a database of its own starts from.
pub struct Setup {
    /// The release `tiktok-hub`.
    pub hub_bin: PathBuf,
    /// `target/bench`.
    pub work: PathBuf,
    /// The database server (`cargo xtask db url`).
    pub server_url: String,
    /// The benchmark's database on it.
    pub url: String,
}

/// Builds the release hub, makes `target/bench` and brings the database server up; the URL
/// of `db_name` on it (not created here).
pub fn set_up(db_name: &str) -> Result<Setup> {
    let hub_bin = build_hub()?;
    let work = work_dir()?;
    let server_url = db::up_quiet()?;
    let url = db::with_database(&server_url, db_name)?;
    Ok(Setup { hub_bin, work, server_url, url })
}

/// `target/bench`, created.
pub fn work_dir() -> Result<PathBuf> {
    let work = util::root().join("target").join("bench");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    Ok(work)
}

/// Peak resident memory (`VmHWM`) of a live process, in kB.
pub fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A process's peak resident memory (VmHWM), polled every 50 ms from [`PeakRss::watch`]
/// until [`PeakRss::stop`].
pub struct PeakRss {
    pid: u32,
    /// VmHWM when the watch began.
    pub before_kb: u64,
    done: Arc<std::sync::atomic::AtomicBool>,
    peak: Arc<AtomicU64>,
    poller: tokio::task::JoinHandle<()>,
}

impl PeakRss {
    pub fn watch(pid: u32) -> Self {
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let poller = {
            let (done, peak) = (done.clone(), peak.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    if let Some(kb) = vm_hwm_kb(pid) {
                        peak.fetch_max(kb, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        };
        Self { pid, before_kb: vm_hwm_kb(pid).unwrap_or(0), done, peak, poller }
    }

    /// Stops polling; the peak seen (in KiB).
    pub async fn stop(self) -> u64 {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.poller.await;
        self.peak.load(Ordering::Relaxed).max(vm_hwm_kb(self.pid).unwrap_or(0))
    }
}

/// Builds the release `tiktok-hub`; returns its path.
pub fn build_hub() -> Result<PathBuf> {
    eprintln!("xtask: building tiktok-hub (release)");
    util::run(Command::new(util::cargo()).args(["build", "--release", "-p", "hub-app"]).current_dir(util::root()))?;
    Ok(util::target_dir().join("release").join("tiktok-hub"))
}

/// `tiktok-hub serve` on a free port of 127.0.0.1 for load tests: limits and cron off, fresh
/// secrets, TikTok pointed at a closed local port (never called); stopped when dropped.
pub struct Hub {
    proc: Proc,
    addr: String,
    key: String,
}

impl Hub {
    pub fn start(bin: &Path, db_url: &str, log: &Path) -> Result<Self> {
        let port = util::free_port()?;
        let key = util::random_hex(24)?;
        let nowhere = "http://127.0.0.1:9";
        let (proc, addr) = util::start(
            "tiktok-hub",
            Command::new(bin)
                .arg("serve")
                .env_remove("RUST_LOG")
                .env("DATABASE_URL", db_url)
                .env("TIKTOK_CLIENT_KEY", "bench-client-key")
                .env("TIKTOK_CLIENT_SECRET", "bench-client-secret-0123456789abcdef")
                .env("TIKTOK_REDIRECT_URI", format!("http://127.0.0.1:{port}/auth/tiktok/callback"))
                .env("TIKTOK_AUTH_BASE_URL", nowhere)
                .env("TIKTOK_API_BASE_URL", nowhere)
                .env("TOKEN_ENC_KEY", util::random_hex(32)?)
                .env("ADMIN_API_KEY", &key)
                .env("STATE_SECRET", util::random_hex(32)?)
                .env("HOST", "127.0.0.1")
                .env("PORT", port.to_string())
                .env("CRON_ENABLED", "false")
                // One address sends all the load: the per-address limits would throttle it.
                .env("RATE_LIMIT_ADMIN_PER_MIN", "0")
                .env("RATE_LIMIT_OAUTH_PER_MIN", "0")
                .env("RATE_LIMIT_HEALTH_PER_MIN", "0")
                .env("AUTH_FAILURE_MAX", "0")
                .env("LOG_LEVEL", "warn"),
            "tiktok-hub listening on http://",
            log,
        )?;
        eprintln!("xtask: tiktok-hub on http://{addr} (log {})", log.display());
        Ok(Self { proc, addr, key })
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn pid(&self) -> u32 {
        self.proc.child.id()
    }
}

/// Drops and recreates `name` on the server of `server_url`, migrates it and seeds it with
/// `cargo xtask seed`'s statements; returns its URL.
pub async fn fresh_seeded_db(server_url: &str, name: &str, stores: u64, days: u64, videos: u64) -> Result<String> {
    let admin_url = db::with_database(server_url, "postgres")?;
    let url = db::with_database(server_url, name)?;
    hub_postgres::execute_batch(&admin_url, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    hub_postgres::execute_batch(&admin_url, &format!("CREATE DATABASE {name}")).await?;
    hub_postgres::run_migrations(&url).await?;
    let started = Instant::now();
    seed::seed_url(&url, stores, days, videos).await?;
    eprintln!(
        "xtask: seeded {name}: {stores} stores × {days} days × {videos} videos in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(url)
}

/// `rows` sync-log lines over the seeded stores, one a minute back from now, two at a time.
pub async fn seed_sync_logs(url: &str, stores: u64, rows: u64) -> Result<()> {
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(1));
    let mut workers = Vec::new();
    for _ in 0..2 {
        let (url, next) = (url.to_owned(), next.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let first = next.fetch_add(LOG_SLICE, Ordering::Relaxed);
                if first > rows {
                    return anyhow::Ok(());
                }
                let last = (first + LOG_SLICE - 1).min(rows);
                let sql = format!(
                    "INSERT INTO sync_logs (store_code, job_name, status, message, duration_ms, run_time)
                     SELECT 'seed_' || lpad((1 + g % {stores})::text, 5, '0'),
                            CASE g % 2 WHEN 0 THEN 'sync_user_daily' ELSE 'sync_video_daily' END,
                            CASE WHEN g % 50 = 0 THEN 'FAILED' ELSE 'SUCCESS' END,
                            'synced ' || (g % 97) || ' videos',
                            200 + g % 900,
                            now() - make_interval(mins => g::int)
                     FROM generate_series({first}, {last}) AS g"
                );
                hub_postgres::execute_batch(&url, &sql).await.with_context(|| format!("sync logs {first}..={last}"))?;
            }
        }));
    }
    for w in workers {
        w.await??;
    }
    eprintln!("xtask: {rows} sync-log lines in {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}

pub async fn reset_stats(sb: &str) -> Result<()> {
    let (status, body) = http(sb, "POST", "/sandbox/stats/reset", None).await?;
    if status != 200 {
        bail!("POST /sandbox/stats/reset answered {status}: {body}");
    }
    Ok(())
}

/// A finished `tiktok-hub sync --job all`.
pub struct Nightly {
    pub exit: std::process::ExitStatus,
    /// Seconds from its start to its exit.
    pub wall: f64,
    pub hwm_kb: u64,
    pub summary: Option<Value>,
    /// Failed stores of the user and video jobs (`None`: no summary).
    pub failed: Option<i64>,
    log_path: PathBuf,
}

impl Nightly {
    /// The hub's summary and log, on stderr.
    pub fn print_details(&self) {
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
pub async fn nightly(
    n: u32,
    hub_bin: &Path,
    env: &HubEnv,
    work: &Path,
    more: impl FnOnce(&mut Command),
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
pub struct Calls {
    stats: Value,
    /// Calls of the three rate-limited endpoints.
    pub calls: u64,
    pub http_429: u64,
    /// The busiest endpoint's calls at TikTok's 600·K per minute, in seconds.
    pub floor: f64,
}

impl Calls {
    pub async fn read(sb: &str, time_scale: f64) -> Result<Self> {
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
    pub fn print_endpoints(&self) {
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
