//! The real app over an engine whose ports are stateful mockall mocks (trimmed from
//! hub-engine's test support): tests set up a small world, call the app, and read back
//! what was stored.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::test::TestRequest;
use actix_web::web;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use hub_domain::*;
use hub_engine::{AesGcmCipher, Engine, EngineConfig, Ports};
use hub_http::{AppState, HttpConfig, ScheduledJob, SchedulerView};
use hub_ports::*;

pub const KEY_1: &str = "first-admin-key-0123456789abcdef0123";
pub const KEY_2: &str = "second-admin-key-0123456789abcdef012";
pub const STATE_SECRET: &[u8] = b"test-state-secret-0123456789abcdef";

#[derive(Default)]
pub struct World {
    pub stores: Vec<Store>,
    pub accounts: Vec<Account>,
    pub user_rows: Vec<UserSnapshotRow>,
    pub video_rows: Vec<VideoSnapshotRow>,
    pub logs: Vec<SyncLog>,
    pub audit: Vec<NewAuditEntry>,
    pub runs: Vec<SyncRun>,
    pub invites: Vec<ConnectInvite>,
    pub states: Vec<(NewOAuthState, bool)>,
    pub held_locks: Vec<String>,
    /// Token exchanges TikTok saw.
    pub token_calls: usize,
}

pub type Shared = Arc<Mutex<World>>;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 24, 2, 0, 0).unwrap()
}

pub fn code(s: &str) -> StoreCode {
    StoreCode::parse(s).unwrap()
}

pub fn cipher() -> Arc<AesGcmCipher> {
    Arc::new(AesGcmCipher::new(&[("k1".to_owned(), Secret::new([42u8; 32]))]).unwrap())
}

impl World {
    pub fn add_store(&mut self, c: &str, name: &str) {
        self.stores.push(Store {
            code: code(c),
            name: name.into(),
            pic_name: "John Doe".into(),
            pic_contact: Some("john@example.com".into()),
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        });
    }

    /// A connected account (id 123, open id `user_open_id_123`).
    pub fn connect(&mut self, c: &str) {
        let cipher = cipher();
        self.accounts.push(Account {
            id: AccountId(123),
            store_code: code(c),
            platform: "tiktok".into(),
            open_id: Some("user_open_id_123".into()),
            tokens: Some(EncryptedTokens {
                access: cipher.encrypt(&format!("act.{c}"), &format!("{c}/access")),
                refresh: cipher.encrypt(&format!("rft.{c}"), &format!("{c}/refresh")),
            }),
            token_expires_at: Some(Utc.with_ymd_and_hms(2026, 1, 25, 10, 0, 0).unwrap()),
            refresh_token_expires_at: Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()),
            scopes: REQUIRED_SCOPES.iter().map(|s| s.to_string()).collect(),
            status: ConnectionStatus::Connected,
            connected_at: Some(Utc.with_ymd_and_hms(2026, 1, 2, 10, 0, 0).unwrap()),
            last_sync_time: Some(t0()),
            last_refresh_at: None,
            created_at: Utc.with_ymd_and_hms(2026, 1, 2, 10, 0, 0).unwrap(),
            updated_at: t0(),
        });
        let date = NaiveDate::from_ymd_opt(2026, 1, 24).unwrap();
        self.user_rows.push(UserSnapshotRow {
            id: 1,
            snapshot: UserSnapshot {
                store_code: code(c),
                snapshot_date: date,
                follower_count: 5000,
                following_count: 100,
                likes_count: 10000,
                video_count: 50,
                display_name: Some("Store Jakarta".into()),
                avatar_url: Some("https://example.com/a.jpg".into()),
            },
            created_at: t0(),
        });
        self.video_rows.push(VideoSnapshotRow {
            id: 1,
            snapshot: VideoSnapshot {
                store_code: code(c),
                snapshot_date: date,
                video_id: VideoId::parse("7300000000000000123").unwrap(),
                view_count: 1000,
                like_count: 50,
                comment_count: 10,
                share_count: 5,
                description: Some("Video description...".into()),
                title: None,
                create_time: None,
                share_url: None,
                cover_image_url: None,
                duration: Some(15),
            },
            created_at: t0(),
        });
    }

    fn overview(&self, s: &Store) -> StoreOverview {
        let a = self.accounts.iter().find(|a| a.store_code == s.code);
        let user = self.user_rows.iter().find(|r| r.snapshot.store_code == s.code);
        StoreOverview {
            store: s.clone(),
            account_id: a.map(|a| a.id),
            connection_status: a.map(|a| a.status),
            account_identifier: a.and_then(|a| a.open_id.clone()),
            connected_at: a.and_then(|a| a.connected_at),
            last_sync_time: a.and_then(|a| a.last_sync_time),
            token_expires_at: a.and_then(|a| a.token_expires_at),
            latest_user_stats: user.map(|r| LatestUserStats {
                snapshot_date: r.snapshot.snapshot_date,
                follower_count: r.snapshot.follower_count,
                likes_count: r.snapshot.likes_count,
                video_count: r.snapshot.video_count,
            }),
            latest_video_stats: user.map(|r| LatestVideoStats {
                snapshot_date: r.snapshot.snapshot_date,
                total_videos: 50,
                total_views: 100000,
            }),
        }
    }

    pub fn audit_for(&self, action: &str) -> Vec<&NewAuditEntry> {
        self.audit.iter().filter(|a| a.action == action).collect()
    }
}

