//! The hub's domain: value objects, entities and pure rules.
//!
//! Everything here is plain data plus validation. Parsing happens once at the edge
//! (`StoreCode::parse`, `NewStore::parse`, …) so an invalid value never travels further.

pub mod account;
pub mod audit;
pub mod error;
pub mod oauth;
pub mod report;
pub mod scope;
pub mod secret;
pub mod snapshot;
pub mod store;
pub mod store_overview;
pub mod sync;

pub use account::{Account, AccountId, ConnectionStatus, EncryptedTokens, ReconnectReason, TokenMeta};
pub use audit::{AuditEntry, AuditFilter, AuditOutcome, NewAuditEntry};
pub use error::DomainError;
pub use oauth::{ConnectInvite, NewConnectInvite, NewOAuthState, OAuthState};
pub use report::{
    ConnectionCounts, DEFAULT_HISTORY_DAYS, DateRange, DayTotals, GapsQuery, ImportAction, ImportCounts, ImportPlan,
    ImportRowReport, MAX_GAP_DAYS, MetricDeltas, OnConflict, Overview, SortOrder, StoreDays, StoreEnds, StoreGaps,
    StoreReportPage, StoreReportQuery, StoreReportRow, StoreSort, TopVideo, TopVideosQuery, VideoSort, business_date,
    parse_report_date, plan_import,
};
pub use scope::{REQUIRED_SCOPES, Scope, missing_scopes, parse_scopes};
pub use secret::Secret;
pub use snapshot::{KnownVideo, UserSnapshot, UserSnapshotRow, VideoId, VideoSnapshot, VideoSnapshotRow};
pub use store::{NewStore, PersonName, PicContact, Store, StoreCode, StoreName};
pub use store_overview::{LatestUserStats, LatestVideoStats, StoreOverview};
pub use sync::{JobKind, NewSyncLog, RunCounts, RunStatus, RunTrigger, SyncLog, SyncLogStatus, SyncRun};
