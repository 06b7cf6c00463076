//! Outgoing notifications: the endpoints admins register (`webhook.*`, admins over every
//! store), and the delivery of the outbox the changes wrote.
//!
//! A change that announces something writes its outbox rows in its own transaction (the
//! repositories do); [`Notifications::deliver_due`] claims due rows (`FOR UPDATE SKIP
//! LOCKED`, so several instances never send one row twice while its lease runs), renders
//! each for its endpoint (Standard Webhooks signed with the endpoint's secret, or a Slack
//! text), sends it through the SSRF-guarded [`WebhookSender`] and records the attempt: a
//! success closes the row; a failure is retried with exponential backoff for up to
//! [`WEBHOOK_GIVE_UP_AFTER`]; a run of failures disables the endpoint, with the reason.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use hub_domain::{
    Actor, AttemptResult, AuditOutcome, NewWebhookEndpoint, Notification, OutboxItem, Secret, WEBHOOK_GIVE_UP_AFTER,
    WebhookDelivery, WebhookEndpoint, WebhookEndpointChange, WebhookEvent, WebhookFormat, webhook_retry_delay,
};
use hub_ports::{Clock, OutgoingWebhook, RepoError, SendError, TokenCipher, WebhookRepo, WebhookSender};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;

use crate::access::{Access, Permission, Refusal};
use crate::audit::Details;
use crate::config::NotifyConfig;
use crate::connect::ConnectFlow;

/// What the cipher binds an endpoint's secret to.
const SECRET_BINDING: &str = "webhook_endpoint:secret";

/// Why an endpoint use case failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error("Webhook endpoint not found")]
    NotFound,
    /// The actor's role or store scope does not allow it (a `DENIED` row was written).
    #[error("Your role or store groups do not allow this")]
    Forbidden,
    /// The URL is refused (scheme, credentials, or an internal address).
    #[error("url {0}")]
    UrlRefused(String),
    /// The endpoint is disabled (a test needs an enabled one).
    #[error("The endpoint is disabled; enable it first")]
    Disabled,
    #[error(transparent)]
    Storage(RepoError),
}

impl NotifyError {
    fn reason(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Forbidden => "forbidden",
            Self::UrlRefused(_) => "url_refused",
            Self::Disabled => "disabled",
            Self::Storage(_) => "storage",
        }
    }
}

impl From<RepoError> for NotifyError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => Self::NotFound,
            e => Self::Storage(e),
        }
    }
}

impl From<Refusal> for NotifyError {
    fn from(e: Refusal) -> Self {
        match e {
            Refusal::Forbidden => Self::Forbidden,
            Refusal::StoreNotFound => Self::NotFound,
            Refusal::Storage(e) => Self::Storage(e),
        }
    }
}

/// An endpoint to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddEndpoint {
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub format: WebhookFormat,
    pub include_connect_link: bool,
}

