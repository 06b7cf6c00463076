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

/// What kind of principal an audit row names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActorKind {
    /// A configured `ADMIN_API_KEY`.
    BreakGlass,
    User,
    ApiKey,
    System,
    Cli,
    StoreStaff,
    Anonymous,
}

impl ActorKind {
    pub const ALL: [Self; 7] =
        [Self::BreakGlass, Self::User, Self::ApiKey, Self::System, Self::Cli, Self::StoreStaff, Self::Anonymous];

    /// The stored spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BreakGlass => "break_glass",
            Self::User => "user",
            Self::ApiKey => "api_key",
            Self::System => "system",
            Self::Cli => "cli",
            Self::StoreStaff => "store_staff",
            Self::Anonymous => "anonymous",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// An audit row to write, in the same transaction as the change it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// Who, in short (what the actor's `who()` says): `key:<fingerprint>` for the break-glass key
    /// (never the key), `user:<id>`, `apikey:<fingerprint>`, `system`, `cli`, `store-staff`,
    /// `anonymous`.
    pub actor: String,
    pub actor_kind: ActorKind,
    /// The user's or key's id.
    pub actor_id: Option<i64>,
    /// The user's email, the key's name, or the break-glass key's fingerprint.
    pub actor_name: Option<String>,
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
    /// Only the rows of this actor (its `actor` text, e.g. `user:7`).
    pub actor: Option<String>,
    /// `Some(scope)`: only rows about a store that `scope` covers (what someone who is not an
    /// unscoped admin may read); `None`: every row.
    pub stores_in: Option<crate::group::StoreScope>,
    pub limit: i64,
}
