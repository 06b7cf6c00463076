//! Store administration: create and change a store, the store list, one store, its TikTok
//! account, and the audit trail.

use std::sync::Arc;

use hub_domain::{
    Account, Actor, AuditEntry, AuditFilter, AuditOutcome, NewStore, Role, Store, StoreChange, StoreCode, StoreGroup,
    StoreOverview,
};
use hub_ports::{AccountRepo, AuditRepo, Clock, RepoError, StoreRepo};

use crate::access::{Access, Permission, Refusal};
use crate::audit::{Auditor, Details};
use crate::pages::{PAGE, Pages, keyset};

/// Why an admin call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    #[error("Store not found")]
    StoreNotFound,
    #[error("Store with this code already exists")]
    StoreExists,
    /// The actor's role or store scope does not allow it (a `DENIED` row was written).
    #[error("Your role or store groups do not allow this")]
    Forbidden,
    #[error(transparent)]
    Storage(RepoError),
}

impl AdminError {
    /// The reason an audit row names.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::StoreNotFound => "store_not_found",
            Self::StoreExists => "store_exists",
            Self::Forbidden => "forbidden",
            Self::Storage(_) => "storage",
        }
    }
}

impl From<RepoError> for AdminError {
    fn from(e: RepoError) -> Self {
        Self::Storage(e)
    }
}

impl From<Refusal> for AdminError {
    fn from(e: Refusal) -> Self {
        match e {
            Refusal::Forbidden => Self::Forbidden,
            Refusal::StoreNotFound => Self::StoreNotFound,
            Refusal::Storage(e) => Self::Storage(e),
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
    access: Access,
    auditor: Auditor,
}

impl Admin {
    pub(crate) fn new(
        stores: Arc<dyn StoreRepo>,
        accounts: Arc<dyn AccountRepo>,
        audit_log: Arc<dyn AuditRepo>,
        clock: Arc<dyn Clock>,
        access: Access,
    ) -> Self {
        Self { auditor: access.auditor().clone(), stores, accounts, audit_log, clock, access }
    }

    /// Writes the `FAILURE` row of a refused change (a `Forbidden` one has its `DENIED` row).
    async fn refused(&self, actor: &Actor, action: &str, code: &StoreCode, e: &AdminError) {
        if *e != AdminError::Forbidden {
            self.auditor.refused(actor, action, Some(code), None, Details::error(e.reason())).await;
        }
    }

    /// Creates a store (operator; a scoped actor only in one of its groups); audited
    /// (`store.create`), the row in the same transaction.
    pub async fn create_store(&self, actor: &Actor, store: &NewStore) -> Result<Store, AdminError> {
        const ACTION: &str = "store.create";
        self.access.permit(actor, Permission::ManageStores, ACTION).await?;
        self.access.group(actor, ACTION, Some(&store.code), store.group.as_ref()).await?;
        let details = store.group.as_ref().map(|g| Details::default().text("storeGroup", g.as_str()).build());
        let audit = actor.audit(ACTION, Some(&store.code), None, AuditOutcome::Success, details);
        let created = match self.stores.create(store, &audit).await {
            Ok(s) => Ok(s),
            Err(RepoError::Conflict(_)) => Err(AdminError::StoreExists),
            Err(e) => Err(e.into()),
        };
        match &created {
            Ok(s) => tracing::info!(store.code = %s.code, "store created"),
            Err(e) => self.refused(actor, ACTION, &store.code, e).await,
        }
        created
    }

    /// Changes a store's name, person in charge, contact or group (operator; a scoped actor
    /// only its stores, and only into one of its groups); audited (`store.update`, naming the
    /// fields and the group before and after), the row in the same transaction.
    pub async fn update_store(
        &self,
        actor: &Actor,
        code: &StoreCode,
        change: &StoreChange,
    ) -> Result<Store, AdminError> {
        const ACTION: &str = "store.update";
        let result = self.update(actor, code, change).await;
        if let Err(e) = &result {
            self.refused(actor, ACTION, code, e).await;
        }
        result
    }

    async fn update(&self, actor: &Actor, code: &StoreCode, change: &StoreChange) -> Result<Store, AdminError> {
        const ACTION: &str = "store.update";
        let before = self.access.store(actor, Permission::ManageStores, ACTION, code).await?;
        if let Some(group) = &change.group {
            self.access.group(actor, ACTION, Some(code), group.as_ref()).await?;
        }
        let fields: Vec<&str> = [
            change.name.as_ref().map(|_| "store_name"),
            change.pic_name.as_ref().map(|_| "pic_name"),
            change.pic_contact.as_ref().map(|_| "pic_contact"),
            change.group.as_ref().map(|_| "store_group"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut details = Details::default().text("fields", &fields.join(","));
        if let Some(group) = &change.group {
            details = details
                .text("groupBefore", before.group.as_ref().map_or("", |g| g.as_str()))
                .text("groupAfter", group.as_ref().map_or("", |g| g.as_str()));
        }
        let audit = actor.audit(ACTION, Some(code), None, AuditOutcome::Success, Some(details.build()));
        match self.stores.update(code, change, &audit).await {
            Ok(store) => {
                tracing::info!(store.code = %code, fields = %fields.join(","), "store updated");
                Ok(store)
            }
            Err(RepoError::NotFound) => Err(AdminError::StoreNotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// The stores the actor may see, with their connection and latest statistics, by code, in
    /// pages (the scope is a filter of each page's query).
    pub async fn stores(&self, actor: &Actor) -> Result<Pages<StoreOverview, AdminError>, AdminError> {
        self.access.permit(actor, Permission::Read, "store.list").await?;
        let (stores, scope) = (Arc::clone(&self.stores), actor.scope.clone());
        Ok(keyset(
            PAGE,
            move |after, limit| {
                let (stores, scope) = (Arc::clone(&stores), scope.clone());
                async move { stores.stores_page_in(&scope, after, limit).await }
            },
            |o: &StoreOverview| o.store.code.clone(),
        ))
    }

    /// The groups of the stores the actor may see (a group picker's choices).
    pub async fn groups(&self, actor: &Actor) -> Result<Vec<StoreGroup>, AdminError> {
        self.access.permit(actor, Permission::Read, "store.list").await?;
        Ok(self.stores.groups_in(&actor.scope).await?)
    }

    /// One store with its connection and latest statistics.
    pub async fn store(&self, actor: &Actor, code: &StoreCode) -> Result<StoreOverview, AdminError> {
        self.access.store(actor, Permission::Read, "store.read", code).await?;
        self.stores.overview(code).await?.ok_or(AdminError::StoreNotFound)
    }

    /// The store's TikTok accounts (zero or one).
    pub async fn accounts(&self, actor: &Actor, code: &StoreCode) -> Result<Vec<StoreAccount>, AdminError> {
        self.access.store(actor, Permission::Read, "store.read", code).await?;
        let now = self.clock.now();
        Ok(self
            .accounts
            .for_store(code)
            .await?
            .into_iter()
            .map(|account| StoreAccount { has_valid_token: account.has_valid_token(now), account })
            .collect())
    }

    /// Audit rows, newest first. An unscoped admin reads every row; anyone else only the rows
    /// about stores in their scope.
    pub async fn audit_logs(&self, actor: &Actor, filter: &AuditFilter) -> Result<Vec<AuditEntry>, AdminError> {
        self.access.permit(actor, Permission::Read, "audit.list").await?;
        let mut filter = filter.clone();
        if !(actor.role == Role::Admin && actor.scope.is_all()) {
            filter.stores_in = Some(actor.scope.clone());
        }
        Ok(self.audit_log.list(&filter).await?)
    }
}
