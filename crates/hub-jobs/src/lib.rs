//! The hub's scheduler: apalis-cron workers that fire the nightly jobs (`refresh_tokens`,
//! `sync_user_daily`, `sync_video_daily`) in the configured time zone and call the engine's
//! use cases; same-day retries of the stores a run failed; housekeeping (stale runs, expired
//! OAuth states, pool statistics); status and graceful shutdown.
//!
//! Each tick runs once across instances: the engine's `run_scheduled` takes the job's lock
//! and refuses a tick another instance already ran.

mod config;
mod schedule;
mod scheduler;

pub use config::{ConfigError, SchedulerConfig};
pub use schedule::{ScheduleError, next_run, parse_schedule, parse_seconds_schedule, previous_run};
pub use scheduler::Scheduler;
