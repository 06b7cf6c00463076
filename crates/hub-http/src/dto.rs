//! Response and request shapes: camelCase fields exactly as the spec shows (request bodies
//! snake_case), times as RFC 3339 with milliseconds and `Z`, dates as `YYYY-MM-DD`.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use hub_domain::{
    Account, AuditEntry, LatestUserStats, LatestVideoStats, Store, StoreOverview, SyncLog, SyncRun, UserSnapshotRow,
    VideoSnapshotRow,
};
use hub_engine::{JobSummary, LiveRun, RefreshSummary, StoreSyncResult, SyncSummary};
use paperclip::actix::Apiv2Schema;
use serde::{Serialize, Serializer};

/// `2026-01-24T02:00:00.000Z`.
pub(crate) fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn ts<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(t))
}

fn opt_ts<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&rfc3339(t)),
        None => s.serialize_none(),
    }
}

/// Wraps `data` in `{"success":true,"data":…}` (and `count` for lists).
macro_rules! envelope {
    ($(#[$doc:meta])* $name:ident, $data:ty) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, Apiv2Schema)]
        pub struct $name {
            /// Always `true`.
            pub success: bool,
            pub data: $data,
        }

        impl $name {
            pub fn new(data: $data) -> Self {
                Self { success: true, data }
            }
        }
    };
    ($(#[$doc:meta])* $name:ident, list $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, Apiv2Schema)]
        pub struct $name {
            /// Always `true`.
            pub success: bool,
            pub data: Vec<$item>,
            /// Items in `data`.
            pub count: usize,
        }

        impl $name {
            pub fn new(data: Vec<$item>) -> Self {
                Self { success: true, count: data.len(), data }
            }
        }
    };
}

/// A store's headline account numbers, from its latest user snapshot.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct LatestUserStatsJson {
    pub follower_count: i64,
    pub likes_count: i64,
    pub video_count: i64,
}

/// Totals over a store's latest day of video snapshots.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct LatestVideoStatsJson {
    pub total_videos: i64,
    pub total_views: i64,
}

/// A store with its connection and latest statistics.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct StoreJson {
    pub store_code: String,
    pub store_name: String,
    pub pic_name: String,
    pub pic_contact: Option<String>,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    /// CONNECTED, NEED_RECONNECT, DISCONNECTED, or NOT_CONNECTED for a store never connected.
    pub connection_status: String,
    /// Why a store needs reconnecting: REVOKED, REFRESH_EXPIRED, SCOPE_MISSING, GRANT_INVALID, TOKEN_INVALID.
    pub connection_reason: Option<String>,
    pub account_id: Option<i64>,
    /// TikTok `open_id` of the connected account.
    pub account_identifier: Option<String>,
    #[serde(serialize_with = "opt_ts")]
    pub connected_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_ts")]
    pub last_sync_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_ts")]
    pub token_expires_at: Option<DateTime<Utc>>,
    pub latest_user_stats: Option<LatestUserStatsJson>,
    pub latest_video_stats: Option<LatestVideoStatsJson>,
}

impl From<StoreOverview> for StoreJson {
    fn from(o: StoreOverview) -> Self {
        let Store { code, name, pic_name, pic_contact, created_at } = o.store;
        Self {
            store_code: code.to_string(),
            store_name: name,
            pic_name,
            pic_contact,
            created_at,
            connection_status: o.connection_status.map_or("NOT_CONNECTED", |s| s.as_str()).to_owned(),
            connection_reason: o.connection_status.and_then(|s| s.reason()).map(|r| r.as_str().to_owned()),
            account_id: o.account_id.map(|a| a.0),
            account_identifier: o.account_identifier,
            connected_at: o.connected_at,
            last_sync_time: o.last_sync_time,
            token_expires_at: o.token_expires_at,
            latest_user_stats: o.latest_user_stats.map(
                |LatestUserStats { follower_count, likes_count, video_count, .. }| LatestUserStatsJson {
                    follower_count,
                    likes_count,
                    video_count,
                },
            ),
            latest_video_stats: o.latest_video_stats.map(|LatestVideoStats { total_videos, total_views, .. }| {
                LatestVideoStatsJson { total_videos, total_views }
            }),
        }
    }
}

/// A newly created store.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedStoreJson {
    pub store_code: String,
    pub store_name: String,
    pub pic_name: String,
    pub pic_contact: Option<String>,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
}

impl From<Store> for CreatedStoreJson {
    fn from(s: Store) -> Self {
        Self {
            store_code: s.code.to_string(),
            store_name: s.name,
            pic_name: s.pic_name,
            pic_contact: s.pic_contact,
            created_at: s.created_at,
        }
    }
}

