//! What the syncs are doing and did: live progress, the status of each job, runs, the
//! sync-log lines, and the questions the scheduler asks.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hub_domain::{Actor, JobKind, StoreCode, SyncLog, SyncRun, business_date};
use hub_ports::SyncLogCursor;

use crate::access::Permission;
use crate::pages::{PAGE, Pages, keyset};
use crate::sync::schedule::{JobStatus, SyncStatus};
use crate::sync::service::Syncs;
use crate::sync::types::{LiveRun, RunView, SyncError};

impl Syncs {
    /// Live progress of the runs in progress in this process, oldest first.
    pub fn live_runs(&self) -> Vec<LiveRun> {
        let live = self.live.lock().expect("live runs poisoned");
        let mut runs: Vec<LiveRun> = live.values().map(|l| l.lock().expect("tracker poisoned").clone()).collect();
        runs.sort_by_key(|r| r.run_id);
        runs
    }

    /// The schedule, each scheduled job's newest run, and the runs in progress here (numbers
    /// over every store: an unscoped actor's).
    pub async fn status(&self, actor: &Actor) -> Result<SyncStatus, SyncError> {
        self.access.permit(actor, Permission::ReadChainWide, "sync.status").await?;
        let schedule = self.schedule();
        let live = self.live_runs();
        let mut jobs = Vec::with_capacity(schedule.jobs.len());
        for scheduled in schedule.jobs {
            let last_run = self.ports.sync_runs.latest(scheduled.job).await?;
            let running = scheduled.running || live.iter().any(|l| l.job == scheduled.job);
            jobs.push(JobStatus { scheduled, running, last_run });
        }
        Ok(SyncStatus { enabled: schedule.enabled, timezone: schedule.timezone, jobs, live })
    }

    /// One run, with its live counters while it runs in this process (an unscoped actor's).
    pub async fn run_view(&self, actor: &Actor, id: i64) -> Result<RunView, SyncError> {
        self.access.permit(actor, Permission::ReadChainWide, "sync.run_view").await?;
        let run = self.ports.sync_runs.get(id).await?.ok_or(SyncError::RunNotFound)?;
        let live = self.live_runs().into_iter().find(|l| l.run_id == id);
        Ok(RunView { run, live })
    }

    /// The newest run of `job`.
    pub async fn latest_run(&self, job: JobKind) -> Result<Option<SyncRun>, SyncError> {
        Ok(self.ports.sync_runs.latest(job).await?)
    }

    /// Sync-log lines of the actor's stores, newest first (of one store when given): the
    /// newest `limit`, or every line in pages. A scoped actor sees its stores' lines, not the
    /// jobs' summary lines.
    pub async fn logs(
        &self,
        actor: &Actor,
        store: Option<&StoreCode>,
        limit: Option<i64>,
    ) -> Result<Pages<SyncLog, SyncError>, SyncError> {
        const ACTION: &str = "sync.logs";
        match store {
            Some(code) => drop(self.access.store(actor, Permission::Read, ACTION, code).await?),
            None => self.access.permit(actor, Permission::Read, ACTION).await?,
        }
        let (repo, store, scope) = (Arc::clone(&self.ports.sync_logs), store.cloned(), actor.scope.clone());
        let pages = keyset(
            limit.unwrap_or(PAGE).max(1),
            move |after, limit| {
                let (repo, store, scope) = (Arc::clone(&repo), store.clone(), scope.clone());
                async move { repo.logs_page(&scope, store, after, limit).await }
            },
            |l: &SyncLog| SyncLogCursor { run_time: l.run_time, id: l.id },
        );
        Ok(if limit.is_some() { futures::StreamExt::boxed(futures::StreamExt::take(pages, 1)) } else { pages })
    }

    /// Whether a `cron` run of `job` started at or after `tick` (the tick was taken, here or
    /// on another instance).
    pub async fn tick_taken(&self, job: JobKind, tick: DateTime<Utc>) -> Result<bool, SyncError> {
        Ok(self.ports.sync_runs.latest_for_tick(job, tick).await?)
    }

    /// How many connected stores have no snapshot of `job`'s kind for today yet (what a
    /// [`crate::RunScope::MissingToday`] run would cover).
    pub async fn missing_today(&self, job: JobKind) -> Result<usize, SyncError> {
        let date = business_date(self.ports.clock.now(), &self.config.report_tz);
        let stores = self.all_stores().await?;
        Ok(stores.iter().filter(|s| s.lacks_snapshot(job, date)).count())
    }
}
