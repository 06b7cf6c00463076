//! `cargo xtask chaos`: the daily sync of the real `tiktok-hub` under faults, with real
//! processes only (the release `tiktok-hub` and `tiktok-sandbox`, PostgreSQL).
//!
//! 1. **Set-up.** Its own PostgreSQL cluster under `target/chaos-pg` (port 54330), whatever
//!    `DATABASE_URL` says: it restarts that server and cuts its connections. A fresh database
//!    `tiktok_hub_chaos`; the sandbox with N accounts × ~50 videos, TikTok's per-endpoint
//!    limit and latency time-scaled by [`TIME_SCALE`], **strict** refresh-token rotation (an
//!    old refresh token dies when a new one is issued; replaying it revokes the grant); N
//!    stores connected without a browser. Day 1 runs once; a day passes and day 2 runs once,
//!    and its wall time is the *typical run length* L.
//! 2. **Crash matrix.** Each trial first lets a day pass (the previous day's rows become
//!    yesterday's, every token time moves back a day, the sandbox clock a day forward: every
//!    token must be rotated and every store synced again), starts `tiktok-hub sync --job all`
//!    and, at a seeded random point, disturbs it:
//!    - `--trials` SIGKILLs, uniform over (0, L): some land in the token refreshes, some
//!      mid-video, some near the end;
//!    - `--pg-restarts` × `pg_ctl restart -m fast`, and `--terminations` ×
//!      `pg_terminate_backend` of every session of the database, uniform over (0.1 L, 0.7 L);
//!      the disturbed run goes on and may fail stores.
//!
//!    Then, once the disturbed run's heartbeat is stale (`SYNC_STALE_AFTER_SECONDS=2`), the
//!    next `tiktok-hub sync --job all` runs to its end and the day is checked (see [`Check`]).
//! 3. **Load during sync** (see [`crate::chaos_load`]).
//!
//! One summary line per part on stdout; per-trial detail on stderr; logs under
//! `target/chaos/`. Exits non-zero when an invariant or a target fails.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::Child;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hub_engine::AesGcmCipher;
use serde_json::Value;

use crate::db::PrivateCluster;
use crate::harness::{self, HubEnv, Sandbox, SandboxOpts, get_json, post_ok, sql_text};
use crate::util;

pub(crate) const DB_NAME: &str = "tiktok_hub_chaos";
const PREFIX: &str = "chaos_";
/// The sandbox's time scale in the crash matrix: TikTok's budget ×10 and its latency ÷10, so
/// a 300-store run takes seconds and the hub's own work matters beside TikTok's pace.
const TIME_SCALE: f64 = 10.0;
/// TikTok's latency before scaling (10–30 ms at ×10).
const LATENCY: &str = "100-300";
/// `SYNC_STALE_AFTER_SECONDS` of every hub chaos starts (the smallest the hub accepts).
pub(crate) const STALE_AFTER_SECS: u64 = 2;
/// Sandbox requests in flight while reading every account's videos.
const PARALLEL: usize = 16;

pub const USAGE: &str = "cargo xtask chaos [--stores 300] [--videos 50] [--trials 20] [--pg-restarts 3] \
                         [--terminations 3] [--seed N] [--rotation strict|may] [--skip-load | --only matrix|load] [--rps 20]";

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Args {
    pub(crate) stores: usize,
    pub(crate) videos: u32,
    pub(crate) trials: usize,
    pub(crate) pg_restarts: usize,
    pub(crate) terminations: usize,
    pub(crate) seed: Option<u64>,
    pub(crate) matrix: bool,
    pub(crate) load: bool,
    pub(crate) rps: u32,
    /// The sandbox's refresh-token rotation: `strict` (default) or `may`.
    pub(crate) rotation: String,
}

