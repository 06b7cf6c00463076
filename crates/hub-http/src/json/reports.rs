//! The reports and the store import.

use chrono::{DateTime, NaiveDate, Utc};
use hub_domain::{ImportRowReport, OnConflict, Overview, StoreGaps, StoreReportRow, TopVideo};
use hub_engine::ImportReport;
use paperclip::actix::Apiv2Schema;
use serde::Serialize;

/// Stores needing a reconnect, by reason.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct NeedReconnectJson {
    pub total: i64,
    #[serde(rename = "REVOKED")]
    pub revoked: i64,
    #[serde(rename = "REFRESH_EXPIRED")]
    pub refresh_expired: i64,
    #[serde(rename = "SCOPE_MISSING")]
    pub scope_missing: i64,
    #[serde(rename = "GRANT_INVALID")]
    pub grant_invalid: i64,
    #[serde(rename = "TOKEN_INVALID")]
    pub token_invalid: i64,
}

/// Stores by connection status (now).
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct StoreCountsJson {
    pub total: i64,
    pub connected: i64,
    /// Never connected.
    pub not_connected: i64,
    /// NEED_RECONNECT (any reason) plus DISCONNECTED.
    pub needing_attention: i64,
    pub need_reconnect: NeedReconnectJson,
    pub disconnected: i64,
}

/// A total and its changes (null when either day has no data).
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct MetricJson {
    /// Null when the day has no snapshot.
    pub value: Option<i64>,
    pub vs_previous_day: Option<i64>,
    #[serde(rename = "vs7Days")]
    pub vs_7_days: Option<i64>,
    #[serde(rename = "vs30Days")]
    pub vs_30_days: Option<i64>,
}

/// `GET /admin/reports/overview` data.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct OverviewJson {
    pub date: NaiveDate,
    pub stores: StoreCountsJson,
    /// Stores with a user snapshot that day.
    pub stores_with_snapshot: i64,
    /// Stores with at least one video snapshot that day.
    pub stores_with_video_snapshot: i64,
    /// Sum of followers over the day's user snapshots.
    pub followers: MetricJson,
    pub likes: MetricJson,
    pub videos: MetricJson,
    /// Sum of view counts over the day's video snapshots.
    pub views: MetricJson,
}

impl From<Overview> for OverviewJson {
    fn from(o: Overview) -> Self {
        let c = &o.connections;
        let reason =
            |r: hub_domain::ReconnectReason| c.need_reconnect.iter().find(|(k, _)| *k == r).map_or(0, |(_, n)| *n);
        use hub_domain::ReconnectReason as R;
        let m = |d: hub_domain::MetricDeltas| MetricJson {
            value: d.value,
            vs_previous_day: d.vs_previous_day,
            vs_7_days: d.vs_7_days,
            vs_30_days: d.vs_30_days,
        };
        Self {
            date: o.date,
            stores: StoreCountsJson {
                total: c.stores,
                connected: c.connected,
                not_connected: c.never_connected,
                needing_attention: c.needing_attention(),
                need_reconnect: NeedReconnectJson {
                    total: c.need_reconnect_total(),
                    revoked: reason(R::Revoked),
                    refresh_expired: reason(R::RefreshExpired),
                    scope_missing: reason(R::ScopeMissing),
                    grant_invalid: reason(R::GrantInvalid),
                    token_invalid: reason(R::TokenInvalid),
                },
                disconnected: c.disconnected,
            },
            stores_with_snapshot: o.stores_with_snapshot,
            stores_with_video_snapshot: o.stores_with_video_snapshot,
            followers: m(o.followers),
            likes: m(o.likes),
            videos: m(o.videos),
            views: m(o.views),
        }
    }
}

