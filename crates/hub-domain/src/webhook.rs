//! Outgoing notifications: the events the hub announces, the endpoints admins register for
//! them, and the outbox rows and delivery attempts between the two.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::error::DomainError;
use crate::lifecycle::RevokeReason;
use crate::store::StoreCode;

/// What the hub announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebhookEvent {
    StoreConnected,
    StoreNeedsReconnect,
    StoreDisconnected,
    SyncRunFinished,
    ReportGaps,
    DigestDaily,
    /// `POST /admin/webhooks/{id}/test` only (never subscribed to).
    Test,
}

impl WebhookEvent {
    /// Every event an endpoint may subscribe to.
    pub const SUBSCRIBABLE: [Self; 6] = [
        Self::StoreConnected,
        Self::StoreNeedsReconnect,
        Self::StoreDisconnected,
        Self::SyncRunFinished,
        Self::ReportGaps,
        Self::DigestDaily,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::StoreConnected => "store.connected",
            Self::StoreNeedsReconnect => "store.needs_reconnect",
            Self::StoreDisconnected => "store.disconnected",
            Self::SyncRunFinished => "sync.run.finished",
            Self::ReportGaps => "report.gaps",
            Self::DigestDaily => "digest.daily",
            Self::Test => "webhook.test",
        }
    }

    /// A subscribable event by name.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::SUBSCRIBABLE.into_iter().find(|e| e.as_str() == raw).ok_or(DomainError::invalid(
            "events",
            "must list events among store.connected, store.needs_reconnect, store.disconnected, \
             sync.run.finished, report.gaps, digest.daily",
        ))
    }

    /// Any event by its stored name (the test event included).
    pub fn from_stored(raw: &str) -> Option<Self> {
        Self::SUBSCRIBABLE.into_iter().chain([Self::Test]).find(|e| e.as_str() == raw)
    }
}

impl fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a notification is written for an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// Standard Webhooks: a JSON envelope signed in `webhook-signature`.
    Standard,
    /// An incoming-webhook `{"text": …}` body (Slack, Mattermost, Teams relays).
    Slack,
}

impl WebhookFormat {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Slack => "slack",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "standard" => Ok(Self::Standard),
            "slack" => Ok(Self::Slack),
            _ => Err(DomainError::invalid("format", "must be standard or slack")),
        }
    }
}

/// A list of subscribed events: at least one, no duplicates, in a stable order.
pub fn parse_events<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Vec<WebhookEvent>, DomainError> {
    let mut events = raw.into_iter().map(WebhookEvent::parse).collect::<Result<Vec<_>, _>>()?;
    events.sort();
    events.dedup();
    if events.is_empty() {
        return Err(DomainError::invalid("events", "must name at least one event"));
    }
    Ok(events)
}

/// The stored (comma-separated) form of an event list.
pub fn join_events(events: &[WebhookEvent]) -> String {
    events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",")
}

/// The events of a stored list (unknown names are skipped).
pub fn split_events(stored: &str) -> Vec<WebhookEvent> {
    stored.split(',').filter_map(WebhookEvent::from_stored).collect()
}

/// A registered endpoint (its secret stays encrypted in the repository).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: i64,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub format: WebhookFormat,
    pub include_connect_link: bool,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An endpoint to register (the secret already encrypted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhookEndpoint {
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub format: WebhookFormat,
    pub include_connect_link: bool,
    pub encrypted_secret: String,
    pub created_by: String,
}

/// A change to an endpoint: the fields to set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookEndpointChange {
    pub url: Option<String>,
    pub events: Option<Vec<WebhookEvent>>,
    pub format: Option<WebhookFormat>,
    pub include_connect_link: Option<bool>,
    /// `true` re-enables (clearing the reason and the failure count); `false` disables.
    pub enabled: Option<bool>,
}

/// An event to announce, as the change that causes it writes it into the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub event: WebhookEvent,
    pub store_code: Option<StoreCode>,
    /// One sentence people read (the `slack` format's text).
    pub summary: String,
    /// The event's data (the `standard` format's `data` object).
    pub data: Value,
    pub at: DateTime<Utc>,
    /// Announced at most once per endpoint with this key (the daily events: event and day).
    pub dedupe_key: Option<String>,
}

