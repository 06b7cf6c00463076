//! Reports (`/admin/reports/*`), CSV exports (`?format=csv` or `Accept: text/csv`) of the
//! reports and of the store list, user-stats, video-stats and sync-logs, and the store import
//! (`POST /admin/stores/import`, `GET /admin/stores/import/template`).
//!
//! The CSV forms of the existing JSON routes are registered here, ahead of those routes, as
//! resources guarded by "GET and CSV wanted"; every other request falls through to the JSON
//! route, which stays as it is. They are left out of the OpenAPI document (the JSON route's
//! operation is the documented one; its `format` parameter is described in API.md).

mod csv;
pub(crate) mod import;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, guard};
use chrono::{DateTime, NaiveDate, Utc};
use hub_domain::{
    DateRange, GapsQuery, ImportRowReport, OnConflict, Overview, SortOrder, StoreGaps, StoreReportQuery,
    StoreReportRow, StoreSort, TopVideo, TopVideosQuery, VideoSort, parse_report_date,
};
use hub_engine::{ImportReport, ReportError};
use paperclip::actix::web::{self};
use paperclip::actix::{Apiv2Schema, api_v2_operation};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::dto::{StoreJson, SyncLogJson, UserStatJson, VideoStatJson};
use crate::error::{ApiError, current_request_id};
use crate::extract::AdminKey;
use crate::routes::stores::audit_failure;
use crate::routes::{json_with, reply, store_code};

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Invalid(d) => d.into(),
            ReportError::StoreNotFound => Self::store_not_found(),
            ReportError::ImportRejected(r) => Self::invalid(format!(
                "{} of {} rows are invalid; nothing was imported",
                r.counts.errors, r.counts.rows
            )),
            ReportError::Conflict(m) => Self::new(
                StatusCode::CONFLICT,
                crate::Code::StoreExists,
                format!("Stores changed during the import ({m}); nothing was imported, try again"),
            ),
            ReportError::NotConfigured => Self::internal(&"reporting ports are not wired"),
            ReportError::Storage(cause) => Self::internal(&cause),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Parameters

/// `format`: `json` (default) or `csv`; `Accept: text/csv` asks for CSV too.
fn wants_csv(format: Option<&str>, accept: Option<&str>) -> Result<bool, ApiError> {
    match format {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(ApiError::invalid("format must be json or csv")),
        None => Ok(accept.is_some_and(|a| a.to_ascii_lowercase().contains("text/csv"))),
    }
}

fn accept(req: &HttpRequest) -> Option<&str> {
    req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok())
}

/// Guard of the CSV forms of the JSON routes: a GET with a `format` other than `json`, or
/// without `format` and with `Accept: text/csv`.
fn csv_get() -> impl guard::Guard {
    guard::All(guard::Get()).and(guard::fn_guard(|ctx| {
        let head = ctx.head();
        let pairs: Vec<(String, String)> = head
            .uri
            .query()
            .and_then(|q| actix_web::web::Query::<Vec<(String, String)>>::from_query(q).ok())
            .map(|q| q.into_inner())
            .unwrap_or_default();
        match pairs.iter().find(|(k, _)| k == "format") {
            Some((_, v)) => v != "json",
            None => head
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.to_ascii_lowercase().contains("text/csv")),
        }
    }))
}

fn date(raw: Option<&str>, field: &'static str) -> Result<Option<NaiveDate>, ApiError> {
    Ok(raw.map(|r| parse_report_date(r, field)).transpose()?)
}

fn number(raw: Option<&str>, field: &str, min: i64, max: i64, default: i64) -> Result<i64, ApiError> {
    match raw {
        None => Ok(default),
        Some(r) => r
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| ApiError::invalid(format!("{field} must be a whole number from {min} to {max}"))),
    }
}

fn flag(raw: Option<&str>, field: &str) -> Result<bool, ApiError> {
    match raw {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::invalid(format!("{field} must be true or false"))),
    }
}

