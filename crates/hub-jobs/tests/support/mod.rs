//! A small in-memory world behind mockall mocks of the repository ports (trimmed from
//! hub-engine's test support), a real-time clock (apalis-cron ticks on the system clock) and
//! a fake TikTok that can be slow and fail on purpose.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Timelike, Utc};
use hub_domain::*;
use hub_engine::{AesGcmCipher, Engine, EngineConfig, Ports};
use hub_ports::*;

pub const STATE_SECRET: &[u8] = b"test-state-secret-0123456789abcdef";

#[derive(Default)]
pub struct World {
    pub stores: Vec<Store>,
    pub accounts: HashMap<String, Account>,
    pub user_rows: Vec<UserSnapshot>,
    pub video_rows: Vec<VideoSnapshot>,
    pub logs: Vec<NewSyncLog>,
    pub runs: Vec<SyncRun>,
    pub leases: HashMap<i64, (String, DateTime<Utc>)>,
    pub held_locks: Vec<String>,
    pub purges: usize,
    pub next_id: i64,
}

pub type Shared = Arc<Mutex<World>>;

pub fn code(s: &str) -> StoreCode {
    StoreCode::parse(s).unwrap()
}

pub fn cipher() -> Arc<AesGcmCipher> {
    Arc::new(AesGcmCipher::new(&[("k1".to_owned(), Secret::new([42u8; 32]))]).unwrap())
}

/// A world with these stores, each connected with a token good for 20 hours.
pub fn world(stores: &[&str]) -> Shared {
    let w = Arc::new(Mutex::new(World::default()));
    for s in stores {
        let mut w = w.lock().unwrap();
        w.add_store(s);
        w.connect(s);
    }
    w
}

impl World {
    pub fn add_store(&mut self, c: &str) {
        self.stores.push(Store {
            code: code(c),
            name: format!("Store {c}"),
            pic_name: "Pic".into(),
            pic_contact: None,
            created_at: Utc::now(),
        });
    }

    /// A connected account whose tokens are `act.<code>` / `rft.<code>`.
    pub fn connect(&mut self, c: &str) {
        let cipher = cipher();
        let now = Utc::now();
        self.next_id += 1;
        let acct = Account {
            id: AccountId(self.next_id),
            store_code: code(c),
            platform: "tiktok".into(),
            open_id: Some(format!("open-{c}")),
            tokens: Some(EncryptedTokens {
                access: cipher.encrypt(&format!("act.{c}"), &format!("{c}/access")),
                refresh: cipher.encrypt(&format!("rft.{c}"), &format!("{c}/refresh")),
            }),
            token_expires_at: Some(now + Duration::hours(20)),
            refresh_token_expires_at: Some(now + Duration::days(365)),
            scopes: REQUIRED_SCOPES.iter().map(|s| s.to_string()).collect(),
            status: ConnectionStatus::Connected,
            connected_at: Some(now),
            last_sync_time: None,
            last_refresh_at: None,
            created_at: now,
            updated_at: now,
        };
        self.accounts.insert(c.to_owned(), acct);
    }

    /// Stores with a user snapshot of `date`.
    pub fn user_snapshot_stores(&self, date: chrono::NaiveDate) -> Vec<String> {
        let mut v: Vec<String> =
            self.user_rows.iter().filter(|r| r.snapshot_date == date).map(|r| r.store_code.to_string()).collect();
        v.sort();
        v
    }

    pub fn runs_of(&self, job: JobKind) -> Vec<SyncRun> {
        self.runs.iter().filter(|r| r.job == job).cloned().collect()
    }

