//! The reports: the overview of a day, the store report, the top videos and the snapshot
//! gaps, each as JSON, CSV (`format=csv` or `Accept: text/csv`) or XLSX (`format=xlsx`).

use actix_web::{HttpRequest, HttpResponse};
use hub_domain::{GapsQuery, SortOrder, StoreGroup, StoreReportQuery, StoreSort, TopVideosQuery, VideoSort};
use hub_engine::ReportError;
use paperclip::actix::web;
use paperclip::actix::{Apiv2Schema, api_v2_operation};
use serde::Deserialize;

use crate::error::ApiError;
use crate::export;
use crate::extract::AdminKey;
use crate::json::reports::{
    GAP_COLUMNS, GapsResponse, OVERVIEW_COLUMNS, OverviewJson, OverviewResponse, STORE_REPORT_COLUMNS, StoreGapsJson,
    StoreReportJson, StoreReportResponse, TOP_VIDEO_COLUMNS, TopVideoJson, TopVideosResponse,
};
use crate::params::{Format, LIMIT, OFFSET, TOP_LIMIT, bounded, date, flag, store_code};
use crate::routes::reply::reply;
use crate::state::AppState;

/// Days before `to` a report's `from` defaults to.
const DEFAULT_SPAN_DAYS: i64 = 30;

/// `?date=&format=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct OverviewQuery {
    /// The day, `YYYY-MM-DD` (default: today in the report time zone).
    pub date: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
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
    /// `json` (default), `csv` or `xlsx`.
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
    /// Only the videos of this store group's stores.
    pub store_group: Option<String>,
    /// Videos to return, 1-100 (default 20).
    pub limit: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
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
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

reply!(
    /// The overview as JSON, or CSV (one row).
    OverviewReply { 200 => OverviewResponse: "The day's overview (CSV with format=csv or Accept: text/csv, XLSX with format=xlsx)" }
);
reply!(
    /// A page of the store report as JSON, or every row as CSV.
    StoreReportReply { 200 => StoreReportResponse: "A page of the store report (CSV or XLSX with format=csv or xlsx: every row)" }
);
reply!(
    /// The top videos as JSON, CSV or XLSX.
    TopVideosReply { 200 => TopVideosResponse: "The top videos (CSV or XLSX with format=csv or xlsx)" }
);
reply!(
    /// The gap report as JSON, CSV or XLSX.
    GapsReply { 200 => GapsResponse: "Stores with days without a user snapshot (CSV or XLSX with format=csv or xlsx)" }
);
/// Report overview
///
/// One day (default today in the report time zone): stores by connection status (now),
/// the day's totals of followers, likes and videos (user snapshots) and views (video
/// snapshots), each with its change against the day before, 7 and 30 days before (null when
/// that day has no data), and how many stores had a snapshot. `format=csv` or `xlsx`: one row.
#[api_v2_operation(tags(Reports))]
async fn overview(
    key: AdminKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<OverviewQuery>,
) -> Result<OverviewReply, ApiError> {
    let sheet = Format::of(query.format.as_deref(), &req)?.sheet();
    let date = date(query.date.as_deref(), "date")?;
    let o = OverviewJson::from(state.engine.reports().overview(&key.0, date).await?);
    if let Some(sheet) = sheet {
        let name = format!("overview-{}", o.date);
        let page = futures::stream::once(async move { Ok::<_, ReportError>(vec![o]) });
        return Ok(OverviewReply(export::download(sheet, &name, OVERVIEW_COLUMNS, page, |o| o)));
    }
    Ok(OverviewReply(HttpResponse::Ok().json(OverviewResponse { success: true, data: o })))
}

fn store_report_query(state: &AppState, q: &StoreReportParams) -> Result<StoreReportQuery, ApiError> {
    let range = state.engine.reports().range(
        date(q.from.as_deref(), "from")?,
        date(q.to.as_deref(), "to")?,
        DEFAULT_SPAN_DAYS,
    )?;
    Ok(StoreReportQuery {
        range,
        sort: q.sort.as_deref().map(StoreSort::parse).transpose()?.unwrap_or(StoreSort::Followers),
        order: q.order.as_deref().map(SortOrder::parse).transpose()?.unwrap_or(SortOrder::Desc),
        limit: i64::from(bounded(q.limit.as_deref(), LIMIT)?.unwrap_or(LIMIT.default)),
        offset: i64::from(bounded(q.offset.as_deref(), OFFSET)?.unwrap_or(OFFSET.default)),
    })
}

