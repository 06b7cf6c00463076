//! The sync jobs: snapshot every connected store's account and videos, refresh tokens.
//!
//! A job walks the stores as one bounded stream (`buffer_unordered`: no batch barriers); the
//! TikTok adapter's per-endpoint budget sets the pace, and the stores in flight grow while
//! that budget is under-used ([`crate::pace`]). No database connection is held while waiting
//! on TikTok: each repository call takes and returns its own, through the jobs' share of the
//! pool ([`crate::pace::DbGate`]). One store's failure is
//! logged with its reason and never stops the others; a breaker ends the run early when
//! TikTok fails for many stores in a row.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use hub_domain::{
    Account, JobKind, KnownVideo, NewSyncLog, RunCounts, RunStatus, RunTrigger, StoreCode, StoreOverview,
    SyncLogStatus, UserSnapshot, VideoId, VideoSnapshot,
};
use hub_ports::{HeldLock, RepoError, TikTokVideo};
use serde::Serialize;

use crate::Engine;
use crate::pace::InFlight;
use crate::tokens::TokenError;

/// How often a running job writes its heartbeat even when no store finishes (the default of
/// [`crate::EngineConfig::heartbeat_every`]).
pub const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// What `POST /admin/sync/run` may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobSelection {
    All,
    User,
    Video,
    RefreshTokens,
}

impl JobSelection {
    /// Parses the API's `job` value.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "all" => Some(Self::All),
            "user" => Some(Self::User),
            "video" => Some(Self::Video),
            "refresh_tokens" => Some(Self::RefreshTokens),
            _ => None,
        }
    }

    /// The jobs this selection runs, in order of dependence.
    pub fn jobs(self) -> &'static [JobKind] {
        match self {
            Self::All => &[JobKind::RefreshTokens, JobKind::SyncUserDaily, JobKind::SyncVideoDaily],
            Self::User => &[JobKind::SyncUserDaily],
            Self::Video => &[JobKind::SyncVideoDaily],
            Self::RefreshTokens => &[JobKind::RefreshTokens],
        }
    }
}

/// Which stores a run covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunScope {
    /// Every store.
    All,
    /// One store.
    Store(StoreCode),
    /// Connected stores that have no snapshot for today yet (retries later the same day).
    MissingToday,
}

/// Why a sync could not run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// Another run of this job holds its lock (here or on another instance).
    #[error("{0} is already running")]
    AlreadyRunning(JobKind),
    /// This scheduler tick of the job already ran (on another instance).
    #[error("{0} already ran for this schedule tick")]
    AlreadyDone(JobKind),
    /// No such store.
    #[error("store not found")]
    StoreNotFound,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] RepoError),
}

/// The result of syncing one store (the single-store answer of `POST /admin/sync/run`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreSyncResult {
    pub success: bool,
    pub store_code: String,
    pub message: String,
    /// Milliseconds.
    pub duration: i64,
    pub records_processed: i64,
}

/// Summary of a refresh job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RefreshSummary {
    pub total: i64,
    pub refreshed: i64,
    pub failed: i64,
}

/// Summary of a user or video job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSummary {
    pub total: i64,
    pub successful: i64,
    pub failed: i64,
    pub skipped: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_videos: Option<i64>,
}

/// Summaries of a multi-job run (the all-stores answer of `POST /admin/sync/run`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_tokens: Option<RefreshSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_sync: Option<JobSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_sync: Option<JobSummary>,
    /// The `sync_runs` ids of the jobs.
    pub run_ids: Vec<i64>,
}

/// The live state of a running job, for status endpoints and progress lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveRun {
    pub run_id: i64,
    pub job: &'static str,
    pub scheduled_date: NaiveDate,
    pub started_at: DateTime<Utc>,
    pub total: i64,
    pub processed: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub skipped: i64,
    pub records: i64,
    /// Stores per second so far.
    pub rate: f64,
    /// Seconds to go at that rate.
    pub eta_seconds: Option<f64>,
}

/// How one store ended in one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success { message: String, records: i64 },
    Failed { reason: &'static str, message: String, raw: Option<String> },
    Skipped { message: String },
}

impl Outcome {
    fn status(&self) -> SyncLogStatus {
        match self {
            Self::Success { .. } => SyncLogStatus::Success,
            Self::Failed { .. } => SyncLogStatus::Failed,
            Self::Skipped { .. } => SyncLogStatus::Skipped,
        }
    }

    fn message(&self) -> &str {
        match self {
            Self::Success { message, .. } | Self::Failed { message, .. } | Self::Skipped { message } => message,
        }
    }

