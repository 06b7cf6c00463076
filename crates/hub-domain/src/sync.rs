//! Sync jobs, their runs and the per-store log lines they leave.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use crate::store::StoreCode;

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored and displayed spelling.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Parses the stored spelling.
            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// The scheduled jobs (names as the spec's cron section and sync logs spell them).
    JobKind {
        /// Refresh access tokens that expire soon.
        RefreshTokens = "refresh_tokens",
        /// Snapshot every connected account's statistics.
        SyncUserDaily = "sync_user_daily",
        /// Snapshot every connected account's videos.
        SyncVideoDaily = "sync_video_daily",
        /// Re-encrypt stored tokens with the newest key.
        ReencryptTokens = "reencrypt_tokens",
    }
);

string_enum!(
    /// Outcome of one store in one job (`sync_logs.status`).
    SyncLogStatus {
        Success = "SUCCESS",
        Failed = "FAILED",
        Skipped = "SKIPPED",
    }
);

string_enum!(
    /// State of a job run (`sync_runs.status`).
    RunStatus {
        /// In progress (its owner refreshes `heartbeat_at`).
        Running = "RUNNING",
        /// Every store succeeded or was skipped for a known reason.
        Succeeded = "SUCCEEDED",
        /// Finished, with some stores failed.
        Partial = "PARTIAL",
        /// The run itself failed (e.g. the database went away).
        Failed = "FAILED",
        /// Its process stopped before it finished (shutdown, crash); the rest is retried.
        Interrupted = "INTERRUPTED",
    }
);

string_enum!(
    /// What started a run.
    RunTrigger {
        Cron = "cron",
        Manual = "manual",
        Cli = "cli",
        Retry = "retry",
    }
);

/// A log line to write: one per store per job, plus one summary line per job (no store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSyncLog {
    pub run_id: Option<i64>,
    pub store_code: Option<StoreCode>,
    pub job: JobKind,
    pub status: SyncLogStatus,
    pub message: String,
    /// The error's cause chain, for operators. Never holds a token or secret.
    pub raw_error: Option<String>,
    pub duration_ms: i64,
}

/// A stored sync log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncLog {
    pub id: i64,
    pub log: NewSyncLog,
    pub run_time: DateTime<Utc>,
}

/// Counters of a run; `processed = succeeded + failed + skipped`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub total: i64,
    pub processed: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Records written (snapshots, refreshed tokens), for the summary.
    pub records: i64,
}

/// A run of one job (`sync_runs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    pub id: i64,
    pub job: JobKind,
    /// The business day the run snapshots, in `REPORT_TZ`.
    pub scheduled_date: NaiveDate,
    pub trigger: RunTrigger,
    pub status: RunStatus,
    pub counts: RunCounts,
    pub message: Option<String>,
    /// The instance that runs it.
    pub owner: Option<String>,
    pub heartbeat_at: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_enum_round_trips() {
        for j in JobKind::ALL {
            assert_eq!(JobKind::parse(j.as_str()), Some(*j));
        }
        for s in SyncLogStatus::ALL {
            assert_eq!(SyncLogStatus::parse(s.as_str()), Some(*s));
        }
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.as_str()), Some(*s));
        }
        for t in RunTrigger::ALL {
            assert_eq!(RunTrigger::parse(t.as_str()), Some(*t));
        }
        assert_eq!(JobKind::parse("SYNC_USER_DAILY"), None);
        assert_eq!(SyncLogStatus::parse("success"), None);
    }
}