/// `POST /admin/stores` answer.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct CreateStoreResponse {
    /// Always `true`.
    pub success: bool,
    pub data: CreatedStoreJson,
    pub message: String,
    /// What to do next: issue a connect link for the store's staff.
    pub next_step: String,
}

/// A store's TikTok account (tokens never leave the server).
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct AccountJson {
    pub id: i64,
    pub store_code: String,
    pub platform: String,
    /// Connected with an unexpired access token.
    pub has_valid_token: bool,
    pub account_identifier: Option<String>,
    #[serde(serialize_with = "opt_ts")]
    pub last_sync_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ts")]
    pub updated_at: DateTime<Utc>,
    /// CONNECTED, NEED_RECONNECT or DISCONNECTED.
    pub status: String,
    pub status_reason: Option<String>,
    #[serde(serialize_with = "opt_ts")]
    pub token_expires_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_ts")]
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
}

impl AccountJson {
    pub fn new(a: Account, now: DateTime<Utc>) -> Self {
        Self {
            has_valid_token: a.has_valid_token(now),
            id: a.id.0,
            store_code: a.store_code.to_string(),
            platform: a.platform,
            account_identifier: a.open_id,
            last_sync_at: a.last_sync_time,
            created_at: a.created_at,
            updated_at: a.updated_at,
            status: a.status.as_str().to_owned(),
            status_reason: a.status.reason().map(|r| r.as_str().to_owned()),
            token_expires_at: a.token_expires_at,
            refresh_token_expires_at: a.refresh_token_expires_at,
            scopes: a.scopes,
        }
    }
}

/// One day's account statistics.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct UserStatJson {
    pub id: i64,
    pub store_code: String,
    pub snapshot_date: NaiveDate,
    pub follower_count: i64,
    pub following_count: i64,
    pub likes_count: i64,
    pub video_count: i64,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
}

impl From<UserSnapshotRow> for UserStatJson {
    fn from(r: UserSnapshotRow) -> Self {
        let s = r.snapshot;
        Self {
            id: r.id,
            store_code: s.store_code.to_string(),
            snapshot_date: s.snapshot_date,
            follower_count: s.follower_count,
            following_count: s.following_count,
            likes_count: s.likes_count,
            video_count: s.video_count,
            display_name: s.display_name,
            avatar_url: s.avatar_url,
            created_at: r.created_at,
        }
    }
}

/// One day's statistics of one video.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct VideoStatJson {
    pub id: i64,
    pub store_code: String,
    pub snapshot_date: NaiveDate,
    /// TikTok's video id (19 digits, as text).
    pub video_id: String,
    pub view_count: i64,
    pub like_count: i64,
    pub comment_count: i64,
    pub share_count: i64,
    pub description: Option<String>,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    pub title: Option<String>,
    #[serde(serialize_with = "opt_ts")]
    pub create_time: Option<DateTime<Utc>>,
    pub share_url: Option<String>,
    pub cover_image_url: Option<String>,
    /// Seconds.
    pub duration: Option<i32>,
}

impl From<VideoSnapshotRow> for VideoStatJson {
    fn from(r: VideoSnapshotRow) -> Self {
        let s = r.snapshot;
        Self {
            id: r.id,
            store_code: s.store_code.to_string(),
            snapshot_date: s.snapshot_date,
            video_id: s.video_id.to_string(),
            view_count: s.view_count,
            like_count: s.like_count,
            comment_count: s.comment_count,
            share_count: s.share_count,
            description: s.description,
            created_at: r.created_at,
            title: s.title,
            create_time: s.create_time,
            share_url: s.share_url,
            cover_image_url: s.cover_image_url,
            duration: s.duration,
        }
    }
}

/// One sync-log line (one store in one job, or a job's summary when `storeCode` is null).
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct SyncLogJson {
    pub id: i64,
    pub store_code: Option<String>,
    /// refresh_tokens, sync_user_daily or sync_video_daily.
    pub job_name: String,
    /// SUCCESS, FAILED or SKIPPED.
    pub status: String,
    pub message: String,
    pub raw_error: Option<String>,
    pub duration_ms: i64,
    #[serde(serialize_with = "ts")]
    pub run_time: DateTime<Utc>,
    /// The job run this line belongs to (null for single-store syncs).
    pub run_id: Option<i64>,
}

impl From<SyncLog> for SyncLogJson {
    fn from(l: SyncLog) -> Self {
        Self {
            id: l.id,
            store_code: l.log.store_code.map(|c| c.to_string()),
            job_name: l.log.job.as_str().to_owned(),
            status: l.log.status.as_str().to_owned(),
            message: l.log.message,
            raw_error: l.log.raw_error,
            duration_ms: l.log.duration_ms,
            run_time: l.run_time,
            run_id: l.log.run_id,
        }
    }
}

