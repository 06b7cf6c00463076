//! The rig of `cargo xtask chaos`: its own PostgreSQL cluster and database, the sandbox, the
//! connected stores, and `tiktok-hub` runs started, awaited and killed.

use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hub_engine::AesGcmCipher;
use serde_json::Value;

use super::args::Args;
use crate::harness::{self, HubEnv, Sandbox, SandboxOpts, get_json, sql_text};
use crate::pg::PrivateCluster;
use crate::{db, util};

pub const DB_NAME: &str = "tiktok_hub_chaos";
pub const PREFIX: &str = "chaos_";
/// The sandbox's time scale in the crash matrix: TikTok's budget ×10 and its latency ÷10, so
/// a 300-store run takes seconds and the hub's own work matters beside TikTok's pace.
const TIME_SCALE: f64 = 10.0;
/// TikTok's latency before scaling (10–30 ms at ×10).
const LATENCY: &str = "100-300";
/// `SYNC_STALE_AFTER_SECONDS` of every hub chaos starts (the smallest the hub accepts).
pub const STALE_AFTER_SECS: u64 = 2;

/// A `tiktok-hub sync` started.
pub struct Spawned {
    pub child: KillOnDrop,
    pub log: PathBuf,
    pub started: Instant,
    pub sandbox_started: i64,
}

/// A child process SIGKILLed when dropped (a `tiktok-hub sync` left behind by an error).
pub struct KillOnDrop(pub Option<Child>);

impl KillOnDrop {
    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("child")
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Everything a chaos run holds.
pub struct Chaos {
    pub rt: tokio::runtime::Runtime,
    pub pg: PrivateCluster,
    /// The chaos database.
    pub url: String,
    /// Stopped when dropped.
    _sandbox: Sandbox,
    /// The sandbox's `127.0.0.1:PORT`.
    pub sb: String,
    pub env: HubEnv,
    pub cipher: AesGcmCipher,
    pub hub_bin: PathBuf,
    pub work: PathBuf,
    pub stores: usize,
    /// The sandbox's `open_id` of each account, by index (store `i` is account `i`).
    pub open_ids: Vec<String>,
}

/// What a day's check needs of the run that should have completed it.
pub struct DayRun {
    /// Its `sync_runs` ids (their scheduled date is the day checked).
    pub run_ids: Vec<i64>,
    /// The sandbox clock (Unix seconds) when it started: videos posted before must be there.
    pub sandbox_started: i64,
}

/// A finished `tiktok-hub sync`.
pub struct SyncRun {
    pub wall: f64,
    pub ok: bool,
    pub summary: Option<Value>,
    pub log: PathBuf,
    pub sandbox_started: i64,
}

impl SyncRun {
    pub fn day(&self) -> DayRun {
        DayRun { run_ids: self.run_ids(), sandbox_started: self.sandbox_started }
    }

    pub fn failed_stores(&self) -> i64 {
        let Some(s) = &self.summary else { return -1 };
        ["user_sync", "video_sync", "refresh_tokens"]
            .iter()
            .map(|j| s.get(j).and_then(|x| x.get("failed")).and_then(Value::as_i64).unwrap_or(0))
            .sum()
    }

    fn run_ids(&self) -> Vec<i64> {
        self.summary
            .as_ref()
            .and_then(|s| s.get("run_ids"))
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default()
    }
}

impl Chaos {
    pub fn set_up(args: &Args) -> Result<Self> {
        let (hub_bin, sandbox_bin) = harness::build_binaries(!args.debug)?;
        let work = util::root().join("target").join("chaos");
        std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
        let pg = PrivateCluster::chaos()?;
        eprintln!(
            "xtask: chaos restarts PostgreSQL and terminates its connections, so it runs its own cluster under {} \
             whatever DATABASE_URL says",
            pg.dir().display()
        );
        pg.ensure_running(true)?;
        let server_url = pg.url();
        let admin_url = db::with_database(&server_url, "postgres")?;
        let url = db::with_database(&server_url, DB_NAME)?;
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("tokio runtime")?;
        rt.block_on(async {
            hub_postgres::execute_batch(&admin_url, &format!("DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")).await?;
            hub_postgres::execute_batch(&admin_url, &format!("CREATE DATABASE {DB_NAME}")).await?;
            hub_postgres::run_migrations(&url).await?;
            anyhow::Ok(())
        })
        .with_context(|| format!("recreating the database {DB_NAME}"))?;

        let opts = SandboxOpts {
            accounts: args.stores,
            videos: args.videos,
            latency: LATENCY,
            time_scale: TIME_SCALE,
            rotation: &args.rotation,
        };
        let sandbox = Sandbox::start(&sandbox_bin, &opts, &work.join("sandbox.log"))?;
        let sb = sandbox.addr.clone();
        let env = HubEnv::new(&url, &sb, (570.0 * TIME_SCALE) as u64)?;
        let cipher = harness::cipher_from_hex(&env.token_key)?;
        let connect_started = Instant::now();
        rt.block_on(harness::connect_stores(
            &sb,
            &url,
            args.stores,
            harness::cipher_from_hex(&env.token_key)?,
            PREFIX,
        ))?;
        let accounts = rt.block_on(get_json(&sb, "/sandbox/accounts"))?;
        let mut open_ids = vec![String::new(); args.stores];
        for a in accounts.as_array().context("/sandbox/accounts is not a list")? {
            let i = a.get("index").and_then(Value::as_u64).context("account without index")? as usize;
            if let (Some(slot), Some(id)) = (open_ids.get_mut(i), a.get("open_id").and_then(Value::as_str)) {
                *slot = id.to_owned();
            }
        }
        eprintln!("xtask: {} stores connected in {:.1} s", args.stores, connect_started.elapsed().as_secs_f64());
        Ok(Self { rt, pg, url, _sandbox: sandbox, sb, env, cipher, hub_bin, work, stores: args.stores, open_ids })
    }

