//! The scheduler: one apalis-cron worker per job, same-day retries, housekeeping (stale runs,
//! expired OAuth records, TikTok revocations, retention), status and graceful shutdown.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apalis::prelude::{BoxDynError, Data, WorkerBuilder, WorkerError};
use apalis_cron::{CronScheduler, Tick};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use hub_domain::{JobKind, RunStatus, RunTrigger, SyncRun, business_date};
use hub_engine::{
    Engine, JobSelection, JobSummary, LastTick, RunScope, Schedule, ScheduleStatus, ScheduledJob, SyncError,
    TickOutcome,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::{ConfigError, SchedulerConfig};
use crate::schedule::{next_run, previous_run};

mod housekeeping;

/// One scheduled job.
struct JobDef {
    kind: JobKind,
    selection: JobSelection,
    /// The configured expression, as written.
    text: String,
    schedule: cron::Schedule,
}

/// The scheduler. Dropping it stops ticks and retries (without waiting); call
/// [`Scheduler::shutdown`] to also wind down the runs in progress.
pub struct Scheduler {
    inner: Arc<Inner>,
    workers: Vec<JoinHandle<()>>,
}

struct Inner {
    engine: Arc<Engine>,
    config: SchedulerConfig,
    jobs: Vec<JobDef>,
    /// `true` once shutdown began: no tick, retry or sweep starts after it.
    stop: watch::Sender<bool>,
    /// Tasks that may be running a sync (tick runs, retry sequences, housekeeping).
    busy: watch::Sender<usize>,
    /// Jobs with a retry sequence pending.
    retrying: Mutex<HashSet<JobKind>>,
    /// Interrupted runs whose recovery was already started.
    recovered: Mutex<HashSet<i64>>,
    last_ticks: Mutex<HashMap<JobKind, LastTick>>,
}

/// Counts a task in [`Inner::busy`] while it lives.
struct Busy(watch::Sender<usize>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

/// What a worker's handler gets: the scheduler and which job it runs.
#[derive(Clone)]
struct TickCtx {
    inner: Arc<Inner>,
    job: usize,
}

impl Scheduler {
    /// Starts the scheduler on the current tokio runtime: one apalis-cron worker per job
    /// (unless `config.enabled` is false) and the housekeeping loops. Fails if a schedule does
    /// not parse.
    pub fn start(engine: Arc<Engine>, config: SchedulerConfig) -> Result<Scheduler, ConfigError> {
        let jobs = vec![
            JobDef {
                kind: JobKind::RefreshTokens,
                selection: JobSelection::RefreshTokens,
                schedule: config.parse("refresh_tokens", &config.token_refresh)?,
                text: config.token_refresh.clone(),
            },
            JobDef {
                kind: JobKind::SyncUserDaily,
                selection: JobSelection::User,
                schedule: config.parse("sync_user_daily", &config.user_daily)?,
                text: config.user_daily.clone(),
            },
            JobDef {
                kind: JobKind::SyncVideoDaily,
                selection: JobSelection::Video,
                schedule: config.parse("sync_video_daily", &config.video_daily)?,
                text: config.video_daily.clone(),
            },
        ];
        let inner = Arc::new(Inner {
            engine,
            config,
            jobs,
            stop: watch::channel(false).0,
            busy: watch::channel(0).0,
            retrying: Mutex::new(HashSet::new()),
            recovered: Mutex::new(HashSet::new()),
            last_ticks: Mutex::new(HashMap::new()),
        });
        let mut workers = Vec::new();
        if inner.config.enabled {
            for i in 0..inner.jobs.len() {
                workers.push(tokio::spawn(run_worker(Arc::clone(&inner), i)));
                inner.spawn_tracked(Arc::clone(&inner).catch_up(i));
            }
            tracing::info!(
                timezone = %inner.config.timezone,
                token_refresh = %inner.config.token_refresh,
                user_daily = %inner.config.user_daily,
                video_daily = %inner.config.video_daily,
                "scheduler started"
            );
        } else {
            tracing::info!("scheduler disabled (CRON_ENABLED=false): no job is scheduled");
        }
        inner.spawn_tracked(Arc::clone(&inner).sweep_loop());
        inner.spawn_tracked(Arc::clone(&inner).purge_loop());
        inner.spawn_tracked(Arc::clone(&inner).revoke_loop());
        inner.spawn_tracked(Arc::clone(&inner).retention_loop());
        inner.spawn_tracked(Arc::clone(&inner).webhook_loop());
        if inner.config.enabled {
            inner.spawn_tracked(Arc::clone(&inner).notify_daily_loop());
        }
        inner.spawn_tracked(Arc::clone(&inner).pool_stats_loop());
        Ok(Scheduler { inner, workers })
    }

    /// The scheduler's state (also what [`Scheduler::view`] reports to the engine).
    pub fn status(&self) -> ScheduleStatus {
        self.inner.status()
    }

    /// The scheduler as the engine sees it, for the sync status and `/health`: attach it with
    /// `engine.syncs().attach_schedule(scheduler.view())`. It outlives the scheduler's
    /// shutdown (then reporting what the scheduler last knew).
    pub fn view(&self) -> Arc<dyn Schedule> {
        Arc::new(View(Arc::clone(&self.inner)))
    }

    /// Stops taking ticks and retries, asks the engine to wind down (no new store starts; the
    /// stores in flight finish; the runs end `INTERRUPTED`), and waits up to `deadline` for
    /// every run of this process to end. Returns whether everything ended in time; what is
    /// still running after the deadline is left to the stale-run sweep of the next start.
    pub async fn shutdown(mut self, deadline: Duration) -> bool {
        let until = Instant::now() + deadline;
        let inner = Arc::clone(&self.inner);
        inner.stop.send_replace(true);
        inner.engine.syncs().begin_shutdown();
        tracing::info!(deadline_ms = deadline.as_millis() as u64, "scheduler shutting down");
        let workers = std::mem::take(&mut self.workers);
        let all_done = async {
            for w in workers {
                let _ = w.await;
            }
            let mut busy = inner.busy.subscribe();
            let _ = busy.wait_for(|n| *n == 0).await;
            // Runs started outside the scheduler (the admin API) wind down too.
            while !inner.engine.syncs().live_runs().is_empty() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        match tokio::time::timeout_at(until, all_done).await {
            Ok(()) => {
                tracing::info!("scheduler stopped");
                true
            }
            Err(_) => {
                let left: Vec<&str> = inner.engine.syncs().live_runs().iter().map(|r| r.job.as_str()).collect();
                tracing::warn!(runs = ?left, "scheduler shutdown deadline passed with runs still in progress");
                false
            }
        }
    }
}

/// What the engine asks of the scheduler.
struct View(Arc<Inner>);

impl Schedule for View {
    fn status(&self) -> ScheduleStatus {
        self.0.status()
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.inner.stop.send_replace(true);
    }
}

/// Runs one job's apalis-cron worker until shutdown. A worker whose backend fails (apalis-cron
/// gives up when a tick is already in the past when it arms its timer, e.g. after the host
/// was suspended) is built again.
async fn run_worker(inner: Arc<Inner>, job: usize) {
    let def = &inner.jobs[job];
    let name = def.kind.as_str();
    loop {
        if *inner.stop.borrow() {
            return;
        }
        let backend = CronScheduler::new(def.schedule.clone()).with_timezone(inner.config.timezone);
        let worker =
            WorkerBuilder::new(name).backend(backend).data(TickCtx { inner: Arc::clone(&inner), job }).build(on_tick);
        let mut stop = inner.stop.subscribe();
        let signal = async move {
            let _ = stop.wait_for(|s| *s).await;
            Ok::<(), WorkerError>(())
        };
        match worker.run_until(signal).await {
            Ok(()) => return,
            Err(e) if *inner.stop.borrow() => {
                tracing::debug!(job = name, error = %e, "worker ended during shutdown");
                return;
            }
            Err(e) => {
                tracing::error!(job = name, error = %e, "scheduler worker failed; restarting it");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The apalis handler: runs the tick in its own task, so that a panic is contained and the
/// run outlives a worker restart.
async fn on_tick(tick: Tick<Tz>, ctx: Data<TickCtx>) -> Result<(), BoxDynError> {
    let ctx: TickCtx = (*ctx).clone();
    let at = DateTime::from_timestamp(tick.get_timestamp() as i64, 0).unwrap_or_else(Utc::now);
    let name = ctx.inner.jobs[ctx.job].kind.as_str();
    let inner = Arc::clone(&ctx.inner);
    let task = inner.spawn_tracked(async move { ctx.inner.run_tick(ctx.job, at).await });
    if let Some(task) = task
        && let Err(e) = task.await
    {
        tracing::error!(job = name, tick = %at, error = %e, "scheduled run panicked");
    }
    Ok(())
}

impl Inner {
    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    fn now(&self) -> DateTime<Utc> {
        self.engine.system().now()
    }

    fn today(&self) -> NaiveDate {
        self.engine.system().today()
    }

    fn status(&self) -> ScheduleStatus {
        let now = self.now();
        let live = self.engine.syncs().live_runs();
        let retrying = self.retrying.lock().expect("retrying poisoned").clone();
        let last = self.last_ticks.lock().expect("last ticks poisoned").clone();
        ScheduleStatus {
            enabled: self.config.enabled,
            timezone: self.config.timezone.name().to_owned(),
            jobs: self
                .jobs
                .iter()
                .map(|j| ScheduledJob {
                    job: j.kind,
                    schedule: j.text.clone(),
                    next_run: self.config.enabled.then(|| next_run(&j.schedule, self.config.timezone, now)).flatten(),
                    running: live.iter().any(|r| r.job == j.kind),
                    retrying: retrying.contains(&j.kind),
                    last_tick: last.get(&j.kind).cloned(),
                })
                .collect(),
        }
    }

    /// Spawns `fut` counted in `busy`, unless shutdown began.
    fn spawn_tracked<F>(&self, fut: F) -> Option<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if self.stopping() {
            return None;
        }
        self.busy.send_modify(|n| *n += 1);
        let guard = Busy(self.busy.clone());
        Some(tokio::spawn(async move {
            let _guard = guard;
            fut.await
        }))
    }

    /// Sleeps `d`; `false` if shutdown began meanwhile.
    async fn sleep_or_stop(&self, until: Instant) -> bool {
        let mut stop = self.stop.subscribe();
        tokio::select! {
            _ = tokio::time::sleep_until(until) => !self.stopping(),
            _ = stop.wait_for(|s| *s) => false,
        }
    }

    fn record_tick(&self, kind: JobKind, tick: DateTime<Utc>, outcome: TickOutcome, message: String) {
        self.last_ticks.lock().expect("last ticks poisoned").insert(kind, LastTick { tick, outcome, message });
    }

    /// One tick of one job: run it once across instances, then schedule retries if stores
    /// failed.
    async fn run_tick(self: &Arc<Self>, job: usize, tick: DateTime<Utc>) {
        let def = &self.jobs[job];
        let name = def.kind.as_str();
        if self.stopping() {
            tracing::info!(job = name, tick = %tick, "tick ignored: shutting down");
            return;
        }
        let date = self.today();
        tracing::info!(job = name, tick = %tick, "scheduled tick");
        match self.engine.syncs().run_scheduled(def.selection, tick).await {
            Ok(summary) => {
                let job_summary = match def.kind {
                    JobKind::SyncUserDaily => summary.user_sync,
                    JobKind::SyncVideoDaily => summary.video_sync,
                    _ => None,
                };
                let message = match (&job_summary, &summary.refresh_tokens) {
                    (Some(s), _) => format!(
                        "{}/{} stores synced, {} failed, {} skipped",
                        s.successful, s.total, s.failed, s.skipped
                    ),
                    (None, Some(r)) => format!("{}/{} tokens refreshed, {} failed", r.refreshed, r.total, r.failed),
                    _ => "done".into(),
                };
                self.record_tick(def.kind, tick, TickOutcome::Ran, message);
                if let Some(s) = job_summary
                    && needs_retry(&s)
                {
                    tracing::info!(
                        job = name,
                        failed = s.failed,
                        not_done = s.total - s.successful - s.failed - s.skipped,
                        "stores left without today's snapshot; scheduling same-day retries"
                    );
                    self.start_retries(def.kind, date, false);
                }
            }
            Err(e @ (SyncError::AlreadyDone(_) | SyncError::AlreadyRunning(_))) => {
                tracing::info!(job = name, tick = %tick, reason = %e, "tick skipped: another run has it");
                self.record_tick(def.kind, tick, TickOutcome::Skipped, e.to_string());
            }
            Err(e) => {
                tracing::error!(job = name, tick = %tick, error = %e, "scheduled run could not start");
                self.record_tick(def.kind, tick, TickOutcome::Failed, e.to_string());
                // The day is not lost: the retries run the stores still missing.
                if def.kind != JobKind::RefreshTokens {
                    self.start_retries(def.kind, date, false);
                }
            }
        }
    }

    /// At start: if the job's last tick of today went by while no instance was up (no cron
    /// run started at or after it), run that tick now. apalis-cron only ever waits for the
    /// next tick, so without this a deploy across 02:00 would lose the day.
    async fn catch_up(self: Arc<Self>, job: usize) {
        let def = &self.jobs[job];
        let now = self.now();
        let Some(prev) = previous_run(&def.schedule, self.config.timezone, now) else { return };
        if business_date(prev, &self.engine.config().report_tz) != self.today() {
            return;
        }
        match self.engine.syncs().tick_taken(def.kind, prev).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(job = def.kind.as_str(), tick = %prev, "today's tick was missed; running it now");
                self.run_tick(job, prev).await;
            }
            Err(e) => tracing::warn!(job = def.kind.as_str(), error = %e, "could not check for a missed tick"),
        }
    }

    /// Starts the same-day retry sequence of `kind` for business day `date`, unless one is
    /// pending already. With `now_first` the first attempt is immediate (recovery of an
    /// interrupted run).
    fn start_retries(self: &Arc<Self>, kind: JobKind, date: NaiveDate, now_first: bool) {
        if !self.config.enabled || self.stopping() {
            return;
        }
        if !self.retrying.lock().expect("retrying poisoned").insert(kind) {
            tracing::info!(job = kind.as_str(), "same-day retries already pending");
            return;
        }
        let me = Arc::clone(self);
        let spawned = self.spawn_tracked(async move {
            me.retry_sequence(kind, date, now_first).await;
            me.retrying.lock().expect("retrying poisoned").remove(&kind);
        });
        if spawned.is_none() {
            self.retrying.lock().expect("retrying poisoned").remove(&kind);
        }
    }

    async fn retry_sequence(&self, kind: JobKind, date: NaiveDate, now_first: bool) {
        let name = kind.as_str();
        let selection = if kind == JobKind::SyncUserDaily { JobSelection::User } else { JobSelection::Video };
        let start = Instant::now();
        let delays: Vec<Duration> =
            now_first.then_some(Duration::ZERO).into_iter().chain(self.config.retry_delays.iter().copied()).collect();
        let attempts = delays.len();
        for (i, delay) in delays.into_iter().enumerate() {
            let attempt = i + 1;
            if !self.sleep_or_stop(start + delay).await {
                return;
            }
            if self.today() != date {
                tracing::info!(job = name, date = %date, "business day over; same-day retries stop");
                return;
            }
            match self.engine.syncs().missing_today(kind).await {
                Ok(0) => {
                    tracing::info!(job = name, attempt, "every connected store has today's snapshot; retries stop");
                    return;
                }
                Ok(missing) => tracing::info!(job = name, attempt, attempts, missing, "same-day retry"),
                Err(e) => tracing::warn!(job = name, attempt, error = %e, "could not count missing stores; retrying"),
            }
            match self.engine.syncs().run(selection, &RunScope::MissingToday, RunTrigger::Retry).await {
                Ok(summary) => {
                    let s = if kind == JobKind::SyncUserDaily { summary.user_sync } else { summary.video_sync };
                    if let Some(s) = s
                        && !needs_retry(&s)
                    {
                        tracing::info!(job = name, attempt, synced = s.successful, "same-day retry completed the day");
                        return;
                    }
                }
                Err(SyncError::AlreadyRunning(_)) => {
                    tracing::info!(job = name, attempt, "job busy; waiting for the next retry");
                }
                Err(e) => tracing::error!(job = name, attempt, error = %e, "same-day retry could not start"),
            }
        }
        match self.engine.syncs().missing_today(kind).await {
            Ok(0) => {}
            Ok(missing) => tracing::warn!(
                job = name,
                date = %date,
                missing,
                "same-day retries exhausted; stores still without today's snapshot"
            ),
            Err(e) => tracing::warn!(job = name, error = %e, "same-day retries exhausted"),
        }
    }

    /// At start and every `sweep_every`: RUNNING runs with a stale heartbeat (a killed
    /// instance's) become INTERRUPTED, and an interrupted user or video run of today gets
    /// its retry sequence, so that a restart after a crash completes the day.
    async fn sweep_loop(self: Arc<Self>) {
        loop {
            self.sweep().await;
            if !self.sleep_or_stop(Instant::now() + self.config.sweep_every).await {
                return;
            }
        }
    }

    async fn sweep(self: &Arc<Self>) {
        let syncs = self.engine.syncs();
        // The runs found stale are kept, to recover them even when a later run row (say a
        // losing instance's "not started" one) hides them from `latest`.
        let mut interrupted: Vec<SyncRun> = match syncs.interrupt_stale_runs(self.config.stale_after).await {
            Ok(stale) => stale.runs,
            Err(e) => {
                tracing::warn!(error = %e, "stale-run sweep failed");
                Vec::new()
            }
        };
        if !self.config.enabled {
            return;
        }
        let today = self.today();
        for kind in [JobKind::SyncUserDaily, JobKind::SyncVideoDaily] {
            match syncs.latest_run(kind).await {
                Ok(Some(run)) => interrupted.push(run),
                Ok(None) => {}
                Err(e) => tracing::warn!(job = kind.as_str(), error = %e, "could not read the latest run"),
            }
        }
        for run in interrupted {
            let recoverable = matches!(run.job, JobKind::SyncUserDaily | JobKind::SyncVideoDaily)
                && run.status == RunStatus::Interrupted
                && run.scheduled_date == today;
            if recoverable && self.recovered.lock().expect("recovered poisoned").insert(run.id) {
                tracing::info!(
                    job = run.job.as_str(),
                    run.id = run.id,
                    "today's run was interrupted; retrying the stores it left"
                );
                self.start_retries(run.job, today, true);
            }
        }
    }
}

/// Whether a run left stores without today's snapshot (failed, or not done because the run
/// was interrupted).
fn needs_retry(s: &JobSummary) -> bool {
    s.failed > 0 || s.successful + s.failed + s.skipped < s.total
}
