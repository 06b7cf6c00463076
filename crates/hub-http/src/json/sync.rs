//! Sync runs, their status and log lines.

use chrono::{DateTime, NaiveDate, Utc};
use hub_domain::{SyncLog, SyncRun};
use hub_engine::{
    JobStatus, JobSummary, LiveRun, RefreshSummary, RunView, StoreSyncResult, SyncOutcome, SyncStatus, SyncSummary,
};
use paperclip::actix::Apiv2Schema;
use serde::Serialize;

use crate::json::common::{envelope, opt_ts, ts};

/// One sync-log line (one store in one job, or a job's summary when `storeCode` is null).
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct SyncLogJson {
    pub id: i64,
    pub store_code: Option<String>,
    /// refresh_tokens, sync_user_daily or sync_video_daily.
    pub job_name: String,
    /// SUCCESS, FAILED or SKIPPED.
    pub status: String,
    pub message: String,
    pub raw_error: Option<String>,
    pub duration_ms: i64,
    #[serde(serialize_with = "ts")]
    pub run_time: DateTime<Utc>,
    /// The job run this line belongs to (null for single-store syncs).
    pub run_id: Option<i64>,
}

impl From<SyncLog> for SyncLogJson {
    fn from(l: SyncLog) -> Self {
        Self {
            id: l.id,
            store_code: l.log.store_code.map(|c| c.to_string()),
            job_name: l.log.job.as_str().to_owned(),
            status: l.log.status.as_str().to_owned(),
            message: l.log.message,
            raw_error: l.log.raw_error,
            duration_ms: l.log.duration_ms,
            run_time: l.run_time,
            run_id: l.log.run_id,
        }
    }
}

/// A run's counters.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct RunCountsJson {
    pub total: i64,
    pub processed: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Records written (snapshots, refreshed tokens).
    pub records: i64,
}

/// A job run.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct SyncRunJson {
    pub id: i64,
    pub job: String,
    pub scheduled_date: NaiveDate,
    /// cron, manual, cli or retry.
    pub trigger: String,
    /// RUNNING, SUCCEEDED, PARTIAL, FAILED or INTERRUPTED.
    pub status: String,
    pub counts: RunCountsJson,
    pub message: Option<String>,
    #[serde(serialize_with = "ts")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "opt_ts")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Stores per second so far (only while it runs in this process).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Seconds to go at that rate (only while it runs in this process).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta_seconds: Option<f64>,
}

impl From<RunView> for SyncRunJson {
    /// The stored run, with the live counters when it runs in this process.
    fn from(RunView { run, live }: RunView) -> Self {
        let live = live.as_ref();
        let c = run.counts;
        let mut counts = RunCountsJson {
            total: c.total,
            processed: c.processed,
            succeeded: c.succeeded,
            failed: c.failed,
            skipped: c.skipped,
            records: c.records,
        };
        if let Some(l) = live {
            counts = live_counts(l);
        }
        Self {
            id: run.id,
            job: run.job.as_str().to_owned(),
            scheduled_date: run.scheduled_date,
            trigger: run.trigger.as_str().to_owned(),
            status: run.status.as_str().to_owned(),
            counts,
            message: run.message,
            started_at: run.started_at,
            finished_at: run.finished_at,
            rate: live.map(|l| l.rate),
            eta_seconds: live.and_then(|l| l.eta_seconds),
        }
    }
}

fn live_counts(l: &LiveRun) -> RunCountsJson {
    RunCountsJson {
        total: l.total,
        processed: l.processed,
        succeeded: l.succeeded,
        failed: l.failed,
        skipped: l.skipped,
        records: l.records,
    }
}

/// A run in progress in this process.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct LiveRunJson {
    pub run_id: i64,
    pub job: String,
    pub scheduled_date: NaiveDate,
    #[serde(serialize_with = "ts")]
    pub started_at: DateTime<Utc>,
    pub counts: RunCountsJson,
    pub rate: f64,
    pub eta_seconds: Option<f64>,
}

impl From<&LiveRun> for LiveRunJson {
    fn from(l: &LiveRun) -> Self {
        Self {
            run_id: l.run_id,
            job: l.job.as_str().to_owned(),
            scheduled_date: l.scheduled_date,
            started_at: l.started_at,
            counts: live_counts(l),
            rate: l.rate,
            eta_seconds: l.eta_seconds,
        }
    }
}

/// The latest run of a job.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct LastRunJson {
    pub id: i64,
    pub status: String,
    #[serde(serialize_with = "ts")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "opt_ts")]
    pub finished_at: Option<DateTime<Utc>>,
    pub message: Option<String>,
}

impl From<SyncRun> for LastRunJson {
    fn from(r: SyncRun) -> Self {
        Self {
            id: r.id,
            status: r.status.as_str().to_owned(),
            started_at: r.started_at,
            finished_at: r.finished_at,
            message: r.message,
        }
    }
}

