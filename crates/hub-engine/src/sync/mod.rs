//! The sync jobs: snapshot every connected store's account and videos, refresh tokens.
//!
//! A job walks the stores as one bounded stream (`buffer_unordered`: no batch barriers); the
//! TikTok adapter's per-endpoint budget sets the pace, and the stores in flight grow while
//! that budget is under-used ([`crate::pace`]). No database connection is held while waiting
//! on TikTok: each repository call takes and returns its own, through the jobs' share of the
//! pool ([`crate::pace::DbGate`]). One store's failure is logged with its reason and never
//! stops the others; a breaker ends the run early when TikTok fails for many stores in a row.
//!
//! - `open`: a run's lock, work and row; `guard`: the lock watched during the run; `run`: driving and closing runs; `store`: one
//!   store's sync; `trigger`: who starts syncs; `status`: what they are doing;
//!   `recovery`: runs of dead instances.

mod guard;
mod open;
mod outcome;
mod recovery;
mod run;
mod schedule;
mod service;
mod status;
mod store;
mod trigger;
mod types;

pub use recovery::StaleRuns;
pub use schedule::{JobStatus, LastTick, Schedule, ScheduleStatus, ScheduledJob, SyncStatus, TickOutcome};
pub use service::Syncs;
pub use types::{
    JobSelection, JobSummary, LiveRun, RefreshSummary, RunScope, RunView, StoreSyncResult, SyncError, SyncOutcome,
    SyncRequest, SyncSummary, Triggered,
};
