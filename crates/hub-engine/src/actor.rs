//! Who asks: every admin use case takes the [`Actor`] and names it in its audit rows.

use hub_domain::{AuditOutcome, NewAuditEntry, StoreCode};

/// The caller of a use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `key:<fingerprint>`, `system`, `cli` or `store-staff`. Never a key itself.
    pub who: String,
    pub request_id: Option<String>,
    pub ip: Option<String>,
}

impl Actor {
    /// The scheduler or another internal caller.
    pub fn system() -> Self {
        Self { who: "system".into(), request_id: None, ip: None }
    }

    /// The command line (`tiktok-hub sync`, `reencrypt`, `user …`).
    pub fn cli() -> Self {
        Self { who: "cli".into(), request_id: None, ip: None }
    }

    /// An audit row for `action` by this actor.
    pub fn audit(
        &self,
        action: &str,
        store_code: Option<&StoreCode>,
        target: Option<String>,
        outcome: AuditOutcome,
        details: Option<String>,
    ) -> NewAuditEntry {
        NewAuditEntry {
            actor: self.who.clone(),
            action: action.to_owned(),
            store_code: store_code.cloned(),
            target,
            outcome,
            request_id: self.request_id.clone(),
            ip: self.ip.clone(),
            details,
        }
    }
}
