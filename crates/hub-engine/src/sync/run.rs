//! Driving opened runs to their end: one bounded stream of stores (or, for the refresh job,
//! accounts) per run, paced by TikTok's budget, with a breaker, live progress, a heartbeat,
//! and one close-out for every kind of run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures::StreamExt;
use hub_domain::{JobKind, NewSyncLog, RunStatus, StoreCode, SyncLogStatus};

use crate::pace::InFlight;
use crate::sync::guard::RunLock;
use crate::sync::open::{OpenRun, Work};
use crate::sync::outcome::{CallSplit, Outcome, Tracker};
use crate::sync::service::Syncs;
use crate::sync::types::{JobSummary, LiveRun, RefreshSummary, SyncSummary};

/// One item of a run's work.
enum Item {
    Store(hub_domain::StoreOverview),
    Account(hub_domain::Account),
}

impl Item {
    fn code(&self) -> &StoreCode {
        match self {
            Self::Store(s) => &s.store.code,
            Self::Account(a) => &a.store_code,
        }
    }
}

/// How a driven run ended.
struct Ended {
    live: LiveRun,
    interrupted: bool,
    /// The job's lock went to another holder: the stores not started were left to it.
    lock_lost: bool,
}

impl Syncs {
    /// Drives opened runs side by side. No sync waits for the refresh job: a store's token
    /// session refreshes a token that is about to expire before using it (and once more on
    /// `access_token_invalid`), under the per-account lock the refresh job also takes, so each
    /// due account is refreshed once. Run first, the refresh job was a barrier that left both
    /// data budgets idle; run last, it added its own length to the run.
    pub(crate) async fn drive_all(&self, opened: Vec<OpenRun>) -> SyncSummary {
        let mut summary = SyncSummary { run_ids: opened.iter().map(|o| o.run_id).collect(), ..Default::default() };
        // Three budgets (token endpoint; user/info; video/list and video/query): all three
        // jobs side by side. The refresh job walks the accounts in store-code order, the
        // order the user job syncs them, so it runs just ahead of it (the video job takes the
        // biggest accounts first); a store whose token is still due when its sync reaches it
        // refreshes it itself, under the same per-account lock (whoever comes second finds
        // the pair rotated).
        let ended =
            futures::future::join_all(opened.into_iter().map(|o| async move { (o.job, self.drive(o).await) })).await;
        for (job, Ended { live, .. }) in ended {
            match job {
                JobKind::RefreshTokens => {
                    summary.refresh_tokens =
                        Some(RefreshSummary { total: live.total, refreshed: live.succeeded, failed: live.failed });
                }
                JobKind::SyncUserDaily | JobKind::SyncVideoDaily => {
                    let s = JobSummary {
                        total: live.total,
                        successful: live.succeeded,
                        failed: live.failed,
                        skipped: live.skipped,
                        total_videos: (job == JobKind::SyncVideoDaily).then_some(live.records),
                    };
                    if job == JobKind::SyncUserDaily {
                        summary.user_sync = Some(s);
                    } else {
                        summary.video_sync = Some(s);
                    }
                }
                JobKind::ReencryptTokens => {}
            }
        }
        summary
    }