fn parse_args(args: &[String]) -> Result<Args> {
    let mut a = Args {
        stores: 300,
        videos: 50,
        trials: 20,
        pg_restarts: 3,
        terminations: 3,
        seed: None,
        matrix: true,
        load: true,
        rps: 20,
        rotation: "strict".into(),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} needs a value; usage: {USAGE}"));
        let number = |name: &str, v: &String| v.parse::<u64>().with_context(|| format!("{name} needs a number"));
        match flag.as_str() {
            "--stores" => a.stores = number("--stores", value("--stores")?)? as usize,
            "--videos" => a.videos = number("--videos", value("--videos")?)? as u32,
            "--trials" => a.trials = number("--trials", value("--trials")?)? as usize,
            "--pg-restarts" => a.pg_restarts = number("--pg-restarts", value("--pg-restarts")?)? as usize,
            "--terminations" => a.terminations = number("--terminations", value("--terminations")?)? as usize,
            "--seed" => a.seed = Some(number("--seed", value("--seed")?)?),
            "--rps" => a.rps = number("--rps", value("--rps")?)? as u32,
            "--rotation" => match value("--rotation")?.as_str() {
                r @ ("strict" | "may") => a.rotation = r.to_owned(),
                other => bail!("--rotation takes strict or may, not {other:?}"),
            },
            "--skip-load" => a.load = false,
            "--only" => match value("--only")?.as_str() {
                "matrix" => a.load = false,
                "load" => a.matrix = false,
                other => bail!("--only takes matrix or load, not {other:?}"),
            },
            other => bail!("unknown argument {other:?}; usage: {USAGE}"),
        }
    }
    if !(1..=10_000).contains(&a.stores) {
        bail!("--stores must be 1..=10000");
    }
    if a.videos > 1000 {
        bail!("--videos must be 0..=1000");
    }
    if !(1..=1000).contains(&a.rps) {
        bail!("--rps must be 1..=1000");
    }
    Ok(a)
}

/// SplitMix64: a small seeded generator, so a seed replays the same kill points.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }
}

/// A `tiktok-hub sync` started.
struct Spawned {
    child: KillOnDrop,
    log: PathBuf,
    started: Instant,
    sandbox_started: i64,
}

/// A child process SIGKILLed when dropped (a `tiktok-hub sync` left behind by an error).
struct KillOnDrop(Option<Child>);

impl KillOnDrop {
    fn child(&mut self) -> &mut Child {
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
pub(crate) struct Chaos {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) pg: PrivateCluster,
    /// The chaos database.
    pub(crate) url: String,
    /// Stopped when dropped.
    _sandbox: Sandbox,
    /// The sandbox's `127.0.0.1:PORT`.
    pub(crate) sb: String,
    pub(crate) env: HubEnv,
    cipher: AesGcmCipher,
    pub(crate) hub_bin: PathBuf,
    pub(crate) work: PathBuf,
    pub(crate) stores: usize,
    /// The sandbox's `open_id` of each account, by index (store `i` is account `i`).
    open_ids: Vec<String>,
}

/// What a day's check needs of the run that should have completed it.
pub(crate) struct DayRun {
    /// Its `sync_runs` ids (their scheduled date is the day checked).
    pub(crate) run_ids: Vec<i64>,
    /// The sandbox clock (Unix seconds) when it started: videos posted before must be there.
    pub(crate) sandbox_started: i64,
}

/// A finished `tiktok-hub sync`.
struct SyncRun {
    wall: f64,
    ok: bool,
    summary: Option<Value>,
    log: PathBuf,
    sandbox_started: i64,
}

impl SyncRun {
    fn day(&self) -> DayRun {
        DayRun { run_ids: self.run_ids(), sandbox_started: self.sandbox_started }
    }

    fn failed_stores(&self) -> i64 {
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

/// The state of a day after its run: the invariants.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    pub(crate) date: String,
    pub(crate) connected: usize,
    /// Stores not CONNECTED, with their status and reason.
    pub(crate) not_connected: Vec<(String, String)>,
    /// Connected stores without exactly the day's user snapshot or the sandbox's video set.
    pub(crate) missing: usize,
    /// Video ids of the sandbox missing from the day, and ids the sandbox does not have.
    pub(crate) videos_missing: usize,
    pub(crate) videos_extra: usize,
    /// Keys (store, date) or (store, date, video) with more than one row.
    pub(crate) duplicates: i64,
    /// Advisory locks held in the database with no hub running.
    pub(crate) locks: i64,
    /// Refresh leases still set with no hub running.
    pub(crate) leases: i64,
    /// `sync_runs` rows still RUNNING with no hub running.
    pub(crate) running: i64,
}

impl Check {
    /// Every store connected and [`Check::data_clean`].
    pub(crate) fn clean(&self) -> bool {
        self.not_connected.is_empty() && self.data_clean()
    }

