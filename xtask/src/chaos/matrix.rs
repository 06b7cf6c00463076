//! The crash matrix of `cargo xtask chaos`: runs disturbed by SIGKILLs, PostgreSQL restarts
//! and terminated sessions at seeded random points, each followed by the next run and a check
//! of the day.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::Value;

use super::args::Args;
use super::rig::{Chaos, DB_NAME, STALE_AFTER_SECS};
use super::rng::Rng;
use crate::harness::{get_json, post_ok, sql_text};

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

/// Runs the matrix: `--trials` kills, then the PostgreSQL faults; prints the summary line.
/// Returns the problems found (none when the matrix is clean).
pub fn run(chaos: &mut Chaos, args: &Args, rng: &mut Rng, typical: f64, seed: u64) -> Result<Vec<String>> {
    let mut totals = Totals::default();
    let of = args.trials + args.pg_restarts + args.terminations;
    let mut n = 0;
    // A kill drawn after the run's end hits nothing: it is drawn again on the next day
    // (so the kills are uniform over the runs' real lengths), at most `trials` times.
    while totals.kills < args.trials && totals.kills_after_exit <= args.trials {
        n += 1;
        chaos.trial(n, of, Fault::Kill, rng, typical, &mut totals)?;
    }
    for fault in std::iter::repeat_n(Fault::PgRestart, args.pg_restarts)
        .chain(std::iter::repeat_n(Fault::Terminate, args.terminations))
    {
        n += 1;
        chaos.trial(n, of, fault, rng, typical, &mut totals)?;
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
        return Ok(vec![format!("crash matrix:\n    {}", totals.problems.join("\n    "))]);
    }
    Ok(Vec::new())
}

impl Chaos {
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
}
