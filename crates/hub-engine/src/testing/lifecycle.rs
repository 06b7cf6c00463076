//! [`LifecycleRepo`] over the in-memory world.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_domain::*;
use hub_ports::*;

use crate::testing::Memory;

#[async_trait]
impl LifecycleRepo for Memory {
    async fn retire(
        &self,
        code: &StoreCode,
        archive: bool,
        now: DateTime<Utc>,
        audit: &NewAuditEntry,
    ) -> RepoResult<Retired> {
        let mut w = self.0.lock().expect("world poisoned");
        if !w.stores.iter().any(|s| &s.code == code) {
            return Err(RepoError::NotFound);
        }
        let mut retired = Retired { pending: None, disconnected: false, archived: false, links_revoked: 0 };
        let next_id = w.revocations.iter().map(|r| r.id).max().unwrap_or(0) + 1;
        if let Some(a) = w.accounts.get_mut(code.as_str()) {
            retired.disconnected = a.status != ConnectionStatus::Disconnected;
            a.status = ConnectionStatus::Disconnected;
            a.updated_at = now;
            if let Some(tokens) = a.tokens.take() {
                retired.pending = Some(PendingRevocation {
                    id: next_id,
                    store_code: code.clone(),
                    open_id: a.open_id.clone(),
                    tokens,
                    attempts: 0,
                    next_attempt_at: now,
                    created_at: now,
                });
            }
        }
        w.revoke_reasons.remove(code.as_str());
        if let Some(p) = &retired.pending {
            w.revocations.push(p.clone());
        }
        if archive {
            let store = w.stores.iter_mut().find(|s| &s.code == code).ok_or(RepoError::NotFound)?;
            retired.archived = store.archived_at.is_none();
            store.archived_at.get_or_insert(now);
            for i in w.invites.iter_mut().filter(|i| &i.store_code == code && i.used_at.is_none()) {
                if i.revoked_at.is_none() {
                    i.revoked_at = Some(now);
                    retired.links_revoked += 1;
                }
            }
        }
        w.audit.push(audit.clone());
        Ok(retired)
    }

    async fn restore(&self, code: &StoreCode, audit: &NewAuditEntry) -> RepoResult<bool> {
        let mut w = self.0.lock().expect("world poisoned");
        let store = w.stores.iter_mut().find(|s| &s.code == code).ok_or(RepoError::NotFound)?;
        let was = store.archived_at.take().is_some();
        w.audit.push(audit.clone());
        Ok(was)
    }

    async fn revoke_invites(&self, code: &StoreCode, now: DateTime<Utc>, audit: &NewAuditEntry) -> RepoResult<u64> {
        let mut w = self.0.lock().expect("world poisoned");
        let mut n = 0;
        for i in w.invites.iter_mut().filter(|i| &i.store_code == code && i.used_at.is_none()) {
            if i.revoked_at.is_none() {
                i.revoked_at = Some(now);
                n += 1;
            }
        }
        w.audit.push(audit.clone());
        Ok(n)
    }

    async fn due_revocations(&self, now: DateTime<Utc>, limit: i64) -> RepoResult<Vec<PendingRevocation>> {
        let w = self.0.lock().expect("world poisoned");
        let mut due: Vec<PendingRevocation> =
            w.revocations.iter().filter(|r| r.next_attempt_at <= now).cloned().collect();
        due.sort_by_key(|r| (r.next_attempt_at, r.id));
        due.truncate(limit.max(0) as usize);
        Ok(due)
    }

    async fn revocation_done(&self, id: i64) -> RepoResult<()> {
        self.0.lock().expect("world poisoned").revocations.retain(|r| r.id != id);
        Ok(())
    }

    async fn revocation_failed(&self, id: i64, _error: &str, next_attempt_at: DateTime<Utc>) -> RepoResult<()> {
        let mut w = self.0.lock().expect("world poisoned");
        let r = w.revocations.iter_mut().find(|r| r.id == id).ok_or(RepoError::NotFound)?;
        r.attempts += 1;
        r.next_attempt_at = next_attempt_at;
        Ok(())
    }
}