    fn overview(&self, s: &Store) -> StoreOverview {
        let a = self.accounts.get(s.code.as_str());
        let videos: Vec<&VideoSnapshot> = self.video_rows.iter().filter(|r| r.store_code == s.code).collect();
        let last_video_date = videos.iter().map(|r| r.snapshot_date).max();
        StoreOverview {
            store: s.clone(),
            account_id: a.map(|a| a.id),
            connection_status: a.map(|a| a.status),
            account_identifier: a.and_then(|a| a.open_id.clone()),
            connected_at: a.and_then(|a| a.connected_at),
            last_sync_time: a.and_then(|a| a.last_sync_time),
            token_expires_at: a.and_then(|a| a.token_expires_at),
            latest_user_stats: self
                .user_rows
                .iter()
                .filter(|r| r.store_code == s.code)
                .max_by_key(|r| r.snapshot_date)
                .map(|r| LatestUserStats {
                    snapshot_date: r.snapshot_date,
                    follower_count: r.follower_count,
                    likes_count: r.likes_count,
                    video_count: r.video_count,
                }),
            latest_video_stats: last_video_date.map(|d| {
                let day: Vec<&&VideoSnapshot> = videos.iter().filter(|r| r.snapshot_date == d).collect();
                LatestVideoStats {
                    snapshot_date: d,
                    total_videos: day.len() as i64,
                    total_views: day.iter().map(|r| r.view_count).sum(),
                }
            }),
        }
    }
}

/// TikTok as the tests want it: every call counted per access token, optionally slow, and
/// failing a given number of times for given stores.
#[derive(Default)]
pub struct FakeTikTok {
    pub delay: StdDuration,
    /// Store code → how many more `user/info` calls fail with a transient error.
    pub failures: Mutex<HashMap<String, usize>>,
    pub user_info_calls: Mutex<HashMap<String, usize>>,
    pub started: AtomicUsize,
}

impl FakeTikTok {
    pub fn slow(delay: StdDuration) -> Self {
        Self { delay, ..Default::default() }
    }

    pub fn fail_times(self, store: &str, times: usize) -> Self {
        self.failures.lock().unwrap().insert(store.to_owned(), times);
        self
    }

    pub fn calls(&self, store: &str) -> usize {
        self.user_info_calls.lock().unwrap().get(store).copied().unwrap_or(0)
    }

    pub fn total_calls(&self) -> usize {
        self.user_info_calls.lock().unwrap().values().sum()
    }
}

fn store_of(token: &Secret<String>) -> String {
    token.expose().trim_start_matches("act.").to_owned()
}

#[async_trait]
impl TikTokApi for FakeTikTok {
    fn authorize_url(&self, _state: &str, _code_challenge: &str) -> String {
        panic!("authorize_url is not expected")
    }
    async fn exchange_code(&self, _code: &str, _verifier: &str) -> Result<TokenGrant, TikTokError> {
        panic!("exchange_code is not expected")
    }
    async fn refresh(&self, _refresh_token: &Secret<String>) -> Result<TokenGrant, TikTokError> {
        panic!("refresh is not expected: the tokens are good for 20 hours")
    }
    async fn revoke(&self, _access_token: &Secret<String>) -> Result<(), TikTokError> {
        panic!("revoke is not expected")
    }
    async fn user_info(&self, access_token: &Secret<String>) -> Result<TikTokUser, TikTokError> {
        let store = store_of(access_token);
        self.started.fetch_add(1, Ordering::SeqCst);
        *self.user_info_calls.lock().unwrap().entry(store.clone()).or_default() += 1;
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        {
            let mut failures = self.failures.lock().unwrap();
            if let Some(n) = failures.get_mut(&store)
                && *n > 0
            {
                *n -= 1;
                return Err(TikTokError::Transient { message: "503 from the fake".into() });
            }
        }
        Ok(TikTokUser {
            open_id: format!("open-{store}"),
            display_name: Some("Shop".into()),
            avatar_url: None,
            follower_count: 100,
            following_count: 1,
            likes_count: 300,
            video_count: 5,
        })
    }
    async fn video_list(
        &self,
        _access_token: &Secret<String>,
        _cursor: Option<i64>,
        _max_count: u8,
    ) -> Result<VideoPage, TikTokError> {
        Ok(VideoPage { videos: vec![], cursor: None, has_more: false })
    }
    async fn video_query(
        &self,
        _access_token: &Secret<String>,
        _ids: &[String],
    ) -> Result<Vec<TikTokVideo>, TikTokError> {
        Ok(vec![])
    }
}

struct Held(Shared, String);
impl HeldLock for Held {}
impl Drop for Held {
    fn drop(&mut self) {
        self.0.lock().unwrap().held_locks.retain(|k| k != &self.1);
    }
}

