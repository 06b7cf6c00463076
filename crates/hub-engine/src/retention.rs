//! Retention: sync log lines, sync runs and audit rows older than their configured period are
//! deleted in bounded batches with a short pause between them, so a purge never holds long
//! locks nor crowds out the API. Snapshots are kept forever.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hub_ports::{Clock, RepoError, Retained, RetentionRepo};

/// The rows one purge statement deletes at most (the default of [`RetentionPolicy::batch`]).
pub const PURGE_BATCH: i64 = 5_000;

/// The pause between two batches of one table (the default of [`RetentionPolicy::pause`]).
pub const PURGE_PAUSE: Duration = Duration::from_millis(200);

/// How long each table's rows are kept, in days; `0` keeps them forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// `RETENTION_SYNC_LOGS_DAYS`.
    pub sync_logs_days: u32,
    /// `RETENTION_SYNC_RUNS_DAYS`.
    pub sync_runs_days: u32,
    /// `RETENTION_AUDIT_DAYS`.
    pub audit_days: u32,
    /// Rows per delete statement.
    pub batch: i64,
    /// Pause between two full batches.
    pub pause: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self { sync_logs_days: 90, sync_runs_days: 90, audit_days: 365, batch: PURGE_BATCH, pause: PURGE_PAUSE }
    }
}

impl RetentionPolicy {
    /// The days `table` keeps its rows (`0`: forever).
    pub fn days(&self, table: Retained) -> u32 {
        match table {
            Retained::SyncLogs => self.sync_logs_days,
            Retained::SyncRuns => self.sync_runs_days,
            Retained::Audit => self.audit_days,
        }
    }
}

/// What one purge pass deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Rows deleted per table that has a retention period (tables kept forever are absent).
    pub purged: Vec<(Retained, u64)>,
    /// The pass stopped early because the process is shutting down.
    pub stopped: bool,
}

impl PurgeReport {
    /// Rows deleted in all.
    pub fn total(&self) -> u64 {
        self.purged.iter().map(|(_, n)| n).sum()
    }
}

/// This process's purge counters (Prometheus counter semantics: sum them across instances).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionMetrics {
    /// Rows deleted since start, per table of [`Retained::ALL`].
    pub purged: Vec<(Retained, u64)>,
    /// When the last complete purge pass ended.
    pub last_purge: Option<DateTime<Utc>>,
}

/// The retention use case.
pub struct Retention {
    repo: Arc<dyn RetentionRepo>,
    clock: Arc<dyn Clock>,
    policy: RetentionPolicy,
    purged: [AtomicU64; 3],
    last_purge: AtomicI64,
    /// The background work's share of the pool (the jobs' gate).
    db: Arc<crate::pace::DbGate>,
}

fn slot(table: Retained) -> usize {
    Retained::ALL.iter().position(|t| *t == table).unwrap_or(0)
}

impl Retention {
    pub(crate) fn new(
        repo: Arc<dyn RetentionRepo>,
        clock: Arc<dyn Clock>,
        policy: RetentionPolicy,
        db: Arc<crate::pace::DbGate>,
    ) -> Self {
        Self { repo, clock, policy, purged: Default::default(), last_purge: AtomicI64::new(0), db }
    }

    /// The configured periods.
    pub fn policy(&self) -> RetentionPolicy {
        self.policy
    }

    /// One purge pass: for each table with a retention period, batches of at most
    /// [`RetentionPolicy::batch`] rows older than the period, with a pause between full
    /// batches, until a batch comes back short. `stop` is asked before each batch (shutdown).
    /// A failing batch ends the pass with its error; what was deleted before it is counted.
    pub async fn purge(&self, stop: &(dyn Fn() -> bool + Send + Sync)) -> Result<PurgeReport, RepoError> {
        let mut report = PurgeReport::default();
        let now = self.clock.now();
        let batch = self.policy.batch.max(1);
        for table in Retained::ALL {
            let days = self.policy.days(table);
            if days == 0 {
                continue;
            }
            let before = now - chrono::Duration::days(i64::from(days));
            let mut deleted = 0u64;
            loop {
                if stop() {
                    report.purged.push((table, deleted));
                    report.stopped = true;
                    return Ok(report);
                }
                let n = self.db.run(self.repo.purge_batch(table, before, batch)).await?;
                deleted += n;
                self.purged[slot(table)].fetch_add(n, Relaxed);
                if n < batch as u64 {
                    break;
                }
                tokio::time::sleep(self.policy.pause).await;
            }
            if deleted > 0 {
                tracing::info!(table = table.as_str(), rows = deleted, days, "old rows purged");
            }
            report.purged.push((table, deleted));
        }
        self.last_purge.store(self.clock.now().timestamp(), Relaxed);
        Ok(report)
    }

    /// The purge counters of this process.
    pub fn metrics(&self) -> RetentionMetrics {
        let last = self.last_purge.load(Relaxed);
        RetentionMetrics {
            purged: Retained::ALL.iter().map(|t| (*t, self.purged[slot(*t)].load(Relaxed))).collect(),
            last_purge: (last > 0).then(|| DateTime::from_timestamp(last, 0)).flatten(),
        }
    }
}