/// A registered endpoint and its signing secret, shown this once.
#[derive(Debug)]
pub struct CreatedEndpoint {
    pub endpoint: WebhookEndpoint,
    pub secret: Secret<String>,
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliverySweep {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// The notification use cases.
pub struct Notifications {
    repo: Arc<dyn WebhookRepo>,
    sender: Arc<dyn WebhookSender>,
    cipher: Arc<dyn TokenCipher>,
    clock: Arc<dyn Clock>,
    connect: Arc<ConnectFlow>,
    access: Access,
    config: NotifyConfig,
    /// The background work's share of the pool (the jobs' gate): deliveries never take the
    /// connections kept for the admin API.
    db: Arc<crate::pace::DbGate>,
}

impl Notifications {
    pub(crate) fn new(
        ports: &crate::ports::Ports,
        connect: Arc<ConnectFlow>,
        access: Access,
        config: NotifyConfig,
        db: Arc<crate::pace::DbGate>,
    ) -> Self {
        Self {
            db,
            repo: Arc::clone(&ports.webhooks),
            sender: Arc::clone(&ports.webhook_sender),
            cipher: Arc::clone(&ports.cipher),
            clock: Arc::clone(&ports.clock),
            connect,
            access,
            config,
        }
    }

    /// Runs `change` for `action`; when it fails (other than `Forbidden`, which has its
    /// `DENIED` row), writes one `FAILURE` row naming why.
    async fn audited<T>(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<i64>,
        change: impl Future<Output = Result<T, NotifyError>>,
    ) -> Result<T, NotifyError> {
        let result = change.await;
        if let Err(e) = &result
            && *e != NotifyError::Forbidden
        {
            let target = target.map(|t| t.to_string());
            self.access.auditor().refused(actor, action, None, target, Details::error(e.reason())).await;
        }
        result
    }

    async fn check_url(&self, url: &str) -> Result<(), NotifyError> {
        self.sender.check_url(url).await.map_err(|e| match e {
            SendError::Refused(why) | SendError::Network(why) => NotifyError::UrlRefused(why),
        })
    }

    /// Every endpoint (admin).
    pub async fn endpoints(&self, actor: &Actor) -> Result<Vec<WebhookEndpoint>, NotifyError> {
        self.access.permit(actor, Permission::ManageWebhooks, "webhook.list").await?;
        Ok(self.repo.endpoints().await?)
    }

    /// Registers an endpoint after checking its URL as a delivery would; its secret is
    /// generated here, stored encrypted and returned this once. Audited (`webhook.create`).
    pub async fn add(&self, actor: &Actor, add: AddEndpoint) -> Result<CreatedEndpoint, NotifyError> {
        self.audited(actor, "webhook.create", None, async {
            self.access.permit(actor, Permission::ManageWebhooks, "webhook.create").await?;
            self.check_url(&add.url).await?;
            let secret = new_secret();
            let new = NewWebhookEndpoint {
                url: add.url,
                encrypted_secret: self.cipher.encrypt(secret.expose(), SECRET_BINDING),
                events: add.events,
                format: add.format,
                include_connect_link: add.include_connect_link,
                created_by: actor.who(),
            };
            let details = endpoint_details(&new.events, new.format).build();
            let audit = actor.audit("webhook.create", None, None, AuditOutcome::Success, Some(details));
            let endpoint = self.repo.create_endpoint(&new, &audit).await?;
            tracing::info!(webhook.id = endpoint.id, "webhook endpoint registered");
            Ok(CreatedEndpoint { endpoint, secret })
        })
        .await
    }

    /// Changes an endpoint (a new URL is checked first). Audited (`webhook.update`).
    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        change: WebhookEndpointChange,
    ) -> Result<WebhookEndpoint, NotifyError> {
        self.audited(actor, "webhook.update", Some(id), async {
            self.access.permit(actor, Permission::ManageWebhooks, "webhook.update").await?;
            if let Some(url) = &change.url {
                self.check_url(url).await?;
            }
            let mut details = Details::default();
            if let Some(events) = &change.events {
                details = details.text("events", &hub_domain::webhook::join_events(events));
            }
            if let Some(enabled) = change.enabled {
                details = details.flag("enabled", enabled);
            }
            details = details.flag("urlChanged", change.url.is_some());
            let audit =
                actor.audit("webhook.update", None, Some(id.to_string()), AuditOutcome::Success, Some(details.build()));
            Ok(self.repo.update_endpoint(id, &change, self.clock.now(), &audit).await?)
        })
        .await
    }

    /// Deletes an endpoint with its pending notifications and attempts. Audited (`webhook.delete`).
    pub async fn delete(&self, actor: &Actor, id: i64) -> Result<(), NotifyError> {
        self.audited(actor, "webhook.delete", Some(id), async {
            self.access.permit(actor, Permission::ManageWebhooks, "webhook.delete").await?;
            let audit = actor.audit("webhook.delete", None, Some(id.to_string()), AuditOutcome::Success, None);
            Ok(self.repo.delete_endpoint(id, &audit).await?)
        })
        .await
    }

    /// Queues a test notification (`webhook.test`) for the endpoint; the delivery loop sends
    /// it like any other. Audited (`webhook.test`).
    pub async fn test(&self, actor: &Actor, id: i64) -> Result<(), NotifyError> {
        self.audited(actor, "webhook.test", Some(id), async {
            self.access.permit(actor, Permission::ManageWebhooks, "webhook.test").await?;
            let (endpoint, _) = self.repo.endpoint(id).await?.ok_or(NotifyError::NotFound)?;
            if !endpoint.enabled {
                return Err(NotifyError::Disabled);
            }
            self.repo.enqueue(&Notification::test(self.clock.now()), Some(id)).await?;
            self.access
                .auditor()
                .write(actor, "webhook.test", None, Some(id.to_string()), AuditOutcome::Success, Details::default())
                .await;
            Ok(())
        })
        .await
    }

    /// The endpoint's delivery attempts, newest first (at most 500).
    pub async fn deliveries(&self, actor: &Actor, id: i64) -> Result<Vec<WebhookDelivery>, NotifyError> {
        self.access.permit(actor, Permission::ManageWebhooks, "webhook.deliveries").await?;
        self.repo.endpoint(id).await?.ok_or(NotifyError::NotFound)?;
        Ok(self.repo.deliveries(id, 500).await?)
    }

    /// Now, on the engine's clock.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Queues `notification` for every enabled endpoint subscribed to its event (the events
    /// that no stored change carries: the daily report and digest). Returns how many rows.
    pub async fn announce(&self, notification: &Notification) -> Result<u64, RepoError> {
        self.repo.enqueue(notification, None).await
    }

    /// One delivery round: claims the due rows, sends them concurrently and records each
    /// attempt.
    pub async fn deliver_due(&self) -> Result<DeliverySweep, RepoError> {
        let now = self.clock.now();
        let lease = now + Duration::from_std(self.config.lease).unwrap_or(Duration::minutes(1));
        let items = self.db.run(self.repo.claim_due(now, lease, self.config.batch)).await?;
        let results = futures::future::join_all(items.iter().map(|item| self.deliver(item))).await;
        let mut sweep = DeliverySweep::default();
        for (item, result) in items.iter().zip(results) {
            match (result.success, result.retry_at) {
                (true, _) => sweep.delivered += 1,
                (false, Some(_)) => sweep.retrying += 1,
                (false, None) => sweep.failed += 1,
            }
            if let Some(reason) = &result.disable {
                tracing::warn!(webhook.id = item.endpoint.id, reason, "webhook endpoint disabled");
            }
            self.db.run(self.repo.record_attempt(item, &result)).await?;
        }
        Ok(sweep)
    }

    /// Renders, sends and judges one attempt.
    async fn deliver(&self, item: &OutboxItem) -> AttemptResult {
        let secret = match self.cipher.decrypt(&item.encrypted_secret, SECRET_BINDING) {
            Ok(s) => s,
            Err(_) => {
                return judge(
                    &self.config,
                    self.clock.now(),
                    item,
                    None,
                    Err("the endpoint's secret cannot be decrypted".into()),
                    true,
                );
            }
        };
        let link = match (&item.store_code, item.event, item.endpoint.include_connect_link) {
            (Some(code), WebhookEvent::StoreNeedsReconnect, true) => {
                self.connect.issue_link(&Actor::system(), code).await.ok().map(|l| l.url)
            }
            _ => None,
        };
        let now = self.clock.now();
        let webhook = render(item, secret.expose(), link.as_deref(), now);
        let sent = self.sender.send(&webhook).await;
        match sent {
            Ok(answer) if (200..300).contains(&answer.status) => {
                judge(&self.config, self.clock.now(), item, Some(answer.status), Ok(()), false)
            }
            Ok(answer) => judge(
                &self.config,
                self.clock.now(),
                item,
                Some(answer.status),
                Err(format!("HTTP {}", answer.status)),
                false,
            ),
            Err(SendError::Refused(why)) => {
                judge(&self.config, self.clock.now(), item, None, Err(format!("refused: {why}")), true)
            }
            Err(SendError::Network(why)) => judge(&self.config, self.clock.now(), item, None, Err(why), false),
        }
    }
}

/// The attempt's record at `at`: delivered, retried with backoff, or given up (after
/// [`WEBHOOK_GIVE_UP_AFTER`], or at once when `fatal`); the endpoint disabled after a run of
/// failures or a refused URL.
fn judge(
    config: &NotifyConfig,
    at: DateTime<Utc>,
    item: &OutboxItem,
    status: Option<u16>,
    outcome: Result<(), String>,
    fatal: bool,
) -> AttemptResult {
    let status_code = status.map(i32::from);
    let Err(error) = outcome else {
        return AttemptResult { status_code, success: true, error: None, at, retry_at: None, disable: None };
    };
    let base = Duration::from_std(config.retry_base).unwrap_or(Duration::seconds(30));
    let next = at + webhook_retry_delay(base, item.attempts);
    let retry_at = (!fatal && next <= item.created_at + WEBHOOK_GIVE_UP_AFTER).then_some(next);
    let failures = item.endpoint.consecutive_failures + 1;
    let disable = if fatal {
        Some(format!("delivery refused: {error}"))
    } else if failures >= config.disable_after {
        Some(format!("{failures} consecutive failed deliveries (last: {error})"))
    } else {
        None
    };
    AttemptResult { status_code, success: false, error: Some(error), at, retry_at, disable }
}

fn endpoint_details(events: &[WebhookEvent], format: WebhookFormat) -> Details {
    Details::default().text("events", &hub_domain::webhook::join_events(events)).text("format", format.as_str())
}

/// A new signing secret in the Standard Webhooks form: `whsec_` and 32 random bytes in base64.
fn new_secret() -> Secret<String> {
    let mut key = [0u8; 32];
    SystemRandom::new().fill(&mut key).expect("the system random source failed");
    Secret::new(format!("whsec_{}", STANDARD.encode(key)))
}

/// The Standard Webhooks signature of `body`: `v1,` and the base64 HMAC-SHA256, keyed with the
/// secret's bytes, of `id.timestamp.body`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let raw = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key_bytes = STANDARD.decode(raw).unwrap_or_else(|_| raw.as_bytes().to_vec());
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("v1,{}", STANDARD.encode(ctx.sign().as_ref()))
}

