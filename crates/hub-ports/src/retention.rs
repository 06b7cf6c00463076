//! [`RetentionRepo`]: deleting the rows that outlived their retention period, a bounded batch
//! at a time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::RepoResult;

/// A table whose old rows are purged. Snapshots are never among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Retained {
    /// `sync_logs`, by the line's time.
    SyncLogs,
    /// `sync_runs`, by the run's start; a `RUNNING` run is never purged.
    SyncRuns,
    /// `audit_logs`, by the row's time.
    Audit,
}

impl Retained {
    /// Every purged table, in the order a purge pass goes through them (log lines before the
    /// runs they point at).
    pub const ALL: [Retained; 3] = [Retained::SyncLogs, Retained::SyncRuns, Retained::Audit];

    /// The table's name (metric labels, log fields).
    pub fn as_str(self) -> &'static str {
        match self {
            Retained::SyncLogs => "sync_logs",
            Retained::SyncRuns => "sync_runs",
            Retained::Audit => "audit_logs",
        }
    }
}

/// Purging old rows.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RetentionRepo: Send + Sync {
    /// Deletes up to `limit` rows of `table` older than `before` in one short statement, and
    /// returns how many went (fewer than `limit`: nothing older is left). A run still
    /// `RUNNING` is never deleted; the log lines of a deleted run stay, without their run.
    /// Rows another purger is deleting at the same moment are skipped, not waited for.
    async fn purge_batch(&self, table: Retained, before: DateTime<Utc>, limit: i64) -> RepoResult<u64>;
}