/// `?date=&format=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct OverviewQuery {
    /// The day, `YYYY-MM-DD` (default: today in the report time zone).
    pub date: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// `?from=&to=&sort=&order=&limit=&offset=&format=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct StoreReportParams {
    /// First day, `YYYY-MM-DD` (default: 30 days before `to`).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (default: today in the report time zone).
    pub to: Option<String>,
    /// followers (default), follower_growth, views, view_growth or engagement.
    pub sort: Option<String>,
    /// desc (default) or asc; stores without a value come last either way.
    pub order: Option<String>,
    /// Rows per page, 1-500 (default 50; ignored by the CSV export, which has every row).
    pub limit: Option<String>,
    /// Rows to skip, 0-1000000 (default 0).
    pub offset: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// `?from=&to=&sort=&store_code=&limit=&format=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct TopVideosParams {
    /// The day views are gained from, `YYYY-MM-DD` (default: 30 days before `to`).
    pub from: Option<String>,
    /// The day of the ranking, `YYYY-MM-DD` (default: today in the report time zone).
    pub to: Option<String>,
    /// views (default), views_gained, likes or engagement; always best first.
    pub sort: Option<String>,
    /// Only this store's videos.
    pub store_code: Option<String>,
    /// Videos to return, 1-100 (default 20).
    pub limit: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// `?from=&to=&all=&format=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct GapsParams {
    /// First day, `YYYY-MM-DD` (default: 30 days before `to`; at most 366 days before `to`).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (default: today in the report time zone).
    pub to: Option<String>,
    /// `true`: list stores without gaps too.
    pub all: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// `?dry_run=&on_conflict=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct ImportParams {
    /// `true`: report what would happen, write nothing.
    pub dry_run: Option<String>,
    /// What to do with a row whose store exists: fail (default: the import is refused),
    /// skip, or update.
    pub on_conflict: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Shapes

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

