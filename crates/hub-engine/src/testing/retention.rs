//! [`RetentionRepo`] over the in-memory world: the first rows written first, a batch at a time, runs
//! still `RUNNING` kept (audit rows are all [`t0`](crate::testing::t0)).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_domain::RunStatus;
use hub_ports::{RepoResult, Retained, RetentionRepo};

use crate::testing::Memory;
use crate::testing::world::t0;

#[async_trait]
impl RetentionRepo for Memory {
    async fn purge_batch(&self, table: Retained, before: DateTime<Utc>, limit: i64) -> RepoResult<u64> {
        let mut w = self.0.lock().expect("world poisoned");
        let limit = limit.max(1) as usize;
        let mut left = limit;
        let mut take = |old: bool| {
            let go = old && left > 0;
            if go {
                left -= 1;
            }
            !go
        };
        match table {
            Retained::SyncLogs => {
                w.logs.retain(|l| take(l.run_time < before));
            }
            Retained::SyncRuns => {
                w.runs.retain(|r| take(r.started_at < before && r.status != RunStatus::Running));
            }
            Retained::Audit => w.audit.retain(|_| take(t0() < before)),
        }
        Ok((limit - left) as u64)
    }
}
