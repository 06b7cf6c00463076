//! Port-level tests of the refresh lease across instances: the lease is a compare-and-swap
//! on the refresh ciphertext read, the status written after a refresh is conditional on it,
//! and the lease outlives the slowest token call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use hub_domain::*;
use hub_engine::EngineConfig;
use hub_engine::testing::*;
use hub_engine::tokens::Refreshed;
use hub_ports::*;

/// Store `a`, its access token expired an hour ago (the refresh token lasts a year).
fn world() -> Shared {
    let w = Arc::new(Mutex::new(World::default()));
    w.lock().unwrap().add_store("a");
    w.lock().unwrap().connect_at("a", t0() - Duration::days(1), Duration::hours(23));
    w
}

/// What another instance does to store `a`: stores a new pair `act.<tag>` / `rft.<tag>` and
/// gives its lease back (a rotation), or reconnects the store.
fn other_instance_stores(w: &Shared, tag: &str) {
    let c = cipher();
    let mut w = w.lock().unwrap();
    let a = w.accounts.get_mut("a").unwrap();
    a.tokens = Some(EncryptedTokens {
        access: c.encrypt(&format!("act.{tag}"), "a/access"),
        refresh: c.encrypt(&format!("rft.{tag}"), "a/refresh"),
    });
    a.token_expires_at = Some(t0() + Duration::hours(24));
    a.status = ConnectionStatus::Connected;
    let id = a.id.0;
    w.leases.remove(&id);
}

fn stored_refresh(w: &Shared) -> String {
    let w = w.lock().unwrap();
    cipher().decrypt(&w.accounts["a"].tokens.as_ref().unwrap().refresh, "a/refresh").unwrap().expose().clone()
}

/// The world's accounts; the first lease attempt is preceded by another instance's rotation
/// (it read the same pair, leased, rotated and gave the lease back in between).
struct RotateBeforeLease {
    inner: Arc<dyn AccountRepo>,
    world: Shared,
    done: AtomicBool,
}

#[async_trait::async_trait]
impl AccountRepo for RotateBeforeLease {
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
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        self.inner.save_refreshed(id, expected_refresh, tokens, meta, at).await
    }
    async fn set_status_if(
        &self,
        id: AccountId,
        expected_refresh: &str,
        status: ConnectionStatus,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        self.inner.set_status_if(id, expected_refresh, status, at).await
    }
    async fn list_connected(&self) -> RepoResult<Vec<Account>> {
        self.inner.list_connected().await
    }
    async fn list_due_for_refresh(&self, before: DateTime<Utc>) -> RepoResult<Vec<Account>> {
        self.inner.list_due_for_refresh(before).await
    }
    async fn mark_synced(&self, id: AccountId, at: DateTime<Utc>) -> RepoResult<()> {
        self.inner.mark_synced(id, at).await
    }
    async fn try_lease_refresh(
        &self,
        id: AccountId,
        owner: &str,
        expected_refresh: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> RepoResult<bool> {
        if !self.done.swap(true, Ordering::SeqCst) {
            other_instance_stores(&self.world, "other");
        }
        self.inner.try_lease_refresh(id, owner, expected_refresh, now, until).await
    }
    async fn release_refresh_lease(&self, id: AccountId, owner: &str) -> RepoResult<()> {
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

/// TikTok as it answers a spent refresh token: `invalid_grant` for anything but `fresh`.
fn tiktok_refusing_all_but(fresh: &'static str) -> MockTikTokApi {
    let mut t = MockTikTokApi::new();
    t.expect_refresh().returning(move |rt| {
        if rt.expose() == fresh {
            Ok(grant("open-a", "act.next", "rft.next"))
        } else {
            Err(TikTokError::InvalidGrant { description: "refresh token already used".into() })
        }
    });
    t
}

#[tokio::test]
async fn a_rotation_between_read_and_lease_is_seen_and_no_dead_token_is_spent() {
    let w = world();
    let mut p = ports(&w, Arc::new(tiktok_refusing_all_but("rft.other")), fixed_clock(t0()));
    p.accounts = Arc::new(RotateBeforeLease { inner: p.accounts.clone(), world: w.clone(), done: false.into() });
    let engine = hub_engine::Engine::new(p, EngineConfig::default(), STATE_SECRET);

    let seen = w.lock().unwrap().accounts["a"].clone();
    let (refreshed, account) = engine.syncs().tokens().refresh(&seen).await.expect("the other instance's pair");
    assert_eq!(refreshed, Refreshed::AlreadyFresh);
    assert_eq!(account.status, ConnectionStatus::Connected);
    assert_eq!(w.lock().unwrap().status("a"), ConnectionStatus::Connected, "a healthy store stays connected");
    assert_eq!(stored_refresh(&w), "rft.other", "the other instance's pair is kept");
}

#[tokio::test]
async fn a_reconnect_during_a_refused_refresh_is_not_overwritten() {
    let w = world();
    let mut tiktok = MockTikTokApi::new();
    let during = w.clone();
    // While TikTok answers, an admin reconnects the store; TikTok then refuses the old grant.
    tiktok.expect_refresh().times(1).returning(move |_| {
        other_instance_stores(&during, "reconnected");
        Err(TikTokError::InvalidGrant { description: "revoked".into() })
    });
    let engine = engine(&w, tiktok, t0(), EngineConfig::default());

    let seen = w.lock().unwrap().accounts["a"].clone();
    let (refreshed, _) = engine.syncs().tokens().refresh(&seen).await.expect("the reconnected pair");
    assert_eq!(refreshed, Refreshed::AlreadyFresh);
    assert_eq!(w.lock().unwrap().status("a"), ConnectionStatus::Connected, "the fresh reconnect stands");
    assert_eq!(stored_refresh(&w), "rft.reconnected");
}

#[tokio::test]
async fn a_refused_refresh_still_marks_the_store_when_nothing_changed() {
    let w = world();
    let engine = engine(&w, tiktok_refusing_all_but("none"), t0(), EngineConfig::default());
    let seen = w.lock().unwrap().accounts["a"].clone();
    let e = engine.syncs().tokens().refresh(&seen).await.unwrap_err();
    assert_eq!(e, hub_engine::tokens::TokenError::NeedsReconnect(ReconnectReason::GrantInvalid));
    assert_eq!(w.lock().unwrap().status("a"), ConnectionStatus::NeedReconnect(ReconnectReason::GrantInvalid));
}

/// The slowest token call of TikTok's default client: 4 attempts of 20 s and 3 backoffs of
/// up to 10 s; the rotated pair's store is then retried for up to 30 s.
const SLOWEST_REFRESH: Duration = Duration::seconds(4 * 20 + 3 * 10 + 30);

#[tokio::test]
async fn the_lease_outlives_the_slowest_token_call() {
    let w = world();
    let lease: Arc<Mutex<Option<DateTime<Utc>>>> = Arc::default();
    let (seen_lease, during) = (lease.clone(), w.clone());
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_refresh().times(1).returning(move |_| {
        *seen_lease.lock().unwrap() = during.lock().unwrap().leases.values().next().map(|(_, until)| *until);
        Ok(grant("open-a", "act.next", "rft.next"))
    });
    let engine = engine(&w, tiktok, t0(), EngineConfig::default());
    let seen = w.lock().unwrap().accounts["a"].clone();
    engine.syncs().tokens().refresh(&seen).await.unwrap();
    let until = lease.lock().unwrap().expect("a lease is held during the call");
    assert!(until - t0() > SLOWEST_REFRESH, "lease of {}s", (until - t0()).num_seconds());
}
