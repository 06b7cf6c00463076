//! The repository of a store's life after creation: disconnect, archive, restore, revoked
//! connect links, and the grants still to revoke at TikTok.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_domain::{NewAuditEntry, PendingRevocation, StoreCode};

use crate::RepoResult;

/// What a disconnect or an archive changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retired {
    /// The grant to revoke at TikTok, when the account held tokens (now only here).
    pub pending: Option<PendingRevocation>,
    /// The account's status changed to `DISCONNECTED` (it was something else).
    pub disconnected: bool,
    /// The store became archived (archives only; it was not already).
    pub archived: bool,
    /// Unused connect links revoked (archives only).
    pub links_revoked: u64,
}

/// A store's lifecycle changes. Every change writes its audit row in the same transaction.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait LifecycleRepo: Send + Sync {
    /// In one transaction: moves the account's ciphertexts (when it holds any) into a pending
    /// revocation due at `now`, wipes them from the account, sets it `DISCONNECTED`; when
    /// `archive`, also sets the store's `archived_at` (kept when already set) and revokes its
    /// unused connect links; writes `audit`. [`crate::RepoError::NotFound`] without the store.
    async fn retire(
        &self,
        code: &StoreCode,
        archive: bool,
        now: DateTime<Utc>,
        audit: &NewAuditEntry,
    ) -> RepoResult<Retired>;
    /// Clears the store's `archived_at` and writes `audit`; `Ok(false)` when it was not
    /// archived. [`crate::RepoError::NotFound`] without the store.
    async fn restore(&self, code: &StoreCode, audit: &NewAuditEntry) -> RepoResult<bool>;
    /// Revokes every unused connect link of the store (expired at `now`) and writes `audit`;
    /// returns how many were revoked.
    async fn revoke_invites(&self, code: &StoreCode, now: DateTime<Utc>, audit: &NewAuditEntry) -> RepoResult<u64>;
    /// Up to `limit` pending revocations due at `now`, oldest due first.
    async fn due_revocations(&self, now: DateTime<Utc>, limit: i64) -> RepoResult<Vec<PendingRevocation>>;
    /// The grant is revoked (or dead): deletes the row and its ciphertexts.
    async fn revocation_done(&self, id: i64) -> RepoResult<()>;
    /// Records a failed attempt (`error` is a short reason, never a token) and when to retry.
    async fn revocation_failed(&self, id: i64, error: &str, next_attempt_at: DateTime<Utc>) -> RepoResult<()>;
}
