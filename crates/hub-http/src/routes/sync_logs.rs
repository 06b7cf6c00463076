//! Sync-log lines: every store's (`/admin/sync/logs`) and one store's
//! (`/admin/stores/{store_code}/sync-logs`), as JSON (the newest `limit`, default 50), CSV
//! or XLSX (every line, or the newest `limit`).

use actix_web::{HttpRequest, HttpResponse};
use hub_domain::StoreCode;
use paperclip::actix::web;
use paperclip::actix::{Apiv2Schema, api_v2_operation};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::AdminKey;
use crate::json::sync::{SYNC_LOG_COLUMNS, SyncLogJson, SyncLogsResponse};
use crate::params::{Format, LIMIT, store_code};
use crate::routes::reply::{self, reply};
use crate::state::AppState;

/// `?store_code=&limit=&format=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct SyncLogsQuery {
    /// Only this store's lines.
    pub store_code: Option<String>,
    /// Lines to return, 1-500 (JSON default 50; CSV default every line).
    #[serde(default, deserialize_with = "crate::params::limit")]
    pub limit: Option<u32>,
    /// `json` (default), `csv` (also with `Accept: text/csv`) or `xlsx`.
    pub format: Option<String>,
}

/// `?limit=&format=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct StoreSyncLogsQuery {
    /// Lines to return, 1-500 (JSON default 50; CSV default every line).
    #[serde(default, deserialize_with = "crate::params::limit")]
    pub limit: Option<u32>,
    /// `json` (default), `csv` (also with `Accept: text/csv`) or `xlsx`.
    pub format: Option<String>,
}

reply!(
    /// Sync-log lines as JSON, CSV or XLSX.
    SyncLogsReply { 200 => SyncLogsResponse: "Sync-log lines, newest first (CSV or XLSX with format=csv or xlsx)" }
);

/// The one read path of both routes.
async fn logs(
    key: AdminKey,
    state: &AppState,
    req: &HttpRequest,
    store: Option<StoreCode>,
    limit: Option<u32>,
    format: Option<&str>,
) -> Result<SyncLogsReply, ApiError> {
    let format = Format::of(format, req)?;
    // JSON answers a page (the newest 50 by default); CSV and XLSX export every line unless
    // limited.
    let limit = match format {
        Format::Json => Some(limit.unwrap_or(LIMIT.default)),
        Format::Csv | Format::Xlsx => limit,
    };
    let pages = state.engine.syncs().logs(&key.0, store.as_ref(), limit.map(i64::from)).await?;
    let name = || {
        let what = store.map_or_else(|| "sync-logs".to_owned(), |c| format!("sync-logs-{c}"));
        format!("{what}-{}", state.engine.reports().today())
    };
    let json = |rows| HttpResponse::Ok().json(SyncLogsResponse::new(rows));
    Ok(SyncLogsReply(reply::list(format, name, SYNC_LOG_COLUMNS, pages, SyncLogJson::from, json).await?))
}

/// Sync logs
///
/// The newest `limit` sync-log lines, of one store when `store_code` is given.
#[api_v2_operation(tags(Sync))]
async fn all_logs(
    key: AdminKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<SyncLogsQuery>,
) -> Result<SyncLogsReply, ApiError> {
    let code = query.store_code.as_deref().map(store_code).transpose()?;
    logs(key, &state, &req, code, query.limit, query.format.as_deref()).await
}

/// A store's sync logs
///
/// The newest `limit` sync-log lines of the store.
#[api_v2_operation(tags(Statistics))]
async fn store_logs(
    key: AdminKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<StoreSyncLogsQuery>,
) -> Result<SyncLogsReply, ApiError> {
    let code = store_code(&path)?;
    logs(key, &state, &req, Some(code), query.limit, query.format.as_deref()).await
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/admin/sync/logs").route(web::get().to(all_logs)))
        .service(web::resource("/admin/stores/{store_code}/sync-logs").route(web::get().to(store_logs)));
}
