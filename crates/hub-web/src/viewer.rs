//! Who is looking: the signed-in person (the engine's [`Actor`] of their session), and the
//! form token of their session. Every page takes a [`Viewer`]; the navigation, buttons and
//! forms it shows follow the engine's own rules ([`Permission::allows`]), and the use cases
//! check the same again.

use hub_engine::{Actor, Permission};

/// The signed-in person.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub actor: Actor,
    /// Shown in the header (an email).
    pub name: String,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    /// The report time zone's name, shown once per page.
    pub tz_name: String,
}

impl Viewer {
    /// Whether the person has `permission` (role and scope).
    pub fn may(&self, permission: Permission) -> bool {
        permission.allows(&self.actor)
    }

    /// Create and edit stores, issue connect links, sync a store.
    pub fn can_operate(&self) -> bool {
        self.may(Permission::ManageStores)
    }

    /// Numbers over every store (the sync page, last night's run): unscoped people only.
    pub fn chain_wide(&self) -> bool {
        self.may(Permission::ReadChainWide)
    }

    /// Run a sync of every store.
    pub fn can_run_chain(&self) -> bool {
        self.may(Permission::RunChainWideSyncs)
    }

    /// The audit log and the people.
    pub fn can_admin(&self) -> bool {
        self.may(Permission::ManageUsers)
    }

    /// `viewer`, `operator` or `admin`, and the groups of a scoped person.
    pub fn role_label(&self) -> String {
        match self.actor.scope.names() {
            Some(groups) => format!("{} of {}", self.actor.role.as_str(), groups.join(", ")),
            None => self.actor.role.as_str().to_owned(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use hub_domain::{Principal, Role, StoreGroup, StoreScope, UserId};

    /// A signed-in person of `role` over every store, for the view tests.
    pub(crate) fn viewer(role: Role) -> Viewer {
        Viewer {
            actor: Actor {
                principal: Principal::User {
                    id: UserId(7),
                    email: hub_domain::Email::parse("ann@example.com").unwrap(),
                },
                role,
                scope: StoreScope::All,
                request_id: None,
                ip: None,
            },
            name: "ann@example.com".into(),
            csrf: "tok-123".into(),
            tz_name: "Asia/Jakarta".into(),
        }
    }

    /// The same, limited to the group `west`.
    pub(crate) fn scoped(role: Role) -> Viewer {
        let mut v = viewer(role);
        v.actor.scope = StoreScope::groups(vec![StoreGroup::parse_field("west", "store_group").unwrap()]);
        v
    }

    #[test]
    fn what_each_role_and_scope_may_do() {
        let (admin, op, view) = (viewer(Role::Admin), viewer(Role::Operator), viewer(Role::Viewer));
        assert!(admin.can_operate() && admin.can_admin() && admin.chain_wide());
        assert!(op.can_operate() && op.can_run_chain() && !op.can_admin());
        assert!(!view.can_operate() && !view.can_run_chain() && view.chain_wide());
        let west = scoped(Role::Operator);
        assert!(west.can_operate(), "operators manage their own stores");
        assert!(!west.chain_wide() && !west.can_run_chain(), "but not numbers or syncs over every store");
        assert_eq!(west.role_label(), "operator of west");
    }
}
