//! The audit trail.

use chrono::{DateTime, Utc};
use hub_domain::AuditEntry;
use paperclip::actix::Apiv2Schema;
use serde::Serialize;

use crate::json::common::{envelope, ts};

/// One audit row.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct AuditLogJson {
    pub id: i64,
    /// `key:<fingerprint>` (never the key), `system` or `store-staff`.
    pub actor: String,
    pub action: String,
    pub store_code: Option<String>,
    pub target: Option<String>,
    /// SUCCESS, FAILURE or DENIED.
    pub outcome: String,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    /// Extra facts (a JSON object).
    pub details: Option<serde_json::Value>,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditLogJson {
    fn from(a: AuditEntry) -> Self {
        let e = a.entry;
        Self {
            id: a.id,
            actor: e.actor,
            action: e.action,
            store_code: e.store_code.map(|c| c.to_string()),
            target: e.target,
            outcome: e.outcome.as_str().to_owned(),
            request_id: e.request_id,
            ip: e.ip,
            details: e.details.map(|d| serde_json::from_str(&d).unwrap_or(serde_json::Value::String(d))),
            created_at: a.created_at,
        }
    }
}

envelope!(
    /// `{"success":true,"data":[audit row…],"count":n}`
    AuditLogsResponse, list AuditLogJson
);
