//! Starting syncs: a scheduler tick, a same-day retry, the command line, an admin's request
//! (waited for or in the background, audited) and one store on its own.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use hub_domain::{Actor, AuditOutcome, JobKind, RunTrigger, StoreCode, business_date};

use crate::access::Permission;
use crate::audit::Details;
use crate::sync::outcome::{CallSplit, Outcome};
use crate::sync::service::Syncs;
use crate::sync::types::{
    JobSelection, RunScope, StoreSyncResult, SyncError, SyncOutcome, SyncRequest, SyncSummary, Triggered,
};

impl Syncs {
    /// Runs `selection` over the stores of `scope`, and waits for it.
    pub async fn run(
        &self,
        selection: JobSelection,
        scope: &RunScope,
        trigger: RunTrigger,
    ) -> Result<SyncSummary, SyncError> {
        let opened = self.open_all(selection, scope, trigger, None).await?;
        Ok(self.drive_all(opened).await)
    }

    /// Runs `selection` for a scheduler tick at `tick`. Across instances each tick runs once:
    /// whoever takes a job's lock first runs it, and a job whose cron run already started at
    /// or after `tick` is not run again ([`SyncError::AlreadyDone`]).
    pub async fn run_scheduled(&self, selection: JobSelection, tick: DateTime<Utc>) -> Result<SyncSummary, SyncError> {
        let opened = self.open_all(selection, &RunScope::All, RunTrigger::Cron, Some(tick)).await?;
        Ok(self.drive_all(opened).await)
    }

    /// Opens the runs of `selection` for every store (taking their locks and writing their
    /// `sync_runs` rows), then drives them in the background. Returns the run ids at once.
    async fn start(self: &Arc<Self>, selection: JobSelection, trigger: RunTrigger) -> Result<Vec<i64>, SyncError> {
        let opened = self.open_all(selection, &RunScope::All, trigger, None).await?;
        let ids = opened.iter().map(|o| o.run_id).collect();
        let me = Arc::clone(self);
        tokio::spawn(async move {
            me.drive_all(opened).await;
        });
        Ok(ids)
    }

    /// Syncs one store now (operator; a store in the actor's scope), user and/or video as
    /// `selection` says, outside the nightly jobs' locks; writes its sync-log lines and returns
    /// its result.
    pub async fn sync_store(
        &self,
        actor: &Actor,
        code: &StoreCode,
        selection: JobSelection,
    ) -> Result<StoreSyncResult, SyncError> {
        let started = Instant::now();
        self.access.store(actor, Permission::RunSyncs, "sync.run", code).await?;
        let overview = self.ports.stores.overview(code).await?.ok_or(SyncError::StoreNotFound)?;
        let date = business_date(self.ports.clock.now(), &self.config.report_tz);
        let jobs: &[JobKind] = match selection {
            JobSelection::All => &[JobKind::SyncUserDaily, JobKind::SyncVideoDaily],
            other => other.jobs(),
        };
        let (mut messages, mut records, mut success) = (Vec::new(), 0, true);
        for &job in jobs {
            let t = Instant::now();
            let outcome = self.store_task(job, &overview, date, &CallSplit::default()).await;
            self.write_store_log(None, job, code, &outcome, t.elapsed().as_millis() as i64).await;
            match &outcome {
                Outcome::Success { records: r, .. } => records += r,
                _ => success = false,
            }
            messages.push(outcome.message().to_owned());
        }
        Ok(StoreSyncResult {
            success,
            store_code: code.clone(),
            message: messages.join("; "),
            duration_ms: started.elapsed().as_millis() as i64,
            records_processed: records,
        })
    }

    /// An operator's sync: one store (in the actor's scope) or every store (an unscoped
    /// actor), waited for (in a task of its own, so a client that hangs up does not cut the run
    /// short) or started in the background. Audited (`sync.run`, one row whatever the outcome;
    /// a refusal by the access rules is its `DENIED` row).
    pub async fn trigger(self: &Arc<Self>, actor: &Actor, request: SyncRequest) -> Result<Triggered, SyncError> {
        let allowed = match &request.store {
            Some(code) => self.access.store(actor, Permission::RunSyncs, "sync.run", code).await.map(drop),
            None => self.access.permit(actor, Permission::RunChainWideSyncs, "sync.run").await,
        };
        match allowed.map_err(SyncError::from) {
            Ok(()) => {}
            Err(SyncError::Forbidden) => return Err(SyncError::Forbidden),
            Err(e) => {
                self.audit_trigger(actor, &request, Err(&e)).await;
                return Err(e);
            }
        }
        if request.wait {
            let (me, actor) = (Arc::clone(self), actor.clone());
            let task = tokio::spawn(async move {
                let result = match &request.store {
                    Some(code) => me.sync_store(&actor, code, request.selection).await.map(SyncOutcome::Store),
                    None => me.run(request.selection, &RunScope::All, RunTrigger::Manual).await.map(SyncOutcome::All),
                };
                let details = match &result {
                    Ok(SyncOutcome::Store(r)) => Ok(Details::default().flag("success", r.success)),
                    Ok(SyncOutcome::All(s)) => Ok(Details::default().ids("runIds", &s.run_ids)),
                    Err(e) => Err(e),
                };
                me.audit_trigger(&actor, &request, details).await;
                result.map(Triggered::Finished)
            });
            return task.await.map_err(|e| SyncError::Aborted(e.to_string()))?;
        }
        let started = match &request.store {
            Some(code) => {
                let (me, actor, code, selection) = (Arc::clone(self), actor.clone(), code.clone(), request.selection);
                tokio::spawn(async move {
                    if let Err(e) = me.sync_store(&actor, &code, selection).await {
                        tracing::error!(store.code = %code, error = %e, "background store sync failed");
                    }
                });
                Ok(Vec::new())
            }
            None => self.start(request.selection, RunTrigger::Manual).await,
        };
        let details = started.as_ref().map(|ids| Details::default().ids("runIds", ids));
        self.audit_trigger(actor, &request, details).await;
        started.map(|run_ids| Triggered::Started { run_ids })
    }

    async fn audit_trigger(&self, actor: &Actor, request: &SyncRequest, details: Result<Details, &SyncError>) {
        let (outcome, details) = match details {
            Ok(d) => (AuditOutcome::Success, d),
            Err(e) => (AuditOutcome::Failure, Details::error(e.reason())),
        };
        let details = details.text("job", request.selection.name()).flag("wait", request.wait);
        let job = Some(request.selection.name().to_owned());
        self.auditor.write(actor, "sync.run", request.store.as_ref(), job, outcome, details).await;
    }
}
