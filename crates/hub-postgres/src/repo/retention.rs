//! `RetentionRepo`: old sync log lines, sync runs and audit rows deleted a bounded batch at a
//! time, so no statement holds its locks for long.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Timestamptz};
use diesel_async::RunQueryDsl;
use hub_ports::{RepoResult, Retained, RetentionRepo};

use crate::Db;
use crate::error::RepoResultExt;

/// One batch of `table`: the oldest rows first (each table's time index), rows another purger
/// holds skipped. `$1` is the cut-off, `$2` the batch size.
fn batch_sql(table: Retained) -> &'static str {
    match table {
        Retained::SyncLogs => {
            "DELETE FROM sync_logs WHERE id IN (SELECT id FROM sync_logs WHERE run_time < $1 \
             ORDER BY run_time LIMIT $2 FOR UPDATE SKIP LOCKED)"
        }
        // A run still RUNNING is never deleted, however old (its owner's sweep closes it).
        Retained::SyncRuns => {
            "DELETE FROM sync_runs WHERE id IN (SELECT id FROM sync_runs WHERE started_at < $1 \
             AND status <> 'RUNNING' ORDER BY started_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
        }
        Retained::Audit => {
            "DELETE FROM audit_logs WHERE id IN (SELECT id FROM audit_logs WHERE created_at < $1 \
             ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
        }
    }
}

#[async_trait]
impl RetentionRepo for Db {
    async fn purge_batch(&self, table: Retained, before: DateTime<Utc>, limit: i64) -> RepoResult<u64> {
        let mut conn = self.repo_conn().await?;
        let n = diesel::sql_query(batch_sql(table))
            .bind::<Timestamptz, _>(before)
            .bind::<BigInt, _>(limit.max(1))
            .execute(&mut conn)
            .await
            .repo()?;
        Ok(n as u64)
    }
}
