//! Row types as diesel reads and writes them, and their conversions to domain types.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use hub_domain::{
    Account, AccountId, ActorKind, AuditEntry, AuditOutcome, ConnectInvite, ConnectionStatus, EncryptedTokens, JobKind,
    NewAuditEntry, NewOAuthState, NewSyncLog, OAuthState, RunCounts, RunStatus, RunTrigger, Store, StoreCode,
    StoreGroup, SyncLog, SyncLogStatus, SyncRun, UserSnapshot, UserSnapshotRow, VideoId, VideoSnapshot,
    VideoSnapshotRow,
};
use hub_ports::RepoError;

use crate::error::corrupt;
use crate::schema::*;

pub(crate) fn store_code(raw: String) -> Result<StoreCode, RepoError> {
    StoreCode::parse(&raw).map_err(|_| corrupt("store code", &raw))
}

fn opt_store_code(raw: Option<String>) -> Result<Option<StoreCode>, RepoError> {
    raw.map(store_code).transpose()
}

pub(crate) fn store_group(raw: Option<String>) -> Result<Option<StoreGroup>, RepoError> {
    raw.map(|g| StoreGroup::parse(&g).map_err(|_| corrupt("store group", &g))).transpose()
}

pub(crate) fn video_id(raw: String) -> Result<VideoId, RepoError> {
    VideoId::parse(&raw).map_err(|_| corrupt("video id", &raw))
}

pub(crate) fn status(status: &str, reason: Option<&str>) -> Result<ConnectionStatus, RepoError> {
    ConnectionStatus::from_parts(status, reason).ok_or_else(|| corrupt("account status", status))
}

/// `scopes` is stored as a comma list.
pub(crate) fn join_scopes(scopes: &[String]) -> String {
    scopes.join(",")
}

fn split_scopes(raw: &str) -> Vec<String> {
    raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = stores, check_for_backend(diesel::pg::Pg))]
