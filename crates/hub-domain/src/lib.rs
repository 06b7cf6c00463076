//! The hub's domain: value objects, entities and pure rules.
//!
//! Everything here is plain data plus validation. Parsing happens once at the edge
//! (`StoreCode::parse`, `NewStore::parse`, …) so an invalid value never travels further.

pub mod account;
pub mod actor;
pub mod audit;
pub mod csv;
pub mod error;
pub mod group;
pub mod lifecycle;
pub mod oauth;
pub mod password;
pub mod people;
pub mod report;
pub mod role;
pub mod scope;
pub mod secret;
pub mod snapshot;
pub mod store;
pub mod store_overview;
pub mod sync;
pub mod tiktok_event;
pub mod webhook;

pub use account::{Account, AccountId, ConnectionStatus, EncryptedTokens, ReconnectReason, TokenMeta};
pub use actor::{Actor, Principal};
pub use audit::{ActorKind, AuditEntry, AuditFilter, AuditOutcome, NewAuditEntry};
pub use error::DomainError;
pub use group::{StoreGroup, StoreScope};
pub use lifecycle::{PendingRevocation, REVOKE_GIVE_UP_AFTER, RevokeReason, revoke_retry_delay};
pub use oauth::{ConnectInvite, NewConnectInvite, NewOAuthState, OAuthState};
pub use password::Password;
pub use people::{
    ApiKey, ApiKeyId, DisplayName, Email, KeyName, NewApiKey, NewSession, NewUser, Session, User, UserChange,
    UserCredentials, UserId,
};
pub use report::{
    ConnectionCounts, DEFAULT_HISTORY_DAYS, DateRange, DayTotals, GapsQuery, ImportAction, ImportContext, ImportCounts,
    ImportPlan, ImportRowReport, MAX_GAP_DAYS, MetricDeltas, OnConflict, Overview, SortOrder, StoreDays, StoreEnds,
    StoreGaps, StoreReportPage, StoreReportQuery, StoreReportRow, StoreSort, TopVideo, TopVideosQuery, VideoSort,
    business_date, parse_report_date, plan_import,
};
pub use role::Role;
pub use scope::{REQUIRED_SCOPES, Scope, missing_scopes, parse_scopes};
pub use secret::Secret;
pub use snapshot::{KnownVideo, UserSnapshot, UserSnapshotRow, VideoId, VideoSnapshot, VideoSnapshotRow};
pub use store::{NewStore, PersonName, PicContact, Store, StoreChange, StoreCode, StoreName, optional_group};
pub use store_overview::{LatestUserStats, LatestVideoStats, StoreOverview};
pub use sync::{JobKind, NewSyncLog, RunCounts, RunStatus, RunTrigger, SyncLog, SyncLogStatus, SyncRun};
pub use tiktok_event::{TikTokEvent, TikTokEventKind};
pub use webhook::{
    AttemptResult, NewWebhookEndpoint, Notification, OutboxItem, WEBHOOK_GIVE_UP_AFTER, WebhookDelivery,
    WebhookEndpoint, WebhookEndpointChange, WebhookEvent, WebhookFormat, webhook_retry_delay,
};
