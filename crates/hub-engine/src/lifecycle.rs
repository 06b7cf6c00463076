//! A store's life after creation: disconnect it (revoking the grant at TikTok), archive and
//! restore it, revoke its connect links, and retry the revocations TikTok did not confirm.
//!
//! Tokens never outlive a disconnect in the account row: the repository moves the
//! ciphertexts into a pending revocation in the same transaction that wipes them, then this
//! service calls TikTok's revoke. A confirmed (or pointless) revoke deletes the row; a failed
//! one stays, still encrypted, for [`Lifecycle::retry_revocations`] (the scheduler's sweep).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hub_domain::{
    Actor, AuditOutcome, PendingRevocation, REVOKE_GIVE_UP_AFTER, StoreCode, StoreOverview, TikTokEvent,
    TikTokEventKind, revoke_retry_delay,
};
use hub_ports::{
    Clock, Deauthorization, LifecycleRepo, RecordedEvent, RepoError, Retired, StoreRepo, TikTokApi, TikTokError,
    TikTokEventRepo, TokenCipher,
};

use crate::access::{Access, Permission, Refusal};
use crate::audit::{Auditor, Details};
use crate::cipher::{TokenKind, binding};
use crate::pages::{PAGE, Pages, keyset};

/// Why a lifecycle change failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("Store not found")]
    StoreNotFound,
    /// The actor's role or store scope does not allow it (a `DENIED` row was written).
    #[error("Your role or store groups do not allow this")]
    Forbidden,
    #[error(transparent)]
    Storage(RepoError),
}

impl LifecycleError {
    /// The reason an audit row names.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::StoreNotFound => "store_not_found",
            Self::Forbidden => "forbidden",
            Self::Storage(_) => "storage",
        }
    }
}

impl From<RepoError> for LifecycleError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => Self::StoreNotFound,
            e => Self::Storage(e),
        }
    }
}

impl From<Refusal> for LifecycleError {
    fn from(e: Refusal) -> Self {
        match e {
            Refusal::Forbidden => Self::Forbidden,
            Refusal::StoreNotFound => Self::StoreNotFound,
            Refusal::Storage(e) => Self::Storage(e),
        }
    }
}

/// What happened at TikTok to a grant the hub gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// The store held no tokens: nothing to revoke.
    NothingToRevoke,
    /// TikTok confirmed the revoke (or the grant was already dead).
    Revoked,
    /// TikTok could not be reached or refused for now; the scheduler retries.
    Pending,
}

impl RevokeOutcome {
    /// The word the API and the audit row show.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NothingToRevoke => "none",
            Self::Revoked => "revoked",
            Self::Pending => "pending",
        }
    }
}

/// The store after a lifecycle change, and what the change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleChange {
    pub store: StoreOverview,
    /// The change altered something (false: it had already been made).
    pub changed: bool,
    pub revoke: RevokeOutcome,
    /// Connect links revoked by the change.
    pub links_revoked: u64,
}

/// Revocations retried by one sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RevokeSweep {
    pub revoked: usize,
    pub pending: usize,
    pub abandoned: usize,
}

/// The lifecycle use cases.
pub struct Lifecycle {
    stores: Arc<dyn StoreRepo>,
    repo: Arc<dyn LifecycleRepo>,
    events: Arc<dyn TikTokEventRepo>,
    tiktok: Arc<dyn TikTokApi>,
    cipher: Arc<dyn TokenCipher>,
    clock: Arc<dyn Clock>,
    access: Access,
    auditor: Auditor,
}

impl Lifecycle {
    pub(crate) fn new(ports: &crate::ports::Ports, access: Access) -> Self {
        Self {
            stores: Arc::clone(&ports.stores),
            repo: Arc::clone(&ports.lifecycle),
            events: Arc::clone(&ports.events),
            tiktok: Arc::clone(&ports.tiktok),
            cipher: Arc::clone(&ports.cipher),
            clock: Arc::clone(&ports.clock),
            auditor: access.auditor().clone(),
            access,
        }
    }

