//! The ports the engine is built from. Every one is required: a port that is not wired is a
//! compile error in the composition root, never a failure at run time.

use std::sync::Arc;

use hub_ports::{
    AccountRepo, ApiKeyRepo, AuditRepo, Clock, ConnectRepo, DbHealth, JobLock, LifecycleRepo, ReportRepo,
    RetentionRepo, SessionRepo, SnapshotRepo, StoreImportRepo, StoreRepo, SyncLogRepo, SyncRunRepo, TikTokApi,
    TikTokEventRepo, TokenCipher, UserRepo, WebhookRepo, WebhookSender,
};

/// Every port the engine uses.
#[derive(Clone)]
pub struct Ports {
    pub stores: Arc<dyn StoreRepo>,
    pub accounts: Arc<dyn AccountRepo>,
    pub snapshots: Arc<dyn SnapshotRepo>,
    pub sync_logs: Arc<dyn SyncLogRepo>,
    pub sync_runs: Arc<dyn SyncRunRepo>,
    pub audit: Arc<dyn AuditRepo>,
    pub retention: Arc<dyn RetentionRepo>,
    pub connect: Arc<dyn ConnectRepo>,
    pub reports: Arc<dyn ReportRepo>,
    pub imports: Arc<dyn StoreImportRepo>,
    pub lifecycle: Arc<dyn LifecycleRepo>,
    pub events: Arc<dyn TikTokEventRepo>,
    /// Outgoing notifications' endpoints, outbox and attempts.
    pub webhooks: Arc<dyn WebhookRepo>,
    pub users: Arc<dyn UserRepo>,
    pub sessions: Arc<dyn SessionRepo>,
    pub api_keys: Arc<dyn ApiKeyRepo>,
    pub locks: Arc<dyn JobLock>,
    pub health: Arc<dyn DbHealth>,
    pub tiktok: Arc<dyn TikTokApi>,
    pub cipher: Arc<dyn TokenCipher>,
    /// Sends outgoing notifications (SSRF-guarded).
    pub webhook_sender: Arc<dyn WebhookSender>,
    pub clock: Arc<dyn Clock>,
}
