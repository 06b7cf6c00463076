//! `cargo xtask chaos`: the daily sync of the real `tiktok-hub` under faults, with real
//! processes only (the release `tiktok-hub` and `tiktok-sandbox`, PostgreSQL).
//!
//! 1. **Set-up.** Its own PostgreSQL cluster under `target/chaos-pg` (as root, under the temp
//!    dir: `$TMPDIR/tiktok-hub-pg-<hash>/chaos-pg`, see `crate::pg`) (port 54330), whatever
//!    `DATABASE_URL` says: it restarts that server and cuts its connections. A fresh database
//!    `tiktok_hub_chaos`; the sandbox with N accounts × ~50 videos, TikTok's per-endpoint
//!    limit and latency time-scaled (×10), **strict** refresh-token rotation (an
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
//!    next `tiktok-hub sync --job all` runs to its end and the day is checked (see `check`).
//! 3. **Two instances** (see `pair`): both `tiktok-hub serve` fire the nightly tick,
//!    PostgreSQL is restarted mid-run; no job runs twice at once, no store is read twice
//!    beyond the same-day retry rule, the day is complete and nothing is duplicated.
//! 4. **Outbox** (see `outbox`): the hub SIGKILLed between changes and the delivery of
//!    their notifications, then started again: every change's notification reaches a
//!    receiver, none is lost or invented.
//! 5. **Load during sync** (see `load`).
//!
//! One summary line per part on stdout; per-trial detail on stderr; logs under
//! `target/chaos/`. Exits non-zero when an invariant or a target fails.
//!
//! This module only runs the parts in order: `rig` (set-up, runs), `check` (the day's
//! invariants), `matrix`, `pair`, `outbox`, `load`, `rng` and `args` each depend on none of it.

mod args;
mod check;
mod load;
mod matrix;
mod outbox;
mod pair;
mod rig;
mod rng;

use std::time::Instant;

use anyhow::{Context, Result, bail};

pub use args::Args;
use rig::Chaos;
use rng::Rng;

use crate::util;

pub fn run(args: &Args) -> Result<()> {
    args.check().map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    let seed = match args.seed {
        Some(s) => s,
        None => u64::from_str_radix(&util::random_hex(8)?, 16).context("seed")?,
    };
    eprintln!("xtask: chaos seed={seed} (replay with --seed {seed})");
    let mut rng = Rng::new(seed);
    let mut chaos = Chaos::set_up(args)?;
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

    if args.matrix() {
        failed.extend(matrix::run(&mut chaos, args, &mut rng, typical, seed)?);
    }

    if args.instances() {
        match pair::run(&mut chaos, &mut rng, typical) {
            Ok(problems) => failed.extend(problems),
            Err(e) => failed.push(format!("two instances: {e:#}")),
        }
    }

    if args.outbox() {
        match outbox::run(&mut chaos, &mut rng) {
            Ok(problems) => failed.extend(problems),
            Err(e) => failed.push(format!("outbox: {e:#}")),
        }
    }

    if args.load() {
        chaos.next_day()?;
        if let Err(e) = load::run(&mut chaos, args, &mut rng) {
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