/// One audit row.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct AuditLogJson {
    pub id: i64,
    /// `key:<fingerprint>` (never the key), `system` or `store-staff`.
    pub actor: String,
    pub action: String,
    pub store_code: Option<String>,
    pub target: Option<String>,
    /// SUCCESS, FAILURE or DENIED.
    pub outcome: String,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    /// Extra facts (a JSON object).
    pub details: Option<serde_json::Value>,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditLogJson {
    fn from(a: AuditEntry) -> Self {
        let e = a.entry;
        Self {
            id: a.id,
            actor: e.actor,
            action: e.action,
            store_code: e.store_code.map(|c| c.to_string()),
            target: e.target,
            outcome: e.outcome.as_str().to_owned(),
            request_id: e.request_id,
            ip: e.ip,
            details: e.details.map(|d| serde_json::from_str(&d).unwrap_or(serde_json::Value::String(d))),
            created_at: a.created_at,
        }
    }
}

/// A run's counters.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct RunCountsJson {
    pub total: i64,
    pub processed: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Records written (snapshots, refreshed tokens).
    pub records: i64,
}

/// A job run.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct SyncRunJson {
    pub id: i64,
    pub job: String,
    pub scheduled_date: NaiveDate,
    /// cron, manual, cli or retry.
    pub trigger: String,
    /// RUNNING, SUCCEEDED, PARTIAL, FAILED or INTERRUPTED.
    pub status: String,
    pub counts: RunCountsJson,
    pub message: Option<String>,
    #[serde(serialize_with = "ts")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "opt_ts")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Stores per second so far (only while it runs in this process).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Seconds to go at that rate (only while it runs in this process).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta_seconds: Option<f64>,
}

impl SyncRunJson {
    /// The stored run, with the live counters when it runs in this process.
    pub fn new(run: SyncRun, live: Option<&LiveRun>) -> Self {
        let c = run.counts;
        let mut counts = RunCountsJson {
            total: c.total,
            processed: c.processed,
            succeeded: c.succeeded,
            failed: c.failed,
            skipped: c.skipped,
            records: c.records,
        };
        if let Some(l) = live {
            counts = live_counts(l);
        }
        Self {
            id: run.id,
            job: run.job.as_str().to_owned(),
            scheduled_date: run.scheduled_date,
            trigger: run.trigger.as_str().to_owned(),
            status: run.status.as_str().to_owned(),
            counts,
            message: run.message,
            started_at: run.started_at,
            finished_at: run.finished_at,
            rate: live.map(|l| l.rate),
            eta_seconds: live.and_then(|l| l.eta_seconds),
        }
    }
}

fn live_counts(l: &LiveRun) -> RunCountsJson {
    RunCountsJson {
        total: l.total,
        processed: l.processed,
        succeeded: l.succeeded,
        failed: l.failed,
        skipped: l.skipped,
        records: l.records,
    }
}

/// A run in progress in this process.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct LiveRunJson {
    pub run_id: i64,
    pub job: String,
    pub scheduled_date: NaiveDate,
    #[serde(serialize_with = "ts")]
    pub started_at: DateTime<Utc>,
    pub counts: RunCountsJson,
    pub rate: f64,
    pub eta_seconds: Option<f64>,
}

impl From<&LiveRun> for LiveRunJson {
    fn from(l: &LiveRun) -> Self {
        Self {
            run_id: l.run_id,
            job: l.job.to_owned(),
            scheduled_date: l.scheduled_date,
            started_at: l.started_at,
            counts: live_counts(l),
            rate: l.rate,
            eta_seconds: l.eta_seconds,
        }
    }
}

/// The latest run of a job.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct LastRunJson {
    pub id: i64,
    pub status: String,
    #[serde(serialize_with = "ts")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "opt_ts")]
    pub finished_at: Option<DateTime<Utc>>,
    pub message: Option<String>,
}

impl From<SyncRun> for LastRunJson {
    fn from(r: SyncRun) -> Self {
        Self {
            id: r.id,
            status: r.status.as_str().to_owned(),
            started_at: r.started_at,
            finished_at: r.finished_at,
            message: r.message,
        }
    }
}

/// A scheduled job.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct JobStatusJson {
    pub name: String,
    /// Cron expression.
    pub schedule: String,
    #[serde(serialize_with = "opt_ts")]
    pub next_run: Option<DateTime<Utc>>,
    pub running: bool,
    pub last_run: Option<LastRunJson>,
}

/// The scheduler's state.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatusJson {
    pub enabled: bool,
    pub timezone: String,
    pub jobs: Vec<JobStatusJson>,
    pub live_runs: Vec<LiveRunJson>,
}

/// Token refresh totals.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct RefreshSummaryJson {
    pub total: i64,
    pub refreshed: i64,
    pub failed: i64,
}

