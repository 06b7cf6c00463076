//! The hub's use cases, over the ports of `hub-ports`: connect a store (OAuth state, PKCE,
//! code exchange, scope check), keep tokens fresh, run the sync jobs with live progress, and
//! serve the admin reads. No HTTP, SQL or TikTok wire format here.

pub mod admin;
pub mod cipher;
pub mod connect;
pub mod context;
pub mod metrics;
pub mod pace;
pub mod recovery;
pub mod reencrypt;
pub mod reports;
pub mod state;
pub mod sync;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod tokens;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use hub_ports::{
    AccountRepo, AuditRepo, Clock, ConnectRepo, DbHealth, JobLock, SnapshotRepo, StoreRepo, SyncLogRepo, SyncRunRepo,
    TikTokApi, TokenCipher,
};

pub use admin::AdminError;
pub use cipher::AesGcmCipher;
pub use connect::{CallbackParams, ConnectError, ConnectLink, ConnectStart, Connected};
pub use context::Actor;
pub use metrics::{SyncMetrics, SyncMetricsSnapshot};
pub use pace::{DbGate, DbGateStats, jobs_share_of_pool};
pub use recovery::StaleRuns;
pub use reencrypt::{ReencryptError, ReencryptReport};
pub use reports::{ImportReport, Pages, ReportError, Reporting};
pub use state::StateCodec;
pub use sync::{JobSelection, JobSummary, LiveRun, RefreshSummary, RunScope, StoreSyncResult, SyncError, SyncSummary};
pub use tokens::{TokenError, Tokens};

/// Every port the engine uses.
#[derive(Clone)]
pub struct Ports {
    pub stores: Arc<dyn StoreRepo>,
    pub accounts: Arc<dyn AccountRepo>,
    pub snapshots: Arc<dyn SnapshotRepo>,
    pub sync_logs: Arc<dyn SyncLogRepo>,
    pub sync_runs: Arc<dyn SyncRunRepo>,
    pub audit: Arc<dyn AuditRepo>,
    pub connect: Arc<dyn ConnectRepo>,
    pub locks: Arc<dyn JobLock>,
    pub health: Arc<dyn DbHealth>,
    pub tiktok: Arc<dyn TikTokApi>,
    pub cipher: Arc<dyn TokenCipher>,
    pub clock: Arc<dyn Clock>,
}

/// The engine's settings (from the app's typed config).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Stores a user sync starts with in flight (the refresh job keeps to this many).
    pub sync_concurrency: usize,
    /// Stores a video sync starts with in flight.
    pub video_sync_concurrency: usize,
    /// The most stores a user or video sync may grow to in flight while TikTok's budget is
    /// under-used (see [`pace`]); at or below the starting values, runs never grow.
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
}

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
            heartbeat_every: sync::HEARTBEAT_EVERY,
        }
    }
}

/// The engine: use cases over the ports.
pub struct Engine {
    pub(crate) ports: Ports,
    pub(crate) config: EngineConfig,
    pub(crate) tokens: Tokens,
    /// The jobs' share of the database pool (see [`pace::DbGate`]).
    pub(crate) db: Arc<DbGate>,
    pub(crate) state: StateCodec,
    pub(crate) live: Mutex<HashMap<i64, Arc<Mutex<LiveRun>>>>,
    pub(crate) shutdown: tokio::sync::watch::Sender<bool>,
    /// Counters of finished runs (see [`Engine::sync_metrics`]).
    pub(crate) sync_metrics: metrics::SyncMetrics,
    /// The reporting ports (see [`Engine::with_reports`]).
    pub(crate) reporting: Option<Reporting>,
}

impl Engine {
    /// Wires the engine. `state_secret` signs OAuth states.
    pub fn new(ports: Ports, config: EngineConfig, state_secret: &[u8]) -> Self {
        let db = Arc::new(DbGate::new(config.job_db_connections));
        let tokens = Tokens::new(
            Arc::clone(&db),
            Arc::clone(&ports.accounts),
            Arc::clone(&ports.tiktok),
            Arc::clone(&ports.cipher),
            Arc::clone(&ports.clock),
            config.instance_id.clone(),
        );
        let state = StateCodec::new(state_secret, config.state_ttl);
        Self {
            ports,
            config,
            tokens,
            db,
            state,
            live: Mutex::new(HashMap::new()),
            shutdown: tokio::sync::watch::channel(false).0,
            sync_metrics: metrics::SyncMetrics::default(),
            reporting: None,
        }
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The ports (for health checks and metrics).
    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    /// The sync jobs' share of the database pool: its size and the calls that waited.
    pub fn db_gate(&self) -> DbGateStats {
        self.db.stats()
    }

    /// The token service.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// Stops running jobs from taking more stores; the stores in flight finish. Runs that
    /// stop this way end `INTERRUPTED`, and the rest is recorded as not done.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }
}