pub(crate) struct StoreRow {
    pub store_code: String,
    pub store_name: String,
    pub pic_name: String,
    pub pic_contact: Option<String>,
    pub store_group: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<StoreRow> for Store {
    type Error = RepoError;
    fn try_from(r: StoreRow) -> Result<Self, RepoError> {
        Ok(Store {
            code: store_code(r.store_code)?,
            name: r.store_name,
            pic_name: r.pic_name,
            pic_contact: r.pic_contact,
            group: store_group(r.store_group)?,
            created_at: r.created_at,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = store_accounts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AccountRow {
    pub id: i64,
    pub store_code: String,
    pub platform: String,
    pub account_identifier: Option<String>,
    pub encrypted_access_token: Option<String>,
    pub encrypted_refresh_token: Option<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub scopes: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub connected_at: Option<DateTime<Utc>>,
    pub last_sync_time: Option<DateTime<Utc>>,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<AccountRow> for Account {
    type Error = RepoError;
    fn try_from(r: AccountRow) -> Result<Self, RepoError> {
        let tokens = match (r.encrypted_access_token, r.encrypted_refresh_token) {
            (Some(access), Some(refresh)) => Some(EncryptedTokens { access, refresh }),
            (None, None) => None,
            _ => {
                tracing::warn!(account.id = r.id, "account holds only one of its two tokens");
                None
            }
        };
        Ok(Account {
            id: AccountId(r.id),
            status: status(&r.status, r.status_reason.as_deref())?,
            store_code: store_code(r.store_code)?,
            platform: r.platform,
            open_id: r.account_identifier,
            tokens,
            token_expires_at: r.token_expires_at,
            refresh_token_expires_at: r.refresh_token_expires_at,
            scopes: split_scopes(&r.scopes),
            connected_at: r.connected_at,
            last_sync_time: r.last_sync_time,
            last_refresh_at: r.last_refresh_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = tiktok_user_daily, check_for_backend(diesel::pg::Pg))]
pub(crate) struct NewUserRow<'a> {
    pub store_code: &'a str,
    pub snapshot_date: NaiveDate,
    pub follower_count: i64,
    pub following_count: i64,
    pub likes_count: i64,
    pub video_count: i64,
    pub display_name: Option<&'a str>,
    pub avatar_url: Option<&'a str>,
}

impl<'a> From<&'a UserSnapshot> for NewUserRow<'a> {
    fn from(s: &'a UserSnapshot) -> Self {
        Self {
            store_code: s.store_code.as_str(),
            snapshot_date: s.snapshot_date,
            follower_count: s.follower_count,
            following_count: s.following_count,
            likes_count: s.likes_count,
            video_count: s.video_count,
            display_name: s.display_name.as_deref(),
            avatar_url: s.avatar_url.as_deref(),
        }
    }
}

/// Bind parameters per user snapshot row (the fields of [`NewUserRow`]).
pub(crate) const USER_ROW_BINDS: usize = 8;

#[derive(Queryable, Selectable)]
#[diesel(table_name = tiktok_user_daily, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserRow {
    pub id: i64,
    pub store_code: String,
    pub snapshot_date: NaiveDate,
    pub follower_count: Option<i64>,
    pub following_count: Option<i64>,
    pub likes_count: Option<i64>,
    pub video_count: Option<i64>,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for UserSnapshotRow {
    type Error = RepoError;
    fn try_from(r: UserRow) -> Result<Self, RepoError> {
        Ok(UserSnapshotRow {
            id: r.id,
            snapshot: UserSnapshot {
                store_code: store_code(r.store_code)?,
                snapshot_date: r.snapshot_date,
                follower_count: r.follower_count.unwrap_or(0),
                following_count: r.following_count.unwrap_or(0),
                likes_count: r.likes_count.unwrap_or(0),
                video_count: r.video_count.unwrap_or(0),
                display_name: r.display_name,
                avatar_url: r.avatar_url,
            },
            created_at: r.created_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = tiktok_video_daily, check_for_backend(diesel::pg::Pg))]
pub(crate) struct NewVideoRow<'a> {
    pub store_code: &'a str,
    pub snapshot_date: NaiveDate,
    pub video_id: &'a str,
    pub view_count: i64,
    pub like_count: i64,
    pub comment_count: i64,
    pub share_count: i64,
    pub description: Option<&'a str>,
    pub title: Option<&'a str>,
    pub create_time: Option<DateTime<Utc>>,
    pub share_url: Option<&'a str>,
    pub cover_image_url: Option<&'a str>,
    pub duration: Option<i32>,
}

impl<'a> From<&'a VideoSnapshot> for NewVideoRow<'a> {
    fn from(s: &'a VideoSnapshot) -> Self {
        Self {
            store_code: s.store_code.as_str(),
            snapshot_date: s.snapshot_date,
            video_id: s.video_id.as_str(),
            view_count: s.view_count,
            like_count: s.like_count,
            comment_count: s.comment_count,
            share_count: s.share_count,
            description: s.description.as_deref(),
            title: s.title.as_deref(),
            create_time: s.create_time,
            share_url: s.share_url.as_deref(),
            cover_image_url: s.cover_image_url.as_deref(),
            duration: s.duration,
        }
    }
}

/// Bind parameters per video snapshot row (the fields of [`NewVideoRow`]).
pub(crate) const VIDEO_ROW_BINDS: usize = 13;

#[derive(Queryable, Selectable)]
#[diesel(table_name = tiktok_video_daily, check_for_backend(diesel::pg::Pg))]
pub(crate) struct VideoRow {
    pub id: i64,
    pub store_code: String,
    pub snapshot_date: NaiveDate,
    pub video_id: String,
    pub view_count: Option<i64>,
    pub like_count: Option<i64>,
    pub comment_count: Option<i64>,
    pub share_count: Option<i64>,
    pub description: Option<String>,
    pub title: Option<String>,
    pub create_time: Option<DateTime<Utc>>,
    pub share_url: Option<String>,
    pub cover_image_url: Option<String>,
    pub duration: Option<i32>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<VideoRow> for VideoSnapshotRow {
    type Error = RepoError;
    fn try_from(r: VideoRow) -> Result<Self, RepoError> {
        Ok(VideoSnapshotRow {
            id: r.id,
            snapshot: VideoSnapshot {
                store_code: store_code(r.store_code)?,
                snapshot_date: r.snapshot_date,
                video_id: video_id(r.video_id)?,
                view_count: r.view_count.unwrap_or(0),
                like_count: r.like_count.unwrap_or(0),
                comment_count: r.comment_count.unwrap_or(0),
                share_count: r.share_count.unwrap_or(0),
                description: r.description,
                title: r.title,
                create_time: r.create_time,
                share_url: r.share_url,
                cover_image_url: r.cover_image_url,
                duration: r.duration,
            },
            created_at: r.created_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = audit_logs, check_for_backend(diesel::pg::Pg))]
pub(crate) struct NewAuditRow<'a> {
    pub actor: &'a str,
    pub actor_kind: &'static str,
    pub actor_id: Option<i64>,
    pub actor_name: Option<&'a str>,
    pub action: &'a str,
    pub store_code: Option<&'a str>,
    pub target: Option<&'a str>,
    pub outcome: &'static str,
    pub request_id: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub details: Option<&'a str>,
}

impl<'a> From<&'a NewAuditEntry> for NewAuditRow<'a> {
    fn from(e: &'a NewAuditEntry) -> Self {
        Self {
            actor: &e.actor,
            actor_kind: e.actor_kind.as_str(),
            actor_id: e.actor_id,
            actor_name: e.actor_name.as_deref(),
            action: &e.action,
            store_code: e.store_code.as_ref().map(StoreCode::as_str),
            target: e.target.as_deref(),
            outcome: e.outcome.as_str(),
            request_id: e.request_id.as_deref(),
            ip: e.ip.as_deref(),
            details: e.details.as_deref(),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_logs, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AuditRow {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub store_code: Option<String>,
    pub target: Option<String>,
    pub outcome: String,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub details: Option<String>,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = RepoError;
    fn try_from(r: AuditRow) -> Result<Self, RepoError> {
        Ok(AuditEntry {
            id: r.id,
            entry: NewAuditEntry {
                outcome: AuditOutcome::parse(&r.outcome).ok_or_else(|| corrupt("audit outcome", &r.outcome))?,
                actor_kind: ActorKind::parse(&r.actor_kind).ok_or_else(|| corrupt("actor kind", &r.actor_kind))?,
                actor_id: r.actor_id,
                actor_name: r.actor_name,
                actor: r.actor,
                action: r.action,
                store_code: opt_store_code(r.store_code)?,
                target: r.target,
                request_id: r.request_id,
                ip: r.ip,
                details: r.details,
            },
            created_at: r.created_at,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sync_logs, check_for_backend(diesel::pg::Pg))]
pub(crate) struct SyncLogRow {
    pub id: i64,
    pub run_id: Option<i64>,
    pub store_code: Option<String>,
    pub job_name: String,
    pub status: String,
    pub message: Option<String>,
    pub raw_error: Option<String>,
    pub duration_ms: Option<i64>,
    pub run_time: DateTime<Utc>,
}

impl TryFrom<SyncLogRow> for SyncLog {
    type Error = RepoError;
    fn try_from(r: SyncLogRow) -> Result<Self, RepoError> {
        Ok(SyncLog {
            id: r.id,
            log: NewSyncLog {
                run_id: r.run_id,
                store_code: opt_store_code(r.store_code)?,
                job: JobKind::parse(&r.job_name).ok_or_else(|| corrupt("job name", &r.job_name))?,
                status: SyncLogStatus::parse(&r.status).ok_or_else(|| corrupt("sync log status", &r.status))?,
                message: r.message.unwrap_or_default(),
                raw_error: r.raw_error,
                duration_ms: r.duration_ms.unwrap_or(0),
            },
            run_time: r.run_time,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sync_runs, check_for_backend(diesel::pg::Pg))]
pub(crate) struct SyncRunRow {
    pub id: i64,
    pub job_name: String,
    pub scheduled_date: NaiveDate,
    pub trigger: String,
    pub status: String,
    pub total: i64,
    pub processed: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub skipped: i64,
    pub records: i64,
    pub message: Option<String>,
    pub owner: Option<String>,
    pub heartbeat_at: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl TryFrom<SyncRunRow> for SyncRun {
    type Error = RepoError;
    fn try_from(r: SyncRunRow) -> Result<Self, RepoError> {
        Ok(SyncRun {
            id: r.id,
            job: JobKind::parse(&r.job_name).ok_or_else(|| corrupt("job name", &r.job_name))?,
            scheduled_date: r.scheduled_date,
            trigger: RunTrigger::parse(&r.trigger).ok_or_else(|| corrupt("run trigger", &r.trigger))?,
            status: RunStatus::parse(&r.status).ok_or_else(|| corrupt("run status", &r.status))?,
            counts: RunCounts {
                total: r.total,
                processed: r.processed,
                succeeded: r.succeeded,
                failed: r.failed,
                skipped: r.skipped,
                records: r.records,
            },
            message: r.message,
            owner: r.owner,
            heartbeat_at: r.heartbeat_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = connect_invites, check_for_backend(diesel::pg::Pg))]
pub(crate) struct InviteRow {
    pub id: i64,
    pub token_hash: String,
    pub store_code: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

impl TryFrom<InviteRow> for ConnectInvite {
    type Error = RepoError;
    fn try_from(r: InviteRow) -> Result<Self, RepoError> {
        Ok(ConnectInvite {
            id: r.id,
            token_hash: r.token_hash,
            store_code: store_code(r.store_code)?,
            created_by: r.created_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = oauth_states, check_for_backend(diesel::pg::Pg))]
pub(crate) struct StateRow {
    pub nonce_hash: String,
    pub store_code: String,
    pub invite_id: Option<i64>,
    pub browser_binding: String,
    pub pkce_verifier: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl TryFrom<StateRow> for OAuthState {
    type Error = RepoError;
    fn try_from(r: StateRow) -> Result<Self, RepoError> {
        Ok(OAuthState {
            state: NewOAuthState {
                nonce_hash: r.nonce_hash,
                store_code: store_code(r.store_code)?,
                invite_id: r.invite_id,
                browser_binding: r.browser_binding,
                pkce_verifier: r.pkce_verifier,
                expires_at: r.expires_at,
            },
            created_at: r.created_at,
        })
    }
}

/// Converts every row, failing on the first invalid one.
pub(crate) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, RepoError>
where
    T: TryFrom<R, Error = RepoError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// A run's counters as the columns they update.
#[derive(AsChangeset)]
#[diesel(table_name = sync_runs)]
pub(crate) struct CountsChange {
    total: i64,
    processed: i64,
    succeeded: i64,
    failed: i64,
    skipped: i64,
    records: i64,
}

impl From<&RunCounts> for CountsChange {
    fn from(c: &RunCounts) -> Self {
        Self {
            total: c.total,
            processed: c.processed,
            succeeded: c.succeeded,
            failed: c.failed,
            skipped: c.skipped,
            records: c.records,
        }
    }
}
