//! The hub's use cases, over the ports of `hub-ports`: store administration, reports, the
//! sync jobs, connecting a store (OAuth state, PKCE, code exchange, scope check), keeping
//! tokens fresh, and the hub's own health. No HTTP, SQL or TikTok wire format here.
//!
//! One door: adapters hold an [`Engine`] and call its services ([`Engine::admin`],
//! [`Engine::reports`], [`Engine::syncs`], [`Engine::connect`], [`Engine::system`]); every
//! admin use case takes the [`Actor`] who asks.

mod access;
mod actor;
mod admin;
mod audit;
pub mod cipher;
mod config;
mod connect;
mod engine;
pub mod import_file;
mod lifecycle;
pub mod metrics;
pub mod notify;
pub mod pace;
mod pages;
mod people;
mod ports;
mod reencrypt;
mod reports;
mod retention;
pub mod state;
mod sync;
mod system;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod tokens;

pub use access::Permission;
pub use actor::{Actor, Principal};
pub use admin::{Admin, AdminError, StoreAccount};
pub use cipher::AesGcmCipher;
pub use config::{EngineConfig, HEARTBEAT_EVERY, NotifyConfig, PING_CACHE, TOKEN_CALL_LIMIT};
pub use connect::{CallbackParams, ConnectError, ConnectFlow, ConnectLink, ConnectStart, Connected, requested_scopes};
pub use engine::{AnnounceError, Engine, Forbidden};
pub use lifecycle::{Lifecycle, LifecycleChange, LifecycleError, RevokeOutcome, RevokeSweep};
pub use metrics::{SyncMetrics, SyncMetricsSnapshot};
pub use notify::{AddEndpoint, CreatedEndpoint, DeliverySweep, Notifications, NotifyError};
pub use pace::{DbGate, DbGateStats, jobs_share_of_pool};
pub use pages::{PAGE, Pages, collect};
pub use people::{
    AddKey, AddUser, AuthError, ChangeUser, ClientContext, CreatedKey, HashError, KEY_PREFIX, LoggedIn, MAX_KEY_DAYS,
    PasswordParams, People, PeopleConfig, PeopleError, SESSION_COOKIE, SignInAttempt, SignInBlocked, same_origin,
    session_cookie,
};
pub use ports::Ports;
pub use reencrypt::{ReencryptError, ReencryptReport};
pub use reports::{GAP_PAGE, ImportReport, ImportRows, MAX_IMPORT_ROWS, ReportError, Reports};
pub use retention::{PURGE_BATCH, PURGE_PAUSE, PurgeReport, Retention, RetentionMetrics, RetentionPolicy};
pub use state::StateCodec;
pub use sync::{
    JobSelection, JobStatus, JobSummary, LastTick, LiveRun, RefreshSummary, RunScope, RunView, Schedule,
    ScheduleStatus, ScheduledJob, StaleRuns, StoreSyncResult, SyncError, SyncOutcome, SyncRequest, SyncStatus,
    SyncSummary, Syncs, TickOutcome, Triggered,
};
pub use system::{ConnectionGauges, DB_PING_TIMEOUT, Health, Readiness, System};
pub use tokens::{TokenError, Tokens};
