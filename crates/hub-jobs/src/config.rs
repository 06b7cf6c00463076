//! The scheduler's settings (built by hub-app from `CRON_ENABLED`, `TZ`, `CRON_*`).

use std::time::Duration;

use crate::schedule::{ScheduleError, parse_schedule, parse_seconds_schedule};

/// The scheduler's settings.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// `CRON_ENABLED`: with `false` no job is scheduled and nothing is retried.
    pub enabled: bool,
    /// `TZ`: the time zone the schedules are read in.
    pub timezone: chrono_tz::Tz,
    /// `CRON_TOKEN_REFRESH`, five-field crontab.
    pub token_refresh: String,
    /// `CRON_SYNC_USER_DAILY`, five-field crontab.
    pub user_daily: String,
    /// `CRON_SYNC_VIDEO_DAILY`, five-field crontab.
    pub video_daily: String,
    /// Same-day retries of the stores a user or video run failed, as offsets from the end of
    /// that run.
    pub retry_delays: Vec<Duration>,
    /// A `RUNNING` run whose heartbeat is older than this is marked `INTERRUPTED`.
    pub stale_after: Duration,
    /// How often the stale-run sweep runs.
    pub sweep_every: Duration,
    /// How often "Database pool statistics" is logged.
    pub pool_stats_every: Duration,
    /// How often expired OAuth states and invites are purged.
    pub purge_every: Duration,
    /// How often the TikTok revocations that failed are retried (those due).
    pub revoke_every: Duration,
    /// How often sync logs, sync runs and audit rows past their retention are purged.
    pub retention_every: Duration,
    /// How often the notification outbox is polled when it had nothing to send.
    pub webhook_every: Duration,
    /// When `report.gaps` and `digest.daily` are announced (`CRON_NOTIFY_DAILY`), five-field crontab.
    pub notify_daily: String,
    /// Tests only: the three schedules are six-field `cron`-crate expressions (seconds
    /// first, Sunday = 1), so that ticks come seconds apart. The service leaves it `false`.
    pub seconds_schedules: bool,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            timezone: chrono_tz::Tz::UTC,
            token_refresh: "0 1 * * *".into(),
            user_daily: "0 2 * * *".into(),
            video_daily: "0 3 * * *".into(),
            retry_delays: vec![Duration::from_secs(15 * 60), Duration::from_secs(3600), Duration::from_secs(3 * 3600)],
            stale_after: Duration::from_secs(120),
            sweep_every: Duration::from_secs(60),
            pool_stats_every: Duration::from_secs(60),
            purge_every: Duration::from_secs(3600),
            revoke_every: Duration::from_secs(60),
            retention_every: Duration::from_secs(3600),
            webhook_every: Duration::from_secs(1),
            notify_daily: "0 7 * * *".into(),
            seconds_schedules: false,
        }
    }
}

/// A job's schedule that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schedule of {job}: {source}")]
pub struct ConfigError {
    pub job: &'static str,
    #[source]
    pub source: ScheduleError,
}

impl SchedulerConfig {
    /// Parses one of the configured expressions the way the scheduler will.
    pub(crate) fn parse(&self, job: &'static str, expr: &str) -> Result<cron::Schedule, ConfigError> {
        let parsed = if self.seconds_schedules { parse_seconds_schedule(expr) } else { parse_schedule(expr) };
        parsed.map_err(|source| ConfigError { job, source })
    }

    /// Checks the three schedules (hub-app calls it at startup, so a typo stops the process
    /// instead of silently never syncing).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.parse("refresh_tokens", &self.token_refresh)?;
        self.parse("sync_user_daily", &self.user_daily)?;
        self.parse("sync_video_daily", &self.video_daily)?;
        parse_schedule(&self.notify_daily).map_err(|source| ConfigError { job: "notify_daily", source })?;
        Ok(())
    }
}