/// The POST for `item` in its endpoint's format, at `now`.
fn render(item: &OutboxItem, secret: &str, link: Option<&str>, now: DateTime<Utc>) -> OutgoingWebhook {
    let url = item.endpoint.url.clone();
    match item.endpoint.format {
        WebhookFormat::Standard => {
            let mut data = item.data.clone();
            if let (Some(link), Some(obj)) = (link, data.as_object_mut()) {
                obj.insert("connectLink".into(), json!(link));
            }
            let body = json!({
                "type": item.event.as_str(),
                "timestamp": item.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "data": data,
            })
            .to_string()
            .into_bytes();
            let id = format!("msg_{}", item.id);
            let ts = now.timestamp();
            let signature = sign(secret, &id, ts, &body);
            OutgoingWebhook {
                url,
                headers: vec![
                    ("webhook-id".into(), id),
                    ("webhook-timestamp".into(), ts.to_string()),
                    ("webhook-signature".into(), signature),
                ],
                body,
            }
        }
        WebhookFormat::Slack => {
            let text = match link {
                Some(link) => format!("{} Connect link: {link}", item.summary),
                None => item.summary.clone(),
            };
            OutgoingWebhook { url, headers: Vec::new(), body: json!({ "text": text }).to_string().into_bytes() }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration as StdDuration;

    use super::*;

    /// The Standard Webhooks specification's published example.
    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    fn item(attempts: i32, failures: i32, format: WebhookFormat) -> OutboxItem {
        let t0 = DateTime::UNIX_EPOCH + Duration::days(20_000);
        OutboxItem {
            id: 42,
            endpoint: WebhookEndpoint {
                id: 1,
                url: "https://hooks.example.com/x".into(),
                events: vec![WebhookEvent::StoreNeedsReconnect],
                format,
                include_connect_link: true,
                enabled: true,
                disabled_reason: None,
                consecutive_failures: failures,
                created_by: "cli".into(),
                created_at: t0,
                updated_at: t0,
            },
            encrypted_secret: String::new(),
            event: WebhookEvent::StoreNeedsReconnect,
            store_code: None,
            summary: "Store s1 needs its TikTok account reconnected (banned).".into(),
            data: json!({"storeCode": "s1"}),
            created_at: t0,
            attempts,
        }
    }

    /// (attempts made before, endpoint failures in a row, minutes since the row was written,
    /// fatal) → (retried after seconds, disabled).
    #[test]
    fn failures_back_off_give_up_after_a_day_and_disable_after_a_run() {
        let config =
            NotifyConfig { retry_base: StdDuration::from_secs(30), disable_after: 20, ..NotifyConfig::default() };
        let table = [
            (0, 0, 0, false, Some(30), false),
            (1, 1, 1, false, Some(60), false),
            (3, 3, 10, false, Some(240), false),
            (9, 9, 600, false, Some(3600), false),
            // The 20th failure in a row disables the endpoint (the row still retries).
            (5, 19, 60, false, Some(960), true),
            // Past 24 h: given up.
            (12, 12, 24 * 60 - 10, false, None, false),
            // A refused target: given up and disabled at once.
            (0, 0, 0, true, None, true),
        ];
        for (attempts, failures, minutes, fatal, retry, disabled) in table {
            let it = item(attempts, failures, WebhookFormat::Standard);
            let at = it.created_at + Duration::minutes(minutes);
            let r = judge(&config, at, &it, Some(500), Err("HTTP 500".into()), fatal);
            let case = format!("attempts {attempts}, failures {failures}, +{minutes} min, fatal {fatal}");
            assert_eq!(r.retry_at.map(|t| (t - at).num_seconds()), retry, "{case}");
            assert_eq!(r.disable.is_some(), disabled, "{case}");
            assert!(!r.success, "{case}");
        }
        let ok = judge(
            &config,
            item(3, 3, WebhookFormat::Standard).created_at,
            &item(3, 3, WebhookFormat::Standard),
            Some(204),
            Ok(()),
            false,
        );
        assert!(ok.success && ok.retry_at.is_none() && ok.disable.is_none());
    }

    #[test]
    fn standard_is_signed_and_slack_is_text() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let it = item(0, 0, WebhookFormat::Standard);
        let now = it.created_at + Duration::seconds(5);
        let w = render(&it, secret, Some("https://hub/connect"), now);
        let header = |name: &str| w.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(header("webhook-id"), "msg_42");
        assert_eq!(header("webhook-timestamp"), now.timestamp().to_string());
        assert_eq!(header("webhook-signature"), sign(secret, "msg_42", now.timestamp(), &w.body));
        let body: serde_json::Value = serde_json::from_slice(&w.body).unwrap();
        assert_eq!(body["type"], "store.needs_reconnect");
        assert_eq!(body["data"]["connectLink"], "https://hub/connect");

        let w = render(&item(0, 0, WebhookFormat::Slack), secret, None, now);
        assert!(w.headers.is_empty());
        let body: serde_json::Value = serde_json::from_slice(&w.body).unwrap();
        assert_eq!(body, json!({"text": "Store s1 needs its TikTok account reconnected (banned)."}));
    }

    #[test]
    fn secrets_are_whsec_base64_of_32_bytes_and_differ() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a.expose(), b.expose());
        let raw = a.expose().strip_prefix("whsec_").unwrap();
        assert_eq!(STANDARD.decode(raw).unwrap().len(), 32);
    }
}
