//! The repository ports over the in-memory [`World`]: plain implementations that behave like
//! the PostgreSQL adapter (uniqueness, compare-and-swap, leases, locks), without SQL.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use hub_domain::*;
use hub_ports::*;

use crate::testing::world::{Shared, t0};

/// Every repository port over one shared world.
#[derive(Clone)]
pub struct Memory(pub Shared);

impl Memory {
    fn w(&self) -> std::sync::MutexGuard<'_, crate::testing::world::World> {
        self.0.lock().expect("world poisoned")
    }

    /// A page of the scope's stores in code order after `after`, archived ones only `with_archived`.
    fn stores_page(
        &self,
        scope: &StoreScope,
        after: Option<StoreCode>,
        limit: i64,
        with_archived: bool,
    ) -> Vec<StoreOverview> {
        let w = self.w();
        let mut stores: Vec<&Store> = w
            .stores
            .iter()
            .filter(|s| scope.allows(s.group.as_ref()) && (with_archived || s.archived_at.is_none()))
            .filter(|s| after.as_ref().is_none_or(|a| s.code.as_str() > a.as_str()))
            .collect();
        stores.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
        stores.into_iter().take(limit as usize).map(|s| w.overview(s)).collect()
    }
}

/// Replaces the row `same` finds (keeping its id) or appends a new one; `row(id)` builds it.
fn upsert<T>(rows: &mut Vec<T>, same: impl Fn(&T) -> bool, id_of: impl Fn(&T) -> i64, row: impl FnOnce(i64) -> T) {
    let id =
        rows.iter().find(|x| same(x)).map(&id_of).unwrap_or_else(|| rows.iter().map(&id_of).max().unwrap_or(0) + 1);
    rows.retain(|x| !same(x));
    rows.push(row(id));
}

#[async_trait]
impl StoreRepo for Memory {
    async fn create(&self, n: &NewStore, audit: &NewAuditEntry) -> RepoResult<Store> {
        let mut w = self.w();
        if w.stores.iter().any(|st| st.code == n.code) {
            return Err(RepoError::Conflict("stores_pkey".into()));
        }
        let store = Store {
            code: n.code.clone(),
            name: n.name.to_string(),
            pic_name: n.pic_name.to_string(),
            pic_contact: n.pic_contact.as_ref().map(|p| p.to_string()),
            group: n.group.clone(),
            created_at: t0(),
            archived_at: None,
        };
        w.stores.push(store.clone());
        w.audit.push(audit.clone());
        Ok(store)
    }

    async fn update(&self, c: &StoreCode, change: &StoreChange, audit: &NewAuditEntry) -> RepoResult<Store> {
        let mut w = self.w();
        let store = w.stores.iter_mut().find(|st| &st.code == c).ok_or(RepoError::NotFound)?;
        if let Some(n) = &change.name {
            store.name = n.to_string();
        }
        if let Some(p) = &change.pic_name {
            store.pic_name = p.to_string();
        }
        if let Some(contact) = &change.pic_contact {
            store.pic_contact = contact.as_ref().map(|p| p.to_string());
        }
        if let Some(group) = &change.group {
            store.group = group.clone();
        }
        let store = store.clone();
        w.audit.push(audit.clone());
        Ok(store)
    }

    async fn groups_in(&self, scope: &StoreScope) -> RepoResult<Vec<StoreGroup>> {
        let mut groups: Vec<StoreGroup> = self
            .w()
            .stores
            .iter()
            .filter(|s| s.archived_at.is_none() && scope.allows(s.group.as_ref()))
            .filter_map(|s| s.group.clone())
            .collect();
        groups.sort();
        groups.dedup();
        Ok(groups)
    }

    async fn existing_groups(&self, groups: &[StoreGroup]) -> RepoResult<Vec<StoreGroup>> {
        let w = self.w();
        Ok(groups.iter().filter(|g| w.stores.iter().any(|s| s.group.as_ref() == Some(*g))).cloned().collect())
    }