impl Notification {
    /// A store's account was connected (or reconnected).
    pub fn store_connected(code: &StoreCode, at: DateTime<Utc>) -> Self {
        Self {
            event: WebhookEvent::StoreConnected,
            store_code: Some(code.clone()),
            summary: format!("Store {code} connected its TikTok account."),
            data: json!({ "storeCode": code.as_str(), "at": at.to_rfc3339() }),
            at,
            dedupe_key: None,
        }
    }

    /// A store needs its staff to connect again: `reason` is the hub's (REVOKED,
    /// REFRESH_EXPIRED, …), `revoke_reason` TikTok's when it removed the authorization.
    pub fn store_needs_reconnect(
        code: &StoreCode,
        reason: &str,
        revoke_reason: Option<RevokeReason>,
        at: DateTime<Utc>,
    ) -> Self {
        let why = revoke_reason.map_or_else(|| reason.to_owned(), |r| r.as_str().to_owned());
        Self {
            event: WebhookEvent::StoreNeedsReconnect,
            store_code: Some(code.clone()),
            summary: format!("Store {code} needs its TikTok account reconnected ({why})."),
            data: json!({
                "storeCode": code.as_str(),
                "reason": reason,
                "revokeReason": revoke_reason.map(RevokeReason::as_str),
                "at": at.to_rfc3339(),
            }),
            at,
            dedupe_key: None,
        }
    }

    /// A store was disconnected (or archived).
    pub fn store_disconnected(code: &StoreCode, archived: bool, at: DateTime<Utc>) -> Self {
        let what = if archived { "was archived" } else { "was disconnected" };
        Self {
            event: WebhookEvent::StoreDisconnected,
            store_code: Some(code.clone()),
            summary: format!("Store {code} {what}."),
            data: json!({ "storeCode": code.as_str(), "archived": archived, "at": at.to_rfc3339() }),
            at,
            dedupe_key: None,
        }
    }