pub(crate) const OVERVIEW_COLUMNS: &[&str] = &[
    "date",
    "stores.total",
    "stores.connected",
    "stores.notConnected",
    "stores.needingAttention",
    "stores.needReconnect.total",
    "stores.needReconnect.REVOKED",
    "stores.needReconnect.REFRESH_EXPIRED",
    "stores.needReconnect.SCOPE_MISSING",
    "stores.needReconnect.GRANT_INVALID",
    "stores.needReconnect.TOKEN_INVALID",
    "stores.disconnected",
    "storesWithSnapshot",
    "storesWithVideoSnapshot",
    "followers.value",
    "followers.vsPreviousDay",
    "followers.vs7Days",
    "followers.vs30Days",
    "likes.value",
    "likes.vsPreviousDay",
    "likes.vs7Days",
    "likes.vs30Days",
    "videos.value",
    "videos.vsPreviousDay",
    "videos.vs7Days",
    "videos.vs30Days",
    "views.value",
    "views.vsPreviousDay",
    "views.vs7Days",
    "views.vs30Days",
];

/// One store in the store report.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct StoreReportJson {
    pub store_code: String,
    pub store_name: String,
    /// The store's group; null: none.
    pub store_group: Option<String>,
    /// Followers at `from` (null: no snapshot that day).
    pub followers_from: Option<i64>,
    pub followers_to: Option<i64>,
    pub follower_growth: Option<i64>,
    /// Percent of `followersFrom` (null when it is null or 0).
    pub follower_growth_pct: Option<f64>,
    /// Sum of the store's video views at `from` (null: no video snapshot that day).
    pub views_from: Option<i64>,
    pub views_to: Option<i64>,
    pub view_growth: Option<i64>,
    pub view_growth_pct: Option<f64>,
    /// (likes + comments + shares) / views over the store's videos at `to` (null without views).
    pub engagement: Option<f64>,
    /// No user snapshot at `from`.
    pub missing_from: bool,
    /// No user snapshot at `to`.
    pub missing_to: bool,
}

impl From<StoreReportRow> for StoreReportJson {
    fn from(r: StoreReportRow) -> Self {
        Self {
            store_code: r.store_code.to_string(),
            store_name: r.store_name,
            store_group: r.store_group.map(|g| g.to_string()),
            followers_from: r.followers_from,
            followers_to: r.followers_to,
            follower_growth: r.follower_growth,
            follower_growth_pct: r.follower_growth_pct,
            views_from: r.views_from,
            views_to: r.views_to,
            view_growth: r.view_growth,
            view_growth_pct: r.view_growth_pct,
            engagement: r.engagement,
            missing_from: r.missing_from,
            missing_to: r.missing_to,
        }
    }
}

pub(crate) const STORE_REPORT_COLUMNS: &[&str] = &[
    "storeCode",
    "storeName",
    "storeGroup",
    "followersFrom",
    "followersTo",
    "followerGrowth",
    "followerGrowthPct",
    "viewsFrom",
    "viewsTo",
    "viewGrowth",
    "viewGrowthPct",
    "engagement",
    "missingFrom",
    "missingTo",
];

/// One video in the top-videos report.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct TopVideoJson {
    pub store_code: String,
    pub video_id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub create_time: Option<String>,
    pub share_url: Option<String>,
    pub view_count: i64,
    pub like_count: i64,
    pub comment_count: i64,
    pub share_count: i64,
    pub engagement: Option<f64>,
    /// Views at `from` (null: no snapshot of the video that day).
    pub views_from: Option<i64>,
    pub views_gained: Option<i64>,
}

fn rfc3339(t: Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(crate::json::common::rfc3339)
}

impl From<TopVideo> for TopVideoJson {
    fn from(v: TopVideo) -> Self {
        Self {
            views_gained: v.views_gained(),
            engagement: v.engagement(),
            store_code: v.store_code.to_string(),
            video_id: v.video_id.to_string(),
            title: v.title,
            description: v.description,
            create_time: rfc3339(v.create_time),
            share_url: v.share_url,
            view_count: v.views,
            like_count: v.likes,
            comment_count: v.comments,
            share_count: v.shares,
            views_from: v.views_from,
        }
    }
}

pub(crate) const TOP_VIDEO_COLUMNS: &[&str] = &[
    "storeCode",
    "videoId",
    "title",
    "description",
    "createTime",
    "shareUrl",
    "viewCount",
    "likeCount",
    "commentCount",
    "shareCount",
    "engagement",
    "viewsFrom",
    "viewsGained",
];