    async fn get(&self, c: &StoreCode) -> RepoResult<Option<Store>> {
        Ok(self.w().stores.iter().find(|st| &st.code == c).cloned())
    }

    async fn overview(&self, c: &StoreCode) -> RepoResult<Option<StoreOverview>> {
        let w = self.w();
        Ok(w.stores.iter().find(|st| &st.code == c).map(|st| w.overview(st)))
    }

    async fn stores_page_in(
        &self,
        scope: &StoreScope,
        after: Option<StoreCode>,
        limit: i64,
    ) -> RepoResult<Vec<StoreOverview>> {
        Ok(self.stores_page(scope, after, limit, false))
    }

    async fn all_stores_page_in(
        &self,
        scope: &StoreScope,
        after: Option<StoreCode>,
        limit: i64,
    ) -> RepoResult<Vec<StoreOverview>> {
        Ok(self.stores_page(scope, after, limit, true))
    }
}

#[async_trait]
impl AccountRepo for Memory {
    async fn for_store(&self, c: &StoreCode) -> RepoResult<Option<Account>> {
        Ok(self.w().accounts.get(c.as_str()).cloned())
    }

    async fn get(&self, id: AccountId) -> RepoResult<Option<Account>> {
        Ok(self.w().accounts.values().find(|a| a.id == id).cloned())
    }

    async fn save_connected(&self, c: &ConnectedAccount, audit: &[NewAuditEntry]) -> RepoResult<Account> {
        let mut w = self.w();
        w.next_id += 1;
        let id = w.accounts.get(c.store_code.as_str()).map_or(AccountId(w.next_id), |a| a.id);
        let acct = Account {
            id,
            store_code: c.store_code.clone(),
            platform: "tiktok".into(),
            open_id: Some(c.open_id.clone()),
            tokens: Some(c.tokens.clone()),
            token_expires_at: Some(c.meta.access_expires_at),
            refresh_token_expires_at: Some(c.meta.refresh_expires_at),
            scopes: c.meta.scopes.clone(),
            status: ConnectionStatus::Connected,
            connected_at: Some(c.connected_at),
            last_sync_time: None,
            last_refresh_at: None,
            created_at: c.connected_at,
            updated_at: c.connected_at,
        };
        w.accounts.insert(c.store_code.to_string(), acct.clone());
        w.audit.extend(audit.iter().cloned());
        Ok(acct)
    }

    async fn save_refreshed(
        &self,
        id: AccountId,
        expected: &str,
        tokens: &EncryptedTokens,
        meta: &TokenMeta,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let mut w = self.w();
        let a = w.accounts.values_mut().find(|a| a.id == id).ok_or(RepoError::NotFound)?;
        if a.tokens.as_ref().map(|t| t.refresh.as_str()) != Some(expected) {
            return Ok(false);
        }
        a.tokens = Some(tokens.clone());
        a.token_expires_at = Some(meta.access_expires_at);
        a.refresh_token_expires_at = Some(meta.refresh_expires_at);
        a.last_refresh_at = Some(at);
        Ok(true)
    }