const OVERVIEW_COLUMNS: &[&str] = &[
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

const STORE_REPORT_COLUMNS: &[&str] = &[
    "storeCode",
    "storeName",
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
    t.as_ref().map(crate::dto::rfc3339)
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

const TOP_VIDEO_COLUMNS: &[&str] = &[
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

const GAP_COLUMNS: &[&str] = &[
    "storeCode",
    "connectionStatus",
    "connectionReason",
    "expectedFrom",
    "expectedDays",
    "missingCount",
    "missingDates",
];

const STORE_COLUMNS: &[&str] = &[
    "storeCode",
    "storeName",
    "picName",
    "picContact",
    "createdAt",
    "connectionStatus",
    "connectionReason",
    "accountId",
    "accountIdentifier",
    "connectedAt",
    "lastSyncTime",
    "tokenExpiresAt",
    "latestUserStats.followerCount",
    "latestUserStats.likesCount",
    "latestUserStats.videoCount",
    "latestVideoStats.totalVideos",
    "latestVideoStats.totalViews",
];

const USER_STAT_COLUMNS: &[&str] = &[
    "id",
    "storeCode",
    "snapshotDate",
    "followerCount",
    "followingCount",
    "likesCount",
    "videoCount",
    "displayName",
    "avatarUrl",
    "createdAt",
];

const VIDEO_STAT_COLUMNS: &[&str] = &[
    "id",
    "storeCode",
    "snapshotDate",
    "videoId",
    "viewCount",
    "likeCount",
    "commentCount",
    "shareCount",
    "description",
    "createdAt",
    "title",
    "createTime",
    "shareUrl",
    "coverImageUrl",
    "duration",
];

const SYNC_LOG_COLUMNS: &[&str] =
    &["id", "storeCode", "jobName", "status", "message", "rawError", "durationMs", "runTime", "runId"];

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

reply!(
    /// The overview as JSON, or CSV (one row).
    OverviewReply { 200 => OverviewResponse: "The day's overview (CSV with format=csv or Accept: text/csv)" }
);
reply!(
    /// A page of the store report as JSON, or every row as CSV.
    StoreReportReply { 200 => StoreReportResponse: "A page of the store report (CSV with format=csv: every row)" }
);
reply!(
    /// The top videos as JSON or CSV.
    TopVideosReply { 200 => TopVideosResponse: "The top videos (CSV with format=csv)" }
);
reply!(
    /// The gap report as JSON or CSV.
    GapsReply { 200 => GapsResponse: "Stores with days without a user snapshot (CSV with format=csv)" }
);
reply!(
    /// The import report.
    ImportReply {
        200 => ImportResponse: "The import was made (or, dry run, what it would do), row by row",
        400 => ImportRejectedResponse: "INVALID_REQUEST: invalid rows, nothing was written; the report says which and why",
    }
);
reply!(
    /// The import template (CSV).
    TemplateReply { 200 => crate::routes::NoSchema: "text/csv: the header and one example row" }
);

// ---------------------------------------------------------------------------------------
// Handlers

fn today_name(state: &AppState, what: &str) -> String {
    format!("{what}-{}.csv", state.engine.report_today())
}

/// Report overview
///
/// One day (default today in the report time zone): stores by connection status (now),
/// the day's totals of followers, likes and videos (user snapshots) and views (video
/// snapshots), each with its change against the day before, 7 and 30 days before (null when
/// that day has no data), and how many stores had a snapshot. `format=csv`: one row.
#[api_v2_operation(tags(Reports))]
async fn overview(
    _key: AdminKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<OverviewQuery>,
) -> Result<OverviewReply, ApiError> {
    let csv = wants_csv(query.format.as_deref(), accept(&req))?;
    let date = date(query.date.as_deref(), "date")?;
    let o = OverviewJson::from(state.engine.report_overview(date).await?);
    if csv {
        let name = format!("overview-{}.csv", o.date);
        let page = futures::stream::once(async move { Ok::<_, ReportError>(vec![o]) });
        return Ok(OverviewReply(csv::download(&name, OVERVIEW_COLUMNS, page, |o| o)));
    }
    Ok(OverviewReply(HttpResponse::Ok().json(OverviewResponse { success: true, data: o })))
}

fn store_report_query(state: &AppState, q: &StoreReportParams) -> Result<StoreReportQuery, ApiError> {
    let range = state.engine.report_range(date(q.from.as_deref(), "from")?, date(q.to.as_deref(), "to")?, 30)?;
    Ok(StoreReportQuery {
        range,
        sort: q.sort.as_deref().map(StoreSort::parse).transpose()?.unwrap_or(StoreSort::Followers),
        order: q.order.as_deref().map(SortOrder::parse).transpose()?.unwrap_or(SortOrder::Desc),
        limit: number(q.limit.as_deref(), "limit", 1, 500, 50)?,
        offset: number(q.offset.as_deref(), "offset", 0, 1_000_000, 0)?,
    })
}

/// Store report
///
/// Every store with its followers and video views at `from` and at `to`, the growth
/// (absolute and percent), and the engagement of its videos at `to`. A store without a
/// snapshot at an end is listed with `missingFrom`/`missingTo` (never dropped); sorting puts
/// missing values last. `total` counts every store, for paging. `format=csv`: every row.
#[api_v2_operation(tags(Reports))]
async fn stores_report(
    _key: AdminKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<StoreReportParams>,
) -> Result<StoreReportReply, ApiError> {
    let csv = wants_csv(query.format.as_deref(), accept(&req))?;
    let q = store_report_query(&state, &query)?;
    if csv {
        let name = format!("store-report-{}-{}.csv", q.range.from, q.range.to);
        let pages = state.engine.report_stores_pages(q)?;
        return Ok(StoreReportReply(csv::download(&name, STORE_REPORT_COLUMNS, pages, StoreReportJson::from)));
    }
    let page = state.engine.report_stores(&q).await?;
    let data: Vec<StoreReportJson> = page.rows.into_iter().map(Into::into).collect();
    Ok(StoreReportReply(HttpResponse::Ok().json(StoreReportResponse {
        success: true,
        count: data.len(),
        data,
        total: page.total,
        from: page.range.from,
        to: page.range.to,
    })))
}

/// Top videos
///
/// The videos of the day `to` (of one store with `store_code`), best first by `sort`, with
/// their statistics, their views at `from` and the views gained since (null when the video
/// had no snapshot at `from`).
#[api_v2_operation(tags(Reports))]
async fn top_videos(
    _key: AdminKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<TopVideosParams>,
) -> Result<TopVideosReply, ApiError> {
    let csv = wants_csv(query.format.as_deref(), accept(&req))?;
    let range =
        state.engine.report_range(date(query.from.as_deref(), "from")?, date(query.to.as_deref(), "to")?, 30)?;
    let q = TopVideosQuery {
        range,
        sort: query.sort.as_deref().map(VideoSort::parse).transpose()?.unwrap_or(VideoSort::Views),
        store: query.store_code.as_deref().map(store_code).transpose()?,
        limit: number(query.limit.as_deref(), "limit", 1, 100, 20)?,
    };
    let rows = state.engine.report_top_videos(&q).await?;
    if csv {
        let name = format!("top-videos-{}.csv", range.to);
        let page = futures::stream::once(async move { Ok::<_, ReportError>(rows) });
        return Ok(TopVideosReply(csv::download(&name, TOP_VIDEO_COLUMNS, page, TopVideoJson::from)));
    }
    let data: Vec<TopVideoJson> = rows.into_iter().map(Into::into).collect();
    Ok(TopVideosReply(HttpResponse::Ok().json(TopVideosResponse {
        success: true,
        count: data.len(),
        data,
        from: range.from,
        to: range.to,
    })))
}

/// Snapshot gaps
///
/// For every store that is or was connected: the days in [max(from, connection day), to]
/// without a user snapshot (dates and count). Stores without gaps are left out unless
/// `all=true`. The range is at most 366 days.
#[api_v2_operation(tags(Reports))]
async fn gaps(
    _key: AdminKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<GapsParams>,
) -> Result<GapsReply, ApiError> {
    let csv = wants_csv(query.format.as_deref(), accept(&req))?;
    let range =
        state.engine.report_range(date(query.from.as_deref(), "from")?, date(query.to.as_deref(), "to")?, 30)?;
    let q = GapsQuery::new(range, flag(query.all.as_deref(), "all")?)?;
    if csv {
        let name = format!("gaps-{}-{}.csv", range.from, range.to);
        let pages = state.engine.report_gaps_pages(q)?;
        return Ok(GapsReply(csv::download(&name, GAP_COLUMNS, pages, StoreGapsJson::from)));
    }
    let data: Vec<StoreGapsJson> = state.engine.report_gaps(q).await?.into_iter().map(Into::into).collect();
    Ok(GapsReply(HttpResponse::Ok().json(GapsResponse {
        success: true,
        count: data.len(),
        data,
        from: range.from,
        to: range.to,
    })))
}

/// Import stores
///
/// A CSV file (multipart field `file`, or a `text/csv` body) with the columns
/// `store_code,store_name,pic_name,pic_contact`, at most 10,000 rows and 5 MiB, each row
/// validated like `POST /admin/stores`. `dry_run=true` reports what would happen. Otherwise
/// it is all or nothing, in one transaction with one audit row (`store.import`): any invalid
/// row (or an existing store with `on_conflict=fail`) refuses the whole file (400 with the
/// report). The store code `import` is reserved by this route.
#[api_v2_operation(tags(Stores))]
async fn import(
    key: AdminKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ImportParams>,
    body: actix_web::web::Payload,
) -> Result<ImportReply, ApiError> {
    let AdminKey(actor) = key;
    let dry_run = flag(query.dry_run.as_deref(), "dry_run")?;
    let on_conflict = query.on_conflict.as_deref().map(OnConflict::parse).transpose()?.unwrap_or_default();
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let refuse = async |err: ApiError| {
        if !dry_run {
            audit_failure(&state, &actor, "store.import", None, &err).await;
        }
        Err(err)
    };
    let rows = match import_rows(body, &content_type).await {
        Ok(rows) => rows,
        Err(err) => return refuse(err).await,
    };
    match state.engine.import_stores(&rows, on_conflict, dry_run, &actor).await {
        Ok(report) => Ok(ImportReply(HttpResponse::Ok().json(ImportResponse { success: true, data: report.into() }))),
        Err(ReportError::ImportRejected(report)) => {
            let err = ApiError::from(ReportError::ImportRejected(report.clone()));
            audit_failure(&state, &actor, "store.import", None, &err).await;
            let body = ImportRejectedResponse {
                success: false,
                error: err.envelope(current_request_id()).error,
                data: (*report).into(),
            };
            Ok(ImportReply(json_with(StatusCode::BAD_REQUEST, &body)))
        }
        Err(other) => refuse(ApiError::from(other)).await,
    }
}

/// The rows of the uploaded file.
async fn import_rows(
    body: actix_web::web::Payload,
    content_type: &str,
) -> Result<Vec<Result<hub_domain::NewStore, hub_domain::DomainError>>, ApiError> {
    let body = import::read_body(body).await?;
    import::body_rows(&body, content_type)
}

/// Import template
///
/// The header of the import file and one example row, as CSV.
#[api_v2_operation(tags(Stores))]
async fn template(_key: AdminKey) -> Result<TemplateReply, ApiError> {
    let mut out = String::new();
    csv::push_header(&mut out, &import::COLUMNS);
    for (i, cell) in ["store_jakarta_01", "Store Jakarta Pusat", "John Doe", "john@example.com"].iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv::push_text(&mut out, cell);
    }
    out.push_str("\r\n");
    Ok(TemplateReply(
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"stores-import-template.csv\""))
            .body(out),
    ))
}

