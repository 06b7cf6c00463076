//! Who may do what: the one place the hub decides it. Every use case asks [`Access`] before it
//! acts, with the [`Permission`] it needs; a refusal writes one `DENIED` audit row and answers
//! `Forbidden`. A store outside the actor's scope answers exactly like a store that does not
//! exist (and is audited like one: a mutation writes its `FAILURE` row, `store_not_found`).
//! Lists, reports, exports, counts and totals hand the actor's scope to the repositories,
//! which filter in their queries.
//!
//! | permission | least role | scope |
//! |---|---|---|
//! | `Read` — stores, statistics, reports, exports, sync logs, audit rows of its stores, itself and its keys | viewer | its stores |
//! | `ReadChainWide` — sync status and runs, `/metrics` (numbers over every store) | viewer | every store |
//! | `ManageStores` — create, change, import stores; connect links | operator | its stores |
//! | `RunSyncs` — sync one store now | operator | its stores |
//! | `RunChainWideSyncs` — sync every store, refresh every token | operator | every store |
//! | `ManageKeys` — create and revoke its own API keys (role and scope at most its own) | operator | its stores |
//! | `ManageUsers` — people, their roles and scopes, every key | admin | its stores |
//! | `ManageWebhooks` — outgoing notification endpoints | admin | every store |

use std::sync::Arc;

use hub_domain::{Actor, Role, Store, StoreCode, StoreGroup};
use hub_ports::{RepoError, StoreRepo};

use crate::audit::{Auditor, Details};

/// What a use case needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    Read,
    ReadChainWide,
    ManageStores,
    RunSyncs,
    RunChainWideSyncs,
    ManageKeys,
    ManageUsers,
    /// Outgoing notification endpoints (they announce every store).
    ManageWebhooks,
}

impl Permission {
    pub const ALL: [Self; 8] = [
        Self::Read,
        Self::ReadChainWide,
        Self::ManageStores,
        Self::RunSyncs,
        Self::RunChainWideSyncs,
        Self::ManageKeys,
        Self::ManageUsers,
        Self::ManageWebhooks,
    ];

    /// The least role that has it.
    pub const fn min_role(self) -> Role {
        match self {
            Self::Read | Self::ReadChainWide => Role::Viewer,
            Self::ManageStores | Self::RunSyncs | Self::RunChainWideSyncs | Self::ManageKeys => Role::Operator,
            Self::ManageUsers | Self::ManageWebhooks => Role::Admin,
        }
    }

    /// Whether it needs an unscoped actor (its answers or effects span every store).
    pub const fn needs_every_store(self) -> bool {
        matches!(self, Self::ReadChainWide | Self::RunChainWideSyncs | Self::ManageWebhooks)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadChainWide => "read_chain_wide",
            Self::ManageStores => "manage_stores",
            Self::RunSyncs => "run_syncs",
            Self::RunChainWideSyncs => "run_chain_wide_syncs",
            Self::ManageKeys => "manage_keys",
            Self::ManageUsers => "manage_users",
            Self::ManageWebhooks => "manage_webhooks",
        }
    }

    /// Whether `actor` has it.
    pub fn allows(self, actor: &Actor) -> bool {
        actor.role >= self.min_role() && (!self.needs_every_store() || actor.scope.is_all())
    }
}

/// Why an access check refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The actor's role or scope does not allow it (`DENIED` written).
    Forbidden,
    /// No such store, or one outside the actor's scope.
    StoreNotFound,
    Storage(RepoError),
}

/// The access rules and the store check of every use case.
#[derive(Clone)]
pub(crate) struct Access {
    stores: Arc<dyn StoreRepo>,
    auditor: Auditor,
}

impl Access {
    pub(crate) fn new(stores: Arc<dyn StoreRepo>, auditor: Auditor) -> Self {
        Self { stores, auditor }
    }

