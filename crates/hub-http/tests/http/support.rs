//! The real app over an engine whose ports are hub-engine's stateful mocks
//! (`hub_engine::testing`): tests set up a small world, call the app, and read back what was
//! stored.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use actix_web::test::TestRequest;
use actix_web::web;
use chrono::{NaiveDate, TimeZone, Utc};
use hub_domain::*;
use hub_engine::testing::{fixed_clock, ports};
use hub_engine::{Engine, EngineConfig, Ports};
use hub_engine::{Schedule, ScheduleStatus, ScheduledJob};
use hub_http::{AppState, HttpConfig, LimitClock};
use hub_ports::*;

pub use hub_engine::testing::{STATE_SECRET, Shared, World, cipher, code, t0};

pub const KEY_1: &str = "first-admin-key-0123456789abcdef0123";
pub const KEY_2: &str = "second-admin-key-0123456789abcdef012";

/// The stores and accounts of the API document's examples.
pub trait SpecFixtures {
    /// A store with the document's PIC, created 2026-01-01.
    fn add_spec_store(&mut self, c: &str, name: &str);
    /// A connected account (id 123, open id `user_open_id_123`) with one user and one video
    /// snapshot of 2026-01-24, and the document's video totals.
    fn connect_spec(&mut self, c: &str);
}

impl SpecFixtures for World {
    fn add_spec_store(&mut self, c: &str, name: &str) {
        self.stores.push(Store {
            code: code(c),
            name: name.into(),
            pic_name: "John Doe".into(),
            pic_contact: Some("john@example.com".into()),
            group: None,
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        });
    }

    fn connect_spec(&mut self, c: &str) {
        let cipher = cipher();
        self.accounts.insert(
            c.to_owned(),
            Account {
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
            },
        );
        let date = NaiveDate::from_ymd_opt(2026, 1, 24).unwrap();
        self.user_rows.push(UserSnapshotRow {
            id: self.user_rows.iter().map(|r| r.id).max().unwrap_or(0) + 1,
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
            id: self.video_rows.iter().map(|r| r.id).max().unwrap_or(0) + 1,
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
        self.video_stats
            .insert(c.to_owned(), LatestVideoStats { snapshot_date: date, total_videos: 50, total_views: 100000 });
    }
}

/// What the fake TikTok does; `token_calls` counts the code exchanges.
pub fn tiktok(token_calls: Arc<AtomicUsize>) -> MockTikTokApi {
    let mut t = MockTikTokApi::new();
    t.expect_authorize_url().returning(|state, challenge| {
        format!("https://www.tiktok.test/v2/auth/authorize/?state={state}&code_challenge={challenge}")
    });
    t.expect_exchange_code().returning(move |_, _| {
        token_calls.fetch_add(1, Ordering::SeqCst);
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

/// A database whose ping fails while `db_up` is false.
fn health(db_up: Arc<AtomicBool>) -> MockDbHealth {
    let mut health = MockDbHealth::new();
    health.expect_ping().returning(move || {
        if db_up.load(Ordering::SeqCst) { Ok(()) } else { Err(RepoError::Unavailable("connection refused".into())) }
    });
    health.expect_pool_stats().returning(PoolStats::default);
    health.expect_pending_migrations().returning(|| Ok(0));
    health
}

/// The engine over `world` at [`t0`]; `db_up` false makes the health ping fail.
pub fn engine(world: &Shared, db_up: Arc<AtomicBool>, token_calls: Arc<AtomicUsize>, config: EngineConfig) -> Engine {
    engine_with(world, db_up, token_calls, config, |_| {})
}

/// [`engine`] with some ports replaced by `tweak`.
pub fn engine_with(
    world: &Shared,
    db_up: Arc<AtomicBool>,
    token_calls: Arc<AtomicUsize>,
    config: EngineConfig,
    tweak: impl FnOnce(&mut Ports),
) -> Engine {
    let mut ports = ports(world, Arc::new(tiktok(token_calls)), fixed_clock(t0()));
    ports.health = Arc::new(health(db_up));
    tweak(&mut ports);
    // Tests switch the database off and on between requests: every check pings.
    let config = EngineConfig { health_ping_cache: std::time::Duration::ZERO, ..config };
    Engine::new(ports, config, STATE_SECRET)
}

/// The scheduler the status route shows.
pub struct FixedScheduler;

impl Schedule for FixedScheduler {
    fn status(&self) -> ScheduleStatus {
        let jobs = [
            (JobKind::RefreshTokens, "0 1 * * *", 1),
            (JobKind::SyncUserDaily, "0 2 * * *", 2),
            (JobKind::SyncVideoDaily, "0 3 * * *", 3),
        ]
        .into_iter()
        .map(|(job, schedule, hour)| ScheduledJob {
            job,
            schedule: schedule.into(),
            next_run: Some(Utc.with_ymd_and_hms(2026, 1, 25, hour, 0, 0).unwrap()),
            running: false,
            retrying: false,
            last_tick: None,
        })
        .collect();
        ScheduleStatus { enabled: true, timezone: "UTC".into(), jobs }
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

/// A test harness: the world, the database switch, TikTok's code exchanges, the limits'
/// clock (manual: it moves only when a test advances it) and the app.
pub struct Harness {
    pub world: Shared,
    pub db_up: Arc<AtomicBool>,
    pub token_calls: Arc<AtomicUsize>,
    pub clock: LimitClock,
    pub state: web::Data<AppState>,
}

impl Harness {
    pub fn new() -> Self {
        Self::with(http_config(), EngineConfig::default())
    }

    pub fn with(config: HttpConfig, engine_config: EngineConfig) -> Self {
        let world: Shared = Arc::default();
        let db_up = Arc::new(AtomicBool::new(true));
        let token_calls = Arc::new(AtomicUsize::new(0));
        let engine = Arc::new(engine(&world, db_up.clone(), token_calls.clone(), engine_config));
        engine.syncs().attach_schedule(Arc::new(FixedScheduler));
        let clock = LimitClock::manual();
        let state = web::Data::new(AppState::with_clock(engine, config, clock.clone()));
        Self { world, db_up, token_calls, clock, state }
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    /// Token exchanges TikTok saw.
    pub fn token_calls(&self) -> usize {
        self.token_calls.load(Ordering::SeqCst)
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
