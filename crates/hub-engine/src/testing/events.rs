//! [`TikTokEventRepo`] over the in-memory world.

use async_trait::async_trait;
use hub_domain::*;
use hub_ports::*;

use crate::testing::Memory;

#[async_trait]
impl TikTokEventRepo for Memory {
    async fn record(&self, event: &TikTokEvent, deauthorization: Option<Deauthorization>) -> RepoResult<RecordedEvent> {
        let mut w = self.0.lock().expect("world poisoned");
        if w.tiktok_events.iter().any(|e| e.dedupe_key == event.dedupe_key) {
            return Ok(RecordedEvent { duplicate: true, revoked_store: None });
        }
        w.tiktok_events.push(event.clone());
        let Some(d) = deauthorization.as_ref() else {
            return Ok(RecordedEvent { duplicate: false, revoked_store: None });
        };
        let account = w
            .accounts
            .values_mut()
            .find(|a| a.open_id.as_deref() == Some(d.open_id.as_str()) && a.status != ConnectionStatus::Disconnected);
        let Some(a) = account else { return Ok(RecordedEvent { duplicate: false, revoked_store: None }) };
        a.status = ConnectionStatus::NeedReconnect(ReconnectReason::Revoked);
        a.tokens = None;
        a.updated_at = d.at;
        let code = a.store_code.clone();
        w.revoke_reasons.insert(code.to_string(), d.reason);
        w.audit.push(NewAuditEntry { store_code: Some(code.clone()), ..d.audit.clone() });
        Ok(RecordedEvent { duplicate: false, revoked_store: Some(code) })
    }
}