// The CSV forms of the existing JSON routes (left out of the document: see the module docs).

/// `?format=` of the CSV forms.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct ExportParams {
    pub format: Option<String>,
    pub days: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<String>,
    pub store_code: Option<String>,
}

impl ExportParams {
    fn check_format(&self) -> Result<(), ApiError> {
        wants_csv(self.format.as_deref(), None).map(|_| ())
    }

    /// `days` (1-365, the last days up to today) or `from`/`to` (default the last 30 days).
    fn range(&self, state: &AppState) -> Result<DateRange, ApiError> {
        let (from, to) = (date(self.from.as_deref(), "from")?, date(self.to.as_deref(), "to")?);
        match &self.days {
            Some(_) if from.is_some() || to.is_some() => {
                Err(ApiError::invalid("days cannot be combined with from or to"))
            }
            Some(raw) => {
                let days = number(Some(raw), "days", 1, 365, 30)?;
                Ok(state.engine.report_last_days(days as u32))
            }
            None => Ok(state.engine.report_range(from, to, 29)?),
        }
    }
}

#[api_v2_operation(skip)]
async fn stores_csv(
    _key: AdminKey,
    state: web::Data<AppState>,
    query: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    query.check_format()?;
    let pages = state.engine.export_stores()?;
    Ok(csv::download(&today_name(&state, "stores"), STORE_COLUMNS, pages, StoreJson::from))
}