    fn from_token_error(e: TokenError) -> Self {
        match e {
            TokenError::NeedsReconnect(r) => {
                Self::Skipped { message: format!("needs reconnect ({r}): {}", r.explain()) }
            }
            TokenError::NotConnected(why) => Self::Skipped { message: format!("not connected: {why}") },
            TokenError::TikTok(t) => Self::Failed {
                reason: t.reason(),
                message: format!("TikTok call failed: {t}"),
                raw: Some(format!("{t:?}")),
            },
            TokenError::Storage(s) => {
                Self::Failed { reason: "storage", message: "database error".into(), raw: Some(s.to_string()) }
            }
            TokenError::Cipher(c) => Self::Failed {
                reason: "cipher",
                message: "stored token does not decrypt with the configured keys".into(),
                raw: Some(c.to_string()),
            },
            TokenError::LeaseBusy => Self::Failed {
                reason: "lease_busy",
                message: "another instance is refreshing this token".into(),
                raw: None,
            },
        }
    }

    /// A failure caused by TikTok being unavailable (feeds the breaker).
    fn is_outage(&self) -> bool {
        matches!(self, Self::Failed { reason: "transient" | "rate_limited", .. })
    }
}

/// The run's counters, shared by its store tasks.
struct Tracker {
    live: Arc<Mutex<LiveRun>>,
    started: Instant,
    last_persist: Mutex<Instant>,
    last_decile: AtomicUsize,
}

impl Tracker {
    fn record(&self, outcome: &Outcome) -> LiveRun {
        let mut live = self.live.lock().expect("tracker poisoned");
        live.processed += 1;
        match outcome {
            Outcome::Success { records, .. } => {
                live.succeeded += 1;
                live.records += records;
            }
            Outcome::Failed { .. } => live.failed += 1,
            Outcome::Skipped { .. } => live.skipped += 1,
        }
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        live.rate = live.processed as f64 / secs;
        live.eta_seconds = (live.rate > 0.0).then(|| (live.total - live.processed).max(0) as f64 / live.rate);
        live.clone()
    }

    fn counts(live: &LiveRun) -> RunCounts {
        RunCounts {
            total: live.total,
            processed: live.processed,
            succeeded: live.succeeded,
            failed: live.failed,
            skipped: live.skipped,
            records: live.records,
        }
    }
}

/// A connected store without a snapshot of `job`'s kind dated `date`.
fn missing(job: JobKind, s: &StoreOverview, date: NaiveDate) -> bool {
    let connected = s.connection_status == Some(hub_domain::ConnectionStatus::Connected);
    let latest = match job {
        JobKind::SyncUserDaily => s.latest_user_stats.map(|u| u.snapshot_date),
        _ => s.latest_video_stats.map(|v| v.snapshot_date),
    };
    connected && latest.is_none_or(|d| d < date)
}

/// Orders a video run's stores by their videos at the last sync, most first; stores never
/// synced (size unknown) come first, in store-code order. A store's pages come one after
/// another, so a big account started last would leave TikTok's budget idle at the end of the
/// run while it pages alone; started first, its pages overlap everyone else's.
fn biggest_first(stores: &mut [StoreOverview]) {
    let size = |s: &StoreOverview| {
        s.latest_video_stats.map(|v| v.total_videos).or(s.latest_user_stats.map(|u| u.video_count)).unwrap_or(i64::MAX)
    };
    stores.sort_by_key(|s| std::cmp::Reverse(size(s)));
}