/// Store report
///
/// Every store with its followers and video views at `from` and at `to`, the growth
/// (absolute and percent), and the engagement of its videos at `to`. A store without a
/// snapshot at an end is listed with `missingFrom`/`missingTo` (never dropped); sorting puts
/// missing values last. `total` counts every store, for paging. `format=csv` or `xlsx`: every row.
#[api_v2_operation(tags(Reports))]
async fn stores_report(
    key: AdminKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<StoreReportParams>,
) -> Result<StoreReportReply, ApiError> {
    let sheet = Format::of(query.format.as_deref(), &req)?.sheet();
    let q = store_report_query(&state, &query)?;
    if let Some(sheet) = sheet {
        let name = format!("store-report-{}-{}", q.range.from, q.range.to);
        let pages = state.engine.reports().store_report_pages(&key.0, q).await?;
        return Ok(StoreReportReply(export::download(
            sheet,
            &name,
            STORE_REPORT_COLUMNS,
            pages,
            StoreReportJson::from,
        )));
    }
    let page = state.engine.reports().store_report(&key.0, &q).await?;
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
    key: AdminKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<TopVideosParams>,
) -> Result<TopVideosReply, ApiError> {
    let sheet = Format::of(query.format.as_deref(), &req)?.sheet();
    let (from, to) = (date(query.from.as_deref(), "from")?, date(query.to.as_deref(), "to")?);
    let range = state.engine.reports().range(from, to, DEFAULT_SPAN_DAYS)?;
    let q = TopVideosQuery {
        range,
        sort: query.sort.as_deref().map(VideoSort::parse).transpose()?.unwrap_or(VideoSort::Views),
        store: query.store_code.as_deref().map(store_code).transpose()?,
        group: query.store_group.as_deref().map(StoreGroup::parse).transpose()?,
        limit: i64::from(bounded(query.limit.as_deref(), TOP_LIMIT)?.unwrap_or(TOP_LIMIT.default)),
    };
    let rows = state.engine.reports().top_videos(&key.0, &q).await?;
    if let Some(sheet) = sheet {
        let name = format!("top-videos-{}", range.to);
        let page = futures::stream::once(async move { Ok::<_, ReportError>(rows) });
        return Ok(TopVideosReply(export::download(sheet, &name, TOP_VIDEO_COLUMNS, page, TopVideoJson::from)));
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
    key: AdminKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<GapsParams>,
) -> Result<GapsReply, ApiError> {
    let sheet = Format::of(query.format.as_deref(), &req)?.sheet();
    let (from, to) = (date(query.from.as_deref(), "from")?, date(query.to.as_deref(), "to")?);
    let range = state.engine.reports().range(from, to, DEFAULT_SPAN_DAYS)?;
    let q = GapsQuery::new(range, flag(query.all.as_deref(), "all")?)?;
    if let Some(sheet) = sheet {
        let name = format!("gaps-{}-{}", range.from, range.to);
        let pages = state.engine.reports().gaps_pages(&key.0, q).await?;
        return Ok(GapsReply(export::download(sheet, &name, GAP_COLUMNS, pages, StoreGapsJson::from)));
    }
    let data: Vec<StoreGapsJson> = state.engine.reports().gaps(&key.0, q).await?.into_iter().map(Into::into).collect();
    Ok(GapsReply(HttpResponse::Ok().json(GapsResponse {
        success: true,
        count: data.len(),
        data,
        from: range.from,
        to: range.to,
    })))
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/admin/reports/overview").route(web::get().to(overview)))
        .service(web::resource("/admin/reports/stores").route(web::get().to(stores_report)))
        .service(web::resource("/admin/reports/videos/top").route(web::get().to(top_videos)))
        .service(web::resource("/admin/reports/gaps").route(web::get().to(gaps)));
}