#[api_v2_operation(skip)]
async fn user_stats_csv(
    _key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    query.check_format()?;
    let code = store_code(&path)?;
    let range = query.range(&state)?;
    let pages = state.engine.export_user_stats(&code, range).await?;
    let name = format!("user-stats-{code}-{}-{}.csv", range.from, range.to);
    Ok(csv::download(&name, USER_STAT_COLUMNS, pages, UserStatJson::from))
}

#[api_v2_operation(skip)]
async fn video_stats_csv(
    _key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    query.check_format()?;
    let code = store_code(&path)?;
    let range = query.range(&state)?;
    let pages = state.engine.export_video_stats(&code, range).await?;
    let name = format!("video-stats-{code}-{}-{}.csv", range.from, range.to);
    Ok(csv::download(&name, VIDEO_STAT_COLUMNS, pages, VideoStatJson::from))
}

async fn sync_logs_export(
    state: &AppState,
    code: Option<hub_domain::StoreCode>,
    query: &ExportParams,
) -> Result<HttpResponse, ApiError> {
    query.check_format()?;
    let limit = query.limit.as_deref().map(|l| number(Some(l), "limit", 1, 500, 50)).transpose()?;
    let pages = state.engine.export_sync_logs(code.as_ref(), limit).await?;
    let name = match &code {
        Some(c) => today_name(state, &format!("sync-logs-{c}")),
        None => today_name(state, "sync-logs"),
    };
    Ok(csv::download(&name, SYNC_LOG_COLUMNS, pages, SyncLogJson::from))
}

#[api_v2_operation(skip)]
async fn store_sync_logs_csv(
    _key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let code = store_code(&path)?;
    sync_logs_export(&state, Some(code), &query).await
}

#[api_v2_operation(skip)]
async fn sync_logs_csv(
    _key: AdminKey,
    state: web::Data<AppState>,
    query: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let code = query.store_code.as_deref().map(store_code).transpose()?;
    sync_logs_export(&state, code, &query).await
}

/// Registered before the store and sync routes: the CSV forms and `/admin/stores/import`
/// must be matched before `/admin/stores/{store_code}`.
pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/admin/reports/overview").route(web::get().to(overview)))
        .service(web::resource("/admin/reports/stores").route(web::get().to(stores_report)))
        .service(web::resource("/admin/reports/videos/top").route(web::get().to(top_videos)))
        .service(web::resource("/admin/reports/gaps").route(web::get().to(gaps)))
        .service(web::resource("/admin/stores/import/template").route(web::get().to(template)))
        .service(web::resource("/admin/stores/import").route(web::post().to(import)))
        .service(web::resource("/admin/stores").guard(csv_get()).route(web::get().to(stores_csv)))
        .service(
            web::resource("/admin/stores/{store_code}/user-stats")
                .guard(csv_get())
                .route(web::get().to(user_stats_csv)),
        )
        .service(
            web::resource("/admin/stores/{store_code}/video-stats")
                .guard(csv_get())
                .route(web::get().to(video_stats_csv)),
        )
        .service(
            web::resource("/admin/stores/{store_code}/sync-logs")
                .guard(csv_get())
                .route(web::get().to(store_sync_logs_csv)),
        )
        .service(web::resource("/admin/sync/logs").guard(csv_get()).route(web::get().to(sync_logs_csv)));
}