/// A scheduled job.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct JobStatusJson {
    pub name: String,
    /// Cron expression.
    pub schedule: String,
    #[serde(serialize_with = "opt_ts")]
    pub next_run: Option<DateTime<Utc>>,
    pub running: bool,
    pub last_run: Option<LastRunJson>,
}

impl From<JobStatus> for JobStatusJson {
    fn from(j: JobStatus) -> Self {
        Self {
            name: j.scheduled.job.as_str().to_owned(),
            schedule: j.scheduled.schedule,
            next_run: j.scheduled.next_run,
            running: j.running,
            last_run: j.last_run.map(Into::into),
        }
    }
}

/// The scheduler's state.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatusJson {
    pub enabled: bool,
    pub timezone: String,
    pub jobs: Vec<JobStatusJson>,
    pub live_runs: Vec<LiveRunJson>,
}

impl From<SyncStatus> for SyncStatusJson {
    fn from(s: SyncStatus) -> Self {
        Self {
            enabled: s.enabled,
            timezone: s.timezone,
            jobs: s.jobs.into_iter().map(Into::into).collect(),
            live_runs: s.live.iter().map(LiveRunJson::from).collect(),
        }
    }
}

/// Token refresh totals.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct RefreshSummaryJson {
    pub total: i64,
    pub refreshed: i64,
    pub failed: i64,
}

/// User or video sync totals.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct JobSummaryJson {
    pub total: i64,
    pub successful: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Video sync only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_videos: Option<i64>,
}

impl From<JobSummary> for JobSummaryJson {
    fn from(j: JobSummary) -> Self {
        Self {
            total: j.total,
            successful: j.successful,
            failed: j.failed,
            skipped: j.skipped,
            total_videos: j.total_videos,
        }
    }
}

/// The answer of `POST /admin/sync/run`: the single-store result (`store_code` given) or the
/// all-stores summary (keys `refresh_tokens`, `user_sync`, `video_sync` as the spec spells
/// them, for the jobs that ran, plus `runIds`). OpenAPI 2 has no `oneOf`, so both shapes are
/// documented as one object whose fields are all optional.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct SyncRunData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    #[serde(rename = "storeCode", skip_serializing_if = "Option::is_none")]
    pub store_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(rename = "recordsProcessed", skip_serializing_if = "Option::is_none")]
    pub records_processed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_tokens: Option<RefreshSummaryJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_sync: Option<JobSummaryJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_sync: Option<JobSummaryJson>,
    #[serde(rename = "runIds", skip_serializing_if = "Option::is_none")]
    pub run_ids: Option<Vec<i64>>,
}

impl SyncRunData {
    fn empty() -> Self {
        Self {
            success: None,
            store_code: None,
            message: None,
            duration: None,
            records_processed: None,
            refresh_tokens: None,
            user_sync: None,
            video_sync: None,
            run_ids: None,
        }
    }
}

impl From<StoreSyncResult> for SyncRunData {
    fn from(r: StoreSyncResult) -> Self {
        Self {
            success: Some(r.success),
            store_code: Some(r.store_code.to_string()),
            message: Some(r.message),
            duration: Some(r.duration_ms),
            records_processed: Some(r.records_processed),
            ..Self::empty()
        }
    }
}

impl From<SyncSummary> for SyncRunData {
    fn from(s: SyncSummary) -> Self {
        Self {
            refresh_tokens: s.refresh_tokens.map(|RefreshSummary { total, refreshed, failed }| RefreshSummaryJson {
                total,
                refreshed,
                failed,
            }),
            user_sync: s.user_sync.map(Into::into),
            video_sync: s.video_sync.map(Into::into),
            run_ids: Some(s.run_ids),
            ..Self::empty()
        }
    }
}

impl From<SyncOutcome> for SyncRunData {
    fn from(o: SyncOutcome) -> Self {
        match o {
            SyncOutcome::Store(r) => r.into(),
            SyncOutcome::All(s) => s.into(),
        }
    }
}

/// The answer of `POST /admin/sync/run` with `"wait": false`.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct RunIdsJson {
    /// The started runs (follow them at `GET /admin/sync/runs/{id}`); empty for a single-store sync.
    pub run_ids: Vec<i64>,
}

envelope!(
    /// `{"success":true,"data":[log…],"count":n}`
    SyncLogsResponse, list SyncLogJson
);
envelope!(
    /// `{"success":true,"data":run}`
    SyncRunResponse, SyncRunJson
);
envelope!(
    /// `{"success":true,"data":status}`
    SyncStatusResponse, SyncStatusJson
);
envelope!(
    /// `{"success":true,"data":result}`
    SyncRunResultResponse, SyncRunData
);
envelope!(
    /// `{"success":true,"data":{"runIds":[…]}}`
    SyncStartedResponse, RunIdsJson
);

pub(crate) const SYNC_LOG_COLUMNS: &[&str] =
    &["id", "storeCode", "jobName", "status", "message", "rawError", "durationMs", "runTime", "runId"];
