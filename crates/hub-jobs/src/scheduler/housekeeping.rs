//! The scheduler's housekeeping loops, beside the job ticks: expired OAuth states and
//! invites, TikTok revocations to retry, retention, the notification outbox and its daily
//! announcements, and pool statistics. Each sleeps between passes and ends at shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::Inner;
use crate::schedule::next_run;

impl Inner {
    pub(super) async fn purge_loop(self: Arc<Self>) {
        loop {
            match self.engine.system().purge_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "expired OAuth states and connect invites purged"),
                Err(e) => tracing::warn!(error = %e, "purging expired OAuth states and invites failed"),
            }
            if !self.sleep_or_stop(Instant::now() + self.config.purge_every).await {
                return;
            }
        }
    }

    pub(super) async fn revoke_loop(self: Arc<Self>) {
        loop {
            match self.engine.lifecycle().retry_revocations().await {
                Ok(s) if s.revoked + s.pending + s.abandoned == 0 => {}
                Ok(s) => tracing::info!(
                    revoked = s.revoked,
                    pending = s.pending,
                    abandoned = s.abandoned,
                    "TikTok revocations retried"
                ),
                Err(e) => tracing::warn!(error = %e, "retrying TikTok revocations failed"),
            }
            if !self.sleep_or_stop(Instant::now() + self.config.revoke_every).await {
                return;
            }
        }
    }

    /// At start and every `retention_every`: rows past their retention, in batches; a pass
    /// stops between batches when shutdown begins.
    pub(super) async fn retention_loop(self: Arc<Self>) {
        loop {
            match self.engine.retention().purge(&|| self.stopping()).await {
                Ok(r) if r.total() > 0 => {
                    tracing::info!(purged = r.total(), stopped = r.stopped, "retention purge done")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention purge failed; retried at the next pass"),
            }
            if !self.sleep_or_stop(Instant::now() + self.config.retention_every).await {
                return;
            }
        }
    }

    /// Delivers the notification outbox: again at once while rows were due.
    pub(super) async fn webhook_loop(self: Arc<Self>) {
        loop {
            let busy = match self.engine.notifications().deliver_due().await {
                Ok(s) if s.delivered + s.retrying + s.failed == 0 => false,
                Ok(s) => {
                    tracing::info!(
                        delivered = s.delivered,
                        retrying = s.retrying,
                        failed = s.failed,
                        "notifications delivered"
                    );
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, "delivering notifications failed");
                    false
                }
            };
            if !self.sleep_or_stop(Instant::now() + if busy { Duration::ZERO } else { self.config.webhook_every }).await
            {
                return;
            }
        }
    }

    /// Announces `digest.daily` and `report.gaps` at each tick of `notify_daily`.
    pub(super) async fn notify_daily_loop(self: Arc<Self>) {
        let Ok(schedule) = crate::schedule::parse_schedule(&self.config.notify_daily) else { return };
        loop {
            let Some(next) = next_run(&schedule, self.config.timezone, self.now()) else { return };
            let wait = (next - self.now()).to_std().unwrap_or_default();
            if !self.sleep_or_stop(Instant::now() + wait).await {
                return;
            }
            match self.engine.announce_daily().await {
                Ok(n) => tracing::info!(queued = n, "daily notifications queued"),
                Err(e) => tracing::warn!(error = %e, "queuing the daily notifications failed"),
            }
        }
    }

    pub(super) async fn pool_stats_loop(self: Arc<Self>) {
        loop {
            let s = self.engine.system().pool_stats();
            tracing::info!(
                totalCount = s.size,
                idleCount = s.idle,
                waitingCount = s.waiting,
                maxSize = s.max_size,
                "Database pool statistics"
            );
            if !self.sleep_or_stop(Instant::now() + self.config.pool_stats_every).await {
                return;
            }
        }
    }
}
