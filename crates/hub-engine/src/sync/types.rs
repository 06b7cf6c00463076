//! What the sync use cases take and answer.

use chrono::{DateTime, NaiveDate, Utc};
use hub_domain::{JobKind, StoreCode, SyncRun};
use hub_ports::RepoError;

/// Which jobs a sync runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobSelection {
    All,
    User,
    Video,
    RefreshTokens,
}

impl JobSelection {
    /// Every selection with its name (`all`, `user`, `video`, `refresh_tokens`).
    pub const NAMED: [(&'static str, Self); 4] =
        [("all", Self::All), ("user", Self::User), ("video", Self::Video), ("refresh_tokens", Self::RefreshTokens)];

    /// Parses a selection's name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::NAMED.iter().find(|(name, _)| *name == raw).map(|(_, s)| *s)
    }

    /// The selection's name.
    pub fn name(self) -> &'static str {
        Self::NAMED.iter().find(|(_, s)| *s == self).map_or("all", |(name, _)| name)
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
    /// No such store (or one outside the actor's scope).
    #[error("store not found")]
    StoreNotFound,
    /// The actor's role or store scope does not allow it (a `DENIED` row was written).
    #[error("Your role or store groups do not allow this")]
    Forbidden,
    /// No such run.
    #[error("sync run not found")]
    RunNotFound,
    /// The task running the sync stopped before it answered (a panic, or the runtime
    /// shutting down).
    #[error("the sync stopped unexpectedly: {0}")]
    Aborted(String),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] RepoError),
}

impl From<crate::access::Refusal> for SyncError {
    fn from(e: crate::access::Refusal) -> Self {
        match e {
            crate::access::Refusal::Forbidden => Self::Forbidden,
            crate::access::Refusal::StoreNotFound => Self::StoreNotFound,
            crate::access::Refusal::Storage(e) => Self::Storage(e),
        }
    }
}

impl SyncError {
    /// The reason an audit row names.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::AlreadyRunning(_) => "already_running",
            Self::AlreadyDone(_) => "already_done",
            Self::StoreNotFound => "store_not_found",
            Self::Forbidden => "forbidden",
            Self::RunNotFound => "run_not_found",
            Self::Aborted(_) => "aborted",
            Self::Storage(_) => "storage",
        }
    }
}

/// The result of syncing one store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSyncResult {
    pub success: bool,
    pub store_code: StoreCode,
    pub message: String,
    pub duration_ms: i64,
    pub records_processed: i64,
}

/// Summary of a refresh job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshSummary {
    pub total: i64,
    pub refreshed: i64,
    pub failed: i64,
}

/// Summary of a user or video job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobSummary {
    pub total: i64,
    pub successful: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Video jobs: the video snapshots written.
    pub total_videos: Option<i64>,
}

/// Summaries of a multi-job run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncSummary {
    pub refresh_tokens: Option<RefreshSummary>,
    pub user_sync: Option<JobSummary>,
    pub video_sync: Option<JobSummary>,
    /// The `sync_runs` ids of the jobs.
    pub run_ids: Vec<i64>,
}

/// The live state of a running job.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveRun {
    pub run_id: i64,
    pub job: JobKind,
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

/// An admin's request to sync now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    /// One store, or every store.
    pub store: Option<StoreCode>,
    pub selection: JobSelection,
    /// Answer when the sync ends (`true`) or as soon as it started.
    pub wait: bool,
}

/// How a sync ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// One store's result.
    Store(StoreSyncResult),
    /// Every store: the jobs' summaries.
    All(SyncSummary),
}

/// What a triggered sync answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triggered {
    /// It ran to its end (`wait`).
    Finished(SyncOutcome),
    /// It runs in the background: its runs (none for a single store).
    Started { run_ids: Vec<i64> },
}

/// A run as stored, with its live counters while it runs in this process.
#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    pub run: SyncRun,
    pub live: Option<LiveRun>,
}