/// One store's snapshot gaps.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct StoreGapsJson {
    pub store_code: String,
    /// CONNECTED, NEED_RECONNECT or DISCONNECTED (now).
    pub connection_status: String,
    pub connection_reason: Option<String>,
    /// The first day a snapshot was expected: the later of `from` and the connection day.
    pub expected_from: NaiveDate,
    /// Days a snapshot was expected.
    pub expected_days: i64,
    pub missing_count: usize,
    /// Days without a user snapshot, oldest first.
    pub missing_dates: Vec<NaiveDate>,
}

impl From<StoreGaps> for StoreGapsJson {
    fn from(g: StoreGaps) -> Self {
        Self {
            store_code: g.store_code.to_string(),
            connection_status: g.status.as_str().to_owned(),
            connection_reason: g.status.reason().map(|r| r.as_str().to_owned()),
            expected_from: g.expected_from,
            expected_days: g.expected_days,
            missing_count: g.missing.len(),
            missing_dates: g.missing,
        }
    }
}

pub(crate) const GAP_COLUMNS: &[&str] = &[
    "storeCode",
    "connectionStatus",
    "connectionReason",
    "expectedFrom",
    "expectedDays",
    "missingCount",
    "missingDates",
];

/// `{"success":true,"data":overview}`
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct OverviewResponse {
    /// Always `true`.
    pub success: bool,
    pub data: OverviewJson,
}

/// `{"success":true,"data":[row…],"count":n,"total":N,"from","to"}`
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct StoreReportResponse {
    /// Always `true`.
    pub success: bool,
    pub data: Vec<StoreReportJson>,
    /// Rows in `data`.
    pub count: usize,
    /// Rows in every page (every store).
    pub total: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// `{"success":true,"data":[video…],"count":n,"from","to"}`
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct TopVideosResponse {
    /// Always `true`.
    pub success: bool,
    pub data: Vec<TopVideoJson>,
    pub count: usize,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// `{"success":true,"data":[store…],"count":n,"from","to"}`
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct GapsResponse {
    /// Always `true`.
    pub success: bool,
    pub data: Vec<StoreGapsJson>,
    pub count: usize,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// One row of an import report.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct ImportRowJson {
    /// Data row number, from 1 (the header is not counted).
    pub row: usize,
    pub store_code: Option<String>,
    /// create, update, skip or error.
    pub action: String,
    /// The invalid field of an error row.
    pub field: Option<String>,
    pub message: Option<String>,
}

impl From<ImportRowReport> for ImportRowJson {
    fn from(r: ImportRowReport) -> Self {
        Self {
            row: r.row,
            store_code: r.store_code,
            action: r.action.as_str().to_owned(),
            field: r.field,
            message: r.message,
        }
    }
}

/// Import totals.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct ImportCountsJson {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub skipped: usize,
    pub errors: usize,
}

/// What an import did, or would do (dry run), row by row.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct ImportReportJson {
    pub dry_run: bool,
    /// fail, skip or update.
    pub on_conflict: String,
    /// Whether anything was written.
    pub applied: bool,
    pub counts: ImportCountsJson,
    pub rows: Vec<ImportRowJson>,
}

impl From<ImportReport> for ImportReportJson {
    fn from(r: ImportReport) -> Self {
        let c = r.counts;
        Self {
            dry_run: r.dry_run,
            on_conflict: match r.on_conflict {
                OnConflict::Fail => "fail",
                OnConflict::Skip => "skip",
                OnConflict::Update => "update",
            }
            .to_owned(),
            applied: r.applied,
            counts: ImportCountsJson {
                rows: c.rows,
                created: c.created,
                updated: c.updated,
                skipped: c.skipped,
                errors: c.errors,
            },
            rows: r.rows.into_iter().map(Into::into).collect(),
        }
    }
}

/// `{"success":true,"data":report}`
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct ImportResponse {
    /// Always `true`.
    pub success: bool,
    pub data: ImportReportJson,
}

/// A refused import: the error envelope plus the row-by-row report.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct ImportRejectedResponse {
    /// Always `false`.
    pub success: bool,
    pub error: crate::error::ErrorBody,
    pub data: ImportReportJson,
}
