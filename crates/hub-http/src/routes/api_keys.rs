//! Personal API keys: `GET/POST /admin/api-keys`, `DELETE /admin/api-keys/{id}`.

use hub_domain::{ApiKeyId, KeyName, Role};
use hub_engine::{AddKey, MAX_KEY_DAYS};
use paperclip::actix::web::{self, Json};
use paperclip::actix::{Apiv2Schema, CreatedJson, api_v2_operation};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{AdminKey, Fields, FromBody, JsonBody};
use crate::json::people::{ApiKeyResponse, ApiKeysResponse, CreatedKeyJson, CreatedKeyResponse};
use crate::params::IdParam;
use crate::routes::users::scope;
use crate::state::AppState;

/// `POST /admin/api-keys` body.
// The public fields document the body (OpenAPI); the handler takes the parsed value.
#[allow(dead_code)]
#[derive(Debug, Apiv2Schema, Deserialize)]
pub struct CreateKeyBody {
    /// What the key is for, 1-100 characters.
    pub name: String,
    /// viewer, operator or admin (at most your own role).
    pub role: String,
    /// The store groups the key is limited to (existing groups, within your own); null or
    /// absent: every store you may see.
    pub store_groups: Option<Vec<String>>,
    /// Days until the key expires, 1-3650; null or absent: never.
    pub expires_in_days: Option<u32>,
    #[serde(skip)]
    add: Option<AddKey>,
}

impl FromBody for CreateKeyBody {
    const FIELDS: &'static [&'static str] = &["name", "role", "store_groups", "expires_in_days"];

    fn from_fields(f: &Fields) -> Result<Self, ApiError> {
        let required = |name: &str| f.string(name)?.ok_or_else(|| ApiError::invalid(format!("{name} is required")));
        let add = AddKey {
            name: KeyName::parse(required("name")?)?,
            role: Role::parse(required("role")?)?,
            scope: scope(f.string_list("store_groups")?.flatten())?,
            expires_in_days: f.whole("expires_in_days", 1, MAX_KEY_DAYS)?,
        };
        Ok(Self { name: String::new(), role: String::new(), store_groups: None, expires_in_days: None, add: Some(add) })
    }
}

/// API keys
///
/// Every key for an admin; anyone else their own. Never the keys themselves.
#[api_v2_operation(tags(People))]
async fn list(key: AdminKey, state: web::Data<AppState>) -> Result<Json<ApiKeysResponse>, ApiError> {
    let keys = state.engine.people().keys(&key.0).await?;
    Ok(Json(ApiKeysResponse::new(keys.into_iter().map(Into::into).collect())))
}

/// Create an API key
///
/// A personal key (`tth_…`) with a role and store groups no wider than yours, optionally
/// expiring. The key is in this answer only: the hub keeps its SHA-256. It belongs to you: it
/// stops working when you are disabled, and never acts above your current role. Audited
/// (action `api_key.create`).
#[api_v2_operation(tags(People))]
async fn create(
    key: AdminKey,
    state: web::Data<AppState>,
    body: JsonBody<CreateKeyBody>,
) -> Result<CreatedJson<CreatedKeyResponse>, ApiError> {
    let add = body.0.add.ok_or_else(|| ApiError::invalid("The body is not a key"))?;
    let created = state.engine.people().create_key(&key.0, add).await?;
    Ok(CreatedJson(CreatedKeyResponse::new(CreatedKeyJson {
        key: created.secret.expose().clone(),
        api_key: created.key.into(),
    })))
}

/// Revoke an API key
///
/// At once: the next request with it is refused. Your own keys (an admin: any key). Audited
/// (action `api_key.revoke`).
#[api_v2_operation(tags(People))]
async fn revoke(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<Json<ApiKeyResponse>, ApiError> {
    let revoked = state.engine.people().revoke_key(&key.0, ApiKeyId(path.into_inner().0)).await?;
    Ok(Json(ApiKeyResponse::new(revoked.into())))
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/admin/api-keys").route(web::get().to(list)).route(web::post().to(create)))
        .service(web::resource("/admin/api-keys/{id}").route(web::delete().to(revoke)));
}