/// The business day of `now` in the report time zone.
pub fn business_date(now: DateTime<Utc>, tz: chrono_tz::Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

fn video_row(code: &StoreCode, date: NaiveDate, v: &TikTokVideo) -> Option<VideoSnapshot> {
    Some(VideoSnapshot {
        store_code: code.clone(),
        snapshot_date: date,
        video_id: VideoId::parse(&v.id).ok()?,
        view_count: v.view_count,
        like_count: v.like_count,
        comment_count: v.comment_count,
        share_count: v.share_count,
        description: v.video_description.clone(),
        title: v.title.as_ref().map(|t| t.chars().take(255).collect()),
        create_time: v.create_time.and_then(|s| DateTime::from_timestamp(s, 0)),
        share_url: v.share_url.clone(),
        cover_image_url: v.cover_image_url.clone(),
        duration: v.duration,
    })
}

impl Engine {
    /// Runs `selection` for every store (`store` = None) or one store, and waits for it.
    pub async fn run_sync(
        &self,
        selection: JobSelection,
        store: Option<&StoreCode>,
        trigger: RunTrigger,
    ) -> Result<SyncSummary, SyncError> {
        let scope = store.map_or(RunScope::All, |c| RunScope::Store(c.clone()));
        self.run_sync_scoped(selection, &scope, trigger).await
    }

    /// Runs `selection` over the stores of `scope`, and waits for it.
    pub async fn run_sync_scoped(
        &self,
        selection: JobSelection,
        scope: &RunScope,
        trigger: RunTrigger,
    ) -> Result<SyncSummary, SyncError> {
        let opened = self.open_all(selection, scope, trigger).await?;
        Ok(self.drive_all(opened).await)
    }

    /// Runs `selection` for a scheduler tick at `tick`. Across instances each tick runs once:
    /// whoever takes a job's lock first runs it, and a job whose cron run already started at
    /// or after `tick` is not run again ([`SyncError::AlreadyDone`]).
    pub async fn run_scheduled(&self, selection: JobSelection, tick: DateTime<Utc>) -> Result<SyncSummary, SyncError> {
        let mut opened: Vec<OpenRun> = Vec::new();
        for &job in selection.jobs() {
            match self.open_run_for_tick(job, tick).await {
                Ok(o) => opened.push(o),
                Err(e) => {
                    self.close_unstarted(opened, &e).await;
                    return Err(e);
                }
            }
        }
        Ok(self.drive_all(opened).await)
    }

    async fn open_run_for_tick(&self, job: JobKind, tick: DateTime<Utc>) -> Result<OpenRun, SyncError> {
        self.open_run_checked(job, RunTrigger::Cron, &RunScope::All, Some(tick)).await
    }

    async fn close_unstarted(&self, opened: Vec<OpenRun>, why: &SyncError) {
        for o in opened {
            self.live.lock().expect("live runs poisoned").remove(&o.run_id);
            let msg = format!("not started: {why}");
            let now = self.ports.clock.now();
            if let Err(e2) = self
                .db
                .run(self.ports.sync_runs.finish(o.run_id, RunStatus::Failed, &RunCounts::default(), Some(msg), now))
                .await
            {
                tracing::warn!(run.id = o.run_id, error = %e2, "could not close an unstarted run");
            }
        }
    }

    /// Opens the runs of `selection` (taking their locks and writing their `sync_runs`
    /// rows), then drives them in the background. Returns the run ids at once.
    pub async fn start_sync(
        self: &Arc<Self>,
        selection: JobSelection,
        trigger: RunTrigger,
    ) -> Result<Vec<i64>, SyncError> {
        let opened = self.open_all(selection, &RunScope::All, trigger).await?;
        let ids = opened.iter().map(|o| o.run_id).collect();
        let engine = Arc::clone(self);
        tokio::spawn(async move {
            engine.drive_all(opened).await;
        });
        Ok(ids)
    }

    /// Opens every run of `selection`; when one cannot open, closes those already opened.
    async fn open_all(
        &self,
        selection: JobSelection,
        scope: &RunScope,
        trigger: RunTrigger,
    ) -> Result<Vec<OpenRun>, SyncError> {
        let mut opened: Vec<OpenRun> = Vec::new();
        for &job in selection.jobs() {
            match self.open_run(job, trigger, scope).await {
                Ok(o) => opened.push(o),
                Err(e) => {
                    self.close_unstarted(opened, &e).await;
                    return Err(e);
                }
            }
        }
        Ok(opened)
    }

    /// Drives opened runs side by side. No sync waits for the refresh job: a store's token
    /// session refreshes a token that is about to expire before using it (and once more on
    /// `access_token_invalid`), under the per-account lock the refresh job also takes, so each
    /// due account is refreshed once. Run first, the refresh job was a barrier that left both
    /// data budgets idle; run last, it added its own length to the run.
    async fn drive_all(&self, opened: Vec<OpenRun>) -> SyncSummary {
        let mut summary = SyncSummary { run_ids: opened.iter().map(|o| o.run_id).collect(), ..Default::default() };
        let mut refresh = None;
        let mut user = None;
        let mut video = None;
        for o in opened {
            match o.job {
                JobKind::RefreshTokens => refresh = Some(o),
                JobKind::SyncUserDaily => user = Some(o),
                _ => video = Some(o),
            }
        }
        // Three budgets (token endpoint; user/info; video/list and video/query): all three
        // jobs side by side. The refresh job walks the accounts in store-code order, the
        // order the user job syncs them, so it runs just ahead of it (the video job takes the
        // biggest accounts first); a store whose token is still due when its sync reaches it
        // refreshes it itself, under the same per-account lock (whoever comes second finds
        // the pair rotated).
        let (r, u, v) = tokio::join!(
            async {
                match refresh {
                    Some(o) => Some(self.drive_refresh(o).await),
                    None => None,
                }
            },
            async {
                match user {
                    Some(o) => Some(self.drive_run(o).await),
                    None => None,
                }
            },
            async {
                match video {
                    Some(o) => Some(self.drive_run(o).await),
                    None => None,
                }
            },
        );
        summary.refresh_tokens = r;
        summary.user_sync = u;
        summary.video_sync = v;
        summary
    }

    /// Syncs one store now (user and/or video as `selection` says), outside the nightly
    /// jobs' locks; writes its sync-log lines and returns its result.
    pub async fn sync_store(&self, code: &StoreCode, selection: JobSelection) -> Result<StoreSyncResult, SyncError> {
        let started = Instant::now();
        let p = &self.ports;
        let overview = p.stores.overview(code).await?.ok_or(SyncError::StoreNotFound)?;
        let date = business_date(p.clock.now(), self.config.report_tz);
        let mut messages = Vec::new();
        let mut records = 0;
        let mut success = true;
        let jobs: Vec<JobKind> = match selection {
            JobSelection::RefreshTokens => vec![JobKind::RefreshTokens],
            JobSelection::User => vec![JobKind::SyncUserDaily],
            JobSelection::Video => vec![JobKind::SyncVideoDaily],
            JobSelection::All => vec![JobKind::SyncUserDaily, JobKind::SyncVideoDaily],
        };
        for job in jobs {
            let t = Instant::now();
            let outcome = self.store_task(job, &overview, date, &CallSplit::default()).await;
            self.write_store_log(None, job, code, &outcome, t.elapsed().as_millis() as i64).await;
            match &outcome {
                Outcome::Success { records: r, .. } => records += r,
                _ => success = false,
            }
            messages.push(outcome.message().to_owned());
        }
        Ok(StoreSyncResult {
            success,
            store_code: code.to_string(),
            message: messages.join("; "),
            duration: started.elapsed().as_millis() as i64,
            records_processed: records,
        })
    }

    async fn write_store_log(&self, run_id: Option<i64>, job: JobKind, code: &StoreCode, outcome: &Outcome, ms: i64) {
        let raw = match outcome {
            Outcome::Failed { reason, raw, .. } => Some(match raw {
                Some(r) => format!("{reason}: {r}"),
                None => (*reason).to_owned(),
            }),
            _ => None,
        };
        let log = NewSyncLog {
            run_id,
            store_code: Some(code.clone()),
            job,
            status: outcome.status(),
            message: outcome.message().to_owned(),
            raw_error: raw,
            duration_ms: ms,
        };
        if let Err(e) = self.db.run(self.ports.sync_logs.insert(&log)).await {
            tracing::warn!(store.code = %code, job = %job, error = %e, "could not write the sync log line");
        }
    }

    /// Opens a run of `job`: takes the job's lock, lists its work, writes the `sync_runs` row.
    async fn open_run(&self, job: JobKind, trigger: RunTrigger, scope: &RunScope) -> Result<OpenRun, SyncError> {
        self.open_run_checked(job, trigger, scope, None).await
    }

    /// Opens a run; with `tick`, first checks (holding the lock, before writing anything)
    /// that no instance already ran that scheduler tick.
    async fn open_run_checked(
        &self,
        job: JobKind,
        trigger: RunTrigger,
        scope: &RunScope,
        tick: Option<DateTime<Utc>>,
    ) -> Result<OpenRun, SyncError> {
        let p = &self.ports;
        let lock = p.locks.try_acquire(&format!("job:{job}")).await?.ok_or(SyncError::AlreadyRunning(job))?;
        if let Some(tick) = tick
            && p.sync_runs.latest_for_tick(job, tick).await?
        {
            return Err(SyncError::AlreadyDone(job));
        }
        let now = p.clock.now();
        let date = business_date(now, self.config.report_tz);
        let work = if job == JobKind::RefreshTokens {
            let window = chrono::Duration::from_std(self.config.refresh_window).unwrap_or(chrono::Duration::hours(6));
            let mut due = p.accounts.list_due_for_refresh(now + window).await?;
            // The order the user job walks the stores (see `drive_all`).
            due.sort_by(|a, b| a.store_code.cmp(&b.store_code));
            if let RunScope::Store(code) = scope {
                due.retain(|a| &a.store_code == code);
            }
            Work::Accounts(due)
        } else {
            let mut stores = p.stores.list_overview().await?;
            match scope {
                RunScope::All => {}
                RunScope::Store(code) => {
                    stores.retain(|s| &s.store.code == code);
                    if stores.is_empty() {
                        return Err(SyncError::StoreNotFound);
                    }
                }
                RunScope::MissingToday => stores.retain(|s| missing(job, s, date)),
            }
            if job == JobKind::SyncVideoDaily {
                biggest_first(&mut stores);
            }
            Work::Stores(stores)
        };
        let total = work.len() as i64;
        let run = p.sync_runs.start(job, date, trigger, total, &self.config.instance_id, now).await?;
        tracing::info!(job = %job, run.id = run.id, total, date = %date, "sync started");
        let tracker = Arc::new(Tracker {
            live: Arc::new(Mutex::new(LiveRun {
                run_id: run.id,
                job: job.as_str(),
                scheduled_date: date,
                started_at: now,
                total,
                processed: 0,
                succeeded: 0,
                failed: 0,
                skipped: 0,
                records: 0,
                rate: 0.0,
                eta_seconds: None,
            })),
            started: Instant::now(),
            last_persist: Mutex::new(Instant::now()),
            last_decile: AtomicUsize::new(0),
        });
        self.live.lock().expect("live runs poisoned").insert(run.id, Arc::clone(&tracker.live));
        Ok(OpenRun { job, run_id: run.id, date, work, tracker, _lock: lock })
    }

    /// Drives an opened user or video run to its end.
    async fn drive_run(&self, open: OpenRun) -> JobSummary {
        let p = &self.ports;
        let OpenRun { job, run_id, date, work, tracker, _lock } = open;
        let Work::Stores(stores) = work else { unreachable!("user and video runs work on stores") };
        let start = match job {
            JobKind::SyncVideoDaily => self.config.video_sync_concurrency,
            _ => self.config.sync_concurrency,
        };
        let flight = InFlight::new(start, self.config.max_concurrency);
        let outages = AtomicUsize::new(0);
        let split = CallSplit::default();
        let shutdown = self.shutdown.subscribe();
        let not_done = AtomicUsize::new(0);

        let work = futures::stream::iter(stores)
            .map(|store| {
                let (outages, tracker, shutdown, not_done, split, flight) =
                    (&outages, &tracker, &shutdown, &not_done, &split, &flight);
                async move {
                    let _slot = flight.enter().await;
                    // After a shutdown request no store is started; the ones in flight finish.
                    if *shutdown.borrow() {
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
                        self.store_task(job, &store, date, split).await
                    };
                    if outcome.is_outage() {
                        outages.fetch_add(1, Ordering::Relaxed);
                    } else if matches!(outcome, Outcome::Success { .. }) {
                        outages.store(0, Ordering::Relaxed);
                    }
                    let code = &store.store.code;
                    self.write_store_log(Some(run_id), job, code, &outcome, t.elapsed().as_millis() as i64).await;
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
        let interrupted = not_done.load(Ordering::Relaxed) > 0;

        let live = tracker.live.lock().expect("tracker poisoned").clone();
        let counts = Tracker::counts(&live);
        let status = if interrupted {
            RunStatus::Interrupted
        } else if live.failed > 0 {
            RunStatus::Partial
        } else {
            RunStatus::Succeeded
        };
        let elapsed_ms = tracker.started.elapsed().as_millis() as i64;
        self.sync_metrics.run_finished(job, status, &counts, tracker.started.elapsed(), p.clock.now());
        let message = format!(
            "Synced {}/{} stores, {} failed, {} skipped{}",
            live.succeeded,
            live.total,
            live.failed,
            live.skipped,
            if interrupted { " (interrupted: the rest was not done)" } else { "" }
        );
        if let Err(e) =
            self.db.run(p.sync_runs.finish(run_id, status, &counts, Some(message.clone()), p.clock.now())).await
        {
            tracing::warn!(run_id = run_id, error = %e, "could not close the run");
        }
        let summary_log = NewSyncLog {
            run_id: Some(run_id),
            store_code: None,
            job,
            status: if live.failed > 0 || interrupted { SyncLogStatus::Failed } else { SyncLogStatus::Success },
            message: message.clone(),
            raw_error: None,
            duration_ms: elapsed_ms,
        };
        if let Err(e) = self.db.run(p.sync_logs.insert(&summary_log)).await {
            tracing::warn!(job = %job, error = %e, "could not write the job's summary log line");
        }
        // Only now: a shutdown waits for `live` to empty, so the run's row is closed first.
        self.live.lock().expect("live runs poisoned").remove(&run_id);
        tracing::info!(
            job = %job, run_id = run_id, status = %status, succeeded = live.succeeded, failed = live.failed,
            skipped = live.skipped, records = live.records, duration_ms = elapsed_ms, in_flight = flight.limit(),
            "sync finished"
        );
        JobSummary {
            total: live.total,
            successful: live.succeeded,
            failed: live.failed,
            skipped: live.skipped,
            total_videos: (job == JobKind::SyncVideoDaily).then_some(live.records),
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
                let live = tracker.live.lock().expect("tracker poisoned").clone();
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
                job = live.job,
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

    /// One store in one job. Never fails: every problem becomes the store's outcome.
    async fn store_task(&self, job: JobKind, store: &StoreOverview, date: NaiveDate, split: &CallSplit) -> Outcome {
        let code = &store.store.code;
        let account = match self.db.run(self.ports.accounts.for_store(code)).await {
            Ok(Some(a)) => a,
            Ok(None) => {
                return Outcome::Skipped { message: "not connected: no TikTok account".into() };
            }
            Err(e) => {
                return Outcome::Failed {
                    reason: "storage",
                    message: "database error".into(),
                    raw: Some(e.to_string()),
                };
            }
        };
        let result = match job {
            JobKind::SyncUserDaily => self.sync_user(account, date, split).await,
            JobKind::SyncVideoDaily => self.sync_videos(account, date, split).await,
            JobKind::RefreshTokens => match self.tokens.refresh(&account).await {
                Ok(_) => Ok(Outcome::Success { message: "Token refreshed".into(), records: 1 }),
                Err(e) => Err(Outcome::from_token_error(e)),
            },
            _ => {
                return Outcome::Skipped { message: format!("{job} is not a per-store sync job") };
            }
        };
        result.unwrap_or_else(|e| e)
    }

    async fn sync_user(&self, account: Account, date: NaiveDate, split: &CallSplit) -> Result<Outcome, Outcome> {
        let p = &self.ports;
        let mut session = self.tokens.session(account).await.map_err(Outcome::from_token_error)?;
        let tiktok = Arc::clone(&p.tiktok);
        split.user.fetch_add(1, Ordering::Relaxed);
        let user = session
            .call(|t| {
                let tiktok = Arc::clone(&tiktok);
                async move { tiktok.user_info(&t).await }
            })
            .await
            .map_err(Outcome::from_token_error)?;
        let account = session.account().clone();
        let snapshot = UserSnapshot {
            store_code: account.store_code.clone(),
            snapshot_date: date,
            follower_count: user.follower_count,
            following_count: user.following_count,
            likes_count: user.likes_count,
            video_count: user.video_count,
            display_name: user.display_name.clone(),
            avatar_url: user.avatar_url.clone(),
        };
        self.db.run(p.snapshots.upsert_user(std::slice::from_ref(&snapshot))).await.map_err(storage)?;
        self.db.run(p.accounts.mark_synced(account.id, p.clock.now())).await.map_err(storage)?;
        Ok(Outcome::Success {
            message: format!(
                "User stats synced successfully: {} followers, {} videos",
                user.follower_count, user.video_count
            ),
            records: 1,
        })
    }

    async fn sync_videos(&self, account: Account, date: NaiveDate, split: &CallSplit) -> Result<Outcome, Outcome> {
        let p = &self.ports;
        let code = account.store_code.clone();
        let known: Vec<KnownVideo> = self.db.run(p.snapshots.known_videos(&code, date)).await.map_err(storage)?;
        let known_ids: HashSet<&str> = known.iter().map(|k| k.video_id.as_str()).collect();
        let mut session = self.tokens.session(account).await.map_err(Outcome::from_token_error)?;
        let tiktok = Arc::clone(&p.tiktok);
        let page_size = self.config.video_page_size;

        // Newest pages through video/list until a page reaches videos we already know (new
        // videos can only be found there); then on while video/list's budget is the less used
        // one, so that the known videos left for video/query spread the work over both.
        let mut seen: HashMap<String, TikTokVideo> = HashMap::new();
        let mut cursor: Option<i64> = None;
        let mut list_calls = 0usize;
        let mut reached_known = false;
        loop {
            split.list.fetch_add(1, Ordering::Relaxed);
            let page = session
                .call(|t| {
                    let tiktok = Arc::clone(&tiktok);
                    async move { tiktok.video_list(&t, cursor, page_size).await }
                })
                .await
                .map_err(Outcome::from_token_error)?;
            list_calls += 1;
            reached_known |= page.videos.iter().any(|v| known_ids.contains(v.id.as_str()));
            for v in page.videos {
                seen.insert(v.id.clone(), v);
            }
            if !page.has_more || page.cursor.is_none() || page.cursor == cursor {
                break;
            }
            if reached_known {
                let unseen_known = known_ids.iter().filter(|id| !seen.contains_key(**id)).count();
                if !split.keep_listing(unseen_known) {
                    break;
                }
            }
            cursor = page.cursor;
            if list_calls > 10_000 {
                return Err(Outcome::Failed {
                    reason: "paging",
                    message: "video/list kept answering has_more; stopped after 10,000 pages".into(),
                    raw: None,
                });
            }
        }

        // The rest of the known videos through video/query, 20 ids a call.
        let rest: Vec<String> =
            known.iter().map(|k| k.video_id.as_str().to_owned()).filter(|id| !seen.contains_key(id)).collect();
        for chunk in rest.chunks(20) {
            split.query.fetch_add(1, Ordering::Relaxed);
            let ids = chunk.to_vec();
            let found = session
                .call(|t| {
                    let tiktok = Arc::clone(&tiktok);
                    let ids = ids.clone();
                    async move { tiktok.video_query(&t, &ids).await }
                })
                .await
                .map_err(Outcome::from_token_error)?;
            for v in found {
                seen.insert(v.id.clone(), v);
            }
        }

        let rows: Vec<VideoSnapshot> = seen.values().filter_map(|v| video_row(&code, date, v)).collect();
        let views: i64 = rows.iter().map(|r| r.view_count).sum();
        if !rows.is_empty() {
            self.db.run(p.snapshots.upsert_videos(&rows)).await.map_err(storage)?;
        }
        self.db.run(p.accounts.mark_synced(session.account().id, p.clock.now())).await.map_err(storage)?;
        Ok(Outcome::Success {
            message: format!("Video stats synced successfully: {} videos, {views} views", rows.len()),
            records: rows.len() as i64,
        })
    }

    /// Refreshes every connected account whose access token expires within the window.
    async fn drive_refresh(&self, open: OpenRun) -> RefreshSummary {
        let p = &self.ports;
        let OpenRun { job, run_id, work, tracker, _lock, .. } = open;
        let Work::Accounts(due) = work else { unreachable!("the refresh run works on accounts") };
        let started = Instant::now();
        let summary = Mutex::new(RefreshSummary { total: due.len() as i64, ..Default::default() });
        let work = futures::stream::iter(due)
            .map(|account| {
                let (summary, tracker) = (&summary, &tracker);
                async move {
                    let t = Instant::now();
                    let code = account.store_code.clone();
                    let outcome = match self.tokens.refresh(&account).await {
                        Ok(_) => {
                            summary.lock().expect("summary poisoned").refreshed += 1;
                            Outcome::Success { message: "Token refreshed".into(), records: 1 }
                        }
                        Err(e) => {
                            summary.lock().expect("summary poisoned").failed += 1;
                            match Outcome::from_token_error(e) {
                                Outcome::Skipped { message } => {
                                    Outcome::Failed { reason: "needs_reconnect", message, raw: None }
                                }
                                o => o,
                            }
                        }
                    };
                    self.write_store_log(Some(run_id), job, &code, &outcome, t.elapsed().as_millis() as i64).await;
                    let live = tracker.record(&outcome);
                    self.after_store(tracker, &live).await;
                }
            })
            .buffer_unordered(self.config.sync_concurrency.max(1))
            .collect::<()>();
        self.with_heartbeat(&tracker, work).await;
        let summary = summary.into_inner().expect("summary poisoned");
        let counts = RunCounts {
            total: summary.total,
            processed: summary.total,
            succeeded: summary.refreshed,
            failed: summary.failed,
            skipped: 0,
            records: summary.refreshed,
        };
        let message = format!("Refreshed {}/{} tokens, {} failed", summary.refreshed, summary.total, summary.failed);
        let status = if summary.failed > 0 { RunStatus::Partial } else { RunStatus::Succeeded };
        self.sync_metrics.run_finished(job, status, &counts, started.elapsed(), p.clock.now());
        if let Err(e) =
            self.db.run(p.sync_runs.finish(run_id, status, &counts, Some(message.clone()), p.clock.now())).await
        {
            tracing::warn!(run.id = run_id, error = %e, "could not close the run");
        }
        let log = NewSyncLog {
            run_id: Some(run_id),
            store_code: None,
            job,
            status: if summary.failed > 0 { SyncLogStatus::Failed } else { SyncLogStatus::Success },
            message,
            raw_error: None,
            duration_ms: started.elapsed().as_millis() as i64,
        };
        if let Err(e) = self.db.run(p.sync_logs.insert(&log)).await {
            tracing::warn!(job = %job, error = %e, "could not write the job's summary log line");
        }
        self.live.lock().expect("live runs poisoned").remove(&run_id);
        summary
    }

    /// How many connected stores have no snapshot of `job`'s kind for today yet (what a
    /// `RunScope::MissingToday` run would cover).
    pub async fn missing_today(&self, job: JobKind) -> Result<usize, SyncError> {
        let date = business_date(self.ports.clock.now(), self.config.report_tz);
        let stores = self.ports.stores.list_overview().await?;
        Ok(stores.iter().filter(|s| missing(job, s, date)).count())
    }

    /// Live progress of the runs in progress in this process.
    pub fn live_runs(&self) -> Vec<LiveRun> {
        let live = self.live.lock().expect("live runs poisoned");
        let mut runs: Vec<LiveRun> = live.values().map(|l| l.lock().expect("tracker poisoned").clone()).collect();
        runs.sort_by_key(|r| r.run_id);
        runs
    }
}

/// Calls a run has started on `user/info`, `video/list` and `video/query`. The two video
/// endpoints have equal, separate budgets, so a video run is done soonest when it spends
/// them evenly.
#[derive(Debug, Default)]
pub(crate) struct CallSplit {
    user: AtomicUsize,
    list: AtomicUsize,
    query: AtomicUsize,
}

impl CallSplit {
    /// The calls started so far on each endpoint.
    fn counts(&self) -> [usize; 3] {
        [&self.user, &self.list, &self.query].map(|c| c.load(Ordering::Relaxed))
    }

    /// Whether a store that has reached its known videos, with `unseen_known` of them not
    /// seen yet, should fetch its next `video/list` page rather than leave them to
    /// `video/query`: only while `video/list` is the less used budget. Either way every
    /// known video is fetched (a page and a query call each bring up to 20).
    fn keep_listing(&self, unseen_known: usize) -> bool {
        unseen_known > 0 && self.list.load(Ordering::Relaxed) < self.query.load(Ordering::Relaxed)
    }
}

fn storage(e: RepoError) -> Outcome {
    Outcome::Failed { reason: "storage", message: "database error".into(), raw: Some(e.to_string()) }
}

/// What an opened run works through.
enum Work {
    Stores(Vec<StoreOverview>),
    Accounts(Vec<Account>),
}

impl Work {
    fn len(&self) -> usize {
        match self {
            Self::Stores(s) => s.len(),
            Self::Accounts(a) => a.len(),
        }
    }
}

/// A run whose lock is held and whose `sync_runs` row exists, not yet driven.
pub(crate) struct OpenRun {
    job: JobKind,
    run_id: i64,
    date: NaiveDate,
    work: Work,
    tracker: Arc<Tracker>,
    _lock: Box<dyn HeldLock>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_runs_take_the_biggest_accounts_first_and_unknown_ones_before_them() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let store = |code: &str, videos: Option<i64>, user_videos: Option<i64>| StoreOverview {
            store: hub_domain::Store {
                code: StoreCode::parse(code).unwrap(),
                name: code.into(),
                pic_name: "p".into(),
                pic_contact: None,
                created_at: DateTime::UNIX_EPOCH,
            },
            account_id: None,
            connection_status: None,
            account_identifier: None,
            connected_at: None,
            last_sync_time: None,
            token_expires_at: None,
            latest_user_stats: user_videos.map(|n| hub_domain::LatestUserStats {
                snapshot_date: day,
                follower_count: 0,
                likes_count: 0,
                video_count: n,
            }),
            latest_video_stats: videos.map(|n| hub_domain::LatestVideoStats {
                snapshot_date: day,
                total_videos: n,
                total_views: 0,
            }),
        };
        let mut stores = vec![
            store("a_small", Some(3), Some(500)), // the video snapshots count, not the profile
            store("b_new", None, None),
            store("c_big", Some(400), None),
            store("d_profile_only", None, Some(50)),
            store("e_new", None, None),
            store("f_mid", Some(50), None),
        ];
        biggest_first(&mut stores);
        let order: Vec<&str> = stores.iter().map(|s| s.store.code.as_str()).collect();
        assert_eq!(order, ["b_new", "e_new", "c_big", "d_profile_only", "f_mid", "a_small"]);
    }

    #[test]
    fn list_keeps_paging_only_while_its_budget_is_the_less_used() {
        let split = CallSplit::default();
        // A run's first stores: nothing queried yet, so the known videos go to video/query.
        split.list.store(1, Ordering::Relaxed);
        assert!(!split.keep_listing(30));
        // video/query is busier: page on through video/list instead.
        split.query.store(2, Ordering::Relaxed);
        assert!(split.keep_listing(30));
        // Nothing left to fetch: stop whatever the budgets.
        assert!(!split.keep_listing(0));
        // Even: video/query takes the rest.
        split.list.store(2, Ordering::Relaxed);
        assert!(!split.keep_listing(30));
    }
}
