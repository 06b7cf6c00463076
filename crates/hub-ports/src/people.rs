//! The people ports: users, their sessions and personal API keys. Secrets never cross here:
//! sessions and keys are found by the SHA-256 of their token, passwords travel as argon2id
//! PHC strings.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_domain::{
    ApiKey, ApiKeyId, Email, NewApiKey, NewAuditEntry, NewSession, NewUser, Secret, Session, User, UserChange,
    UserCredentials, UserId,
};

use crate::RepoResult;

/// What [`UserRepo::update`] refuses with [`crate::RepoError::Conflict`] when a change would leave
/// the hub without an active admin user while it had one.
pub const LAST_ADMIN: &str = "last_admin";

/// Users.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Creates a user and writes `audit` in the same transaction. [`crate::RepoError::Conflict`]
    /// when the email is taken (whatever its case).
    async fn create(&self, user: &NewUser, audit: &NewAuditEntry) -> RepoResult<User>;
    /// A user by id.
    async fn get(&self, id: UserId) -> RepoResult<Option<User>>;
    /// A user and their password hash, by email.
    async fn credentials(&self, email: &Email) -> RepoResult<Option<UserCredentials>>;
    /// Every user (only `only` when given), by id.
    async fn list(&self, only: Option<UserId>) -> RepoResult<Vec<User>>;
    /// Applies `change` and writes `audit`, in one transaction; when the change ends the user's
    /// sessions (a new password, disabled) they are deleted in it too. A change that would leave
    /// no active admin while there was one is refused with `Conflict(LAST_ADMIN)`, checked with
    /// the active admins locked, so two concurrent demotions cannot both pass.
    /// [`crate::RepoError::NotFound`] for an unknown user.
    async fn update(&self, id: UserId, change: &UserChange, audit: &NewAuditEntry) -> RepoResult<User>;
    /// Replaces the password hash without an audit row or ending sessions (a rehash at sign-in
    /// under new parameters: the password is the same).
    async fn rehash(&self, id: UserId, password_hash: &Secret<String>) -> RepoResult<()>;
    /// Records a sign-in: `last_login_at`, the new session and `audit`, in one transaction.
    async fn record_login(&self, session: &NewSession, audit: &NewAuditEntry) -> RepoResult<()>;
}

/// Sessions of signed-in users.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SessionRepo: Send + Sync {
    /// The session whose token has this SHA-256, with its user.
    async fn find(&self, token_hash: &str) -> RepoResult<Option<Session>>;
    /// Moves the session's `last_seen_at` to `at`.
    async fn touch(&self, id: i64, at: DateTime<Utc>) -> RepoResult<()>;
    /// Deletes the session (sign-out) and writes `audit`, in one transaction; `false` when there
    /// was none.
    async fn delete(&self, token_hash: &str, audit: &NewAuditEntry) -> RepoResult<bool>;
    /// Deletes sessions past their absolute end at `now` or unused since `idle_before`.
    async fn purge(&self, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> RepoResult<u64>;
}

/// A personal API key with the person it belongs to (for their current role and state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyWithOwner {
    pub key: ApiKey,
    pub owner: Option<User>,
}

/// Personal API keys.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ApiKeyRepo: Send + Sync {
    /// Stores a key and writes `audit`, in one transaction.
    async fn create(&self, key: &NewApiKey, audit: &NewAuditEntry) -> RepoResult<ApiKey>;
    /// The key whose SHA-256 is `key_hash`, with its owner.
    async fn find(&self, key_hash: &str) -> RepoResult<Option<KeyWithOwner>>;
    /// A key by id.
    async fn get(&self, id: ApiKeyId) -> RepoResult<Option<ApiKey>>;
    /// Every key (of `owner` when given), newest first.
    async fn list(&self, owner: Option<UserId>) -> RepoResult<Vec<ApiKey>>;
    /// Revokes the key at `at` (if not revoked yet) and writes `audit`, in one transaction;
    /// `false` when it was already revoked.
    async fn revoke(&self, id: ApiKeyId, at: DateTime<Utc>, audit: &NewAuditEntry) -> RepoResult<bool>;
    /// Moves the key's `last_used_at` to `at`.
    async fn touch(&self, id: ApiKeyId, at: DateTime<Utc>) -> RepoResult<()>;
}