    /// The day complete for every connected store, nothing duplicated, nothing left held.
    pub(crate) fn data_clean(&self) -> bool {
        self.missing == 0 && self.duplicates == 0 && self.locks == 0 && self.leases == 0 && self.running == 0
    }

    pub(crate) fn brief(&self) -> String {
        format!(
            "date={} connected={} missing={} (videos -{} +{}) duplicates={} locks={} leases={} running={} not_connected={:?}",
            self.date,
            self.connected,
            self.missing,
            self.videos_missing,
            self.videos_extra,
            self.duplicates,
            self.locks,
            self.leases,
            self.running,
            self.not_connected
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Kill,
    PgRestart,
    Terminate,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Self::Kill => "kill",
            Self::PgRestart => "pg-restart",
            Self::Terminate => "terminate",
        }
    }
}

/// Totals over the trials.
#[derive(Debug, Default)]
struct Totals {
    kills: usize,
    kills_after_exit: usize,
    pg_restarts: usize,
    terminations: usize,
    missing: usize,
    duplicates: i64,
    locks: i64,
    leases: i64,
    running: i64,
    reconnect_needed: usize,
    lost_rotations: i64,
    /// Next runs that exited non-zero or reported failed stores.
    next_failures: usize,
    problems: Vec<String>,
}

pub fn run(args: &[String]) -> Result<()> {
    let args = parse_args(args)?;
    let started = Instant::now();
    let seed = match args.seed {
        Some(s) => s,
        None => u64::from_str_radix(&util::random_hex(8)?, 16).context("seed")?,
    };
    eprintln!("xtask: chaos seed={seed} (replay with --seed {seed})");
    let mut rng = Rng::new(seed);
    let mut chaos = Chaos::set_up(&args)?;
    let mut failed = Vec::new();

    // Day 1, then day 2: the typical run length.
    let day1 = chaos.sync_to_end("day1")?;
    let check1 = chaos.check_day(&day1.day())?;
    eprintln!("xtask: day 1: {:.1} s, failed stores {}; {}", day1.wall, day1.failed_stores(), check1.brief());
    chaos.next_day()?;
    let day2 = chaos.sync_to_end("day2")?;
    let check2 = chaos.check_day(&day2.day())?;
    eprintln!(
        "xtask: day 2 (typical run): {:.1} s, failed stores {}; {}",
        day2.wall,
        day2.failed_stores(),
        check2.brief()
    );
    for (n, (run, check)) in [(&day1, &check1), (&day2, &check2)].into_iter().enumerate() {
        if !run.ok || run.failed_stores() != 0 || !check.clean() {
            bail!("day {} without faults is not clean (see {}): {}", n + 1, run.log.display(), check.brief());
        }
    }
    let typical = day2.wall;

    if args.matrix {
        let mut totals = Totals::default();
        let of = args.trials + args.pg_restarts + args.terminations;
        let mut n = 0;
        // A kill drawn after the run's end hits nothing: it is drawn again on the next day
        // (so the kills are uniform over the runs' real lengths), at most `trials` times.
        while totals.kills < args.trials && totals.kills_after_exit <= args.trials {
            n += 1;
            chaos.trial(n, of, Fault::Kill, &mut rng, typical, &mut totals)?;
        }
        for fault in std::iter::repeat_n(Fault::PgRestart, args.pg_restarts)
            .chain(std::iter::repeat_n(Fault::Terminate, args.terminations))
        {
            n += 1;
            chaos.trial(n, of, fault, &mut rng, typical, &mut totals)?;
        }
        if totals.kills < args.trials {
            totals.problems.push(format!("only {} of {} kills hit a running sync", totals.kills, args.trials));
        }
        let line = format!(
            "chaos kills={} pg_restarts={} terminations={} stores={} missing={} duplicates={} stale_locks={} stale_leases={} running={} reconnect_needed={} lost_rotations={} rotation={} seed={seed}",
            totals.kills,
            totals.pg_restarts,
            totals.terminations,
            args.stores,
            totals.missing,
            totals.duplicates,
            totals.locks,
            totals.leases,
            totals.running,
            totals.reconnect_needed,
            totals.lost_rotations,
            args.rotation,
        );
        println!("{line}");
        eprintln!(
            "xtask: typical run {typical:.1} s; kills after the run had ended: {}; next runs with failures: {}",
            totals.kills_after_exit, totals.next_failures
        );
        if !totals.problems.is_empty() {
            failed.push(format!("crash matrix:\n    {}", totals.problems.join("\n    ")));
        }
    }

    if args.load {
        chaos.next_day()?;
        if let Err(e) = crate::chaos_load::run(&mut chaos, &args, &mut rng) {
            failed.push(format!("load: {e:#}"));
        }
    }

    let stopped = chaos.pg.stop();
    drop(chaos);
    if let Err(e) = stopped {
        eprintln!("xtask: could not stop the chaos PostgreSQL: {e:#}");
    }
    eprintln!("xtask: chaos took {:.0} s; logs in target/chaos/", started.elapsed().as_secs_f64());
    if !failed.is_empty() {
        bail!("chaos failed:\n  {}", failed.join("\n  "));
    }
    Ok(())
}

impl Chaos {
    fn set_up(args: &Args) -> Result<Self> {
        let (hub_bin, sandbox_bin) = harness::build_binaries(true)?;
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
        let admin_url = crate::db::with_database(&server_url, "postgres")?;
        let url = crate::db::with_database(&server_url, DB_NAME)?;
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

    pub(crate) fn sql(&self, sql: &str) -> Result<String> {
        self.pg.psql(DB_NAME, sql)
    }

    pub(crate) fn sql_i64(&self, sql: &str) -> Result<i64> {
        let out = self.sql(sql)?;
        out.trim().parse().with_context(|| format!("{sql}: not a number: {out:?}"))
    }

    /// A day passes (see [`harness::pass_a_day`]); only the newest day's snapshots are kept,
    /// so that each trial costs the same.
    pub(crate) fn next_day(&self) -> Result<()> {
        self.sql(
            "DELETE FROM tiktok_user_daily WHERE snapshot_date < (SELECT max(snapshot_date) FROM tiktok_user_daily);
             DELETE FROM tiktok_video_daily WHERE snapshot_date < (SELECT max(snapshot_date) FROM tiktok_video_daily);",
        )?;
        self.rt.block_on(harness::pass_a_day(&self.url, &self.sb))
    }

    /// `tiktok-hub <args>` with chaos's settings; stdout to `<label>.out`, stderr to `<label>.log`.
    pub(crate) fn hub_command(&self, args: &[&str], label: &str) -> Result<(std::process::Command, PathBuf)> {
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

    /// The sandbox clock, Unix seconds.
    pub(crate) fn sandbox_now(&self) -> Result<i64> {
        let clock = self.rt.block_on(get_json(&self.sb, "/sandbox/clock"))?;
        clock.get("unix").and_then(Value::as_i64).context("/sandbox/clock without unix")
    }

    fn spawn_sync(&self, label: &str) -> Result<Spawned> {
        let sandbox_started = self.sandbox_now()?;
        let (mut cmd, log) = self.hub_command(&["sync", "--job", "all"], label)?;
        let started = Instant::now();
        let child = cmd.spawn().with_context(|| format!("cannot start {}", self.hub_bin.display()))?;
        Ok(Spawned { child: KillOnDrop(Some(child)), log, started, sandbox_started })
    }

    fn finish_sync(&self, spawned: Spawned, limit: Duration) -> Result<SyncRun> {
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
    fn sync_to_end(&self, label: &str) -> Result<SyncRun> {
        let spawned = self.spawn_sync(label)?;
        self.finish_sync(spawned, Duration::from_secs(600))
    }

    /// One trial: a day passes, a run is disturbed by `fault`, the next run completes the day.
    fn trial(
        &mut self,
        n: usize,
        of: usize,
        fault: Fault,
        rng: &mut Rng,
        typical: f64,
        totals: &mut Totals,
    ) -> Result<()> {
        self.next_day()?;
        self.rt.block_on(post_ok(&self.sb, "/sandbox/stats/reset", "{}"))?;
        let first_run = self.sql_i64("SELECT coalesce(max(id), 0) FROM sync_runs")? + 1;
        let db_start = self.sql("SELECT now()")?.trim().to_owned();
        let at = match fault {
            Fault::Kill => rng.unit() * typical,
            Fault::PgRestart | Fault::Terminate => (0.1 + 0.6 * rng.unit()) * typical,
        };
        let label = format!("trial{n:02}-{}", fault.name());
        let mut spawned = self.spawn_sync(&label)?;
        let (started, log) = (spawned.started, spawned.log.clone());
        let child = &mut spawned.child;
        let fire_at = started + Duration::from_secs_f64(at);
        while Instant::now() < fire_at && child.child().try_wait()?.is_none() {
            std::thread::sleep(Duration::from_millis(2));
        }
        let alive = child.child().try_wait()?.is_none();
        let fired = started.elapsed().as_secs_f64();
        let mut what = String::new();
        let mut ok_at_kill = None;
        match fault {
            Fault::Kill => {
                if alive {
                    child.child().kill().context("SIGKILL")?;
                    let _ = child.child().wait();
                    totals.kills += 1;
                    ok_at_kill = Some(self.token_answers()?);
                } else {
                    totals.kills_after_exit += 1;
                    what.push_str(" (the run had already ended)");
                }
                child.0 = None;
            }
            Fault::PgRestart => {
                self.pg.restart().context("pg_ctl restart")?;
                totals.pg_restarts += 1;
                what = format!(" (server back after {:.1} s)", started.elapsed().as_secs_f64() - fired);
            }
            Fault::Terminate => {
                let n = self.sql_i64(&format!(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
                     WHERE datname = {} AND pid <> pg_backend_pid()",
                    sql_text(DB_NAME)
                ))?;
                totals.terminations += 1;
                what = format!(" ({n} sessions terminated)");
            }
        }
        let disturbed = if fault == Fault::Kill {
            None
        } else {
            Some(self.finish_sync(spawned, Duration::from_secs_f64(120.0 + 10.0 * typical))?)
        };
        let phase = self.phase(first_run)?;
        // The dead or finished run's heartbeat goes stale; TikTok answers what was in flight.
        std::thread::sleep(Duration::from_millis(STALE_AFTER_SECS * 1000 + 500));
        let (lost, answered) = self.lost_rotations(&db_start)?;
        let lost_text = match ok_at_kill {
            Some(at_kill) if lost > 0 => {
                format!("lost rotations {lost} (TikTok answered {} token calls after the kill)", answered - at_kill)
            }
            _ => format!("lost rotations {lost}"),
        };
        let disturbed_text = match &disturbed {
            None => String::new(),
            Some(r) => format!(
                "; the run went on and ended {} after {:.1} s with {} failed stores",
                if r.ok { "ok" } else { "non-zero" },
                r.wall,
                r.failed_stores()
            ),
        };

        let next = self.sync_to_end(&format!("trial{n:02}-next"))?;
        let check = self.check_day(&next.day())?;
        eprintln!(
            "xtask: trial {n}/{of} {} at {fired:.2} s of ~{typical:.1}{what}: {phase}{disturbed_text}; {lost_text}; \
             next run {:.1} s, failed stores {}: {}",
            fault.name(),
            next.wall,
            next.failed_stores(),
            check.brief()
        );
        totals.missing += check.missing;
        totals.duplicates += check.duplicates;
        totals.locks += check.locks;
        totals.leases += check.leases;
        totals.running += check.running;
        totals.lost_rotations += lost;
        totals.reconnect_needed += check.not_connected.len();
        if !next.ok || next.failed_stores() != 0 {
            totals.next_failures += 1;
        }
        if !check.data_clean() {
            totals.problems.push(format!("trial {n} ({}): {} (logs {})", fault.name(), check.brief(), log.display()));
        }
        // A SIGKILL with token calls in flight loses the pairs TikTok issues for them: under
        // strict rotation those grants are gone (see docs/OPERATIONS.md). Every other store
        // that needs a reconnect, and any rotation lost to a database fault, is a failure.
        let reconnects = check.not_connected.len() as i64;
        let explained = if fault == Fault::Kill { lost } else { 0 };
        if reconnects > explained || (fault != Fault::Kill && lost > 0) {
            totals.problems.push(format!(
                "trial {n} ({}): {reconnects} stores need a reconnect, {lost} rotations lost: {:?} (logs {})",
                fault.name(),
                check.not_connected,
                log.display()
            ));
        }
        if !next.ok {
            totals.problems.push(format!("trial {n}: the next run exited non-zero (see {})", next.log.display()));
        }
        if !check.not_connected.is_empty() {
            // As staff would after a new connect link: fresh tokens, so the next trials have
            // every store again.
            self.reconnect(&check.not_connected)?;
        }
        Ok(())
    }

    /// Where the runs from id `first` stood: `refresh 120/300 user 80/300 video 30/300 (RUNNING)`.
    fn phase(&self, first: i64) -> Result<String> {
        let rows = self.sql(&format!(
            "SELECT job_name, processed, total, status FROM sync_runs WHERE id >= {first} ORDER BY id"
        ))?;
        let parts: Vec<String> = rows
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                let job = f.first()?.trim_start_matches("sync_").trim_end_matches("_daily").trim_end_matches("_tokens");
                Some(format!("{job} {}/{} {}", f.get(1)?, f.get(2)?, f.get(3)?))
            })
            .collect();
        Ok(if parts.is_empty() { "no run opened".to_owned() } else { parts.join(", ") })
    }

    /// The sandbox's successful token answers since its stats were reset.
    fn token_answers(&self) -> Result<i64> {
        let stats = self.rt.block_on(get_json(&self.sb, "/sandbox/stats"))?;
        Ok(stats.get("token").and_then(|t| t.get("ok")).and_then(Value::as_i64).unwrap_or(0))
    }

    /// Rotations TikTok performed since `db_start` that the hub did not store (the sandbox's
    /// successful token answers minus the accounts whose stored pair changed since), and
    /// those answers.
    fn lost_rotations(&self, db_start: &str) -> Result<(i64, i64)> {
        let answered = self.token_answers()?;
        let stored = self
            .sql_i64(&format!("SELECT count(*) FROM store_accounts WHERE last_refresh_at >= {}", sql_text(db_start)))?;
        Ok(((answered - stored).max(0), answered))
    }

    /// Checks the day of `run` (its runs' scheduled date) against the database and the sandbox.
    pub(crate) fn check_day(&self, run: &DayRun) -> Result<Check> {
        let date = match run.run_ids.first() {
            Some(id) => self.sql(&format!("SELECT scheduled_date FROM sync_runs WHERE id = {id}"))?.trim().to_owned(),
            None => self.sql("SELECT max(scheduled_date) FROM sync_runs")?.trim().to_owned(),
        };
        if date.is_empty() {
            bail!("no sync run to check");
        }
        let d = sql_text(&date);
        let mut c = Check { date: date.clone(), ..Check::default() };
        let mut connected: Vec<(String, usize)> = Vec::new();
        for line in self.sql("SELECT store_code, status, coalesce(status_reason, '') FROM store_accounts")?.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let (Some(code), Some(status)) = (f.first(), f.get(1)) else { continue };
            if *status == "CONNECTED" {
                let index = code.strip_prefix(PREFIX).and_then(|n| n.parse::<usize>().ok()).context("store code")? - 1;
                connected.push(((*code).to_owned(), index));
            } else {
                c.not_connected.push(((*code).to_owned(), format!("{status} {}", f.get(2).unwrap_or(&""))));
            }
        }
        c.connected = connected.len();
        let users: HashSet<String> = self
            .sql(&format!("SELECT store_code FROM tiktok_user_daily WHERE snapshot_date = {d}"))?
            .lines()
            .map(str::to_owned)
            .collect();
        let mut videos: HashMap<String, HashSet<String>> = HashMap::new();
        for line in self
            .sql(&format!(
                "SELECT store_code, string_agg(video_id::text, ',') FROM tiktok_video_daily WHERE snapshot_date = {d} GROUP BY 1"
            ))?
            .lines()
        {
            if let Some((code, ids)) = line.split_once('\t') {
                videos.insert(code.to_owned(), ids.split(',').map(str::to_owned).collect());
            }
        }
        // The sandbox's view at the run's end: videos posted after the run began may or may
        // not have been seen, so only those before are required.
        let want = self.sandbox_videos(&connected)?;
        let since = run.sandbox_started;
        for (code, index) in &connected {
            let have = videos.get(code).cloned().unwrap_or_default();
            let all = want.get(index).cloned().unwrap_or_default();
            let required: HashSet<&String> = all.iter().filter(|(_, t)| *t < since).map(|(id, _)| id).collect();
            let known: HashSet<&String> = all.iter().map(|(id, _)| id).collect();
            let missing = required.iter().filter(|id| !have.contains(**id)).count();
            let extra = have.iter().filter(|id| !known.contains(id)).count();
            c.videos_missing += missing;
            c.videos_extra += extra;
            if missing > 0 || extra > 0 || !users.contains(code) {
                c.missing += 1;
            }
        }
        c.duplicates = self.sql_i64(
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM tiktok_user_daily GROUP BY store_code, snapshot_date HAVING count(*) > 1) u)
                  + (SELECT count(*) FROM (SELECT 1 FROM tiktok_video_daily GROUP BY store_code, snapshot_date, video_id HAVING count(*) > 1) v)",
        )?;
        c.locks = self.sql_i64(&format!(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
             WHERE l.locktype = 'advisory' AND l.granted AND d.datname = {}",
            sql_text(DB_NAME)
        ))?;
        c.leases = self.sql_i64(
            "SELECT count(*) FROM store_accounts WHERE refresh_lease_owner IS NOT NULL OR refresh_lease_until IS NOT NULL",
        )?;
        c.running = self.sql_i64("SELECT count(*) FROM sync_runs WHERE status = 'RUNNING'")?;
        Ok(c)
    }

