//! The sync service: its parts and its life (shutdown, the attached schedule).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::access::Access;
use crate::audit::Auditor;
use crate::config::EngineConfig;
use crate::metrics::{SyncMetrics, SyncMetricsSnapshot};
use crate::pace::{DbGate, DbGateStats};
use crate::ports::Ports;
use crate::sync::schedule::{Schedule, ScheduleStatus};
use crate::sync::types::LiveRun;
use crate::tokens::Tokens;

/// The sync use cases: the nightly jobs, same-day retries, an admin's sync, a single store's
/// sync, live progress and the runs' history.
pub struct Syncs {
    pub(super) ports: Ports,
    pub(super) config: EngineConfig,
    pub(super) tokens: Arc<Tokens>,
    /// The jobs' share of the database pool (see [`crate::pace::DbGate`]).
    pub(super) db: Arc<DbGate>,
    pub(super) live: Mutex<HashMap<i64, Arc<Mutex<LiveRun>>>>,
    pub(super) shutdown: tokio::sync::watch::Sender<bool>,
    /// Counters of finished runs (see [`Syncs::metrics`]).
    pub(super) metrics: SyncMetrics,
    pub(super) schedule: OnceLock<Arc<dyn Schedule>>,
    pub(super) access: Access,
    pub(super) auditor: Auditor,
}

impl Syncs {
    pub(crate) fn new(
        ports: Ports,
        config: EngineConfig,
        tokens: Arc<Tokens>,
        db: Arc<DbGate>,
        access: Access,
    ) -> Self {
        Self {
            auditor: access.auditor().clone(),
            access,
            ports,
            config,
            tokens,
            db,
            live: Mutex::new(HashMap::new()),
            shutdown: tokio::sync::watch::channel(false).0,
            metrics: SyncMetrics::default(),
            schedule: OnceLock::new(),
        }
    }

    /// Stops running jobs from taking more stores; the stores in flight finish. Runs that
    /// stop this way end `INTERRUPTED`, and the rest is recorded as not done.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Plugs in the scheduler, for the status. Only the first call counts.
    pub fn attach_schedule(&self, schedule: Arc<dyn Schedule>) {
        if self.schedule.set(schedule).is_err() {
            tracing::warn!("a schedule was attached twice; the first one stays");
        }
    }

    /// The attached scheduler's state; without one, a disabled schedule in the report time
    /// zone.
    pub fn schedule(&self) -> ScheduleStatus {
        match self.schedule.get() {
            Some(s) => s.status(),
            None => {
                ScheduleStatus { enabled: false, timezone: self.config.report_tz.name().to_owned(), jobs: Vec::new() }
            }
        }
    }

    /// The sync jobs' counters of this process (for `/metrics`).
    pub fn metrics(&self) -> SyncMetricsSnapshot {
        self.metrics.snapshot()
    }

    /// The token service (refreshes coalesced per account).
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// The jobs' share of the database pool: its size and the calls that waited.
    pub fn db_gate(&self) -> DbGateStats {
        self.db.stats()
    }
}
