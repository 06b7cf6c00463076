//! Ports: what the hub's core needs from the outside world.
//!
//! Every trait is object safe and `Send + Sync`, held as `Arc<dyn Trait>`. Adapters translate
//! their driver errors into [`RepoError`] at the seam; no driver type crosses it.
//! Mutations that an admin triggers take the [`NewAuditEntry`] to write with them: the
//! adapter writes both in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use hub_domain::{
    Account, AccountId, AuditEntry, AuditFilter, ConnectInvite, ConnectionStatus, EncryptedTokens, JobKind, KnownVideo,
    NewAuditEntry, NewConnectInvite, NewOAuthState, NewStore, NewSyncLog, OAuthState, RunCounts, RunStatus, RunTrigger,
    Store, StoreChange, StoreCode, StoreGroup, StoreOverview, StoreScope, SyncLog, SyncRun, TokenMeta, UserSnapshot,
    VideoSnapshot,
};

#[cfg(any(test, feature = "mock"))]
pub use mockall;

mod error;
mod events;
mod lifecycle;
mod limits;
mod notify;
mod people;
mod report;
mod retention;
mod tiktok;
mod webhooks;
pub use error::{RepoError, RepoResult};
#[cfg(any(test, feature = "mock"))]
pub use events::MockTikTokEventRepo;
pub use events::{Deauthorization, RecordedEvent, TikTokEventRepo};
#[cfg(any(test, feature = "mock"))]
pub use lifecycle::MockLifecycleRepo;
pub use lifecycle::{LifecycleRepo, Retired};
#[cfg(any(test, feature = "mock"))]
pub use limits::MockSharedLimits;
pub use limits::{LimitsUnavailable, Rate, SharedLimits, Taken};
#[cfg(any(test, feature = "mock"))]
pub use notify::MockWebhookRepo;
pub use notify::WebhookRepo;
pub use people::{ApiKeyRepo, KeyWithOwner, LAST_ADMIN, SessionRepo, UserRepo};
#[cfg(any(test, feature = "mock"))]
pub use people::{MockApiKeyRepo, MockSessionRepo, MockUserRepo};
#[cfg(any(test, feature = "mock"))]
pub use report::{MockReportRepo, MockStoreImportRepo};
pub use report::{ReportRepo, StoreImportRepo, VideoCursor};
#[cfg(any(test, feature = "mock"))]
pub use retention::MockRetentionRepo;
pub use retention::{Retained, RetentionRepo};
pub use tiktok::{CipherError, TikTokApi, TikTokError, TikTokUser, TikTokVideo, TokenCipher, TokenGrant, VideoPage};
#[cfg(any(test, feature = "mock"))]
pub use tiktok::{MockTikTokApi, MockTokenCipher};
#[cfg(any(test, feature = "mock"))]
pub use webhooks::MockWebhookSender;
pub use webhooks::{OutgoingWebhook, SendError, WebhookAnswer, WebhookSender};

/// Stores.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait StoreRepo: Send + Sync {
    /// Creates a store and writes `audit` in the same transaction.
    /// [`RepoError::Conflict`] when the code is taken (nothing is written then).
    async fn create(&self, store: &NewStore, audit: &NewAuditEntry) -> RepoResult<Store>;
    /// Applies `change` to the store and writes `audit`, in one transaction.
    /// [`RepoError::NotFound`] when the store does not exist.
    async fn update(&self, code: &StoreCode, change: &StoreChange, audit: &NewAuditEntry) -> RepoResult<Store>;
    /// The store, or `None`.
    async fn get(&self, code: &StoreCode) -> RepoResult<Option<Store>>;
    /// One store with its connection and latest statistics, or `None`.
    async fn overview(&self, code: &StoreCode) -> RepoResult<Option<StoreOverview>>;
    /// Up to `limit` stores of `scope` with their connection and latest statistics, after
    /// `after` by code (byte order). The scope is a filter of the query.
    async fn stores_page_in(
        &self,
        scope: &StoreScope,
        after: Option<StoreCode>,
        limit: i64,
    ) -> RepoResult<Vec<StoreOverview>>;
    /// [`StoreRepo::stores_page_in`] over every store.
    async fn stores_page(&self, after: Option<StoreCode>, limit: i64) -> RepoResult<Vec<StoreOverview>> {
        self.stores_page_in(&StoreScope::All, after, limit).await
    }
    /// [`StoreRepo::stores_page_in`] with the archived stores of `scope` too (archived stores
    /// are left out of every other list).
    async fn all_stores_page_in(
        &self,
        scope: &StoreScope,
        after: Option<StoreCode>,
        limit: i64,
    ) -> RepoResult<Vec<StoreOverview>>;
    /// Which of `groups` exist: a group exists while at least one store is in it.
    async fn existing_groups(&self, groups: &[StoreGroup]) -> RepoResult<Vec<StoreGroup>>;
    /// The groups of the unarchived stores of `scope`, sorted, once each.
    async fn groups_in(&self, scope: &StoreScope) -> RepoResult<Vec<StoreGroup>>;
}