/// The OpenAPI rules of this module's query parameters (the document's finishing step,
/// `crate::openapi::constrain`, asks here first); `None` leaves a parameter to the shared
/// rules (`store_code`).
pub(crate) fn param_rule(path: &str, name: &str) -> Option<serde_json::Value> {
    use serde_json::json;
    let mine = path.starts_with("/admin/reports/") || path.starts_with("/admin/stores/import");
    if !mine {
        return None;
    }
    let names = |all: &[&'static str]| json!(all);
    Some(match (path, name) {
        (_, "date" | "from" | "to") => json!({
            "type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "example": "2026-01-24",
        }),
        (_, "format") => json!({ "type": "string", "enum": ["json", "csv"], "default": "json" }),
        (_, "order") => json!({ "type": "string", "enum": ["desc", "asc"], "default": "desc" }),
        (_, "all" | "dry_run") => json!({ "type": "string", "enum": ["true", "false"], "default": "false" }),
        (_, "on_conflict") => json!({ "type": "string", "enum": ["fail", "skip", "update"], "default": "fail" }),
        (_, "offset") => {
            json!({ "type": "integer", "format": "int32", "minimum": 0, "maximum": 1_000_000, "default": 0 })
        }
        ("/admin/reports/videos/top", "limit") => {
            json!({ "type": "integer", "format": "int32", "minimum": 1, "maximum": 100, "default": 20 })
        }
        (_, "limit") => json!({ "type": "integer", "format": "int32", "minimum": 1, "maximum": 500, "default": 50 }),
        ("/admin/reports/videos/top", "sort") => json!({
            "type": "string", "enum": names(&VideoSort::ALL.map(VideoSort::as_str)), "default": "views",
        }),
        (_, "sort") => json!({
            "type": "string", "enum": names(&StoreSort::ALL.map(StoreSort::as_str)), "default": "followers",
        }),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::reports::csv::leaf_paths;

    /// Each CSV column list names exactly the leaves of its JSON shape.
    #[test]
    fn column_lists_match_the_json_shapes() {
        fn check(columns: &[&str], sample: impl Serialize) {
            let mut paths = Vec::new();
            leaf_paths(&serde_json::to_value(sample).unwrap(), "", &mut paths);
            let mut want: Vec<&str> = columns.to_vec();
            want.sort_unstable();
            paths.sort_unstable();
            assert_eq!(paths, want);
        }
        let o = Overview::build(
            NaiveDate::from_ymd_opt(2026, 1, 24).unwrap(),
            hub_domain::ConnectionCounts::from_groups([]),
            [hub_domain::DayTotals::default(); 4],
        );
        check(OVERVIEW_COLUMNS, OverviewJson::from(o));
        let row = serde_json::json!({
            "storeCode": "", "storeName": "", "followersFrom": 1, "followersTo": 1, "followerGrowth": 1,
            "followerGrowthPct": 1.0, "viewsFrom": 1, "viewsTo": 1, "viewGrowth": 1, "viewGrowthPct": 1.0,
            "engagement": 1.0, "missingFrom": false, "missingTo": false
        });
        check(STORE_REPORT_COLUMNS, row);
        let store = crate::dto::StoreJson {
            store_code: String::new(),
            store_name: String::new(),
            pic_name: String::new(),
            pic_contact: None,
            created_at: Utc::now(),
            connection_status: String::new(),
            connection_reason: None,
            account_id: None,
            account_identifier: None,
            connected_at: None,
            last_sync_time: None,
            token_expires_at: None,
            latest_user_stats: Some(crate::dto::LatestUserStatsJson {
                follower_count: 0,
                likes_count: 0,
                video_count: 0,
            }),
            latest_video_stats: Some(crate::dto::LatestVideoStatsJson { total_videos: 0, total_views: 0 }),
        };
        check(STORE_COLUMNS, store);
    }

    #[test]
    fn csv_is_wanted_by_format_or_accept() {
        assert_eq!(wants_csv(Some("csv"), None), Ok(true));
        assert_eq!(wants_csv(Some("json"), Some("text/csv")), Ok(false));
        assert_eq!(wants_csv(None, Some("text/csv, */*")), Ok(true));
        assert_eq!(wants_csv(None, Some("application/json")), Ok(false));
        assert_eq!(wants_csv(None, None), Ok(false));
        assert!(wants_csv(Some("xml"), None).unwrap_err().message.starts_with("format"));
    }
}
