//! Store administration and the read paths of the admin API.

use chrono::Duration;
use hub_domain::{
    Account, AuditEntry, AuditFilter, AuditOutcome, NewStore, Store, StoreCode, StoreOverview, SyncLog, SyncRun,
    UserSnapshotRow, VideoSnapshotRow,
};
use hub_ports::RepoError;

use crate::Engine;
use crate::context::Actor;
use crate::sync::business_date;

/// Why an admin call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    #[error("Store not found")]
    StoreNotFound,
    #[error("Store with this code already exists")]
    StoreExists,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Storage(RepoError),
}

impl From<RepoError> for AdminError {
    fn from(e: RepoError) -> Self {
        Self::Storage(e)
    }
}

impl Engine {
    /// Creates a store, audited in the same transaction.
    pub async fn create_store(&self, store: &NewStore, actor: &Actor) -> Result<Store, AdminError> {
        let audit = actor.audit("store.create", Some(&store.code), None, AuditOutcome::Success, None);
        match self.ports.stores.create(store, &audit).await {
            Ok(s) => {
                tracing::info!(store.code = %s.code, "store created");
                Ok(s)
            }
            Err(RepoError::Conflict(_)) => Err(AdminError::StoreExists),
            Err(e) => Err(e.into()),
        }
    }

    /// Every store with its connection and latest statistics.
    pub async fn list_stores(&self) -> Result<Vec<StoreOverview>, AdminError> {
        Ok(self.ports.stores.list_overview().await?)
    }

    /// One store with its connection and latest statistics.
    pub async fn get_store(&self, code: &StoreCode) -> Result<StoreOverview, AdminError> {
        self.ports.stores.overview(code).await?.ok_or(AdminError::StoreNotFound)
    }

    async fn require_store(&self, code: &StoreCode) -> Result<(), AdminError> {
        self.ports.stores.get(code).await?.map(|_| ()).ok_or(AdminError::StoreNotFound)
    }

    /// The store's TikTok accounts (zero or one).
    pub async fn store_accounts(&self, code: &StoreCode) -> Result<Vec<Account>, AdminError> {
        self.require_store(code).await?;
        Ok(self.ports.accounts.for_store(code).await?.into_iter().collect())
    }

    /// The first day of a `days`-long window ending today (in the report time zone).
    fn since(&self, days: u32) -> chrono::NaiveDate {
        business_date(self.ports.clock.now(), self.config.report_tz) - Duration::days(i64::from(days.max(1)) - 1)
    }

    /// User snapshots of the last `days` days, newest first.
    pub async fn user_stats(&self, code: &StoreCode, days: u32) -> Result<Vec<UserSnapshotRow>, AdminError> {
        self.require_store(code).await?;
        Ok(self.ports.snapshots.user_history(code, self.since(days)).await?)
    }

    /// Video snapshots of the last `days` days, newest first.
    pub async fn video_stats(&self, code: &StoreCode, days: u32) -> Result<Vec<VideoSnapshotRow>, AdminError> {
        self.require_store(code).await?;
        Ok(self.ports.snapshots.video_history(code, self.since(days)).await?)
    }

    /// The newest sync-log lines, of one store when given (which must exist).
    pub async fn sync_logs(&self, store: Option<&StoreCode>, limit: i64) -> Result<Vec<SyncLog>, AdminError> {
        if let Some(code) = store {
            self.require_store(code).await?;
        }
        Ok(self.ports.sync_logs.list(store.cloned(), limit).await?)
    }

    /// Audit rows, newest first.
    pub async fn audit_logs(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, AdminError> {
        Ok(self.ports.audit.list(filter).await?)
    }

    /// A sync run by id.
    pub async fn sync_run(&self, id: i64) -> Result<SyncRun, AdminError> {
        self.ports.sync_runs.get(id).await?.ok_or(AdminError::NotFound)
    }

    /// Records an admin action that changes nothing else (e.g. a sync trigger).
    pub async fn audit_action(&self, entry: &hub_domain::NewAuditEntry) -> Result<(), AdminError> {
        self.ports.audit.insert(entry).await?;
        Ok(())
    }
}