    async fn set_status_if(
        &self,
        id: AccountId,
        expected_refresh: &str,
        status: ConnectionStatus,
        _at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let mut w = self.w();
        match w.accounts.values_mut().find(|a| a.id == id) {
            Some(a) if a.tokens.as_ref().is_some_and(|t| t.refresh == expected_refresh) => {
                a.status = status;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn list_connected(&self) -> RepoResult<Vec<Account>> {
        let mut rows: Vec<Account> =
            self.w().accounts.values().filter(|a| a.status == ConnectionStatus::Connected).cloned().collect();
        rows.sort_by(|a, b| a.store_code.cmp(&b.store_code));
        Ok(rows)
    }

    async fn list_due_for_refresh(&self, before: DateTime<Utc>) -> RepoResult<Vec<Account>> {
        let w = self.w();
        let mut due: Vec<Account> = w
            .accounts
            .values()
            .filter(|a| a.status == ConnectionStatus::Connected && a.token_expires_at.is_some_and(|t| t < before))
            .cloned()
            .collect();
        due.sort_by_key(|a| a.token_expires_at);
        Ok(due)
    }

    async fn mark_synced(&self, id: AccountId, at: DateTime<Utc>) -> RepoResult<()> {
        if let Some(a) = self.w().accounts.values_mut().find(|a| a.id == id) {
            a.last_sync_time = Some(at);
        }
        Ok(())
    }

    async fn try_lease_refresh(
        &self,
        id: AccountId,
        owner: &str,
        expected_refresh: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let mut w = self.w();
        let unchanged =
            w.accounts.values().any(|a| a.id == id && a.tokens.as_ref().is_some_and(|t| t.refresh == expected_refresh));
        if !unchanged {
            return Ok(false);
        }
        match w.leases.get(&id.0) {
            Some((o, u)) if o != owner && *u > now => Ok(false),
            _ => {
                w.leases.insert(id.0, (owner.to_owned(), until));
                Ok(true)
            }
        }
    }

    async fn release_refresh_lease(&self, id: AccountId, owner: &str) -> RepoResult<()> {
        let mut w = self.w();
        if w.leases.get(&id.0).is_some_and(|(o, _)| o == owner) {
            w.leases.remove(&id.0);
        }
        Ok(())
    }

    async fn release_refresh_leases_of(&self, owner: &str) -> RepoResult<u64> {
        let mut w = self.w();
        let before = w.leases.len();
        w.leases.retain(|_, (o, _)| o != owner);
        Ok((before - w.leases.len()) as u64)
    }

    async fn list_with_tokens_after(&self, after: AccountId, limit: i64) -> RepoResult<Vec<Account>> {
        let mut rows: Vec<Account> =
            self.w().accounts.values().filter(|a| a.id > after && a.tokens.is_some()).cloned().collect();
        rows.sort_by_key(|a| a.id);
        rows.truncate(limit as usize);
        Ok(rows)
    }

    async fn replace_ciphertexts(
        &self,
        id: AccountId,
        expected: &EncryptedTokens,
        new: &EncryptedTokens,
    ) -> RepoResult<bool> {
        let mut w = self.w();
        let a = w.accounts.values_mut().find(|a| a.id == id).ok_or(RepoError::NotFound)?;
        if a.tokens.as_ref() != Some(expected) {
            return Ok(false);
        }
        a.tokens = Some(new.clone());
        Ok(true)
    }
}

#[async_trait]
impl SnapshotRepo for Memory {
    async fn upsert_user(&self, rows: &[UserSnapshot]) -> RepoResult<u64> {
        let mut w = self.w();
        for r in rows {
            let same = |x: &UserSnapshotRow| {
                x.snapshot.store_code == r.store_code && x.snapshot.snapshot_date == r.snapshot_date
            };
            upsert(
                &mut w.user_rows,
                same,
                |x| x.id,
                |id| UserSnapshotRow { id, snapshot: r.clone(), created_at: t0() },
            );
        }
        Ok(rows.len() as u64)
    }

    async fn upsert_videos(&self, rows: &[VideoSnapshot]) -> RepoResult<u64> {
        let mut w = self.w();
        for r in rows {
            let same = |x: &VideoSnapshotRow| {
                x.snapshot.store_code == r.store_code
                    && x.snapshot.snapshot_date == r.snapshot_date
                    && x.snapshot.video_id == r.video_id
            };
            upsert(
                &mut w.video_rows,
                same,
                |x| x.id,
                |id| VideoSnapshotRow { id, snapshot: r.clone(), created_at: t0() },
            );
        }
        Ok(rows.len() as u64)
    }

    async fn known_videos(&self, c: &StoreCode, before: NaiveDate) -> RepoResult<Vec<KnownVideo>> {
        let w = self.w();
        let videos = || w.video_rows.iter().map(|r| &r.snapshot).filter(|r| &r.store_code == c);
        let last = videos().filter(|r| r.snapshot_date < before).map(|r| r.snapshot_date).max();
        let mut rows: Vec<KnownVideo> = videos()
            .filter(|r| Some(r.snapshot_date) == last)
            .map(|r| KnownVideo { video_id: r.video_id.clone(), create_time: r.create_time })
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.create_time));
        Ok(rows)
    }
}

#[async_trait]
impl SyncLogRepo for Memory {
    async fn insert(&self, l: &NewSyncLog) -> RepoResult<i64> {
        let mut w = self.w();
        let id = w.logs.iter().map(|l| l.id).max().unwrap_or(0) + 1;
        w.logs.push(SyncLog { id, log: l.clone(), run_time: t0() });
        Ok(id)
    }

