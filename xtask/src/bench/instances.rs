//! `cargo xtask bench sync --instances 2 [--redis]`: each day on two instances sharing one
//! database, one sandbox and one TikTok budget.
//!
//! - Instance A runs the nightly `tiktok-hub sync --job all` (as the one-instance bench does).
//! - Instance B, a `tiktok-hub serve` started once for both days, meanwhile answers
//!   `POST /admin/sync/run {"store_code", "job": ADMIN_JOB, "wait": true}` for **one store at
//!   a time**, each waited for before the next, from the last store down, until A's run ends.
//!   The job is `user`: a single store's `all` is 4–6 TikTok calls one after another (2–3 s at
//!   TikTok's 300–800 ms), so no more than about 20 fit in day 2's run of about a minute.
//!
//! Both run with `HUB_INSTANCES_HINT=2` and the same `TIKTOK_RATE_LIMIT_PER_MIN`, and their
//! budget is in PostgreSQL (`shared_buckets`) or, with `--redis` or `REDIS_URL`, in Redis.
//! The hub's bucket names are fixed, so the bench keeps Redis's to a database of its own
//! (`/11` unless `REDIS_URL` names one) and clears its TikTok buckets before it starts.
//!
//! The day's line counts the calls of **both** instances (the sandbox's stats), and its
//! `wall_s` runs from A's start to the end of whichever instance finished last. The day fails
//! unless `http_429=0`, `failed=0` (A's failed stores and B's failed syncs), `ratio ≤ 1.15`,
//! B synced at least 50 stores during A's run, and the budget was drawn where it was meant to be.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::common::{Calls, nightly, reset_stats};
use crate::harness::{HubEnv, store_code};
use crate::util::{self, Proc};

pub const BENCH_DB: &str = "tiktok_hub_bench_pair";
const REDIS_DEFAULT: &str = "redis://127.0.0.1:6379/11";
/// Stores B must sync during A's run, and the highest ratio allowed (both days).
const MIN_ADMIN_SYNCS: usize = 50;
const MAX_RATIO: f64 = 1.15;
/// What B syncs of each store (a refresh first when its token is due, then `user/info`).
const ADMIN_JOB: &str = "user";

/// Where the shared TikTok budget lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Redis(String),
}

impl Backend {
    /// Redis when `REDIS_URL` is set or `--redis` is given, else PostgreSQL.
    pub fn pick(redis: bool) -> Result<Self> {
        let from_env = std::env::var("REDIS_URL").ok().filter(|u| !u.trim().is_empty());
        Self::choose(redis, from_env)
    }

    fn choose(redis: bool, from_env: Option<String>) -> Result<Self> {
        match from_env {
            Some(url) if url.starts_with("redis://") => Ok(Self::Redis(url)),
            Some(_) => bail!("REDIS_URL must be a redis:// URL"),
            None if redis => Ok(Self::Redis(REDIS_DEFAULT.to_owned())),
            None => Ok(Self::Postgres),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Redis(_) => "redis",
        }
    }

    /// The settings of either instance.
    fn apply(&self, cmd: &mut Command) {
        match self {
            Self::Postgres => cmd.env_remove("REDIS_URL"),
            Self::Redis(url) => cmd.env("REDIS_URL", url),
        };
        cmd.env("HUB_INSTANCES_HINT", "2");
    }