    /// Every connected account's visible videos in the sandbox: (id, create_time) by index.
    fn sandbox_videos(&self, connected: &[(String, usize)]) -> Result<BTreeMap<usize, Vec<(String, i64)>>> {
        let wanted: Vec<(usize, String)> =
            connected.iter().map(|(_, i)| (*i, self.open_ids.get(*i).cloned().unwrap_or_default())).collect();
        let sb = self.sb.clone();
        self.rt.block_on(async move {
            let queue = Arc::new(std::sync::Mutex::new(wanted));
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..PARALLEL {
                let (queue, sb) = (queue.clone(), sb.clone());
                tasks.spawn(async move {
                    let mut out = Vec::new();
                    loop {
                        let Some((i, open_id)) = queue.lock().expect("queue").pop() else { return anyhow::Ok(out) };
                        let list = get_json(&sb, &format!("/sandbox/accounts/{open_id}/videos")).await?;
                        let ids: Vec<(String, i64)> = list
                            .as_array()
                            .context("videos is not a list")?
                            .iter()
                            .filter_map(|v| Some((v.get("id")?.as_str()?.to_owned(), v.get("create_time")?.as_i64()?)))
                            .collect();
                        out.push((i, ids));
                    }
                });
            }
            let mut all = BTreeMap::new();
            while let Some(r) = tasks.join_next().await {
                all.extend(r.context("sandbox task panicked")??);
            }
            Ok(all)
        })
    }

