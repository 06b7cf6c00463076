//! Port-level tests of crash recovery: stale runs and the refresh leases of dead instances.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use hub_domain::*;
use hub_engine::EngineConfig;
use hub_engine::testing::*;
use hub_ports::*;

const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

fn run(id: i64, job: JobKind, owner: &str, heartbeat_ago: Duration) -> SyncRun {
    SyncRun {
        id,
        job,
        scheduled_date: t0().date_naive(),
        trigger: RunTrigger::Cli,
        status: RunStatus::Running,
        counts: RunCounts { total: 2, processed: 1, ..Default::default() },
        message: None,
        owner: Some(owner.to_owned()),
        heartbeat_at: Some(t0() - heartbeat_ago),
        started_at: t0() - Duration::minutes(30),
        finished_at: None,
    }
}

/// Stores a, b, c with expired access tokens; a killed instance `dead` left its refresh run
/// RUNNING (heartbeat 10 minutes old) and a lease on a; a live instance `alive` runs the user
/// job (heartbeat 5 s old) and leases b; this instance (`me`) has a stale run of its own and
/// leases c.
fn crashed_world() -> Shared {
    let w = Arc::new(Mutex::new(World::default()));
    {
        let mut w = w.lock().unwrap();
        for c in ["a", "b", "c"] {
            w.add_store(c);
            w.connect_at(c, t0() - Duration::days(1), Duration::hours(20));
        }
        w.runs.push(run(1, JobKind::RefreshTokens, "dead", Duration::minutes(10)));
        w.runs.push(run(2, JobKind::SyncUserDaily, "alive", Duration::seconds(5)));
        w.runs.push(run(3, JobKind::SyncVideoDaily, "me", Duration::minutes(10)));
        let lease_until = t0() + Duration::seconds(50);
        for (c, owner) in [("a", "dead"), ("b", "alive"), ("c", "me")] {
            let id = w.accounts[c].id.0;
            w.leases.insert(id, (owner.to_owned(), lease_until));
        }
    }
    w
}

fn config() -> EngineConfig {
    EngineConfig { instance_id: "me".into(), ..EngineConfig::default() }
}

#[tokio::test]
async fn stale_runs_are_interrupted_and_dead_owners_leases_released() {
    let w = crashed_world();
    let engine = engine(&w, MockTikTokApi::new(), t0(), config());

    let done = engine.syncs().interrupt_stale_runs(STALE_AFTER).await.unwrap();
    assert_eq!((done.interrupted, done.leases_released), (2, 1));
    let ids: Vec<(i64, RunStatus)> = done.runs.iter().map(|r| (r.id, r.status)).collect();
    assert_eq!(ids, [(1, RunStatus::Interrupted), (3, RunStatus::Interrupted)]);

    let w = w.lock().unwrap();
    let statuses: Vec<RunStatus> = w.runs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [RunStatus::Interrupted, RunStatus::Running, RunStatus::Interrupted]);
    assert_eq!(w.runs[0].finished_at, Some(t0()));
    let mut owners: Vec<&str> = w.leases.values().map(|(o, _)| o.as_str()).collect();
    owners.sort_unstable();
    // The live instance keeps its lease; so does this one (it is alive, whatever its run's heartbeat says).
    assert_eq!(owners, ["alive", "me"]);
}

#[tokio::test]
async fn nothing_stale_changes_nothing() {
    let w = crashed_world();
    let engine = engine(&w, MockTikTokApi::new(), t0(), config());
    let done = engine.syncs().interrupt_stale_runs(std::time::Duration::from_secs(3600)).await.unwrap();
    assert_eq!(done, hub_engine::StaleRuns::default());
    let w = w.lock().unwrap();
    assert!(w.runs.iter().all(|r| r.status == RunStatus::Running));
    assert_eq!(w.leases.len(), 3);
}

#[tokio::test]
async fn after_recovery_a_dead_owners_account_refreshes_at_once() {
    let w = crashed_world();
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_refresh().times(1).returning(|t| {
        assert_eq!(t.expose(), "rft.a");
        Ok(grant("open-a", "act.new", "rft.new"))
    });
    let engine = engine(&w, tiktok, t0(), config());
    engine.syncs().interrupt_stale_runs(STALE_AFTER).await.unwrap();

    let account = w.lock().unwrap().accounts["a"].clone();
    // Without the recovery the refresh would wait for the dead lease (up to 30 s) and give up.
    let (refreshed, _) =
        tokio::time::timeout(std::time::Duration::from_secs(5), engine.syncs().tokens().refresh(&account))
            .await
            .expect("no wait for a dead instance's lease")
            .unwrap();
    assert_eq!(refreshed, hub_engine::tokens::Refreshed::Rotated);
    let w = w.lock().unwrap();
    assert_eq!(w.status("a"), ConnectionStatus::Connected);
    assert!(w.leases.values().all(|(o, _)| o != "dead"));
}

