//! `cargo xtask chaos`, the two-instance trial: two `tiktok-hub serve` processes on chaos's
//! cluster, both with the scheduler on and the three jobs scheduled at the same minute, so
//! both fire the nightly tick; PostgreSQL is restarted (`pg_ctl restart -m fast`) at a seeded
//! random point of the run, which ends every job lock's session.
//!
//! Both instances use chaos's settings (`SYNC_STALE_AFTER_SECONDS=2`, the sandbox at ×10,
//! strict rotation), `HUB_INSTANCES_HINT=2`, and same-day retries 3 s and 6 s after a run that
//! left stores without the day's snapshot (`SYNC_RETRY_DELAYS=0.05,0.1`), so the day completes
//! within the trial. Once no run has been RUNNING for [`QUIET`], both stop and the trial
//! checks:
//!
//! - **no job ran twice at once**: no store of a run started while a later-started run of the
//!   same job was RUNNING (`sync_logs`' start = `run_time − duration_ms`; the run that lost its
//!   lock may finish the stores it had in flight, as docs/OPERATIONS.md says);
//! - **no store read twice beyond the retry rule**: per account, the sandbox's `user/info`
//!   answers and first `video/list` pages (`GET /sandbox/stats/accounts`); a second read of a
//!   store is allowed only for each same-day retry run that logged that store;
//! - **nothing lost or duplicated**: the day's check (`check`): every store exactly one user
//!   snapshot and the sandbox's video set, no duplicate key, nothing left held, no store
//!   needing a reconnect.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{Timelike, Utc};
use serde_json::Value;

use super::rig::{Chaos, DayRun, PREFIX};
use super::rng::Rng;
use crate::harness::{get_json, post_ok};
use crate::util::Proc;

/// How long no run may be RUNNING before the day is taken as over (above the last retry delay).
const QUIET: Duration = Duration::from_secs(8);
/// The longest the trial waits for the day to end.
const LIMIT: Duration = Duration::from_secs(600);
/// Slack on the comparison of a store's start with another run's start (log-time skew).
const SKEW_MS: i64 = 250;

/// What the trial found.
#[derive(Debug, Default)]
struct Figures {
    runs: i64,
    cron_runs: i64,
    retry_runs: i64,
    interrupted: i64,
    locks_lost: usize,
    locks_taken_back: usize,
    /// Runs that found their lock taken by another run and started no more stores.
    locks_taken_over: usize,
    ticks_skipped: usize,
    twice_at_once: i64,
    double_reads: u64,
    unexplained_reads: u64,
}