    pub fn sql(&self, sql: &str) -> Result<String> {
        self.pg.psql(DB_NAME, sql)
    }

    pub fn sql_i64(&self, sql: &str) -> Result<i64> {
        let out = self.sql(sql)?;
        out.trim().parse().with_context(|| format!("{sql}: not a number: {out:?}"))
    }

    /// A day passes (see [`harness::pass_a_day`]); only the newest day's snapshots are kept,
    /// so that each trial costs the same.
    pub fn next_day(&self) -> Result<()> {
        self.sql(
            "DELETE FROM tiktok_user_daily WHERE snapshot_date < (SELECT max(snapshot_date) FROM tiktok_user_daily);
             DELETE FROM tiktok_video_daily WHERE snapshot_date < (SELECT max(snapshot_date) FROM tiktok_video_daily);",
        )?;
        self.rt.block_on(harness::pass_a_day(&self.url, &self.sb))
    }

    /// `tiktok-hub <args>` with chaos's settings; stdout to `<label>.out`, stderr to `<label>.log`.
    pub fn hub_command(&self, args: &[&str], label: &str) -> Result<(std::process::Command, PathBuf)> {
        let log = self.work.join(format!("{label}.log"));
        let out = self.work.join(format!("{label}.out"));
        let mut cmd = self.env.command(&self.hub_bin, args, &self.work);
        cmd.env("SYNC_STALE_AFTER_SECONDS", STALE_AFTER_SECS.to_string())
            .env("REPORT_TZ", "UTC")
            .env("LOG_LEVEL", "info")
            .env("LOG_FORMAT", "json")
            .stdout(std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?)
            .stderr(std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?);
        Ok((cmd, log))
    }

    /// `tiktok-hub serve` with chaos's settings and `envs` on a free port of 127.0.0.1, once it
    /// listens: (process, base URL `http://…`, log).
    pub fn serve(&self, label: &str, envs: &[(&str, &str)]) -> Result<(util::Proc, String, PathBuf)> {
        let (mut cmd, log) = self.hub_command(&["serve"], label)?;
        cmd.env("HOST", "127.0.0.1").env("PORT", util::free_port()?.to_string()).envs(envs.iter().copied());
        let (proc, addr) = util::start("tiktok-hub", &mut cmd, "tiktok-hub listening on http://", &log)?;
        Ok((proc, format!("http://{addr}"), log))
    }

    /// The sandbox clock, Unix seconds.
    pub fn sandbox_now(&self) -> Result<i64> {
        let clock = self.rt.block_on(get_json(&self.sb, "/sandbox/clock"))?;
        clock.get("unix").and_then(Value::as_i64).context("/sandbox/clock without unix")
    }

    pub fn spawn_sync(&self, label: &str) -> Result<Spawned> {
        let sandbox_started = self.sandbox_now()?;
        let (mut cmd, log) = self.hub_command(&["sync", "--job", "all"], label)?;
        let started = Instant::now();
        let child = cmd.spawn().with_context(|| format!("cannot start {}", self.hub_bin.display()))?;
        Ok(Spawned { child: KillOnDrop(Some(child)), log, started, sandbox_started })
    }

    pub fn finish_sync(&self, spawned: Spawned, limit: Duration) -> Result<SyncRun> {
        let Spawned { mut child, log, started, sandbox_started } = spawned;
        let status = loop {
            if let Some(s) = child.child().try_wait()? {
                break s;
            }
            if started.elapsed() > limit {
                bail!("tiktok-hub sync did not end within {limit:?} (see {})", log.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        child.0 = None;
        let wall = started.elapsed().as_secs_f64();
        let out = std::fs::read_to_string(log.with_extension("out")).unwrap_or_default();
        let summary = out.find('{').and_then(|s| serde_json::from_str(&out[s..]).ok());
        Ok(SyncRun { wall, ok: status.success(), summary, log, sandbox_started })
    }

    /// Runs `tiktok-hub sync --job all` to its end.
    pub fn sync_to_end(&self, label: &str) -> Result<SyncRun> {
        let spawned = self.spawn_sync(label)?;
        self.finish_sync(spawned, Duration::from_secs(600))
    }

    /// Gives the stores fresh tokens and CONNECTED again (a reconnect through a new link).
    pub fn reconnect(&self, stores: &[(String, String)]) -> Result<()> {
        for (code, _) in stores {
            let index = code.strip_prefix(PREFIX).and_then(|n| n.parse::<usize>().ok()).context("store code")? - 1;
            let g = self.rt.block_on(harness::issue_sealed(&self.sb, &self.cipher, code, index))?;
            self.sql(&format!(
                "UPDATE store_accounts SET encrypted_access_token = {}, encrypted_refresh_token = {},
                    token_expires_at = now() + interval '{} seconds', refresh_token_expires_at = now() + interval '{} seconds',
                    status = 'CONNECTED', status_reason = NULL WHERE store_code = {}",
                sql_text(&g.access),
                sql_text(&g.refresh),
                g.expires_in,
                g.refresh_expires_in,
                sql_text(code)
            ))?;
        }
        Ok(())
    }
}