    /// Runs `change`; when it fails (other than `Forbidden`, which has its `DENIED` row),
    /// writes one `FAILURE` row for `action` naming why.
    async fn audited<T>(
        &self,
        actor: &Actor,
        action: &str,
        code: &StoreCode,
        change: impl Future<Output = Result<T, LifecycleError>>,
    ) -> Result<T, LifecycleError> {
        let result = change.await;
        if let Err(e) = &result
            && *e != LifecycleError::Forbidden
        {
            self.auditor.refused(actor, action, Some(code), None, Details::error(e.reason())).await;
        }
        result
    }

    /// Disconnects the store (operator; a store in the actor's scope): its grant is revoked at
    /// TikTok, its tokens wiped, its status `DISCONNECTED`; history stays. Idempotent;
    /// audited (`store.disconnect`).
    pub async fn disconnect(&self, actor: &Actor, code: &StoreCode) -> Result<LifecycleChange, LifecycleError> {
        self.audited(actor, "store.disconnect", code, self.retire(actor, code, false)).await
    }

    /// Archives the store (operator; a store in the actor's scope): it is disconnected as
    /// above, its unused connect links revoked, and it leaves lists, syncs and reports until
    /// restored. Idempotent; audited (`store.archive`).
    pub async fn archive(&self, actor: &Actor, code: &StoreCode) -> Result<LifecycleChange, LifecycleError> {
        self.audited(actor, "store.archive", code, self.retire(actor, code, true)).await
    }

    async fn retire(&self, actor: &Actor, code: &StoreCode, archive: bool) -> Result<LifecycleChange, LifecycleError> {
        let action = if archive { "store.archive" } else { "store.disconnect" };
        self.access.store(actor, Permission::ManageStores, action, code).await?;
        let now = self.clock.now();
        let audit = actor.audit(action, Some(code), None, AuditOutcome::Success, None);
        let Retired { pending, disconnected, archived, links_revoked } =
            self.repo.retire(code, archive, now, &audit).await?;
        let revoke = match pending {
            Some(p) => self.revoke(&p, now).await,
            None => RevokeOutcome::NothingToRevoke,
        };
        let changed = disconnected || archived || links_revoked > 0 || revoke != RevokeOutcome::NothingToRevoke;
        tracing::info!(store.code = %code, action, changed, revoke = revoke.as_str(), "store retired");
        let store = self.stores.overview(code).await?.ok_or(LifecycleError::StoreNotFound)?;
        Ok(LifecycleChange { store, changed, revoke, links_revoked })
    }

    /// Brings an archived store back into lists, syncs and reports (operator; it stays
    /// disconnected until someone reconnects it). Idempotent; audited (`store.restore`).
    pub async fn restore(&self, actor: &Actor, code: &StoreCode) -> Result<LifecycleChange, LifecycleError> {
        let change = async {
            self.access.store(actor, Permission::ManageStores, "store.restore", code).await?;
            let audit = actor.audit("store.restore", Some(code), None, AuditOutcome::Success, None);
            let changed = self.repo.restore(code, &audit).await?;
            tracing::info!(store.code = %code, changed, "store restored");
            let store = self.stores.overview(code).await?.ok_or(LifecycleError::StoreNotFound)?;
            Ok(LifecycleChange { store, changed, revoke: RevokeOutcome::NothingToRevoke, links_revoked: 0 })
        };
        self.audited(actor, "store.restore", code, change).await
    }

    /// Revokes every unused connect link of the store (operator); returns how many.
    /// Idempotent; audited (`connect_link.revoke`).
    pub async fn revoke_links(&self, actor: &Actor, code: &StoreCode) -> Result<u64, LifecycleError> {
        let change = async {
            self.access.store(actor, Permission::ManageStores, "connect_link.revoke", code).await?;
            let audit = actor.audit("connect_link.revoke", Some(code), None, AuditOutcome::Success, None);
            let n = self.repo.revoke_invites(code, self.clock.now(), &audit).await?;
            tracing::info!(store.code = %code, revoked = n, "connect links revoked");
            Ok(n)
        };
        self.audited(actor, "connect_link.revoke", code, change).await
    }

    /// Every store the actor may see, archived ones included, by code, in pages
    /// (`?include=archived`).
    pub async fn all_stores(
        &self,
        actor: &Actor,
    ) -> Result<Pages<StoreOverview, crate::AdminError>, crate::AdminError> {
        self.access.permit(actor, Permission::Read, "store.list").await?;
        let (stores, scope) = (Arc::clone(&self.stores), actor.scope.clone());
        Ok(keyset(
            PAGE,
            move |after, limit| {
                let (stores, scope) = (Arc::clone(&stores), scope.clone());
                async move { stores.all_stores_page_in(&scope, after, limit).await }
            },
            |o: &StoreOverview| o.store.code.clone(),
        ))
    }

