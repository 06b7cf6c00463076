//! The repository of outgoing notifications: the endpoints admins register, the outbox the
//! delivery loop claims from, and every delivery attempt.
//!
//! The changes that cause a notification (a store's status, a run's close) write its outbox
//! rows themselves, in their own transaction; [`WebhookRepo::enqueue`] is for the events
//! that have no change of their own (the daily ones, the test).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_domain::{
    AttemptResult, NewAuditEntry, NewWebhookEndpoint, Notification, OutboxItem, WebhookDelivery, WebhookEndpoint,
    WebhookEndpointChange,
};

use crate::RepoResult;

/// Outgoing notifications.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait WebhookRepo: Send + Sync {
    /// Every endpoint, by id.
    async fn endpoints(&self) -> RepoResult<Vec<WebhookEndpoint>>;
    /// One endpoint and its encrypted secret, or `None`.
    async fn endpoint(&self, id: i64) -> RepoResult<Option<(WebhookEndpoint, String)>>;
    /// Registers an endpoint and writes `audit`, in one transaction.
    async fn create_endpoint(&self, new: &NewWebhookEndpoint, audit: &NewAuditEntry) -> RepoResult<WebhookEndpoint>;
    /// Applies `change` and writes `audit`, in one transaction. [`crate::RepoError::NotFound`]
    /// without the endpoint.
    async fn update_endpoint(
        &self,
        id: i64,
        change: &WebhookEndpointChange,
        now: DateTime<Utc>,
        audit: &NewAuditEntry,
    ) -> RepoResult<WebhookEndpoint>;
    /// Deletes the endpoint with its outbox and attempts and writes `audit`.
    /// [`crate::RepoError::NotFound`] without the endpoint.
    async fn delete_endpoint(&self, id: i64, audit: &NewAuditEntry) -> RepoResult<()>;
    /// Writes one outbox row per enabled endpoint subscribed to the event (only `endpoint`
    /// when given, subscribed or not: the test event). Returns how many.
    async fn enqueue(&self, notification: &Notification, endpoint: Option<i64>) -> RepoResult<u64>;
    /// Claims up to `limit` pending rows due at `now` of enabled endpoints, oldest due first,
    /// with `FOR UPDATE SKIP LOCKED`, and pushes their next attempt to `lease_until`: a
    /// second claimer never gets the same row while the lease runs, and a claimer that dies
    /// leaves the row due again after it.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> RepoResult<Vec<OutboxItem>>;
    /// Records attempt `item.attempts + 1` and its effect on the row (delivered, retried at
    /// `retry_at`, or failed for good) and on the endpoint (failure count, disabled).
    async fn record_attempt(&self, item: &OutboxItem, result: &AttemptResult) -> RepoResult<()>;
    /// The endpoint's attempts, newest first, at most `limit`.
    async fn deliveries(&self, endpoint: i64, limit: i64) -> RepoResult<Vec<WebhookDelivery>>;
}
