//! The schedule, as the scheduler (a driving adapter) reports it, and the sync status that
//! joins it with the stored and live runs.

use chrono::{DateTime, Utc};
use hub_domain::{JobKind, SyncRun};

use crate::sync::types::LiveRun;

/// How a scheduler tick ended on this instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickOutcome {
    /// This instance ran the job.
    Ran,
    /// Another run had it (another instance took this tick, or the job was already running).
    Skipped,
    /// The run could not start (e.g. the database was down).
    Failed,
}

/// What the last tick of a job did on this instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastTick {
    /// The schedule time of the tick.
    pub tick: DateTime<Utc>,
    pub outcome: TickOutcome,
    /// The run's summary line, or why it did not run.
    pub message: String,
}

/// One scheduled job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledJob {
    pub job: JobKind,
    /// The five-field expression as configured.
    pub schedule: String,
    /// `None` when the scheduler is disabled.
    pub next_run: Option<DateTime<Utc>>,
    /// A tick or retry of this job is running in this process.
    pub running: bool,
    /// Same-day retries are pending or running.
    pub retrying: bool,
    pub last_tick: Option<LastTick>,
}

/// The scheduler's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleStatus {
    pub enabled: bool,
    /// IANA name of the time zone the schedules are read in.
    pub timezone: String,
    pub jobs: Vec<ScheduledJob>,
}

/// A scheduler the engine can ask for its state (implemented by the scheduler adapter and
/// attached with [`crate::Syncs::attach_schedule`]).
pub trait Schedule: Send + Sync {
    fn status(&self) -> ScheduleStatus;
}

/// One job in the sync status.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub scheduled: ScheduledJob,
    /// Running in this process (a tick, a retry or an admin's run).
    pub running: bool,
    /// The newest stored run of the job.
    pub last_run: Option<SyncRun>,
}

/// The sync status: the schedule, each job's last run, and the runs in progress here.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncStatus {
    pub enabled: bool,
    pub timezone: String,
    pub jobs: Vec<JobStatus>,
    pub live: Vec<LiveRun>,
}