struct Held(Shared, String);
impl HeldLock for Held {}
impl Drop for Held {
    fn drop(&mut self) {
        self.0.lock().unwrap().held_locks.retain(|k| k != &self.1);
    }
}

/// What the fake TikTok does.
pub fn tiktok(world: &Shared) -> MockTikTokApi {
    let mut t = MockTikTokApi::new();
    t.expect_authorize_url().returning(|state, challenge| {
        format!("https://www.tiktok.test/v2/auth/authorize/?state={state}&code_challenge={challenge}")
    });
    let s = world.clone();
    t.expect_exchange_code().returning(move |_, _| {
        s.lock().unwrap().token_calls += 1;
        Ok(TokenGrant {
            access_token: Secret::new("act.new".into()),
            refresh_token: Secret::new("rft.new".into()),
            open_id: "open-new".into(),
            expires_in: 86_400,
            refresh_expires_in: 31_536_000,
            scopes: REQUIRED_SCOPES.iter().map(|s| s.to_string()).collect(),
        })
    });
    t.expect_user_info().returning(|_| {
        Ok(TikTokUser { open_id: "open-new".into(), follower_count: 5000, video_count: 50, ..Default::default() })
    });
    t.expect_video_list().returning(|_, _, _| Ok(VideoPage::default()));
    t.expect_video_query().returning(|_, _| Ok(Vec::new()));
    t
}

