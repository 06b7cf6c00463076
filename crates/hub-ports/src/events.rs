//! TikTok's webhook events: stored once, with their effect, in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_domain::{NewAuditEntry, RevokeReason, StoreCode, TikTokEvent};

use crate::RepoResult;

/// What recording an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// The event had been recorded before (a redelivery): nothing was changed.
    pub duplicate: bool,
    /// The store whose account was marked revoked (`authorization.removed` only).
    pub revoked_store: Option<StoreCode>,
}

/// A removed authorization to apply with the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deauthorization {
    pub open_id: String,
    pub reason: RevokeReason,
    pub at: DateTime<Utc>,
    /// Written (with the store's code filled in) only when an account was changed.
    pub audit: NewAuditEntry,
}

/// TikTok's webhook events.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait TikTokEventRepo: Send + Sync {
    /// In one transaction: stores `event` unless its dedupe key is known (then nothing else
    /// happens: `duplicate`); with `deauthorization`, the account of its `open_id` that is not
    /// `DISCONNECTED` becomes `NEED_RECONNECT` / `REVOKED` with TikTok's reason, its tokens
    /// (dead now) are wiped, and the audit row is written for its store.
    async fn record(&self, event: &TikTokEvent, deauthorization: Option<Deauthorization>) -> RepoResult<RecordedEvent>;
}