    /// Applies one verified TikTok webhook event, once (a redelivery changes nothing):
    /// `authorization.removed` marks the account `NEED_RECONNECT` / `REVOKED` with TikTok's
    /// reason, wipes its (dead) tokens and writes an audit row (`account.revoked`, by
    /// `system`); other events are stored and logged.
    pub async fn tiktok_event(&self, event: &TikTokEvent) -> Result<RecordedEvent, RepoError> {
        let deauthorization = match (event.kind, &event.user_openid) {
            (TikTokEventKind::AuthorizationRemoved(reason), Some(open_id)) => {
                let details = Details::default()
                    .text("event", &event.event)
                    .text("reason", reason.as_str())
                    .number("reasonCode", reason.code());
                Some(Deauthorization {
                    open_id: open_id.clone(),
                    reason,
                    at: self.clock.now(),
                    audit: Actor::system().audit(
                        "account.revoked",
                        None,
                        Some(open_id.clone()),
                        AuditOutcome::Success,
                        Some(details.build()),
                    ),
                })
            }
            _ => None,
        };
        let reason = deauthorization.as_ref().map(|d| d.reason);
        let recorded = self.events.record(event, deauthorization).await?;
        match (&recorded.revoked_store, reason) {
            (Some(code), Some(reason)) => {
                tracing::warn!(store.code = %code, reason = reason.as_str(), "TikTok removed a store's authorization")
            }
            _ => tracing::info!(event = %event.event, duplicate = recorded.duplicate, "TikTok event received"),
        }
        Ok(recorded)
    }

    /// Retries the revocations that are due (the scheduler's sweep).
    pub async fn retry_revocations(&self) -> Result<RevokeSweep, RepoError> {
        let now = self.clock.now();
        let mut sweep = RevokeSweep::default();
        for p in self.repo.due_revocations(now, 100).await? {
            if now - p.created_at > REVOKE_GIVE_UP_AFTER {
                tracing::error!(store.code = %p.store_code, attempts = p.attempts, "revocation abandoned; ciphertexts dropped");
                self.repo.revocation_done(p.id).await?;
                sweep.abandoned += 1;
                continue;
            }
            match self.revoke(&p, now).await {
                RevokeOutcome::Pending => sweep.pending += 1,
                _ => sweep.revoked += 1,
            }
        }
        Ok(sweep)
    }

    /// One attempt at TikTok's revoke; the pending row is deleted or rescheduled.
    async fn revoke(&self, p: &PendingRevocation, now: DateTime<Utc>) -> RevokeOutcome {
        let outcome = match self.cipher.decrypt(&p.tokens.access, &binding(p.store_code.as_str(), TokenKind::Access)) {
            // A ciphertext no key opens can never be revoked by this hub: drop it.
            Err(e) => {
                tracing::error!(store.code = %p.store_code, error = %e, "pending revocation undecryptable; dropped");
                Ok(())
            }
            Ok(token) => match self.tiktok.revoke(&token).await {
                Ok(()) => Ok(()),
                // The token no longer works: the grant is already dead (or only its refresh
                // token, dropped with this row, could still renew it).
                Err(TikTokError::AccessTokenInvalid | TikTokError::InvalidGrant { .. }) => Ok(()),
                Err(e) => Err(e),
            },
        };
        let result = match outcome {
            Ok(()) => self.repo.revocation_done(p.id).await.map(|()| RevokeOutcome::Revoked),
            Err(e) => {
                let next = now + revoke_retry_delay(p.attempts + 1);
                tracing::warn!(store.code = %p.store_code, error = %e, attempts = p.attempts + 1, "TikTok revoke failed; will retry");
                self.repo.revocation_failed(p.id, e.reason(), next).await.map(|()| RevokeOutcome::Pending)
            }
        };
        result.unwrap_or_else(|e| {
            tracing::error!(store.code = %p.store_code, error = %e, "could not record the revocation's outcome");
            RevokeOutcome::Pending
        })
    }
}