    /// The TikTok buckets in Redis (none for PostgreSQL).
    fn redis_buckets(&self) -> Result<Vec<String>> {
        let Self::Redis(url) = self else { return Ok(Vec::new()) };
        let out =
            util::output(Command::new("redis-cli").args(["-u", url, "--scan", "--pattern", "hub:bucket:tiktok:*"]))
                .context("redis-cli (install redis-tools)")?;
        Ok(out.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
    }

    /// Drops the TikTok buckets a previous bench left in Redis (they would start half empty).
    fn clear(&self) -> Result<()> {
        if let Self::Redis(url) = self {
            for key in self.redis_buckets()? {
                util::output(Command::new("redis-cli").args(["-u", url, "DEL", &key]))?;
            }
        }
        Ok(())
    }
}

/// TikTok buckets in the database's `shared_buckets`.
fn pg_buckets(url: &str) -> Result<i64> {
    let out = util::output(Command::new("psql").args([
        "-X",
        "-tA",
        "-d",
        url,
        "-c",
        "SELECT count(*) FROM shared_buckets WHERE name LIKE 'tiktok:%'",
    ]))
    .context("psql (install the PostgreSQL client)")?;
    out.trim().parse().with_context(|| format!("shared_buckets count: {out:?}"))
}

/// Instance B (stopped when dropped) and the backend both instances use.
pub struct Pair {
    _serve: Proc,
    base: String,
    backend: Backend,
    /// The sandbox's `127.0.0.1:PORT`.
    sb: String,
    hub_bin: PathBuf,
    work: PathBuf,
}

/// B's single-store syncs during one day.
#[derive(Debug, Default)]
struct AdminSyncs {
    /// Started while A's run was going on.
    during: usize,
    failed: Vec<String>,
    millis: Vec<u128>,
}

impl Pair {
    pub fn start(hub_bin: &Path, env: &HubEnv, backend: &Backend, sb: &str, work: &Path) -> Result<Self> {
        backend.clear()?;
        let port = util::free_port()?;
        let mut cmd = env.command(hub_bin, &["serve"], work);
        backend.apply(&mut cmd);
        // One address sends every admin request: the per-address limits would throttle it.
        cmd.env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("RATE_LIMIT_ADMIN_PER_MIN", "0")
            .env("AUTH_FAILURE_MAX", "0")
            .env("LOG_LEVEL", "info");
        let log = work.join("hub-serve.log");
        let (serve, addr) = util::start("tiktok-hub", &mut cmd, "tiktok-hub listening on http://", &log)?;
        eprintln!(
            "xtask: instance B: tiktok-hub serve on http://{addr} (log {}), budget in {}",
            log.display(),
            backend.name()
        );
        Ok(Self {
            _serve: serve,
            base: format!("http://{addr}"),
            backend: backend.clone(),
            sb: sb.to_owned(),
            hub_bin: hub_bin.to_owned(),
            work: work.to_owned(),
        })
    }

    /// One day on both instances: prints the day's line; returns what failed.
    pub async fn day(&self, n: u32, stores: usize, time_scale: f64, env: &HubEnv) -> Result<Vec<String>> {
        let (sb, hub_bin, work) = (self.sb.as_str(), self.hub_bin.as_path(), self.work.as_path());
        reset_stats(sb).await?;
        let done = AtomicBool::new(false);
        let started = Instant::now();
        let a = async {
            let run = nightly(n, hub_bin, env, work, |cmd| self.backend.apply(cmd)).await;
            done.store(true, Ordering::SeqCst);
            run
        };
        let (a, b) = tokio::join!(a, self.admin_syncs(stores, &env.admin_key, &done));
        let wall = started.elapsed().as_secs_f64();
        let (a, b) = (a?, b?);
        let calls = Calls::read(sb, time_scale).await?;
        let ratio = if calls.floor > 0.0 { wall / calls.floor } else { f64::NAN };
        let failed = a.failed.map(|f| f + b.failed.len() as i64);
        let mut ms = b.millis.clone();
        ms.sort_unstable();
        let median_ms = ms.get(ms.len() / 2).copied().unwrap_or(0);
        println!(
            "sync day={n} instances=2 budget={} stores={} calls={} wall_s={wall:.1} floor_s={:.1} ratio={ratio:.3} \
             http_429={} failed={} admin_syncs={} admin_sync_p50_ms={median_ms} nightly_s={:.1} peak_rss_mb={:.1}",
            self.backend.name(),
            stores,
            calls.calls,
            calls.floor,
            calls.http_429,
            failed.map_or_else(|| "?".to_owned(), |f| f.to_string()),
            b.during,
            a.wall,
            a.hwm_kb as f64 / 1024.0
        );
        calls.print_endpoints();
        a.print_details();
        for f in &b.failed {
            eprintln!("xtask:   instance B: {f}");
        }

        let mut problems = Vec::new();
        if !a.exit.success() {
            problems.push("instance A's tiktok-hub sync exited non-zero".to_owned());
        }
        if calls.http_429 != 0 {
            problems.push(format!("TikTok answered 429 {} times", calls.http_429));
        }
        if failed != Some(0) {
            problems.push(format!(
                "failed stores: {} of the nightly run, {} admin syncs",
                a.failed.map_or_else(|| "?".to_owned(), |f| f.to_string()),
                b.failed.len()
            ));
        }
        if ratio.is_nan() || ratio > MAX_RATIO {
            problems.push(format!("ratio {ratio:.3} (at most {MAX_RATIO})"));
        }
        if b.during < MIN_ADMIN_SYNCS {
            problems.push(format!("instance B synced {} stores during the run (at least {MIN_ADMIN_SYNCS})", b.during));
        }
        problems.extend(self.budget_where_meant(&env.database_url)?);
        Ok(problems)
    }