/// The world's accounts, with the first `failures` writes of a rotated pair (and of the lease
/// given back) failing as a restarting database fails them.
struct Blip {
    inner: Arc<dyn AccountRepo>,
    saves_left: std::sync::atomic::AtomicUsize,
    releases_left: std::sync::atomic::AtomicUsize,
}

fn down() -> RepoError {
    RepoError::Unavailable("the database system is shutting down".into())
}

fn take(n: &std::sync::atomic::AtomicUsize) -> bool {
    n.fetch_update(std::sync::atomic::Ordering::SeqCst, std::sync::atomic::Ordering::SeqCst, |v| v.checked_sub(1))
        .is_ok()
}

#[async_trait::async_trait]
impl AccountRepo for Blip {
    async fn for_store(&self, code: &StoreCode) -> RepoResult<Option<Account>> {
        self.inner.for_store(code).await
    }
    async fn get(&self, id: AccountId) -> RepoResult<Option<Account>> {
        self.inner.get(id).await
    }
    async fn save_connected(&self, account: &ConnectedAccount, audit: &[NewAuditEntry]) -> RepoResult<Account> {
        self.inner.save_connected(account, audit).await
    }
    async fn save_refreshed(
        &self,
        id: AccountId,
        expected_refresh: &str,
        tokens: &EncryptedTokens,
        meta: &TokenMeta,
        at: chrono::DateTime<chrono::Utc>,
    ) -> RepoResult<bool> {
        if take(&self.saves_left) {
            return Err(down());
        }
        self.inner.save_refreshed(id, expected_refresh, tokens, meta, at).await
    }
    async fn set_status_if(
        &self,
        id: AccountId,
        expected_refresh: &str,
        status: ConnectionStatus,
        at: chrono::DateTime<chrono::Utc>,
    ) -> RepoResult<bool> {
        self.inner.set_status_if(id, expected_refresh, status, at).await
    }
    async fn list_connected(&self) -> RepoResult<Vec<Account>> {
        self.inner.list_connected().await
    }
    async fn list_due_for_refresh(&self, before: chrono::DateTime<chrono::Utc>) -> RepoResult<Vec<Account>> {
        self.inner.list_due_for_refresh(before).await
    }
    async fn mark_synced(&self, id: AccountId, at: chrono::DateTime<chrono::Utc>) -> RepoResult<()> {
        self.inner.mark_synced(id, at).await
    }
    async fn try_lease_refresh(
        &self,
        id: AccountId,
        owner: &str,
        expected_refresh: &str,
        now: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> RepoResult<bool> {
        self.inner.try_lease_refresh(id, owner, expected_refresh, now, until).await
    }
    async fn release_refresh_lease(&self, id: AccountId, owner: &str) -> RepoResult<()> {
        if take(&self.releases_left) {
            return Err(down());
        }
        self.inner.release_refresh_lease(id, owner).await
    }
    async fn release_refresh_leases_of(&self, owner: &str) -> RepoResult<u64> {
        self.inner.release_refresh_leases_of(owner).await
    }
    async fn list_with_tokens_after(&self, after: AccountId, limit: i64) -> RepoResult<Vec<Account>> {
        self.inner.list_with_tokens_after(after, limit).await
    }
    async fn replace_ciphertexts(
        &self,
        id: AccountId,
        expected: &EncryptedTokens,
        new: &EncryptedTokens,
    ) -> RepoResult<bool> {
        self.inner.replace_ciphertexts(id, expected, new).await
    }
}

#[tokio::test]
async fn a_rotated_pair_is_stored_once_the_database_is_back() {
    let w = Arc::new(Mutex::new(World::default()));
    w.lock().unwrap().add_store("a");
    w.lock().unwrap().connect_at("a", t0() - Duration::days(1), Duration::hours(20));
    let mut tiktok = MockTikTokApi::new();
    // TikTok rotates once: its answer is the only copy of the new pair.
    tiktok.expect_refresh().times(1).returning(|_| Ok(grant("open-a", "act.new", "rft.new")));
    let mut p = ports(&w, Arc::new(tiktok), fixed_clock(t0()));
    p.accounts = Arc::new(Blip { inner: p.accounts.clone(), saves_left: 3.into(), releases_left: 2.into() });
    let engine = hub_engine::Engine::new(p, config(), STATE_SECRET);

    let account = w.lock().unwrap().accounts["a"].clone();
    let (refreshed, _) = engine.syncs().tokens().refresh(&account).await.expect("stored after the blip");
    assert_eq!(refreshed, hub_engine::tokens::Refreshed::Rotated);
    let w = w.lock().unwrap();
    let a = &w.accounts["a"];
    let stored = cipher().decrypt(&a.tokens.as_ref().unwrap().refresh, "a/refresh").unwrap();
    assert_eq!(stored.expose(), "rft.new", "the rotated refresh token is stored");
    assert_eq!(a.status, ConnectionStatus::Connected);
    assert!(w.leases.is_empty(), "the lease is given back once the database answers");
}