/// The engine over `world`; `db_up` false makes the health ping fail.
pub fn engine(world: &Shared, db_up: Arc<AtomicBool>, config: EngineConfig) -> Engine {
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
    let s = w.clone();
    stores.expect_get().returning(move |c| Ok(s.lock().unwrap().stores.iter().find(|st| &st.code == c).cloned()));
    let s = w.clone();
    stores.expect_create().returning(move |n, a| {
        let mut w = s.lock().unwrap();
        if w.stores.iter().any(|st| st.code == n.code) {
            return Err(RepoError::Conflict("stores_pkey".into()));
        }
        let store = Store {
            code: n.code.clone(),
            name: n.name.to_string(),
            pic_name: n.pic_name.to_string(),
            pic_contact: n.pic_contact.as_ref().map(|p| p.to_string()),
            created_at: t0(),
        };
        w.stores.push(store.clone());
        w.audit.push(a.clone());
        Ok(store)
    });

    let mut accounts = MockAccountRepo::new();
    let s = w.clone();
    accounts
        .expect_for_store()
        .returning(move |c| Ok(s.lock().unwrap().accounts.iter().find(|a| &a.store_code == c).cloned()));
    let s = w.clone();
    accounts.expect_mark_synced().returning(move |_, at| {
        let _ = (&s, at);
        Ok(())
    });
    accounts.expect_list_due_for_refresh().returning(|_| Ok(Vec::new()));
    let s = w.clone();
    accounts.expect_save_connected().returning(move |c, audit| {
        let mut w = s.lock().unwrap();
        let acct = Account {
            id: AccountId(900),
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
        w.accounts.retain(|a| a.store_code != c.store_code);
        w.accounts.push(acct.clone());
        w.audit.extend(audit.iter().cloned());
        Ok(acct)
    });

    let mut snapshots = MockSnapshotRepo::new();
    let s = w.clone();
    snapshots.expect_user_history().returning(move |c, since| {
        let w = s.lock().unwrap();
        Ok(w.user_rows
            .iter()
            .filter(|r| &r.snapshot.store_code == c && r.snapshot.snapshot_date >= since)
            .cloned()
            .collect())
    });
    let s = w.clone();
    snapshots.expect_video_history().returning(move |c, since| {
        let w = s.lock().unwrap();
        Ok(w.video_rows
            .iter()
            .filter(|r| &r.snapshot.store_code == c && r.snapshot.snapshot_date >= since)
            .cloned()
            .collect())
    });
    snapshots.expect_upsert_user().returning(|rows| Ok(rows.len() as u64));
    snapshots.expect_upsert_videos().returning(|rows| Ok(rows.len() as u64));
    snapshots.expect_known_videos().returning(|_, _| Ok(Vec::new()));

    let mut sync_logs = MockSyncLogRepo::new();
    let s = w.clone();
    sync_logs.expect_insert().returning(move |l| {
        let mut w = s.lock().unwrap();
        let id = w.logs.len() as i64 + 1;
        w.logs.push(SyncLog { id, log: l.clone(), run_time: t0() });
        Ok(id)
    });
    let s = w.clone();
    sync_logs.expect_list().returning(move |store, limit| {
        let w = s.lock().unwrap();
        Ok(w.logs
            .iter()
            .rev()
            .filter(|l| store.is_none() || l.log.store_code == store)
            .take(limit as usize)
            .cloned()
            .collect())
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
    sync_runs.expect_progress().returning(move |id, counts, _| {
        s.lock().unwrap().runs[id as usize - 1].counts = *counts;
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
    sync_runs
        .expect_latest()
        .returning(move |job| Ok(s.lock().unwrap().runs.iter().rev().find(|r| r.job == job).cloned()));

    let mut audit = MockAuditRepo::new();
    let s = w.clone();
    audit.expect_insert().returning(move |e| {
        let mut w = s.lock().unwrap();
        w.audit.push(e.clone());
        Ok(w.audit.len() as i64)
    });
    let s = w.clone();
    audit.expect_list().returning(move |f| {
        let w = s.lock().unwrap();
        Ok(w.audit
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, e)| f.action.as_ref().is_none_or(|a| &e.action == a))
            .filter(|(_, e)| f.store_code.is_none() || e.store_code == f.store_code)
            .take(f.limit as usize)
            .map(|(i, e)| AuditEntry { id: i as i64 + 1, entry: e.clone(), created_at: t0() })
            .collect())
    });

    let mut connect = MockConnectRepo::new();
    let s = w.clone();
    connect.expect_create_invite().returning(move |inv, a| {
        let mut w = s.lock().unwrap();
        let stored = ConnectInvite {
            id: w.invites.len() as i64 + 1,
            token_hash: inv.token_hash.clone(),
            store_code: inv.store_code.clone(),
            created_by: inv.created_by.clone(),
            created_at: t0(),
            expires_at: inv.expires_at,
            used_at: None,
        };
        w.invites.push(stored.clone());
        w.audit.push(a.clone());
        Ok(stored)
    });
    let s = w.clone();
    connect
        .expect_find_invite()
        .returning(move |h| Ok(s.lock().unwrap().invites.iter().find(|i| i.token_hash == h).cloned()));
    let s = w.clone();
    connect.expect_consume_invite().returning(move |id, now| {
        let mut w = s.lock().unwrap();
        let inv = w.invites.iter_mut().find(|i| i.id == id).ok_or(RepoError::NotFound)?;
        if inv.is_usable(now) {
            inv.used_at = Some(now);
            Ok(true)
        } else {
            Ok(false)
        }
    });
    let s = w.clone();
    connect.expect_insert_state().returning(move |st| {
        s.lock().unwrap().states.push((st.clone(), false));
        Ok(())
    });
    let s = w.clone();
    connect.expect_consume_state().returning(move |h, now| {
        let mut w = s.lock().unwrap();
        match w.states.iter_mut().find(|(st, used)| st.nonce_hash == h && !used && st.expires_at > now) {
            Some((st, used)) => {
                *used = true;
                Ok(Some(OAuthState { state: st.clone(), created_at: now }))
            }
            None => Ok(None),
        }
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
    health.expect_ping().returning(move || {
        if db_up.load(Ordering::SeqCst) { Ok(()) } else { Err(RepoError::Unavailable("connection refused".into())) }
    });
    health.expect_pool_stats().returning(PoolStats::default);

    let mut clock = MockClock::new();
    clock.expect_now().return_const(t0());

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
        tiktok: Arc::new(tiktok(world)),
        cipher: cipher(),
        clock: Arc::new(clock),
    };
    Engine::new(ports, config, STATE_SECRET)
}

/// The scheduler the status route shows.
pub struct FixedScheduler;

impl SchedulerView for FixedScheduler {
    fn enabled(&self) -> bool {
        true
    }

    fn timezone(&self) -> String {
        "UTC".into()
    }

    fn jobs(&self) -> Vec<ScheduledJob> {
        [("refresh_tokens", "0 1 * * *", 1), ("sync_user_daily", "0 2 * * *", 2), ("sync_video_daily", "0 3 * * *", 3)]
            .into_iter()
            .map(|(name, schedule, hour)| ScheduledJob {
                name: name.into(),
                schedule: schedule.into(),
                next_run: Some(Utc.with_ymd_and_hms(2026, 1, 25, hour, 0, 0).unwrap()),
                running: false,
            })
            .collect()
    }
}

/// Generous limits, two keys, no secure cookie (tests speak plain HTTP).
pub fn http_config() -> HttpConfig {
    HttpConfig {
        api_keys: vec![Secret::new(KEY_1.into()), Secret::new(KEY_2.into())],
        rate_limit_admin_per_min: 10_000,
        rate_limit_oauth_per_min: 10_000,
        secure_cookies: false,
        version: "1.2.3".into(),
        ..HttpConfig::default()
    }
}

/// A test harness: the world, the database switch and the app.
pub struct Harness {
    pub world: Shared,
    pub db_up: Arc<AtomicBool>,
    pub state: web::Data<AppState>,
}

impl Harness {
    pub fn new() -> Self {
        Self::with(http_config(), EngineConfig::default())
    }

    pub fn with(config: HttpConfig, engine_config: EngineConfig) -> Self {
        let world: Shared = Arc::default();
        let db_up = Arc::new(AtomicBool::new(true));
        let engine = Arc::new(engine(&world, db_up.clone(), engine_config));
        let state = web::Data::new(AppState::new(engine, Arc::new(FixedScheduler), config));
        Self { world, db_up, state }
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }
}

/// A request from a fixed client address.
pub fn get(uri: &str) -> TestRequest {
    TestRequest::get().uri(uri).peer_addr("198.51.100.1:40000".parse().unwrap())
}

pub fn post(uri: &str) -> TestRequest {
    TestRequest::post().uri(uri).peer_addr("198.51.100.1:40000".parse().unwrap())
}

/// Admin request with the first key.
pub fn admin_get(uri: &str) -> TestRequest {
    get(uri).insert_header(("X-API-KEY", KEY_1))
}

pub fn admin_post(uri: &str) -> TestRequest {
    post(uri).insert_header(("X-API-KEY", KEY_1))
}

/// The app of a harness.
#[macro_export]
macro_rules! app {
    ($h:expr) => {
        actix_web::test::init_service(hub_http::build_app($h.state.clone())).await
    };
}

/// Calls the app; `(status, headers, body text)`.
#[macro_export]
macro_rules! call {
    ($app:expr, $req:expr) => {{
        let res = actix_web::test::call_service(&$app, $req.to_request()).await;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = actix_web::test::read_body(res).await;
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }};
}

/// Calls the app; `(status, headers, JSON body)`.
#[macro_export]
macro_rules! call_json {
    ($app:expr, $req:expr) => {{
        let (status, headers, body) = $crate::call!($app, $req);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
        (status, headers, json)
    }};
}

/// Asserts an error envelope with `code`; returns its message.
pub fn assert_error(body: &serde_json::Value, code: &str) -> String {
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["requestId"].is_string(), "requestId missing: {body}");
    body["error"]["message"].as_str().unwrap().to_owned()
}
