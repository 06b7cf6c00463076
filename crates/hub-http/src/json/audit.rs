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
    /// Who, in short: `key:<fingerprint>` (a break-glass ADMIN_API_KEY, never the key),
    /// `user:<id>`, `apikey:<fingerprint>`, `system`, `cli`, `store-staff` or `anonymous`.
    pub actor: String,
    /// break_glass, user, api_key, system, cli, store_staff or anonymous.
    pub actor_kind: String,
    /// The user's or the key's id.
    pub actor_id: Option<i64>,
    /// The user's email, the key's name, or the break-glass key's fingerprint.
    pub actor_name: Option<String>,
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
            actor_kind: e.actor_kind.as_str().to_owned(),
            actor_id: e.actor_id,
            actor_name: e.actor_name,
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