pub fn run(chaos: &mut Chaos, rng: &mut Rng, typical: f64) -> Result<Vec<String>> {
    chaos.next_day()?;
    chaos.rt.block_on(post_ok(&chaos.sb, "/sandbox/stats/reset", "{}"))?;
    let first = chaos.sql_i64("SELECT coalesce(max(id), 0) FROM sync_runs")? + 1;

    // The tick: the next minute at least 10 s away, so both instances are up before it.
    let at = Utc::now() + chrono::Duration::seconds(70);
    let tick = at.with_second(0).and_then(|t| t.with_nanosecond(0)).context("tick")?;
    let cron = format!("{} {} * * *", tick.minute(), tick.hour());
    let a = chaos.start_instance("pair-a", &cron)?;
    let b = chaos.start_instance("pair-b", &cron)?;
    let wait = (tick - Utc::now()).to_std().unwrap_or_default();
    eprintln!("xtask: two instances: cron {cron:?} (UTC), the tick in {:.0} s", wait.as_secs_f64());
    std::thread::sleep(wait);
    let sandbox_started = chaos.sandbox_now()?;

    // PostgreSQL restarted at a random point of the run.
    let fault_at = Duration::from_secs_f64((0.1 + 0.6 * rng.unit()) * typical);
    let started = Instant::now();
    while chaos.sql_i64(&format!("SELECT count(*) FROM sync_runs WHERE id >= {first}"))? == 0 {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("no run started within 30 s of the tick (see {} and {})", a.1, b.1);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(fault_at.saturating_sub(started.elapsed()));
    let running_at_fault =
        chaos.sql_i64(&format!("SELECT count(*) FROM sync_runs WHERE id >= {first} AND status = 'RUNNING'"))?;
    let fired = started.elapsed().as_secs_f64();
    chaos.pg.restart().context("pg_ctl restart")?;
    eprintln!(
        "xtask: two instances: PostgreSQL restarted {fired:.1} s into the run ({running_at_fault} runs RUNNING), back after {:.1} s",
        started.elapsed().as_secs_f64() - fired
    );

    // The day's end: no run RUNNING for QUIET.
    let mut quiet_since: Option<Instant> = None;
    loop {
        let running = chaos.sql_i64("SELECT count(*) FROM sync_runs WHERE status = 'RUNNING'").unwrap_or(1);
        match (running, quiet_since) {
            (0, Some(t)) if t.elapsed() >= QUIET => break,
            (0, None) => quiet_since = Some(Instant::now()),
            (0, Some(_)) => {}
            _ => quiet_since = None,
        }
        if started.elapsed() > LIMIT {
            bail!("the runs did not end within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let wall = started.elapsed().as_secs_f64() - QUIET.as_secs_f64();
    drop(a.0);
    drop(b.0);

    let logs: Vec<String> = [&a.1, &b.1].iter().map(|p| std::fs::read_to_string(p).unwrap_or_default()).collect();
    let count = |what: &str| logs.iter().map(|l| l.matches(what).count()).sum::<usize>();
    let mut f = Figures {
        locks_lost: count("job lock lost with its database session"),
        locks_taken_back: count("job lock taken back"),
        locks_taken_over: count("job lock taken by another run"),
        ticks_skipped: count("tick skipped: another run has it"),
        ..Figures::default()
    };
    let runs_in = |filter: &str| chaos.sql_i64(&format!("SELECT count(*) FROM sync_runs WHERE id >= {first} {filter}"));
    f.runs = runs_in("")?;
    f.cron_runs = runs_in("AND trigger = 'cron'")?;
    f.retry_runs = runs_in("AND trigger = 'retry'")?;
    f.interrupted = runs_in("AND status = 'INTERRUPTED'")?;
    f.twice_at_once = chaos.twice_at_once(first)?;
    (f.double_reads, f.unexplained_reads) = chaos.reads_beyond_retries(first)?;
    let run_ids: Vec<i64> = chaos
        .sql(&format!("SELECT id FROM sync_runs WHERE id >= {first} ORDER BY id"))?
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let check = chaos.check_day(&DayRun { run_ids, sandbox_started })?;
    eprintln!("xtask: two instances: the runs:\n{}", chaos.runs_table(first)?);
    println!(
        "chaos instances=2 pg_restarts=1 stores={} wall_s={wall:.1} runs={} cron_runs={} retry_runs={} interrupted={} \
         ticks_skipped={} locks_lost={} locks_taken_back={} locks_taken_over={} twice_at_once={} double_reads={} unexplained_reads={} \
         missing={} duplicates={} stale_locks={} stale_leases={} running={} reconnect_needed={}",
        chaos.stores,
        f.runs,
        f.cron_runs,
        f.retry_runs,
        f.interrupted,
        f.ticks_skipped,
        f.locks_lost,
        f.locks_taken_back,
        f.locks_taken_over,
        f.twice_at_once,
        f.double_reads,
        f.unexplained_reads,
        check.missing,
        check.duplicates,
        check.locks,
        check.leases,
        check.running,
        check.not_connected.len()
    );

    let mut problems = Vec::new();
    if f.cron_runs == 0 {
        problems.push("no cron run: the tick fired on neither instance".to_owned());
    }
    if running_at_fault == 0 {
        problems.push("PostgreSQL was restarted after the runs had ended".to_owned());
    }
    if f.twice_at_once > 0 {
        problems.push(format!("{} stores started by a run while a later run of its job was RUNNING", f.twice_at_once));
    }
    if f.unexplained_reads > 0 {
        problems.push(format!("{} reads of a store beyond the same-day retry rule", f.unexplained_reads));
    }
    if !check.clean() {
        problems.push(format!("the day: {}", check.brief()));
    }
    if !check.not_connected.is_empty() {
        chaos.reconnect(&check.not_connected)?;
    }
    if problems.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![format!("two instances (logs {} and {}):\n    {}", a.1, b.1, problems.join("\n    "))])
}

impl Chaos {
    /// `tiktok-hub serve` with the scheduler on, every job at `cron` (UTC); its log's path.
    fn start_instance(&self, label: &str, cron: &str) -> Result<(Proc, String)> {
        let (proc, base, log) = self.serve(
            label,
            &[
                ("CRON_ENABLED", "true"),
                ("TZ", "UTC"),
                ("CRON_TOKEN_REFRESH", cron),
                ("CRON_SYNC_USER_DAILY", cron),
                ("CRON_SYNC_VIDEO_DAILY", cron),
                ("SYNC_RETRY_DELAYS", "0.05,0.1"),
                ("HUB_INSTANCES_HINT", "2"),
            ],
        )?;
        eprintln!("xtask: two instances: {label} on {base} (log {})", log.display());
        Ok((proc, log.display().to_string()))
    }

    /// Stores a run started while a later-started run of the same job was RUNNING.
    fn twice_at_once(&self, first: i64) -> Result<i64> {
        self.sql_i64(&format!(
            "SELECT count(*) FROM sync_runs a
               JOIN sync_runs b ON b.job_name = a.job_name AND (b.started_at, b.id) > (a.started_at, a.id)
               JOIN sync_logs l ON l.run_id = a.id AND l.store_code IS NOT NULL
              WHERE a.id >= {first} AND b.id >= {first}
                AND l.run_time - make_interval(secs => coalesce(l.duration_ms, 0) / 1000.0)
                    > b.started_at + interval '{SKEW_MS} milliseconds'
                AND l.run_time - make_interval(secs => coalesce(l.duration_ms, 0) / 1000.0)
                    < coalesce(b.finished_at, now())"
        ))
    }

    /// (reads beyond the first, reads beyond the first not covered by a same-day retry run
    /// that logged the store), over `user/info` and first `video/list` pages.
    fn reads_beyond_retries(&self, first: i64) -> Result<(u64, u64)> {
        let stats = self.rt.block_on(get_json(&self.sb, "/sandbox/stats/accounts"))?;
        let mut retried: HashMap<(String, String), u64> = HashMap::new();
        for line in self
            .sql(&format!(
                "SELECT l.job_name, l.store_code, count(*) FROM sync_logs l JOIN sync_runs r ON r.id = l.run_id
                  WHERE r.id >= {first} AND r.trigger = 'retry' AND l.store_code IS NOT NULL GROUP BY 1, 2"
            ))?
            .lines()
        {
            let f: Vec<&str> = line.split('\t').collect();
            if let [job, code, n] = f[..] {
                retried.insert((job.to_owned(), code.to_owned()), n.parse().unwrap_or(0));
            }
        }
        let (mut double, mut unexplained) = (0, 0);
        for (field, job) in [("user_info", "sync_user_daily"), ("video_list_first_page", "sync_video_daily")] {
            let Some(by_account) = stats.get(field).and_then(Value::as_object) else {
                bail!("/sandbox/stats/accounts without {field}");
            };
            for (index, n) in by_account {
                let n = n.as_u64().unwrap_or(0);
                let i: usize = index.parse().context("account index")?;
                let code = crate::harness::store_code(PREFIX, i);
                let allowed = 1 + retried.get(&(job.to_owned(), code)).copied().unwrap_or(0);
                double += n.saturating_sub(1);
                unexplained += n.saturating_sub(allowed);
            }
        }
        Ok((double, unexplained))
    }

    /// The trial's runs, one line each, for the reader.
    fn runs_table(&self, first: i64) -> Result<String> {
        let rows = self.sql(&format!(
            "SELECT id, job_name, trigger, status, processed || '/' || total, split_part(owner, ':', 2),
                    to_char(started_at, 'HH24:MI:SS.MS'), coalesce(to_char(finished_at, 'HH24:MI:SS.MS'), '-'),
                    coalesce(left(message, 120), '')
               FROM sync_runs WHERE id >= {first} ORDER BY id"
        ))?;
        Ok(rows.lines().map(|l| format!("xtask:   {}", l.replace('\t', "  "))).collect::<Vec<_>>().join("\n"))
    }
}
