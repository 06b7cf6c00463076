//! Store administration: create a store, the store list, one store, its TikTok account, and
//! the audit trail.

use std::sync::Arc;

use hub_domain::{Account, AuditEntry, AuditFilter, AuditOutcome, NewStore, Store, StoreCode, StoreOverview};
use hub_ports::{AccountRepo, AuditRepo, Clock, RepoError, StoreRepo};

use crate::access::{StoreAccess, StoreMissing};
use crate::actor::Actor;
use crate::audit::{Auditor, Refusal};
use crate::pages::{PAGE, Pages, keyset};

/// Why an admin call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    #[error("Store not found")]
    StoreNotFound,
    #[error("Store with this code already exists")]
    StoreExists,
    #[error(transparent)]
    Storage(RepoError),
}

impl Refusal for AdminError {
    fn reason(&self) -> &'static str {
        match self {
            Self::StoreNotFound => "store_not_found",
            Self::StoreExists => "store_exists",
            Self::Storage(_) => "storage",
        }
    }
}

impl From<RepoError> for AdminError {
    fn from(e: RepoError) -> Self {
        Self::Storage(e)
    }
}

impl From<StoreMissing> for AdminError {
    fn from(e: StoreMissing) -> Self {
        match e {
            StoreMissing::NotFound => Self::StoreNotFound,
            StoreMissing::Storage(e) => Self::Storage(e),
        }
    }
}

/// A store's TikTok account as the admin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreAccount {
    pub account: Account,
    /// Connected with an access token that has not expired.
    pub has_valid_token: bool,
}

/// The store-administration use cases.
#[derive(Clone)]
pub struct Admin {
    stores: Arc<dyn StoreRepo>,
    accounts: Arc<dyn AccountRepo>,
    audit_log: Arc<dyn AuditRepo>,
    clock: Arc<dyn Clock>,
    access: StoreAccess,
    auditor: Auditor,
}

impl Admin {
    pub(crate) fn new(
        stores: Arc<dyn StoreRepo>,
        accounts: Arc<dyn AccountRepo>,
        audit_log: Arc<dyn AuditRepo>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            access: StoreAccess::new(Arc::clone(&stores)),
            auditor: Auditor::new(Arc::clone(&audit_log)),
            stores,
            accounts,
            audit_log,
            clock,
        }
    }

    /// Creates a store; audited (`store.create`), the row in the same transaction.
    pub async fn create_store(&self, actor: &Actor, store: &NewStore) -> Result<Store, AdminError> {
        let audit = actor.audit("store.create", Some(&store.code), None, AuditOutcome::Success, None);
        let create = async {
            match self.stores.create(store, &audit).await {
                Ok(s) => Ok(s),
                Err(RepoError::Conflict(_)) => Err(AdminError::StoreExists),
                Err(e) => Err(e.into()),
            }
        };
        let created = self.auditor.unless_refused(actor, "store.create", Some(&store.code), create).await?;
        tracing::info!(store.code = %created.code, "store created");
        Ok(created)
    }

    /// Every store with its connection and latest statistics, by code, in pages.
    pub fn stores(&self, _actor: &Actor) -> Pages<StoreOverview, AdminError> {
        let stores = Arc::clone(&self.stores);
        keyset(
            PAGE,
            move |after, limit| {
                let stores = Arc::clone(&stores);
                async move { stores.stores_page(after, limit).await }
            },
            |o: &StoreOverview| o.store.code.clone(),
        )
    }

    /// One store with its connection and latest statistics.
    pub async fn store(&self, actor: &Actor, code: &StoreCode) -> Result<StoreOverview, AdminError> {
        self.access.require(actor, code).await?;
        self.stores.overview(code).await?.ok_or(AdminError::StoreNotFound)
    }

    /// The store's TikTok accounts (zero or one).
    pub async fn accounts(&self, actor: &Actor, code: &StoreCode) -> Result<Vec<StoreAccount>, AdminError> {
        self.access.require(actor, code).await?;
        let now = self.clock.now();
        Ok(self
            .accounts
            .for_store(code)
            .await?
            .into_iter()
            .map(|account| StoreAccount { has_valid_token: account.has_valid_token(now), account })
            .collect())
    }

    /// Audit rows, newest first.
    pub async fn audit_logs(&self, _actor: &Actor, filter: &AuditFilter) -> Result<Vec<AuditEntry>, AdminError> {
        Ok(self.audit_log.list(filter).await?)
    }
}
