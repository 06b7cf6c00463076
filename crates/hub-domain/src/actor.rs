//! Who asks: the principal behind a request or job, its role and its store scope. Every use
//! case takes an [`Actor`], decides with it (the engine's access rules) and names it in the
//! audit rows it writes.

use crate::audit::{ActorKind, AuditOutcome, NewAuditEntry};
use crate::group::StoreScope;
use crate::people::{ApiKeyId, Email, UserId};
use crate::role::Role;
use crate::store::StoreCode;

/// Whose credentials a request carries (or which internal caller runs a use case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// One of the configured `ADMIN_API_KEY`s: `key:<12 hex of its SHA-256>`.
    BreakGlass { fingerprint: String },
    /// A person signed in with a session.
    User { id: UserId, email: Email },
    /// A personal API key: its name and fingerprint, and the person it belongs to.
    ApiKey { id: ApiKeyId, name: String, fingerprint: String, owner: Option<UserId> },
    /// The scheduler and other internal callers.
    System,
    /// The command line (`tiktok-hub sync`, `user …`).
    Cli,
    /// Store staff completing a connect link (the OAuth callback).
    StoreStaff,
    /// Nobody identified (a failed sign-in with an unknown address).
    Anonymous,
}

/// The caller of a use case: principal, role, store scope, and where the request came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub principal: Principal,
    pub role: Role,
    pub scope: StoreScope,
    pub request_id: Option<String>,
    pub ip: Option<String>,
}

impl Actor {
    fn internal(principal: Principal) -> Self {
        Self { principal, role: Role::Admin, scope: StoreScope::All, request_id: None, ip: None }
    }

    /// The scheduler or another internal caller: admin over every store.
    pub fn system() -> Self {
        Self::internal(Principal::System)
    }

    /// The command line: admin over every store.
    pub fn cli() -> Self {
        Self::internal(Principal::Cli)
    }

    /// Store staff in the connect flow (their only right is the connect link they hold).
    pub fn store_staff(request_id: Option<String>, ip: Option<String>) -> Self {
        Self { principal: Principal::StoreStaff, role: Role::Viewer, scope: StoreScope::All, request_id, ip }
    }

    /// The break-glass admin key, named by its fingerprint (`key:<12 hex>`).
    pub fn break_glass(fingerprint: String, request_id: Option<String>, ip: Option<String>) -> Self {
        Self {
            principal: Principal::BreakGlass { fingerprint },
            role: Role::Admin,
            scope: StoreScope::All,
            request_id,
            ip,
        }
    }

    /// Someone not (yet) identified, from `ip`.
    pub fn anonymous(request_id: Option<String>, ip: Option<String>) -> Self {
        Self {
            principal: Principal::Anonymous,
            role: Role::Viewer,
            scope: StoreScope::groups(Vec::new()),
            request_id,
            ip,
        }
    }

    /// The same caller with the request's id and address.
    #[must_use]
    pub fn from_request(mut self, request_id: Option<String>, ip: Option<String>) -> Self {
        self.request_id = request_id;
        self.ip = ip;
        self
    }

    /// The kind of principal, as audit rows store it.
    pub fn kind(&self) -> ActorKind {
        match self.principal {
            Principal::BreakGlass { .. } => ActorKind::BreakGlass,
            Principal::User { .. } => ActorKind::User,
            Principal::ApiKey { .. } => ActorKind::ApiKey,
            Principal::System => ActorKind::System,
            Principal::Cli => ActorKind::Cli,
            Principal::StoreStaff => ActorKind::StoreStaff,
            Principal::Anonymous => ActorKind::Anonymous,
        }
    }

    /// The short text naming the actor in the audit trail's `actor` column and its filter:
    /// `key:<fingerprint>` (break-glass key), `user:<id>`, `apikey:<fingerprint>`, `system`,
    /// `cli`, `store-staff`, `anonymous`. Never a secret.
    pub fn who(&self) -> String {
        match &self.principal {
            Principal::BreakGlass { fingerprint } => fingerprint.clone(),
            Principal::User { id, .. } => format!("user:{}", id.0),
            Principal::ApiKey { fingerprint, .. } => format!("apikey:{fingerprint}"),
            Principal::System => "system".into(),
            Principal::Cli => "cli".into(),
            Principal::StoreStaff => "store-staff".into(),
            Principal::Anonymous => "anonymous".into(),
        }
    }

    /// The id an audit row stores: the user's or the key's.
    pub fn actor_id(&self) -> Option<i64> {
        match &self.principal {
            Principal::User { id, .. } => Some(id.0),
            Principal::ApiKey { id, .. } => Some(id.0),
            _ => None,
        }
    }

    /// The name an audit row stores: the user's email, the key's name, or the break-glass
    /// key's fingerprint.
    pub fn actor_name(&self) -> Option<String> {
        match &self.principal {
            Principal::User { email, .. } => Some(email.to_string()),
            Principal::ApiKey { name, .. } => Some(name.clone()),
            Principal::BreakGlass { fingerprint } => Some(fingerprint.clone()),
            _ => None,
        }
    }

    /// The person behind the actor: the signed-in user, or the owner of the key.
    pub fn person(&self) -> Option<UserId> {
        match &self.principal {
            Principal::User { id, .. } => Some(*id),
            Principal::ApiKey { owner, .. } => *owner,
            _ => None,
        }
    }

    /// An audit row for `action` by this actor.
    pub fn audit(
        &self,
        action: &str,
        store_code: Option<&StoreCode>,
        target: Option<String>,
        outcome: AuditOutcome,
        details: Option<String>,
    ) -> NewAuditEntry {
        NewAuditEntry {
            actor: self.who(),
            actor_kind: self.kind(),
            actor_id: self.actor_id(),
            actor_name: self.actor_name(),
            action: action.to_owned(),
            store_code: store_code.cloned(),
            target,
            outcome,
            request_id: self.request_id.clone(),
            ip: self.ip.clone(),
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_actor_is_named_without_secrets() {
        let email = Email::parse("ops@example.com").unwrap();
        let cases = [
            (
                Actor::break_glass("key:0123456789ab".into(), None, None),
                "key:0123456789ab",
                None,
                Some("key:0123456789ab"),
            ),
            (
                Actor { principal: Principal::User { id: UserId(7), email }, ..Actor::system() },
                "user:7",
                Some(7),
                Some("ops@example.com"),
            ),
            (
                Actor {
                    principal: Principal::ApiKey {
                        id: ApiKeyId(3),
                        name: "BI export".into(),
                        fingerprint: "abcdef012345".into(),
                        owner: Some(UserId(7)),
                    },
                    ..Actor::system()
                },
                "apikey:abcdef012345",
                Some(3),
                Some("BI export"),
            ),
            (Actor::system(), "system", None, None),
            (Actor::cli(), "cli", None, None),
            (Actor::store_staff(None, None), "store-staff", None, None),
        ];
        for (actor, who, id, name) in cases {
            let row = actor.audit("x.y", None, None, AuditOutcome::Success, None);
            assert_eq!((row.actor.as_str(), row.actor_id, row.actor_name.as_deref()), (who, id, name));
            assert_eq!(row.actor_kind, actor.kind());
        }
        assert_eq!(Actor::cli().role, Role::Admin);
        assert!(Actor::system().scope.is_all());
    }
}
