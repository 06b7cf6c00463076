//! The people service: its parts, its errors, and the rule that nobody grants more than they
//! have.

use std::sync::Arc;

use hub_domain::{Actor, DomainError, Role, StoreScope};
use hub_ports::{ApiKeyRepo, Clock, RepoError, SessionRepo, StoreRepo, UserRepo};

use crate::access::{Access, Refusal};
use crate::audit::{Auditor, Details};
use crate::people::password::{HashError, Hasher, PasswordParams};

/// Sessions' lifetimes and the hashing parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeopleConfig {
    /// A session unused this long ends (`SESSION_IDLE_MINUTES`, 8 h).
    pub session_idle: std::time::Duration,
    /// A session ends this long after sign-in, used or not (`SESSION_ABSOLUTE_HOURS`, 7 days).
    pub session_absolute: std::time::Duration,
    pub password: PasswordParams,
}

impl Default for PeopleConfig {
    fn default() -> Self {
        Self {
            session_idle: std::time::Duration::from_secs(8 * 3600),
            session_absolute: std::time::Duration::from_secs(7 * 24 * 3600),
            password: PasswordParams::OWASP,
        }
    }
}

/// Why a people use case failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeopleError {
    /// A value is invalid (the error names the field): a weak password, groups that do not
    /// exist, nothing to change.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The actor's role or scope does not allow it, or it would grant more than the actor has
    /// (a `DENIED` row was written).
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("User not found")]
    UserNotFound,
    #[error("API key not found")]
    KeyNotFound,
    #[error("A user with this email already exists")]
    EmailTaken,
    /// The change would leave the hub without an active admin user.
    #[error("The hub always keeps one active admin: make another user admin first")]
    LastAdmin,
    /// No session (sign-out without one).
    #[error("No session to end")]
    NoSession,
    #[error(transparent)]
    Hashing(#[from] HashError),
    #[error(transparent)]
    Storage(RepoError),
}

impl PeopleError {
    /// The reason an audit row names.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid",
            Self::Forbidden(_) => "forbidden",
            Self::UserNotFound => "user_not_found",
            Self::KeyNotFound => "key_not_found",
            Self::EmailTaken => "email_taken",
            Self::LastAdmin => "last_admin",
            Self::NoSession => "no_session",
            Self::Hashing(_) => "hashing",
            Self::Storage(_) => "storage",
        }
    }
}

pub(crate) const NOT_ALLOWED: &str = "Your role or store groups do not allow this";

impl From<RepoError> for PeopleError {
    fn from(e: RepoError) -> Self {
        Self::Storage(e)
    }
}

impl From<Refusal> for PeopleError {
    fn from(e: Refusal) -> Self {
        match e {
            Refusal::Forbidden => Self::Forbidden(NOT_ALLOWED),
            // No use case of this service names a store.
            Refusal::StoreNotFound => Self::Storage(RepoError::NotFound),
            Refusal::Storage(e) => Self::Storage(e),
        }
    }
}

/// Why a credential was refused. The answer is the same whatever the reason (an unknown
/// email, a wrong password, a revoked key): the reason is logged and audited only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("invalid credentials")]
    Invalid,
    #[error(transparent)]
    Storage(RepoError),
    #[error(transparent)]
    Hashing(HashError),
}

impl From<RepoError> for AuthError {
    fn from(e: RepoError) -> Self {
        Self::Storage(e)
    }
}

/// Users, sessions and personal API keys.
pub struct People {
    pub(super) users: Arc<dyn UserRepo>,
    pub(super) sessions: Arc<dyn SessionRepo>,
    pub(super) keys: Arc<dyn ApiKeyRepo>,
    pub(super) stores: Arc<dyn StoreRepo>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) access: Access,
    pub(super) auditor: Auditor,
    pub(super) hasher: Hasher,
    pub(super) config: PeopleConfig,
}

/// A chrono duration of a std one (saturating at a century).
pub(super) fn chrono(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(36_500))
}

impl People {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        users: Arc<dyn UserRepo>,
        sessions: Arc<dyn SessionRepo>,
        keys: Arc<dyn ApiKeyRepo>,
        stores: Arc<dyn StoreRepo>,
        clock: Arc<dyn Clock>,
        access: Access,
        config: PeopleConfig,
    ) -> Self {
        Self {
            users,
            sessions,
            keys,
            stores,
            clock,
            auditor: access.auditor().clone(),
            access,
            hasher: Hasher::new(config.password),
            config,
        }
    }

    /// Prepares the hashing of unknown sign-ins (call once at start-up; optional).
    pub async fn warm_up(&self) -> Result<(), HashError> {
        self.hasher.warm_up().await
    }

    /// Nobody grants more than they have: a role above `actor`'s, or stores outside its scope,
    /// is refused with a `DENIED` row for `action`. Groups must exist (a group exists while a
    /// store is in it).
    pub(super) async fn may_grant(
        &self,
        actor: &Actor,
        action: &str,
        role: Role,
        scope: &StoreScope,
    ) -> Result<(), PeopleError> {
        let why = if role > actor.role {
            Some(("role", "You cannot grant a role above your own"))
        } else if !actor.scope.covers(scope) {
            Some(("scope", "You cannot grant store groups outside your own"))
        } else {
            None
        };
        if let Some((missing, message)) = why {
            let details = Details::error("forbidden").text("missing", missing).text("role", role.as_str());
            self.auditor.denied(actor, action, None, details).await;
            return Err(PeopleError::Forbidden(message));
        }
        if let StoreScope::Groups(groups) = scope {
            let existing = self.stores.existing_groups(groups).await?;
            if groups.iter().any(|g| !existing.contains(g)) {
                return Err(
                    DomainError::invalid("store_groups", "must name groups that have at least one store").into()
                );
            }
        }
        Ok(())
    }

    /// Writes the `FAILURE` row of a refused change (a forbidden one has its `DENIED` row).
    pub(super) async fn refused(&self, actor: &Actor, action: &str, target: Option<String>, e: &PeopleError) {
        if !matches!(e, PeopleError::Forbidden(_)) {
            self.auditor.refused(actor, action, None, target, Details::error(e.reason())).await;
        }
    }
}
