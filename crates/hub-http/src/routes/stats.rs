//! One store's history: `…/user-stats` and `…/video-stats`, as JSON, CSV or XLSX, from one use case
//! each.

use actix_web::{HttpRequest, HttpResponse};
use hub_domain::{DateRange, StoreCode};
use paperclip::actix::web;
use paperclip::actix::{Apiv2Schema, api_v2_operation};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::AdminKey;
use crate::json::stats::{
    USER_STAT_COLUMNS, UserStatJson, UserStatsResponse, VIDEO_STAT_COLUMNS, VideoStatJson, VideoStatsResponse,
};
use crate::params::{Format, date, store_code};
use crate::routes::reply::{self, reply};
use crate::state::AppState;

/// `?days=` or `?from=&to=`, and `format=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct HistoryQuery {
    /// Days of history up to today, 1-365 (default 30); not with `from`/`to`.
    #[serde(default, deserialize_with = "crate::params::days")]
    pub days: Option<u32>,
    /// First day, `YYYY-MM-DD` (default: the 30 days ending at `to`).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (default: today in the report time zone).
    pub to: Option<String>,
    /// `json` (default), `csv` (also with `Accept: text/csv`) or `xlsx`.
    pub format: Option<String>,
}

impl HistoryQuery {
    fn read(
        &self,
        state: &AppState,
        req: &HttpRequest,
        path: &str,
    ) -> Result<(StoreCode, DateRange, Format), ApiError> {
        let format = Format::of(self.format.as_deref(), req)?;
        let code = store_code(path)?;
        let (from, to) = (date(self.from.as_deref(), "from")?, date(self.to.as_deref(), "to")?);
        Ok((code, state.engine.reports().history_range(self.days, from, to)?, format))
    }
}

reply!(
    /// User snapshots as JSON, CSV or XLSX.
    UserStatsReply { 200 => UserStatsResponse: "Daily account snapshots, newest first (CSV or XLSX with format=csv or xlsx)" }
);
reply!(
    /// Video snapshots as JSON, CSV or XLSX.
    VideoStatsReply { 200 => VideoStatsResponse: "Daily video snapshots, newest day first (CSV or XLSX with format=csv or xlsx)" }
);

/// User statistics history
///
/// Daily account snapshots of the last `days` days (or `from`..`to`), newest first.
#[api_v2_operation(tags(Statistics))]
async fn user_stats(
    key: AdminKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<UserStatsReply, ApiError> {
    let (code, range, format) = query.read(&state, &req, &path)?;
    let pages = state.engine.reports().user_stats(&key.0, &code, range).await?;
    let name = || format!("user-stats-{code}-{}-{}", range.from, range.to);
    let json = |rows| HttpResponse::Ok().json(UserStatsResponse::new(rows));
    Ok(UserStatsReply(reply::list(format, name, USER_STAT_COLUMNS, pages, UserStatJson::from, json).await?))
}

/// Video statistics history
///
/// Daily video snapshots of the last `days` days (or `from`..`to`), newest day first, then
/// most viewed.
#[api_v2_operation(tags(Statistics))]
async fn video_stats(
    key: AdminKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<VideoStatsReply, ApiError> {
    let (code, range, format) = query.read(&state, &req, &path)?;
    let pages = state.engine.reports().video_stats(&key.0, &code, range).await?;
    let name = || format!("video-stats-{code}-{}-{}", range.from, range.to);
    let json = |rows| HttpResponse::Ok().json(VideoStatsResponse::new(rows));
    Ok(VideoStatsReply(reply::list(format, name, VIDEO_STAT_COLUMNS, pages, VideoStatJson::from, json).await?))
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/admin/stores/{store_code}/user-stats").route(web::get().to(user_stats)))
        .service(web::resource("/admin/stores/{store_code}/video-stats").route(web::get().to(video_stats)));
}
