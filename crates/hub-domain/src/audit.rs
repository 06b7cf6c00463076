//! The audit trail of admin actions.

use chrono::{DateTime, Utc};

use crate::store::StoreCode;

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditOutcome {
    Success,
    Failure,
    Denied,
}

impl AuditOutcome {
    /// The stored spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Failure => "FAILURE",
            Self::Denied => "DENIED",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Success, Self::Failure, Self::Denied].into_iter().find(|o| o.as_str() == raw)
    }
}

/// An audit row to write, in the same transaction as the change it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// Who: `key:<fingerprint>` for an API key (never the key), `system`, or `store-staff`.
    pub actor: String,
    /// What, e.g. `store.create`, `connect_link.create`, `sync.run`, `account.reconnect`.
    pub action: String,
    pub store_code: Option<StoreCode>,
    /// Free-form target description (a run id, a job name).
    pub target: Option<String>,
    pub outcome: AuditOutcome,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    /// Extra facts as a JSON object text; never a secret.
    pub details: Option<String>,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub entry: NewAuditEntry,
    pub created_at: DateTime<Utc>,
}

/// Which audit rows to read, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub store_code: Option<StoreCode>,
    pub limit: i64,
}