/// User or video sync totals.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct JobSummaryJson {
    pub total: i64,
    pub successful: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Video sync only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_videos: Option<i64>,
}

impl From<JobSummary> for JobSummaryJson {
    fn from(j: JobSummary) -> Self {
        Self {
            total: j.total,
            successful: j.successful,
            failed: j.failed,
            skipped: j.skipped,
            total_videos: j.total_videos,
        }
    }
}

/// The answer of `POST /admin/sync/run`: the single-store result (`store_code` given) or the
/// all-stores summary (keys `refresh_tokens`, `user_sync`, `video_sync` as the spec spells
/// them, for the jobs that ran, plus `runIds`). OpenAPI 2 has no `oneOf`, so both shapes are
/// documented as one object whose fields are all optional.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct SyncRunData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    #[serde(rename = "storeCode", skip_serializing_if = "Option::is_none")]
    pub store_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(rename = "recordsProcessed", skip_serializing_if = "Option::is_none")]
    pub records_processed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_tokens: Option<RefreshSummaryJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_sync: Option<JobSummaryJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_sync: Option<JobSummaryJson>,
    #[serde(rename = "runIds", skip_serializing_if = "Option::is_none")]
    pub run_ids: Option<Vec<i64>>,
}

impl SyncRunData {
    fn empty() -> Self {
        Self {
            success: None,
            store_code: None,
            message: None,
            duration: None,
            records_processed: None,
            refresh_tokens: None,
            user_sync: None,
            video_sync: None,
            run_ids: None,
        }
    }
}

impl From<StoreSyncResult> for SyncRunData {
    fn from(r: StoreSyncResult) -> Self {
        Self {
            success: Some(r.success),
            store_code: Some(r.store_code),
            message: Some(r.message),
            duration: Some(r.duration),
            records_processed: Some(r.records_processed),
            ..Self::empty()
        }
    }
}

impl From<SyncSummary> for SyncRunData {
    fn from(s: SyncSummary) -> Self {
        Self {
            refresh_tokens: s.refresh_tokens.map(|RefreshSummary { total, refreshed, failed }| RefreshSummaryJson {
                total,
                refreshed,
                failed,
            }),
            user_sync: s.user_sync.map(Into::into),
            video_sync: s.video_sync.map(Into::into),
            run_ids: Some(s.run_ids),
            ..Self::empty()
        }
    }
}

/// The answer of `POST /admin/sync/run` with `"wait": false`.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct RunIdsJson {
    /// The started runs (follow them at `GET /admin/sync/runs/{id}`); empty for a single-store sync.
    pub run_ids: Vec<i64>,
}

/// A connect link for a store's staff.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectLinkJson {
    /// Single use; send it to the store's staff.
    pub url: String,
    #[serde(serialize_with = "ts")]
    pub expires_at: DateTime<Utc>,
}

/// The TikTok consent URL.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct AuthUrlJson {
    pub auth_url: String,
}

envelope!(
    /// `{"success":true,"data":[store…],"count":n}`
    StoreListResponse, list StoreJson
);
envelope!(
    /// `{"success":true,"data":store}`
    StoreResponse, StoreJson
);
envelope!(
    /// `{"success":true,"data":[account…],"count":n}`
    AccountListResponse, list AccountJson
);
envelope!(
    /// `{"success":true,"data":[snapshot…],"count":n}`
    UserStatsResponse, list UserStatJson
);
envelope!(
    /// `{"success":true,"data":[snapshot…],"count":n}`
    VideoStatsResponse, list VideoStatJson
);
envelope!(
    /// `{"success":true,"data":[log…],"count":n}`
    SyncLogsResponse, list SyncLogJson
);
envelope!(
    /// `{"success":true,"data":[audit row…],"count":n}`
    AuditLogsResponse, list AuditLogJson
);
envelope!(
    /// `{"success":true,"data":run}`
    SyncRunResponse, SyncRunJson
);
envelope!(
    /// `{"success":true,"data":status}`
    SyncStatusResponse, SyncStatusJson
);
envelope!(
    /// `{"success":true,"data":result}`
    SyncRunResultResponse, SyncRunData
);
envelope!(
    /// `{"success":true,"data":{"runIds":[…]}}`
    SyncStartedResponse, RunIdsJson
);
envelope!(
    /// `{"success":true,"data":{"url","expiresAt"}}`
    ConnectLinkResponse, ConnectLinkJson
);
envelope!(
    /// `{"success":true,"data":{"authUrl"}}`
    AuthUrlResponse, AuthUrlJson
);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_have_millis_and_z() {
        let t = Utc.with_ymd_and_hms(2026, 1, 24, 2, 0, 0).unwrap();
        assert_eq!(rfc3339(&t), "2026-01-24T02:00:00.000Z");
    }
}
