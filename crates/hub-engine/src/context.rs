//! Who asks: the request context every admin use case receives, for its audit row.

use hub_domain::{AuditOutcome, NewAuditEntry, StoreCode};

/// The caller of an admin use case.
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

/// Escapes a string for inclusion in a JSON string literal (audit details).
pub(crate) fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
