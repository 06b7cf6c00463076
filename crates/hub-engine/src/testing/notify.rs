//! [`WebhookRepo`] over the in-memory world (endpoints and the queued notifications; nothing
//! is ever due: delivery is tested against PostgreSQL and real receivers), and a sender that
//! accepts every public URL.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_domain::*;
use hub_ports::*;

use crate::testing::{Memory, t0};

#[async_trait]
impl WebhookRepo for Memory {
    async fn endpoints(&self) -> RepoResult<Vec<WebhookEndpoint>> {
        Ok(self.0.lock().expect("world poisoned").webhooks.iter().map(|(e, _)| e.clone()).collect())
    }

    async fn endpoint(&self, id: i64) -> RepoResult<Option<(WebhookEndpoint, String)>> {
        Ok(self.0.lock().expect("world poisoned").webhooks.iter().find(|(e, _)| e.id == id).cloned())
    }

    async fn create_endpoint(&self, new: &NewWebhookEndpoint, audit: &NewAuditEntry) -> RepoResult<WebhookEndpoint> {
        let mut w = self.0.lock().expect("world poisoned");
        let id = w.webhooks.iter().map(|(e, _)| e.id).max().unwrap_or(0) + 1;
        let endpoint = WebhookEndpoint {
            id,
            url: new.url.clone(),
            events: new.events.clone(),
            format: new.format,
            include_connect_link: new.include_connect_link,
            enabled: true,
            disabled_reason: None,
            consecutive_failures: 0,
            created_by: new.created_by.clone(),
            created_at: t0(),
            updated_at: t0(),
        };
        w.webhooks.push((endpoint.clone(), new.encrypted_secret.clone()));
        w.audit.push(NewAuditEntry { target: Some(id.to_string()), ..audit.clone() });
        Ok(endpoint)
    }

    async fn update_endpoint(
        &self,
        id: i64,
        change: &WebhookEndpointChange,
        now: DateTime<Utc>,
        audit: &NewAuditEntry,
    ) -> RepoResult<WebhookEndpoint> {
        let mut w = self.0.lock().expect("world poisoned");
        let (e, _) = w.webhooks.iter_mut().find(|(e, _)| e.id == id).ok_or(RepoError::NotFound)?;
        if let Some(url) = &change.url {
            e.url = url.clone();
        }
        if let Some(events) = &change.events {
            e.events = events.clone();
        }
        if let Some(format) = change.format {
            e.format = format;
        }
        if let Some(link) = change.include_connect_link {
            e.include_connect_link = link;
        }
        match change.enabled {
            Some(true) => (e.enabled, e.disabled_reason, e.consecutive_failures) = (true, None, 0),
            Some(false) => (e.enabled, e.disabled_reason) = (false, Some("disabled by an admin".into())),
            None => {}
        }
        e.updated_at = now;
        let e = e.clone();
        w.audit.push(audit.clone());
        Ok(e)
    }

    async fn delete_endpoint(&self, id: i64, audit: &NewAuditEntry) -> RepoResult<()> {
        let mut w = self.0.lock().expect("world poisoned");
        let before = w.webhooks.len();
        w.webhooks.retain(|(e, _)| e.id != id);
        if w.webhooks.len() == before {
            return Err(RepoError::NotFound);
        }
        w.outbox.retain(|(e, _)| *e != id);
        w.audit.push(audit.clone());
        Ok(())
    }

    async fn enqueue(&self, notification: &Notification, endpoint: Option<i64>) -> RepoResult<u64> {
        let mut w = self.0.lock().expect("world poisoned");
        let targets: Vec<i64> = w
            .webhooks
            .iter()
            .filter(|(e, _)| match endpoint {
                Some(id) => e.id == id,
                None => e.enabled && e.events.contains(&notification.event),
            })
            .map(|(e, _)| e.id)
            .collect();
        for id in &targets {
            w.outbox.push((*id, notification.clone()));
        }
        Ok(targets.len() as u64)
    }

    async fn claim_due(&self, _: DateTime<Utc>, _: DateTime<Utc>, _: i64) -> RepoResult<Vec<OutboxItem>> {
        Ok(Vec::new())
    }

    async fn record_attempt(&self, _: &OutboxItem, _: &AttemptResult) -> RepoResult<()> {
        Ok(())
    }

    async fn deliveries(&self, _: i64, _: i64) -> RepoResult<Vec<WebhookDelivery>> {
        Ok(Vec::new())
    }
}

/// A sender that refuses URLs on `localhost`, `127.0.0.1` and `10.0.0.1` (as the real one does
/// without private targets) and answers 200 to every other, remembering what it sent.
#[derive(Default)]
pub struct AcceptingSender {
    pub sent: Mutex<Vec<OutgoingWebhook>>,
}

fn refused(url: &str) -> bool {
    ["//localhost", "//127.0.0.1", "//10.0.0.1", "//169.254.169.254", "//[::1]"].iter().any(|h| url.contains(h))
        || !(url.starts_with("https://") || url.starts_with("http://"))
}

#[async_trait]
impl WebhookSender for AcceptingSender {
    async fn check_url(&self, url: &str) -> Result<(), SendError> {
        if refused(url) { Err(SendError::Refused("internal address".into())) } else { Ok(()) }
    }

    async fn send(&self, webhook: &OutgoingWebhook) -> Result<WebhookAnswer, SendError> {
        self.check_url(&webhook.url).await?;
        self.sent.lock().expect("poisoned").push(webhook.clone());
        Ok(WebhookAnswer { status: 200, excerpt: String::new() })
    }
}