    /// A sync run closed.
    pub fn sync_run_finished(
        run_id: i64,
        job: &str,
        status: &str,
        counts: &crate::RunCounts,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            event: WebhookEvent::SyncRunFinished,
            store_code: None,
            summary: format!(
                "Sync run {run_id} ({job}) finished {status}: {} succeeded, {} failed, {} skipped of {}.",
                counts.succeeded, counts.failed, counts.skipped, counts.total
            ),
            data: json!({
                "runId": run_id,
                "job": job,
                "status": status,
                "total": counts.total,
                "succeeded": counts.succeeded,
                "failed": counts.failed,
                "skipped": counts.skipped,
                "at": at.to_rfc3339(),
            }),
            at,
            dedupe_key: None,
        }
    }

    /// Yesterday's totals and their changes (`digest.daily`), once per day.
    pub fn digest_daily(o: &crate::Overview, at: DateTime<Utc>) -> Self {
        let metric = |m: &crate::report::MetricDeltas| json!({ "value": m.value, "vsPreviousDay": m.vs_previous_day, "vs7Days": m.vs_7_days, "vs30Days": m.vs_30_days });
        let c = &o.connections;
        let need: i64 = c.need_reconnect.iter().map(|(_, n)| n).sum();
        let change = o.followers.vs_previous_day.map_or_else(|| "no change known".to_owned(), |d| format!("{d:+}"));
        Self {
            event: WebhookEvent::DigestDaily,
            store_code: None,
            summary: format!(
                "TikTok hub, {}: {} followers ({change} on the day before), {} video views; {} of {} stores connected, {need} need reconnecting.",
                o.date,
                o.followers.value.unwrap_or(0),
                o.views.value.unwrap_or(0),
                c.connected,
                c.stores,
            ),
            data: json!({
                "date": o.date.to_string(),
                "stores": c.stores,
                "connected": c.connected,
                "needReconnect": need,
                "neverConnected": c.never_connected,
                "disconnected": c.disconnected,
                "storesWithSnapshot": o.stores_with_snapshot,
                "followers": metric(&o.followers),
                "likes": metric(&o.likes),
                "videos": metric(&o.videos),
                "views": metric(&o.views),
            }),
            at,
            dedupe_key: Some(format!("digest.daily:{}", o.date)),
        }
    }

    /// The stores missing daily snapshots in `range` (`report.gaps`), once per day.
    pub fn report_gaps(range: crate::DateRange, gaps: &[crate::StoreGaps], at: DateTime<Utc>) -> Self {
        let stores: Vec<Value> = gaps
            .iter()
            .map(|g| {
                json!({
                    "storeCode": g.store_code.as_str(),
                    "status": g.status.as_str(),
                    "missing": g.missing.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect();
        Self {
            event: WebhookEvent::ReportGaps,
            store_code: None,
            summary: format!(
                "TikTok hub: {} stores miss daily snapshots between {} and {}.",
                gaps.len(),
                range.from,
                range.to
            ),
            data: json!({ "from": range.from.to_string(), "to": range.to.to_string(), "stores": stores }),
            at,
            dedupe_key: Some(format!("report.gaps:{}", range.to)),
        }
    }

    /// The test event of `POST /admin/webhooks/{id}/test`.
    pub fn test(at: DateTime<Utc>) -> Self {
        Self {
            event: WebhookEvent::Test,
            store_code: None,
            summary: "Test notification from the TikTok Content Reporting Hub.".into(),
            data: json!({ "at": at.to_rfc3339() }),
            at,
            dedupe_key: None,
        }
    }
}

/// An outbox row claimed for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    pub endpoint: WebhookEndpoint,
    pub encrypted_secret: String,
    pub event: WebhookEvent,
    pub store_code: Option<StoreCode>,
    pub summary: String,
    pub data: Value,
    pub created_at: DateTime<Utc>,
    /// Attempts made before this one.
    pub attempts: i32,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i32>,
    pub success: bool,
    /// Why it failed (never the URL or the secret).
    pub error: Option<String>,
    pub at: DateTime<Utc>,
    /// When to try again; `None`: no more attempts (delivered, or given up).
    pub retry_at: Option<DateTime<Utc>>,
    /// Disable the endpoint with this reason (a run of failures).
    pub disable: Option<String>,
}

/// One recorded attempt (`GET /admin/webhooks/{id}/deliveries`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: i64,
    pub outbox_id: i64,
    pub event: String,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub success: bool,
    pub error: Option<String>,
    pub attempted_at: DateTime<Utc>,
}

/// How long the hub keeps retrying a notification.
pub const WEBHOOK_GIVE_UP_AFTER: Duration = Duration::hours(24);

/// The wait before attempt `attempts + 1`: `base` doubled per attempt made, at most 1 h.
pub fn webhook_retry_delay(base: Duration, attempts: i32) -> Duration {
    let factor = 1i64 << attempts.clamp(0, 20);
    (base * i32::try_from(factor).unwrap_or(i32::MAX)).min(Duration::hours(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_and_round_trip() {
        for e in WebhookEvent::SUBSCRIBABLE {
            assert_eq!(WebhookEvent::parse(e.as_str()), Ok(e));
            assert_eq!(WebhookEvent::from_stored(e.as_str()), Some(e));
        }
        assert!(WebhookEvent::parse("webhook.test").is_err());
        assert!(parse_events([]).is_err());
        let events = parse_events(["digest.daily", "store.connected", "store.connected"]).unwrap();
        assert_eq!(events, vec![WebhookEvent::StoreConnected, WebhookEvent::DigestDaily]);
        assert_eq!(split_events(&join_events(&events)), events);
    }

    #[test]
    fn retry_delay_doubles_up_to_an_hour() {
        let base = Duration::seconds(30);
        let table = [(0, 30), (1, 60), (2, 120), (5, 960), (7, 3600), (30, 3600)];
        for (attempts, secs) in table {
            assert_eq!(webhook_retry_delay(base, attempts), Duration::seconds(secs), "attempts {attempts}");
        }
    }

    #[test]
    fn needs_reconnect_names_tiktoks_reason() {
        let n = Notification::store_needs_reconnect(
            &StoreCode::parse("s1").unwrap(),
            "REVOKED",
            Some(RevokeReason::UserDisconnected),
            DateTime::UNIX_EPOCH,
        );
        assert_eq!(n.data["revokeReason"], "user disconnected");
        assert_eq!(n.data["reason"], "REVOKED");
        assert!(n.summary.contains("user disconnected"), "{}", n.summary);
    }
}
