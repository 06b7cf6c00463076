//! The audit trail.

use hub_domain::AuditFilter;
use paperclip::actix::web::{self, Json};
use paperclip::actix::{Apiv2Schema, api_v2_operation};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::AdminKey;
use crate::json::audit::AuditLogsResponse;
use crate::params::{LIMIT, action, actor, store_code};
use crate::state::AppState;

/// `?limit=&action=&store_code=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct AuditQuery {
    /// Rows to return, 1-500 (default 50).
    #[serde(default, deserialize_with = "crate::params::limit")]
    pub limit: Option<u32>,
    /// Only this action, e.g. `store.create`, `connect_link.create`, `sync.run`, `account.connect`.
    pub action: Option<String>,
    /// Only this store's rows.
    pub store_code: Option<String>,
    /// Only this actor's rows: `user:<id>`, `apikey:<fingerprint>`, `key:<fingerprint>` (a
    /// break-glass key), `system`, `cli`, `store-staff` or `anonymous`.
    pub actor: Option<String>,
}

/// Audit logs
///
/// Actions, newest first: who (the user's id and email, the key's name and fingerprint, or the
/// break-glass key's fingerprint — never a key), what, which store, outcome (`SUCCESS`,
/// `FAILURE`, `DENIED`), request id and client address. An unscoped admin reads every row;
/// anyone else the rows about their stores.
#[api_v2_operation(tags(Audit))]
async fn audit_logs(
    key: AdminKey,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<Json<AuditLogsResponse>, ApiError> {
    let filter = AuditFilter {
        action: query.action.as_deref().map(action).transpose()?,
        store_code: query.store_code.as_deref().map(store_code).transpose()?,
        actor: query.actor.as_deref().map(actor).transpose()?,
        stores_in: None,
        limit: i64::from(query.limit.unwrap_or(LIMIT.default)),
    };
    let rows = state.engine.admin().audit_logs(&key.0, &filter).await?;
    Ok(Json(AuditLogsResponse::new(rows.into_iter().map(Into::into).collect())))
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/admin/audit-logs").route(web::get().to(audit_logs)));
}
