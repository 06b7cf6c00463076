//! The engine's settings (from the app's typed config).

use chrono::Duration;

use crate::pace::jobs_share_of_pool;
use crate::people::PeopleConfig;
use crate::retention::RetentionPolicy;

/// How often a running job writes its heartbeat even when no store finishes (the default of
/// [`EngineConfig::heartbeat_every`]).
pub const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a ping's answer serves every health check (the default of
/// [`EngineConfig::health_ping_cache`]): at most one ping per this period reaches the
/// database, however many checks arrive.
pub const PING_CACHE: std::time::Duration = std::time::Duration::from_secs(1);

/// The engine's settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Stores a user sync starts with in flight (the refresh job keeps to this many).
    pub sync_concurrency: usize,
    /// Stores a video sync starts with in flight.
    pub video_sync_concurrency: usize,
    /// The most stores a user or video sync may grow to in flight while TikTok's budget is
    /// under-used (see [`crate::pace`]); at or below the starting values, runs never grow.
    pub max_concurrency: usize,
    /// The TikTok client's budget per endpoint per minute (what the growth rule compares
    /// the calls with).
    pub tiktok_budget_per_min: u32,
    /// Repository calls the sync jobs may run at once: keep it under the pool size, so the
    /// admin API always finds a connection ([`jobs_share_of_pool`]).
    pub job_db_connections: usize,
    pub refresh_window: std::time::Duration,
    pub report_tz: chrono_tz::Tz,
    pub public_base_url: String,
    pub open_connect: bool,
    pub connect_link_ttl: std::time::Duration,
    pub state_ttl: Duration,
    /// Written into sync runs and refresh leases.
    pub instance_id: String,
    /// After this many stores in a row fail because TikTok is unavailable, the rest of the
    /// run is not attempted.
    pub breaker_threshold: usize,
    pub video_page_size: u8,
    /// How often a running job writes its heartbeat even when no store finishes; keep it
    /// well under the scheduler's stale-run threshold (`SYNC_STALE_AFTER_SECONDS`).
    pub heartbeat_every: std::time::Duration,
    /// How long one database ping answers every health check ([`PING_CACHE`]).
    pub health_ping_cache: std::time::Duration,
    /// The longest one token call may take with the TikTok client's retries (timeouts and
    /// backoffs): a refresh lease lasts longer ([`crate::tokens::lease_for`]).
    pub token_call_limit: std::time::Duration,
    /// How old a run's "my job lock is still held" answer may be before the next store asks
    /// the lock's session again ([`LOCK_CHECK_EVERY`]; zero: before every store).
    pub lock_check_every: std::time::Duration,
    /// Sessions' lifetimes and password hashing.
    pub people: PeopleConfig,
    /// How long sync logs, sync runs and audit rows are kept.
    pub retention: RetentionPolicy,
    /// Outgoing notifications' delivery.
    pub webhooks: NotifyConfig,
}

/// The default of [`EngineConfig::lock_check_every`]: stores start at most a few times a
/// second (TikTok's budget), so the check is nearly per store and costs one small round trip.
pub const LOCK_CHECK_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// [`EngineConfig::token_call_limit`] of TikTok's default client: 4 attempts of 20 s and 3
/// backoffs of at most 10 s.
pub const TOKEN_CALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(4 * 20 + 3 * 10);

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            sync_concurrency: 30,
            video_sync_concurrency: 20,
            max_concurrency: 100,
            tiktok_budget_per_min: 570,
            job_db_connections: jobs_share_of_pool(20),
            refresh_window: std::time::Duration::from_secs(6 * 3600),
            report_tz: chrono_tz::Tz::UTC,
            public_base_url: "http://localhost:3000".into(),
            open_connect: false,
            connect_link_ttl: std::time::Duration::from_secs(72 * 3600),
            state_ttl: Duration::minutes(10),
            instance_id: "hub".into(),
            breaker_threshold: 20,
            video_page_size: 20,
            heartbeat_every: HEARTBEAT_EVERY,
            health_ping_cache: PING_CACHE,
            token_call_limit: TOKEN_CALL_LIMIT,
            lock_check_every: LOCK_CHECK_EVERY,
            people: PeopleConfig::default(),
            retention: RetentionPolicy::default(),
            webhooks: NotifyConfig::default(),
        }
    }
}

/// How deliveries behave.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// The wait after a first failed attempt; doubled per attempt, at most 1 h
    /// (`WEBHOOK_RETRY_BASE_MS`).
    pub retry_base: std::time::Duration,
    /// Consecutive failed attempts that disable an endpoint (`WEBHOOK_DISABLE_AFTER_FAILURES`).
    pub disable_after: i32,
    /// How long a claimed row is left to its claimer before it is due again (longer than a send).
    pub lease: std::time::Duration,
    /// Rows claimed (and sent concurrently) per round.
    pub batch: i64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            retry_base: std::time::Duration::from_secs(30),
            disable_after: 20,
            lease: std::time::Duration::from_secs(60),
            batch: 20,
        }
    }
}