/// A freshly connected account to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedAccount {
    pub store_code: StoreCode,
    pub open_id: String,
    pub tokens: EncryptedTokens,
    pub meta: TokenMeta,
    pub connected_at: DateTime<Utc>,
}

/// Accounts and their encrypted tokens. Ciphertexts are opaque here.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AccountRepo: Send + Sync {
    /// The store's TikTok account, or `None` when it was never connected.
    async fn for_store(&self, code: &StoreCode) -> RepoResult<Option<Account>>;
    /// An account by id.
    async fn get(&self, id: AccountId) -> RepoResult<Option<Account>>;
    /// Inserts the store's account, or replaces its identity and tokens on reconnect, with
    /// status `CONNECTED`; writes every `audit` row in the same transaction.
    async fn save_connected(&self, account: &ConnectedAccount, audit: &[NewAuditEntry]) -> RepoResult<Account>;
    /// Stores a refreshed token pair atomically, only while the stored refresh ciphertext is
    /// still `expected_refresh` (compare-and-swap). `Ok(false)` when another writer got there first.
    async fn save_refreshed(
        &self,
        id: AccountId,
        expected_refresh: &str,
        tokens: &EncryptedTokens,
        meta: &TokenMeta,
        at: DateTime<Utc>,
    ) -> RepoResult<bool>;
    /// Sets the connection status (and its reason) only while the stored refresh ciphertext
    /// is still `expected_refresh`, the pair the status was learned from: a status never
    /// overwrites a pair another instance rotated or a reconnect stored meanwhile.
    /// `Ok(false)` when the pair changed (or the account is gone).
    async fn set_status_if(
        &self,
        id: AccountId,
        expected_refresh: &str,
        status: ConnectionStatus,
        at: DateTime<Utc>,
    ) -> RepoResult<bool>;
    /// Every `CONNECTED` account, ordered by store code.
    async fn list_connected(&self) -> RepoResult<Vec<Account>>;
    /// `CONNECTED` accounts whose access token expires before `before`, soonest first.
    async fn list_due_for_refresh(&self, before: DateTime<Utc>) -> RepoResult<Vec<Account>>;
    /// Records a finished sync of the account.
    async fn mark_synced(&self, id: AccountId, at: DateTime<Utc>) -> RepoResult<()>;
    /// Takes the account's refresh lease for `owner` until `until` if the stored refresh
    /// ciphertext is still `expected_refresh` (the one the caller read: compare-and-swap) and
    /// nobody else holds an unexpired lease at `now`. `Ok(true)` when taken (or already held
    /// by `owner`); `Ok(false)` when held by another or the pair changed since the read.
    async fn try_lease_refresh(
        &self,
        id: AccountId,
        owner: &str,
        expected_refresh: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> RepoResult<bool>;
    /// Gives the lease back if `owner` holds it.
    async fn release_refresh_lease(&self, id: AccountId, owner: &str) -> RepoResult<()>;
    /// Gives back every lease `owner` holds (an instance known to be dead: its run's heartbeat
    /// went stale). Returns how many were released.
    async fn release_refresh_leases_of(&self, owner: &str) -> RepoResult<u64>;
    /// Up to `limit` accounts holding tokens with id greater than `after`, by id (re-encryption).
    async fn list_with_tokens_after(&self, after: AccountId, limit: i64) -> RepoResult<Vec<Account>>;
    /// Replaces both ciphertexts only while they still equal `expected`. `Ok(false)` otherwise.
    async fn replace_ciphertexts(
        &self,
        id: AccountId,
        expected: &EncryptedTokens,
        new: &EncryptedTokens,
    ) -> RepoResult<bool>;
}