    /// `Ok` when `actor` has `permission`; otherwise one `DENIED` row for `action` and
    /// [`Refusal::Forbidden`].
    pub(crate) async fn permit(&self, actor: &Actor, permission: Permission, action: &str) -> Result<(), Refusal> {
        self.permit_on(actor, permission, action, None).await
    }

    async fn permit_on(
        &self,
        actor: &Actor,
        permission: Permission,
        action: &str,
        store: Option<&StoreCode>,
    ) -> Result<(), Refusal> {
        if permission.allows(actor) {
            return Ok(());
        }
        let why = if actor.role < permission.min_role() { "role" } else { "scope" };
        tracing::info!(action, actor = %actor.who(), permission = permission.as_str(), why, "access denied");
        let details = Details::error("forbidden").text("permission", permission.as_str()).text("missing", why);
        self.auditor.denied(actor, action, store, details).await;
        Err(Refusal::Forbidden)
    }

    /// The store `code`, when `actor` has `permission` and the store is in its scope. A store
    /// outside the scope is [`Refusal::StoreNotFound`], exactly like a missing one.
    pub(crate) async fn store(
        &self,
        actor: &Actor,
        permission: Permission,
        action: &str,
        code: &StoreCode,
    ) -> Result<Store, Refusal> {
        self.permit_on(actor, permission, action, Some(code)).await?;
        match self.stores.get(code).await {
            Ok(Some(store)) if actor.scope.allows(store.group.as_ref()) => Ok(store),
            Ok(_) => Err(Refusal::StoreNotFound),
            Err(e) => Err(Refusal::Storage(e)),
        }
    }

    /// `Ok` when `actor` may put a store in `group` (`None`: no group): a scoped actor only in
    /// one of its groups. Otherwise a `DENIED` row and [`Refusal::Forbidden`].
    pub(crate) async fn group(
        &self,
        actor: &Actor,
        action: &str,
        store: Option<&StoreCode>,
        group: Option<&StoreGroup>,
    ) -> Result<(), Refusal> {
        if actor.scope.allows(group) {
            return Ok(());
        }
        let details =
            Details::error("forbidden").text("missing", "scope").text("storeGroup", group.map_or("", |g| g.as_str()));
        self.auditor.denied(actor, action, store, details).await;
        Err(Refusal::Forbidden)
    }

    /// The audit writer (for use cases that refuse on their own terms, e.g. a role above the
    /// actor's).
    pub(crate) fn auditor(&self) -> &Auditor {
        &self.auditor
    }
}

#[cfg(test)]
mod tests {
    use hub_domain::{StoreGroup, StoreScope};

    use super::*;

    fn actor(role: Role, scoped: bool) -> Actor {
        let scope =
            if scoped { StoreScope::groups(vec![StoreGroup::parse("north").unwrap()]) } else { StoreScope::All };
        Actor { role, scope, ..Actor::cli() }
    }

    /// The whole permission table: role × scope → allowed.
    #[test]
    fn permission_table() {
        use Permission as P;
        // (permission, viewer, operator, admin, scoped operator, scoped admin)
        let table = [
            (P::Read, [true, true, true, true, true]),
            (P::ReadChainWide, [true, true, true, false, false]),
            (P::ManageStores, [false, true, true, true, true]),
            (P::RunSyncs, [false, true, true, true, true]),
            (P::RunChainWideSyncs, [false, true, true, false, false]),
            (P::ManageKeys, [false, true, true, true, true]),
            (P::ManageUsers, [false, false, true, false, true]),
            (P::ManageWebhooks, [false, false, true, false, false]),
        ];
        assert_eq!(table.len(), Permission::ALL.len());
        for (p, want) in table {
            let actors = [
                actor(Role::Viewer, false),
                actor(Role::Operator, false),
                actor(Role::Admin, false),
                actor(Role::Operator, true),
                actor(Role::Admin, true),
            ];
            let got: Vec<bool> = actors.iter().map(|a| p.allows(a)).collect();
            assert_eq!(got, want, "{p:?}");
        }
    }
}