    /// The TikTok buckets are where the backend says, and only there.
    fn budget_where_meant(&self, database_url: &str) -> Result<Vec<String>> {
        let pg = pg_buckets(database_url)?;
        let redis = self.backend.redis_buckets()?.len() as i64;
        eprintln!("xtask:   TikTok buckets: {pg} in PostgreSQL, {redis} in Redis");
        let (used, other) = match self.backend {
            Backend::Postgres => (pg, redis),
            Backend::Redis(_) => (redis, pg),
        };
        if used == 0 || other != 0 {
            return Ok(vec![format!(
                "the budget was not drawn from {} alone ({pg} TikTok buckets in PostgreSQL, {redis} in Redis)",
                self.backend.name()
            )]);
        }
        Ok(Vec::new())
    }

    /// B's loop: one store at a time, each waited for, until `done`.
    async fn admin_syncs(&self, stores: usize, key: &str, done: &AtomicBool) -> Result<AdminSyncs> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(600)).build().context("HTTP client")?;
        let mut out = AdminSyncs::default();
        for i in (0..stores).rev() {
            if done.load(Ordering::SeqCst) {
                break;
            }
            let code = store_code("bench_", i);
            let t = Instant::now();
            out.during += 1;
            let resp = http
                .post(format!("{}/admin/sync/run", self.base))
                .header("X-API-KEY", key)
                .json(&json!({"store_code": code, "job": ADMIN_JOB, "wait": true}))
                .send()
                .await;
            let answer = match resp {
                Ok(r) => {
                    let status = r.status().as_u16();
                    (status, r.json::<Value>().await.unwrap_or(Value::Null))
                }
                Err(e) => {
                    out.failed.push(format!("{code}: {e}"));
                    continue;
                }
            };
            out.millis.push(t.elapsed().as_millis());
            match answer {
                (200, body) if body["data"]["success"] == Value::Bool(true) => {}
                (status, body) => out.failed.push(format!("{code}: {status} {body}")),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_flag_and_environment() {
        let cases = [
            (false, None, Ok(Backend::Postgres)),
            (true, None, Ok(Backend::Redis(REDIS_DEFAULT.to_owned()))),
            (false, Some("redis://h:6379/3"), Ok(Backend::Redis("redis://h:6379/3".to_owned()))),
            (true, Some("redis://h:6379/3"), Ok(Backend::Redis("redis://h:6379/3".to_owned()))),
            (true, Some("rediss://h"), Err(())),
        ];
        for (flag, env, want) in cases {
            let got = Backend::choose(flag, env.map(str::to_owned)).map_err(drop);
            assert_eq!(got, want, "--redis={flag} REDIS_URL={env:?}");
        }
    }
}