    /// Gives the stores fresh tokens and CONNECTED again (a reconnect through a new link).
    fn reconnect(&self, stores: &[(String, String)]) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::strings;

    #[test]
    fn args_table() {
        let a = parse_args(&[]).unwrap();
        assert_eq!((a.stores, a.videos, a.trials, a.pg_restarts, a.terminations), (300, 50, 20, 3, 3));
        assert_eq!((a.seed, a.matrix, a.load, a.rps, a.rotation.as_str()), (None, true, true, 20, "strict"));
        let a = parse_args(&strings(&["--stores", "30", "--trials", "3", "--seed", "7", "--skip-load"])).unwrap();
        assert_eq!((a.stores, a.trials, a.seed, a.matrix, a.load), (30, 3, Some(7), true, false));
        let a = parse_args(&strings(&["--only", "load", "--rotation", "may", "--rps", "5"])).unwrap();
        assert_eq!((a.matrix, a.load, a.rotation.as_str(), a.rps), (false, true, "may", 5));
        for bad in [
            &["--stores", "0"][..],
            &["--only", "everything"],
            &["--rotation", "sometimes"],
            &["--rps", "0"],
            &["--trials"],
            &["--bogus"],
        ] {
            assert!(parse_args(&strings(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_seed_replays_the_same_draws() {
        let draws = |seed| {
            let mut r = Rng::new(seed);
            (0..5).map(|_| r.unit()).collect::<Vec<f64>>()
        };
        assert_eq!(draws(42), draws(42));
        assert_ne!(draws(42), draws(43));
        let mut r = Rng::new(1);
        assert!((0..1000).map(|_| r.unit()).all(|u| (0.0..1.0).contains(&u)));
        assert!((0..1000).map(|_| r.below(300)).all(|i| i < 300));
    }
}
