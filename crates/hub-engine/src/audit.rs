//! The one audit policy of the hub's mutations, for every adapter: a change that succeeds
//! writes its row in the same transaction as the change (the repository takes the entry); a
//! change the engine refuses or cannot make writes one `FAILURE` row here, naming why.
//! Reads, and requests an adapter refuses before they reach a use case (malformed input,
//! missing credentials), write none.

use std::sync::Arc;

use hub_domain::{Actor, AuditOutcome, StoreCode};
use hub_ports::AuditRepo;

/// Writes the rows of refused mutations.
#[derive(Clone)]
pub(crate) struct Auditor {
    repo: Arc<dyn AuditRepo>,
}

impl Auditor {
    pub(crate) fn new(repo: Arc<dyn AuditRepo>) -> Self {
        Self { repo }
    }

    /// One `FAILURE` row for `action`, its details `{"error": reason, …extra}`. A failure to
    /// write it is logged, never returned: the caller's own error is the answer.
    pub(crate) async fn refused(
        &self,
        actor: &Actor,
        action: &str,
        store: Option<&StoreCode>,
        target: Option<String>,
        details: Details,
    ) {
        self.write(actor, action, store, target, AuditOutcome::Failure, details).await;
    }

    /// One `DENIED` row: the access rules refused `action` to `actor`.
    pub(crate) async fn denied(&self, actor: &Actor, action: &str, store: Option<&StoreCode>, details: Details) {
        self.write(actor, action, store, None, AuditOutcome::Denied, details).await;
    }

    /// One row of an action that changes nothing stored besides it (a sync trigger).
    pub(crate) async fn write(
        &self,
        actor: &Actor,
        action: &str,
        store: Option<&StoreCode>,
        target: Option<String>,
        outcome: AuditOutcome,
        details: Details,
    ) {
        let entry = actor.audit(action, store, target, outcome, Some(details.build()));
        if let Err(e) = self.repo.insert(&entry).await {
            tracing::error!(error = %e, action, "could not write the audit row");
        }
    }
}

/// The JSON object of an audit row's details, built field by field (keys are fixed names,
/// values are escaped).
#[derive(Debug, Default)]
pub(crate) struct Details(Vec<(&'static str, String)>);

impl Details {
    /// `{"error": reason}`.
    pub(crate) fn error(reason: &str) -> Self {
        Self::default().text("error", reason)
    }

    pub(crate) fn text(mut self, key: &'static str, value: &str) -> Self {
        self.0.push((key, json_str(value)));
        self
    }

    pub(crate) fn number(mut self, key: &'static str, value: impl Into<i64>) -> Self {
        self.0.push((key, value.into().to_string()));
        self
    }

    pub(crate) fn flag(mut self, key: &'static str, value: bool) -> Self {
        self.0.push((key, value.to_string()));
        self
    }

    pub(crate) fn ids(mut self, key: &'static str, ids: &[i64]) -> Self {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        self.0.push((key, format!("[{}]", list.join(","))));
        self
    }

    pub(crate) fn build(&self) -> String {
        let fields: Vec<String> = self.0.iter().map(|(k, v)| format!("{}:{v}", json_str(k))).collect();
        format!("{{{}}}", fields.join(","))
    }
}

/// Escapes a string as a JSON string literal.
fn json_str(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_one_json_object() {
        let d = Details::error("store_exists")
            .text("job", "a\"b\\c\n")
            .number("rows", 3)
            .flag("wait", true)
            .ids("runIds", &[1, 2]);
        assert_eq!(d.build(), r#"{"error":"store_exists","job":"a\"b\\c\u000a","rows":3,"wait":true,"runIds":[1,2]}"#);
        assert_eq!(Details::default().build(), "{}");
    }
}