/// Daily user and video snapshots. Writes are idempotent upserts keyed by
/// (store, date) and (store, date, video).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SnapshotRepo: Send + Sync {
    /// Inserts or updates user snapshots in one statement; returns the rows written.
    async fn upsert_user(&self, rows: &[UserSnapshot]) -> RepoResult<u64>;
    /// Inserts or updates video snapshots in one statement per batch; returns the rows written.
    async fn upsert_videos(&self, rows: &[VideoSnapshot]) -> RepoResult<u64>;
    /// The videos of the store's latest snapshot day before `before`, newest first.
    async fn known_videos(&self, code: &StoreCode, before: NaiveDate) -> RepoResult<Vec<KnownVideo>>;
}

/// The per-store and per-job log lines of sync jobs.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SyncLogRepo: Send + Sync {
    /// Writes one line; returns its id.
    async fn insert(&self, log: &NewSyncLog) -> RepoResult<i64>;
    /// Up to `limit` lines (of one store when given), newest first, after `after`. With a
    /// scope of groups, only the lines of its stores (not the jobs' summary lines).
    async fn logs_page(
        &self,
        scope: &StoreScope,
        store: Option<StoreCode>,
        after: Option<SyncLogCursor>,
        limit: i64,
    ) -> RepoResult<Vec<SyncLog>>;
}

/// Where a keyset page of sync-log lines resumes: after this line in the order newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncLogCursor {
    pub run_time: DateTime<Utc>,
    pub id: i64,
}

/// Job runs (`sync_runs`) with their live counters.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SyncRunRepo: Send + Sync {
    /// Opens a `RUNNING` run owned by `owner`.
    async fn start(
        &self,
        job: JobKind,
        scheduled_date: NaiveDate,
        trigger: RunTrigger,
        total: i64,
        owner: &str,
        now: DateTime<Utc>,
    ) -> RepoResult<SyncRun>;
    /// Updates the live counters and the heartbeat of a `RUNNING` run; [`RepoError::NotFound`]
    /// when the run is not running (any more).
    async fn progress(&self, id: i64, counts: &RunCounts, now: DateTime<Utc>) -> RepoResult<()>;
    /// Closes the run with its final status and counters.
    async fn finish(
        &self,
        id: i64,
        status: RunStatus,
        counts: &RunCounts,
        message: Option<String>,
        now: DateTime<Utc>,
    ) -> RepoResult<()>;
    /// A run by id.
    async fn get(&self, id: i64) -> RepoResult<Option<SyncRun>>;
    /// The newest run of `job`.
    async fn latest(&self, job: JobKind) -> RepoResult<Option<SyncRun>>;
    /// Every `RUNNING` run.
    async fn running(&self) -> RepoResult<Vec<SyncRun>>;
    /// Whether a `cron` run of `job` started at or after `tick` (so this scheduler tick was
    /// already taken, here or by another instance).
    async fn latest_for_tick(&self, job: JobKind, tick: DateTime<Utc>) -> RepoResult<bool>;
    /// Marks `RUNNING` runs whose heartbeat is older than `stale_before` as `INTERRUPTED`.
    async fn interrupt_stale(&self, stale_before: DateTime<Utc>, now: DateTime<Utc>) -> RepoResult<u64>;
}

/// The audit trail.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AuditRepo: Send + Sync {
    /// Writes one row on its own (for actions that change nothing else, like a sync trigger).
    async fn insert(&self, entry: &NewAuditEntry) -> RepoResult<i64>;
    /// Rows matching `filter`, newest first.
    async fn list(&self, filter: &AuditFilter) -> RepoResult<Vec<AuditEntry>>;
}