    /// Drives one opened run to its end and closes it.
    async fn drive(&self, open: OpenRun) -> Ended {
        let OpenRun { job, run_id, date, work, tracker, lock } = open;
        let lock = RunLock::new(job, lock, self.config.lock_check_every);
        let (start, cap) = match job {
            JobKind::SyncVideoDaily => (self.config.video_sync_concurrency, self.config.max_concurrency),
            JobKind::SyncUserDaily => (self.config.sync_concurrency, self.config.max_concurrency),
            // The token endpoint's budget is not watched: the refresh job never grows.
            _ => (self.config.sync_concurrency, self.config.sync_concurrency),
        };
        let items: Vec<Item> = match work {
            Work::Stores(s) => s.into_iter().map(Item::Store).collect(),
            Work::Accounts(a) => a.into_iter().map(Item::Account).collect(),
        };
        let flight = InFlight::new(start, cap);
        let outages = AtomicUsize::new(0);
        let split = CallSplit::default();
        let shutdown = self.shutdown.subscribe();
        let not_done = AtomicUsize::new(0);

        let work = futures::stream::iter(items)
            .map(|item| {
                let (outages, tracker, shutdown, not_done, split, flight, lock) =
                    (&outages, &tracker, &shutdown, &not_done, &split, &flight, &lock);
                async move {
                    let _slot = flight.enter().await;
                    // After a shutdown request no store is started; the ones in flight finish.
                    // Nor after the job's lock went to another run: it does the rest.
                    if *shutdown.borrow() || !lock.keep().await {
                        not_done.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    let t = Instant::now();
                    let outcome = if outages.load(Ordering::Relaxed) >= self.config.breaker_threshold {
                        Outcome::Failed {
                            reason: "breaker_open",
                            message: format!(
                                "not attempted: TikTok failed for {} stores in a row",
                                self.config.breaker_threshold
                            ),
                            raw: None,
                        }
                    } else {
                        match &item {
                            Item::Store(store) => self.store_task(job, store, date, split).await,
                            Item::Account(account) => self.refresh_task(account).await,
                        }
                    };
                    if outcome.is_outage() {
                        outages.fetch_add(1, Ordering::Relaxed);
                    } else if matches!(outcome, Outcome::Success { .. }) {
                        outages.store(0, Ordering::Relaxed);
                    }
                    self.write_store_log(Some(run_id), job, item.code(), &outcome, t.elapsed().as_millis() as i64)
                        .await;
                    let live = tracker.record(&outcome);
                    self.after_store(tracker, &live).await;
                }
            })
            .buffer_unordered(flight.cap())
            .collect::<()>();
        let paced = async {
            tokio::select! {
                out = work => out,
                () = self.widen_while_starved(job, &flight, &split) => unreachable!("the pacing loop never ends"),
            }
        };
        self.with_heartbeat(&tracker, paced).await;
        let ended = Ended {
            live: tracker.snapshot(),
            interrupted: not_done.load(Ordering::Relaxed) > 0,
            lock_lost: lock.was_lost(),
        };
        self.close_run(job, run_id, &tracker, &ended, flight.limit()).await;
        ended
    }

    /// Closes a driven run: its row, its summary log line, the metrics, the live entry.
    async fn close_run(&self, job: JobKind, run_id: i64, tracker: &Tracker, ended: &Ended, in_flight: usize) {
        let p = &self.ports;
        let Ended { live, interrupted, lock_lost } = ended;
        let counts = Tracker::counts(live);
        let status = if *interrupted {
            RunStatus::Interrupted
        } else if live.failed > 0 {
            RunStatus::Partial
        } else {
            RunStatus::Succeeded
        };
        let took = tracker.started.elapsed();
        self.metrics.run_finished(job, status, &counts, took, p.clock.now());
        let suffix = match (*interrupted, *lock_lost) {
            (true, true) => " (interrupted: the job's lock was lost to another run, which has the rest)",
            (true, false) => " (interrupted: the rest was not done)",
            (false, _) => "",
        };
        let message = match job {
            JobKind::RefreshTokens => {
                format!("Refreshed {}/{} tokens, {} failed{suffix}", live.succeeded, live.total, live.failed)
            }
            _ => format!(
                "Synced {}/{} stores, {} failed, {} skipped{suffix}",
                live.succeeded, live.total, live.failed, live.skipped
            ),
        };
        if let Err(e) =
            self.db.run(p.sync_runs.finish(run_id, status, &counts, Some(message.clone()), p.clock.now())).await
        {
            tracing::warn!(run.id = run_id, error = %e, "could not close the run");
        }
        let summary_log = NewSyncLog {
            run_id: Some(run_id),
            store_code: None,
            job,
            status: if live.failed > 0 || *interrupted { SyncLogStatus::Failed } else { SyncLogStatus::Success },
            message,
            raw_error: None,
            duration_ms: took.as_millis() as i64,
        };
        if let Err(e) = self.db.run(p.sync_logs.insert(&summary_log)).await {
            tracing::warn!(job = %job, error = %e, "could not write the job's summary log line");
        }
        // Only now: a shutdown waits for `live` to empty, so the run's row is closed first.
        self.live.lock().expect("live runs poisoned").remove(&run_id);
        tracing::info!(
            job = %job, run.id = run_id, status = %status, succeeded = live.succeeded, failed = live.failed,
            skipped = live.skipped, records = live.records, duration_ms = took.as_millis() as u64, in_flight,
            "sync finished"
        );
    }

    /// Writes one store's sync-log line (`run_id` is `None` for a single-store sync).
    pub(crate) async fn write_store_log(
        &self,
        run_id: Option<i64>,
        job: JobKind,
        code: &StoreCode,
        outcome: &Outcome,
        ms: i64,
    ) {
        let log = NewSyncLog {
            run_id,
            store_code: Some(code.clone()),
            job,
            status: outcome.status(),
            message: outcome.message().to_owned(),
            raw_error: outcome.raw_error(),
            duration_ms: ms,
        };
        if let Err(e) = self.db.run(self.ports.sync_logs.insert(&log)).await {
            tracing::warn!(store.code = %code, job = %job, error = %e, "could not write the sync log line");
        }
    }

    /// Every interval, gives the run more stores in flight when every slot was taken while the
    /// busiest endpoint it calls (user/info; video/list or video/query) stayed under 90 % of
    /// its budget. A run whose endpoint is already at its budget (any day-1 video run, which
    /// can only page through video/list; every run when TikTok answers slowly) never grows:
    /// more stores would only wait in the client's budget. Never returns.
    ///
    /// The interval is at least a second and long enough for 50 calls of the budget (5.3 s at
    /// TikTok's 570 a minute), so that a count one call short is not read as an idle budget;
    /// the first interval (the run's ramp-up) only sets the baseline.
    async fn widen_while_starved(&self, job: JobKind, flight: &InFlight, split: &CallSplit) {
        let per_sec = f64::from(self.config.tiktok_budget_per_min).max(1.0) / 60.0;
        let every = std::time::Duration::from_secs_f64((50.0 / per_sec).clamp(1.0, 60.0));
        tokio::time::sleep(every).await;
        let mut last = (split.counts(), Instant::now());
        loop {
            tokio::time::sleep(every).await;
            let now = (split.counts(), Instant::now());
            let busiest = now.0.iter().zip(last.0).map(|(n, l)| n - l).max().unwrap_or(0);
            let budget = per_sec * now.1.duration_since(last.1).as_secs_f64();
            if let Some(limit) = flight.widen_if_starved(busiest, budget) {
                tracing::debug!(job = %job, in_flight = limit, "more stores in flight");
            }
            last = now;
        }
    }

    /// Drives `work` while writing the run's heartbeat every `heartbeat_every`, so a run
    /// whose stores are slow (a 429 storm, a huge account) is never taken for a dead one.
    async fn with_heartbeat<T>(&self, tracker: &Tracker, work: impl std::future::Future<Output = T>) -> T {
        let beat = async {
            loop {
                tokio::time::sleep(self.config.heartbeat_every).await;
                let live = tracker.snapshot();
                let counts = Tracker::counts(&live);
                if let Err(e) =
                    self.db.run(self.ports.sync_runs.progress(live.run_id, &counts, self.ports.clock.now())).await
                {
                    tracing::warn!(run.id = live.run_id, error = %e, "could not write the run's heartbeat");
                }
            }
        };
        tokio::select! {
            out = work => out,
            () = beat => unreachable!("the heartbeat loop never ends"),
        }
    }

    /// Persists progress at most once a second and logs a progress line every 10 %.
    async fn after_store(&self, tracker: &Tracker, live: &LiveRun) {
        let decile = if live.total > 0 { (live.processed * 10 / live.total) as usize } else { 10 };
        if tracker.last_decile.fetch_max(decile, Ordering::Relaxed) < decile {
            tracing::info!(
                job = %live.job,
                processed = live.processed,
                total = live.total,
                percent = live.processed * 100 / live.total.max(1),
                rate = live.rate,
                "Sync progress"
            );
        }
        let due = {
            let mut last = tracker.last_persist.lock().expect("tracker poisoned");
            if last.elapsed() >= std::time::Duration::from_secs(1) || live.processed == live.total {
                *last = Instant::now();
                true
            } else {
                false
            }
        };
        if due
            && let Err(e) = self
                .db
                .run(self.ports.sync_runs.progress(live.run_id, &Tracker::counts(live), self.ports.clock.now()))
                .await
        {
            tracing::warn!(run.id = live.run_id, error = %e, "could not persist sync progress");
        }
    }
}