    async fn logs_page(
        &self,
        scope: &StoreScope,
        store: Option<StoreCode>,
        after: Option<SyncLogCursor>,
        limit: i64,
    ) -> RepoResult<Vec<SyncLog>> {
        let w = self.w();
        let mut rows: Vec<SyncLog> = w
            .logs
            .iter()
            .filter(|l| store.is_none() || l.log.store_code == store)
            .filter(|l| scope.is_all() || l.log.store_code.as_ref().is_some_and(|c| w.in_scope(scope, c)))
            .filter(|l| after.is_none_or(|c| (l.run_time, l.id) < (c.run_time, c.id)))
            .cloned()
            .collect();
        rows.sort_by_key(|l| std::cmp::Reverse((l.run_time, l.id)));
        rows.truncate(limit.max(0) as usize);
        Ok(rows)
    }
}

#[async_trait]
impl SyncRunRepo for Memory {
    async fn start(
        &self,
        job: JobKind,
        date: NaiveDate,
        trigger: RunTrigger,
        total: i64,
        owner: &str,
        now: DateTime<Utc>,
    ) -> RepoResult<SyncRun> {
        let mut w = self.w();
        let run = SyncRun {
            id: w.runs.iter().map(|r| r.id).max().unwrap_or(0) + 1,
            job,
            scheduled_date: date,
            trigger,
            status: RunStatus::Running,
            counts: RunCounts { total, ..Default::default() },
            message: None,
            owner: Some(owner.to_owned()),
            heartbeat_at: Some(now),
            started_at: now,
            finished_at: None,
        };
        w.runs.push(run.clone());
        Ok(run)
    }

    async fn progress(&self, id: i64, counts: &RunCounts, now: DateTime<Utc>) -> RepoResult<()> {
        let mut w = self.w();
        let run =
            w.runs.iter_mut().find(|r| r.id == id && r.status == RunStatus::Running).ok_or(RepoError::NotFound)?;
        run.counts = *counts;
        run.heartbeat_at = Some(now);
        Ok(())
    }

    async fn finish(
        &self,
        id: i64,
        status: RunStatus,
        counts: &RunCounts,
        message: Option<String>,
        now: DateTime<Utc>,
    ) -> RepoResult<()> {
        let mut w = self.w();
        let run = w.runs.iter_mut().find(|r| r.id == id).ok_or(RepoError::NotFound)?;
        run.status = status;
        run.counts = *counts;
        run.message = message;
        run.finished_at = Some(now);
        Ok(())
    }

    async fn get(&self, id: i64) -> RepoResult<Option<SyncRun>> {
        Ok(self.w().runs.iter().find(|r| r.id == id).cloned())
    }

    async fn latest(&self, job: JobKind) -> RepoResult<Option<SyncRun>> {
        Ok(self.w().runs.iter().filter(|r| r.job == job).max_by_key(|r| (r.started_at, r.id)).cloned())
    }

    async fn running(&self) -> RepoResult<Vec<SyncRun>> {
        Ok(self.w().runs.iter().filter(|r| r.status == RunStatus::Running).cloned().collect())
    }

    async fn latest_for_tick(&self, job: JobKind, tick: DateTime<Utc>) -> RepoResult<bool> {
        Ok(self.w().runs.iter().any(|r| r.job == job && r.trigger == RunTrigger::Cron && r.started_at >= tick))
    }