/// Connect invites and OAuth state nonces: one-time records of the connect flow.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ConnectRepo: Send + Sync {
    /// Stores an invite and its audit row in one transaction, revoking the store's older
    /// unused invites in it (only the newest link works).
    async fn create_invite(&self, invite: &NewConnectInvite, audit: &NewAuditEntry) -> RepoResult<ConnectInvite>;
    /// The invite with this token hash, used or not.
    async fn find_invite(&self, token_hash: &str) -> RepoResult<Option<ConnectInvite>>;
    /// Marks the invite used if it is unused and unexpired at `now`; `Ok(false)` otherwise.
    async fn consume_invite(&self, id: i64, now: DateTime<Utc>) -> RepoResult<bool>;
    /// Remembers a state nonce until the callback.
    async fn insert_state(&self, state: &NewOAuthState) -> RepoResult<()>;
    /// Atomically marks the state used and returns it, if it is unused and unexpired at `now`.
    async fn consume_state(&self, nonce_hash: &str, now: DateTime<Utc>) -> RepoResult<Option<OAuthState>>;
    /// Deletes states and invites that expired before `before`; returns how many.
    async fn purge_expired(&self, before: DateTime<Utc>) -> RepoResult<u64>;
}

/// Connection-pool figures for health and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open.
    pub size: usize,
    /// Open connections not in use.
    pub idle: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
    /// The most connections the pool opens.
    pub max_size: usize,
    /// Checkouts since start that found every connection taken and had to queue for one.
    pub queued_total: u64,
    /// Milliseconds those checkouts spent waiting, in all.
    pub queued_wait_ms_total: u64,
}

/// The database's liveness, for health checks and metrics.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait DbHealth: Send + Sync {
    /// One round trip to the database, on a pooled connection only (never one of its own: a
    /// flood of health checks must not reach the server's connection limit). A pool whose
    /// every connection is busy counts as up: the server answered them.
    async fn ping(&self) -> RepoResult<()>;
    /// How many of the migrations this build knows are not applied to the database.
    async fn pending_migrations(&self) -> RepoResult<usize>;
    /// Pool figures, without touching the database.
    fn pool_stats(&self) -> PoolStats;
}

/// The time source. Tests substitute a fixed or stepping clock.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A lock held by this process. Dropping it releases the lock; so does the death of the process.
///
/// A lock can also be lost while held: it lives in a database session, and a server restart,
/// a failover or a terminated connection ends the session and the lock with it. A holder
/// that must not run beside a second copy asks [`HeldLock::still_held`] before each piece of
/// work and, when lost, [`HeldLock::retake`]s it or stops.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait HeldLock: Send + Sync {
    /// Whether the lock is still held, asked of the session that holds it. `false` when that
    /// session is gone or does not answer (the lock went with it).
    async fn still_held(&mut self) -> bool;
    /// Takes a lost lock again, on a new session, without waiting. `Ok(true)` when held
    /// (again, or still); `Ok(false)` when another holder took it meanwhile.
    async fn retake(&mut self) -> RepoResult<bool>;
}

/// Named, cluster-wide exclusive locks (one job run at a time across every instance).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait JobLock: Send + Sync {
    /// Takes the lock named `key` without waiting: `Some(guard)` when taken, `None` when
    /// another holder has it.
    async fn try_acquire(&self, key: &str) -> RepoResult<Option<Box<dyn HeldLock>>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Held;
    #[async_trait]
    impl HeldLock for Held {
        async fn still_held(&mut self) -> bool {
            true
        }
        async fn retake(&mut self) -> RepoResult<bool> {
            Ok(true)
        }
    }

    #[tokio::test]
    async fn mocks_are_usable_as_trait_objects() {
        let mut lock = MockJobLock::new();
        lock.expect_try_acquire().times(1).returning(|_| Ok(Some(Box::new(Held))));
        let lock: std::sync::Arc<dyn JobLock> = std::sync::Arc::new(lock);
        assert!(lock.try_acquire("sync_user_daily").await.unwrap().is_some());

        let mut stores = MockStoreRepo::new();
        stores.expect_get().returning(|_| Err(RepoError::Unavailable("down".into())));
        let code = StoreCode::parse("s1").unwrap();
        assert_eq!(stores.get(&code).await, Err(RepoError::Unavailable("down".into())));
    }
}
