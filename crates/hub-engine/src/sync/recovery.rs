//! Recovery after a crash. A process that dies mid-run (SIGKILL, OOM, power) leaves its runs
//! `RUNNING` with a heartbeat that no longer moves, and the refresh leases it held taken until
//! they expire. Its job locks need nothing: they die with its database sessions.
//!
//! A run whose heartbeat is older than the stale threshold (`SYNC_STALE_AFTER_SECONDS`)
//! belongs to a dead instance: a live run writes it several times within the threshold.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use hub_domain::{RunStatus, SyncRun};
use hub_ports::RepoError;

use crate::sync::service::Syncs;

/// What [`Syncs::interrupt_stale_runs`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaleRuns {
    /// The runs found stale, as stored afterwards (`INTERRUPTED`, unless their owner closed
    /// them in between).
    pub runs: Vec<SyncRun>,
    /// How many runs were marked `INTERRUPTED`.
    pub interrupted: u64,
    /// Refresh leases given back on behalf of the owners of those runs.
    pub leases_released: u64,
}

impl Syncs {
    /// Marks `RUNNING` runs whose heartbeat is older than `stale_after` as `INTERRUPTED`, and
    /// gives back the refresh leases their owners still hold, so that a run started right
    /// after a crash does not wait for those leases to expire (or fail those stores).
    ///
    /// The scheduler's sweep calls it periodically; `tiktok-hub sync` calls it before it
    /// starts. Only owners of runs that end up `INTERRUPTED` lose their leases: a run whose
    /// owner closed it meanwhile was alive after all.
    pub async fn interrupt_stale_runs(&self, stale_after: std::time::Duration) -> Result<StaleRuns, RepoError> {
        let p = &self.ports;
        let now = p.clock.now();
        let stale_before = chrono::Duration::from_std(stale_after)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let stale: Vec<SyncRun> = p
            .sync_runs
            .running()
            .await?
            .into_iter()
            .filter(|r| r.heartbeat_at.unwrap_or(r.started_at) < stale_before)
            .collect();
        let interrupted = p.sync_runs.interrupt_stale(stale_before, now).await?;
        let mut runs = Vec::with_capacity(stale.len());
        for run in stale {
            if let Some(stored) = p.sync_runs.get(run.id).await? {
                runs.push(stored);
            }
        }
        let dead: BTreeSet<&str> = runs
            .iter()
            .filter(|r| r.status == RunStatus::Interrupted)
            .filter_map(|r| r.owner.as_deref())
            .filter(|owner| *owner != self.config.instance_id)
            .collect();
        let mut leases_released = 0;
        for owner in dead {
            leases_released += p.accounts.release_refresh_leases_of(owner).await?;
        }
        if interrupted > 0 || leases_released > 0 {
            tracing::warn!(runs = interrupted, leases_released, "runs with a stale heartbeat marked INTERRUPTED");
        }
        Ok(StaleRuns { runs, interrupted, leases_released })
    }
}