    async fn interrupt_stale(&self, stale_before: DateTime<Utc>, now: DateTime<Utc>) -> RepoResult<u64> {
        let mut n = 0;
        for r in self.w().runs.iter_mut() {
            if r.status == RunStatus::Running && r.heartbeat_at.unwrap_or(r.started_at) < stale_before {
                r.status = RunStatus::Interrupted;
                r.finished_at = Some(now);
                n += 1;
            }
        }
        Ok(n)
    }
}

#[async_trait]
impl AuditRepo for Memory {
    async fn insert(&self, e: &NewAuditEntry) -> RepoResult<i64> {
        let mut w = self.w();
        w.audit.push(e.clone());
        Ok(w.audit.len() as i64)
    }

    async fn list(&self, f: &AuditFilter) -> RepoResult<Vec<AuditEntry>> {
        let w = self.w();
        Ok(w.audit
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, e)| f.action.as_ref().is_none_or(|a| &e.action == a))
            .filter(|(_, e)| f.store_code.is_none() || e.store_code == f.store_code)
            .filter(|(_, e)| f.actor.as_ref().is_none_or(|a| &e.actor == a))
            .filter(|(_, e)| {
                f.stores_in.as_ref().is_none_or(|scope| e.store_code.as_ref().is_some_and(|c| w.in_scope(scope, c)))
            })
            .take(f.limit as usize)
            .map(|(i, e)| AuditEntry { id: i as i64 + 1, entry: e.clone(), created_at: t0() })
            .collect())
    }
}

#[async_trait]
impl ConnectRepo for Memory {
    async fn create_invite(&self, inv: &NewConnectInvite, audit: &NewAuditEntry) -> RepoResult<ConnectInvite> {
        let mut w = self.w();
        for old in w.invites.iter_mut().filter(|i| i.store_code == inv.store_code && i.used_at.is_none()) {
            old.revoked_at.get_or_insert(t0());
        }
        let stored = ConnectInvite {
            id: w.invites.len() as i64 + 1,
            token_hash: inv.token_hash.clone(),
            store_code: inv.store_code.clone(),
            created_by: inv.created_by.clone(),
            created_at: t0(),
            expires_at: inv.expires_at,
            used_at: None,
            revoked_at: None,
        };
        w.invites.push(stored.clone());
        w.audit.push(audit.clone());
        Ok(stored)
    }

    async fn find_invite(&self, h: &str) -> RepoResult<Option<ConnectInvite>> {
        Ok(self.w().invites.iter().find(|i| i.token_hash == h).cloned())
    }

    async fn consume_invite(&self, id: i64, now: DateTime<Utc>) -> RepoResult<bool> {
        let mut w = self.w();
        let inv = w.invites.iter_mut().find(|i| i.id == id).ok_or(RepoError::NotFound)?;
        if !inv.is_usable(now) {
            return Ok(false);
        }
        inv.used_at = Some(now);
        Ok(true)
    }

    async fn insert_state(&self, st: &NewOAuthState) -> RepoResult<()> {
        self.w().states.push((st.clone(), false));
        Ok(())
    }

    async fn consume_state(&self, h: &str, now: DateTime<Utc>) -> RepoResult<Option<OAuthState>> {
        let mut w = self.w();
        Ok(w.states.iter_mut().find(|(st, used)| st.nonce_hash == h && !used && st.expires_at > now).map(
            |(st, used)| {
                *used = true;
                OAuthState { state: st.clone(), created_at: now }
            },
        ))
    }

    async fn purge_expired(&self, before: DateTime<Utc>) -> RepoResult<u64> {
        let mut w = self.w();
        w.purges += 1;
        let n = w.states.len() + w.invites.len();
        w.states.retain(|(st, _)| st.expires_at >= before);
        w.invites.retain(|i| i.expires_at >= before);
        Ok((n - w.states.len() - w.invites.len()) as u64)
    }
}

#[async_trait]
impl DbHealth for Memory {
    async fn ping(&self) -> RepoResult<()> {
        Ok(())
    }

    async fn pending_migrations(&self) -> RepoResult<usize> {
        Ok(0)
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats::default()
    }
}