/// Builds an engine over `world` and `tiktok`, with the real clock.
pub fn engine(world: &Shared, tiktok: Arc<FakeTikTok>, config: EngineConfig) -> Arc<Engine> {
    let w = world;
    let mut stores = MockStoreRepo::new();
    let s = w.clone();
    stores.expect_list_overview().returning(move || {
        let w = s.lock().unwrap();
        Ok(w.stores.iter().map(|st| w.overview(st)).collect())
    });
    let s = w.clone();
    stores.expect_overview().returning(move |c| {
        let w = s.lock().unwrap();
        Ok(w.stores.iter().find(|st| &st.code == c).map(|st| w.overview(st)))
    });

    let mut accounts = MockAccountRepo::new();
    let s = w.clone();
    accounts.expect_for_store().returning(move |c| Ok(s.lock().unwrap().accounts.get(c.as_str()).cloned()));
    let s = w.clone();
    accounts.expect_get().returning(move |id| Ok(s.lock().unwrap().accounts.values().find(|a| a.id == id).cloned()));
    let s = w.clone();
    accounts.expect_set_status().returning(move |id, status, _| {
        let mut w = s.lock().unwrap();
        let a = w.accounts.values_mut().find(|a| a.id == id).ok_or(RepoError::NotFound)?;
        a.status = status;
        Ok(())
    });
    let s = w.clone();
    accounts.expect_try_lease_refresh().returning(move |id, owner, now, until| {
        let mut w = s.lock().unwrap();
        match w.leases.get(&id.0) {
            Some((o, u)) if o != owner && *u > now => Ok(false),
            _ => {
                w.leases.insert(id.0, (owner.to_owned(), until));
                Ok(true)
            }
        }
    });
    let s = w.clone();
    accounts.expect_release_refresh_lease().returning(move |id, owner| {
        let mut w = s.lock().unwrap();
        if w.leases.get(&id.0).is_some_and(|(o, _)| o == owner) {
            w.leases.remove(&id.0);
        }
        Ok(())
    });
    let s = w.clone();
    accounts.expect_mark_synced().returning(move |id, at| {
        let mut w = s.lock().unwrap();
        if let Some(a) = w.accounts.values_mut().find(|a| a.id == id) {
            a.last_sync_time = Some(at);
        }
        Ok(())
    });
    let s = w.clone();
    accounts.expect_list_due_for_refresh().returning(move |before| {
        let w = s.lock().unwrap();
        Ok(w.accounts
            .values()
            .filter(|a| a.status == ConnectionStatus::Connected && a.token_expires_at.is_some_and(|t| t < before))
            .cloned()
            .collect())
    });

    let mut snapshots = MockSnapshotRepo::new();
    let s = w.clone();
    snapshots.expect_upsert_user().returning(move |rows| {
        let mut w = s.lock().unwrap();
        for r in rows {
            w.user_rows.retain(|x| !(x.store_code == r.store_code && x.snapshot_date == r.snapshot_date));
            w.user_rows.push(r.clone());
        }
        Ok(rows.len() as u64)
    });
    let s = w.clone();
    snapshots.expect_upsert_videos().returning(move |rows| {
        let mut w = s.lock().unwrap();
        for r in rows {
            w.video_rows.retain(|x| {
                !(x.store_code == r.store_code && x.snapshot_date == r.snapshot_date && x.video_id == r.video_id)
            });
            w.video_rows.push(r.clone());
        }
        Ok(rows.len() as u64)
    });
    snapshots.expect_known_videos().returning(|_, _| Ok(vec![]));

    let mut sync_logs = MockSyncLogRepo::new();
    let s = w.clone();
    sync_logs.expect_insert().returning(move |l| {
        let mut w = s.lock().unwrap();
        w.logs.push(l.clone());
        Ok(w.logs.len() as i64)
    });

    let mut sync_runs = MockSyncRunRepo::new();
    let s = w.clone();
    sync_runs.expect_start().returning(move |job, date, trigger, total, owner, now| {
        let mut w = s.lock().unwrap();
        let run = SyncRun {
            id: w.runs.len() as i64 + 1,
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
    });
    let s = w.clone();
    sync_runs.expect_progress().returning(move |id, counts, now| {
        let mut w = s.lock().unwrap();
        let run = &mut w.runs[id as usize - 1];
        run.counts = *counts;
        run.heartbeat_at = Some(now);
        Ok(())
    });
    let s = w.clone();
    sync_runs.expect_finish().returning(move |id, status, counts, message, now| {
        let mut w = s.lock().unwrap();
        let run = &mut w.runs[id as usize - 1];
        run.status = status;
        run.counts = *counts;
        run.message = message;
        run.finished_at = Some(now);
        Ok(())
    });
    let s = w.clone();
    sync_runs.expect_get().returning(move |id| Ok(s.lock().unwrap().runs.iter().find(|r| r.id == id).cloned()));
    let s = w.clone();
    sync_runs.expect_latest().returning(move |job| {
        let w = s.lock().unwrap();
        Ok(w.runs.iter().filter(|r| r.job == job).max_by_key(|r| (r.started_at, r.id)).cloned())
    });
    let s = w.clone();
    sync_runs.expect_running().returning(move || {
        Ok(s.lock().unwrap().runs.iter().filter(|r| r.status == RunStatus::Running).cloned().collect())
    });
    let s = w.clone();
    sync_runs.expect_latest_for_tick().returning(move |job, tick| {
        let w = s.lock().unwrap();
        Ok(w.runs.iter().any(|r| r.job == job && r.trigger == RunTrigger::Cron && r.started_at >= tick))
    });
    let s = w.clone();
    sync_runs.expect_interrupt_stale().returning(move |stale_before, now| {
        let mut w = s.lock().unwrap();
        let mut n = 0;
        for r in w.runs.iter_mut() {
            if r.status == RunStatus::Running && r.heartbeat_at.unwrap_or(r.started_at) < stale_before {
                r.status = RunStatus::Interrupted;
                r.finished_at = Some(now);
                n += 1;
            }
        }
        Ok(n)
    });

    let mut audit = MockAuditRepo::new();
    audit.expect_insert().returning(|_| Ok(1));

    let mut connect = MockConnectRepo::new();
    let s = w.clone();
    connect.expect_purge_expired().returning(move |_| {
        s.lock().unwrap().purges += 1;
        Ok(0)
    });

    let mut locks = MockJobLock::new();
    let s = w.clone();
    locks.expect_try_acquire().returning(move |key| {
        let mut w = s.lock().unwrap();
        if w.held_locks.iter().any(|k| k == key) {
            return Ok(None);
        }
        w.held_locks.push(key.to_owned());
        Ok(Some(Box::new(Held(s.clone(), key.to_owned())) as Box<dyn HeldLock>))
    });

    let mut health = MockDbHealth::new();
    health.expect_ping().returning(|| Ok(()));
    health.expect_pool_stats().returning(|| PoolStats { size: 4, idle: 3, waiting: 0, max_size: 10 });

    let mut clock = MockClock::new();
    clock.expect_now().returning(Utc::now);

    let ports = Ports {
        stores: Arc::new(stores),
        accounts: Arc::new(accounts),
        snapshots: Arc::new(snapshots),
        sync_logs: Arc::new(sync_logs),
        sync_runs: Arc::new(sync_runs),
        audit: Arc::new(audit),
        connect: Arc::new(connect),
        locks: Arc::new(locks),
        health: Arc::new(health),
        tiktok,
        cipher: cipher(),
        clock: Arc::new(clock),
    };
    Arc::new(Engine::new(ports, config, STATE_SECRET))
}

/// A six-field schedule that fires once a day, at `t`'s second (UTC).
pub fn at(t: DateTime<Utc>) -> String {
    format!("{} {} {} * * *", t.second(), t.minute(), t.hour())
}

/// A six-field schedule that does not fire during a test.
pub const NEVER: &str = "0 0 0 1 1 *";

/// Waits up to `limit` for `cond`; whether it held.
pub async fn wait_for(limit: StdDuration, mut cond: impl FnMut() -> bool) -> bool {
    let until = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < until {
        if cond() {
            return true;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    cond()
}
