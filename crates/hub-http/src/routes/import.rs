//! The store import (`POST /admin/stores/import`) and its template.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use hub_domain::OnConflict;
use hub_engine::ReportError;
use paperclip::actix::web;
use paperclip::actix::{Apiv2Schema, api_v2_operation};
use serde::Deserialize;

use crate::error::{ApiError, current_request_id};
use crate::extract::AdminKey;
use crate::import_file;
use crate::json::reports::{ImportRejectedResponse, ImportResponse};
use crate::params::flag;
use crate::routes::reply::{NoSchema, json_with, reply};
use crate::state::AppState;

/// `?dry_run=&on_conflict=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct ImportParams {
    /// `true`: report what would happen, write nothing.
    pub dry_run: Option<String>,
    /// What to do with a row whose store exists: fail (default: the import is refused),
    /// skip, or update.
    pub on_conflict: Option<String>,
}

reply!(
    /// The import report.
    ImportReply {
        200 => ImportResponse: "The import was made (or, dry run, what it would do), row by row",
        400 => ImportRejectedResponse: "INVALID_REQUEST: invalid rows, nothing was written; the report says which and why",
    }
);
reply!(
    /// The import template (CSV).
    TemplateReply { 200 => NoSchema: "text/csv: the header and one example row" }
);

/// Import stores
///
/// A CSV file (multipart field `file`, or a `text/csv` body) with the columns
/// `store_code,store_name,pic_name,pic_contact,store_group` (the last two optional), at most
/// 10,000 rows and 5 MiB, each row validated like `POST /admin/stores`. Without a
/// `store_group` column, updated stores keep their group. A caller limited to store groups
/// may create stores only in its groups and touch no store outside them. `dry_run=true` reports what would happen. Otherwise
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
    // A file that cannot be read is the engine's refusal too (one audit policy): it gets the
    // reason, in the domain's words.
    let file = match import_file::read_body(body).await {
        Ok(body) => import_file::body_file(&body, &content_type),
        Err(e) => Err(e),
    };
    let (rows, with_groups, refused) = match file {
        Ok(f) => (Ok(f.rows), f.with_groups, None),
        Err(e) => (Err(hub_domain::DomainError::invalid("file", "could not be read")), false, Some(e)),
    };
    match state.engine.reports().import_stores(&actor, rows, on_conflict, dry_run, with_groups).await {
        Ok(report) => Ok(ImportReply(HttpResponse::Ok().json(ImportResponse { success: true, data: report.into() }))),
        // The adapter's own message (size, multipart, CSV) is the more precise one.
        Err(_) if refused.is_some() => Err(refused.expect("checked")),
        Err(ReportError::ImportRejected(report)) => {
            let err = ApiError::from(ReportError::ImportRejected(report.clone()));
            let body = ImportRejectedResponse {
                success: false,
                error: err.envelope(current_request_id()).error,
                data: (*report).into(),
            };
            Ok(ImportReply(json_with(StatusCode::BAD_REQUEST, &body)))
        }
        Err(other) => Err(other.into()),
    }
}

/// Import template
///
/// The header of the import file and one example row, as CSV.
#[api_v2_operation(tags(Stores))]
async fn template(key: AdminKey, state: web::Data<AppState>) -> Result<TemplateReply, ApiError> {
    state.engine.permit(&key.0, hub_engine::Permission::Read, "store.import_template").await?;
    let out = hub_engine::import_file::template();
    Ok(TemplateReply(
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"stores-import-template.csv\""))
            .body(out),
    ))
}

/// Registered by `stores::config`, ahead of `/admin/stores/{store_code}`.
pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/admin/stores/import/template").route(web::get().to(template)))
        .service(web::resource("/admin/stores/import").route(web::post().to(import)));
}
