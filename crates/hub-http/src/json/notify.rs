//! Notification endpoints and their delivery attempts as the API shows them. The signing
//! secret appears in the answer that creates the endpoint, and never again.

use chrono::{DateTime, Utc};
use hub_domain::{WebhookDelivery, WebhookEndpoint};
use paperclip::actix::Apiv2Schema;
use serde::Serialize;

use crate::json::common::{envelope, ts};

/// A notification endpoint (without its secret).
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookJson {
    pub id: i64,
    pub url: String,
    /// The events it receives.
    pub events: Vec<String>,
    /// standard (Standard Webhooks, signed) or slack (`{"text": …}`).
    pub format: String,
    /// `store.needs_reconnect` carries a fresh connect link.
    pub include_connect_link: bool,
    pub enabled: bool,
    /// Why it was disabled (an admin, or a run of failed deliveries).
    pub disabled_reason: Option<String>,
    /// Failed deliveries in a row.
    pub consecutive_failures: i32,
    pub created_by: String,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ts")]
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookEndpoint> for WebhookJson {
    fn from(e: WebhookEndpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            events: e.events.iter().map(|e| e.as_str().to_owned()).collect(),
            format: e.format.as_str().to_owned(),
            include_connect_link: e.include_connect_link,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            consecutive_failures: e.consecutive_failures,
            created_by: e.created_by,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// A new endpoint and its signing secret, shown this once.
#[derive(Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWebhookJson {
    pub endpoint: WebhookJson,
    /// `whsec_` and the base64 key: verify `webhook-signature` with it. Shown only here.
    pub secret: String,
}

impl std::fmt::Debug for CreatedWebhookJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedWebhookJson").field("endpoint", &self.endpoint).field("secret", &"[redacted]").finish()
    }
}

/// One delivery attempt.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryJson {
    pub id: i64,
    /// The notification (the `webhook-id` header is `msg_<notificationId>`).
    pub notification_id: i64,
    pub event: String,
    /// 1 for the first attempt of the notification.
    pub attempt: i32,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i32>,
    pub success: bool,
    /// Why it failed (never the URL).
    pub error: Option<String>,
    #[serde(serialize_with = "ts")]
    pub attempted_at: DateTime<Utc>,
}

impl From<WebhookDelivery> for DeliveryJson {
    fn from(d: WebhookDelivery) -> Self {
        Self {
            id: d.id,
            notification_id: d.outbox_id,
            event: d.event,
            attempt: d.attempt,
            status_code: d.status_code,
            success: d.success,
            error: d.error,
            attempted_at: d.attempted_at,
        }
    }
}

/// Queued.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct QueuedJson {
    pub queued: bool,
}

envelope!(
    /// One endpoint.
    WebhookResponse, WebhookJson
);
envelope!(
    /// Endpoints.
    WebhooksResponse, list WebhookJson
);
envelope!(
    /// A new endpoint with its secret (shown once).
    CreatedWebhookResponse, CreatedWebhookJson
);
envelope!(
    /// Delivery attempts, newest first.
    DeliveriesResponse, list DeliveryJson
);
envelope!(
    /// `{"success":true,"data":{"queued":true}}`
    QueuedResponse, QueuedJson
);
