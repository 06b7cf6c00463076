//! What the benchmarks share: the release `tiktok-hub` and a load-test hub process, seeded
//! databases, the work folder and the peak RSS of a process. Depends on no other bench module.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::util::{self, Proc};
use crate::{db, seed};

/// Sync-log lines per generated statement.
const LOG_SLICE: u64 = 1_000_000;

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
