//! Store administration and the per-store reads.

use hub_domain::{AuditOutcome, NewStore, StoreCode};
use hub_engine::Actor;
use paperclip::actix::web::{self, Json};
use paperclip::actix::{Apiv2Schema, CreatedJson, api_v2_operation};
use serde::Deserialize;

use crate::AppState;
use crate::dto::{
    AccountJson, AccountListResponse, ConnectLinkJson, ConnectLinkResponse, CreateStoreResponse, StoreJson,
    StoreListResponse, StoreResponse, SyncLogsResponse, UserStatsResponse, VideoStatsResponse,
};
use crate::error::ApiError;
use crate::extract::{AdminKey, DAYS, Fields, FromBody, JsonBody, LIMIT};
use crate::routes::{oauth::connect_error, store_code};

/// `POST /admin/stores` body.
#[derive(Debug, Apiv2Schema)]
pub struct CreateStoreBody {
    /// 1-50 letters, digits, `_` or `-`.
    pub store_code: String,
    /// 1-255 characters.
    pub store_name: String,
    /// 1-255 characters.
    pub pic_name: String,
    /// Optional, at most 255 characters.
    pub pic_contact: Option<String>,
}

impl FromBody for CreateStoreBody {
    const FIELDS: &'static [&'static str] = &["store_code", "store_name", "pic_name", "pic_contact"];

    fn from_fields(f: &Fields) -> Result<Self, ApiError> {
        // A missing field reads as empty, so its message is the domain's rule for it.
        let text = |name| f.string(name).map(|s| s.unwrap_or_default().to_owned());
        Ok(Self {
            store_code: text("store_code")?,
            store_name: text("store_name")?,
            pic_name: text("pic_name")?,
            pic_contact: f.string("pic_contact")?.map(str::to_owned),
        })
    }
}

/// `?days=` (1-365, default 30).
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct DaysQuery {
    /// Days of history, 1-365 (default 30).
    #[serde(default, deserialize_with = "crate::extract::days")]
    pub days: Option<u32>,
}

/// `?limit=` (1-500, default 50).
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct LimitQuery {
    /// Lines to return, 1-500 (default 50).
    #[serde(default, deserialize_with = "crate::extract::limit")]
    pub limit: Option<u32>,
}

/// Writes the one audit row of a mutation the engine refused or could not do (the engine
/// writes the row of a successful one, in the same transaction).
pub(crate) async fn audit_failure(
    state: &AppState,
    actor: &Actor,
    action: &str,
    code: Option<&StoreCode>,
    err: &ApiError,
) {
    let details = serde_json::json!({ "error": err.code.as_str(), "status": err.status.as_u16() }).to_string();
    let entry = actor.audit(action, code, None, AuditOutcome::Failure, Some(details));
    if let Err(e) = state.engine.audit_action(&entry).await {
        tracing::error!(error = %e, action, "could not write the audit row");
    }
}

/// List all stores
///
/// Every store with its connection status and latest statistics.
#[api_v2_operation(tags(Stores))]
async fn list_stores(_key: AdminKey, state: web::Data<AppState>) -> Result<Json<StoreListResponse>, ApiError> {
    let stores = state.engine.list_stores().await?;
    Ok(Json(StoreListResponse::new(stores.into_iter().map(StoreJson::from).collect())))
}

/// Create a store
///
/// Audited (action `store.create`). The next step is a connect link for the store's staff.
#[api_v2_operation(tags(Stores))]
async fn create_store(
    key: AdminKey,
    state: web::Data<AppState>,
    body: JsonBody<CreateStoreBody>,
) -> Result<CreatedJson<CreateStoreResponse>, ApiError> {
    let AdminKey(actor) = key;
    let b = body.0;
    let new = NewStore::parse(&b.store_code, &b.store_name, &b.pic_name, b.pic_contact.as_deref())?;
    match state.engine.create_store(&new, &actor).await {
        Ok(store) => {
            let code = store.code.to_string();
            Ok(CreatedJson(CreateStoreResponse {
                success: true,
                data: store.into(),
                message: "Store created successfully".into(),
                next_step: format!(
                    "Create a connect link for the store's staff: POST /admin/stores/{code}/connect-link (they open it to connect the TikTok account)"
                ),
            }))
        }
        Err(e) => {
            let err = ApiError::from(e);
            audit_failure(&state, &actor, "store.create", Some(&new.code), &err).await;
            Err(err)
        }
    }
}

/// Get a store
///
/// One store with its connection and latest statistics.
#[api_v2_operation(tags(Stores))]
async fn get_store(
    _key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<Json<StoreResponse>, ApiError> {
    let code = store_code(&path)?;
    Ok(Json(StoreResponse::new(state.engine.get_store(&code).await?.into())))
}

/// Get a store's TikTok accounts
///
/// Zero or one account; tokens never leave the server.
#[api_v2_operation(tags(Statistics))]
async fn accounts(
    _key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<Json<AccountListResponse>, ApiError> {
    let code = store_code(&path)?;
    let now = state.engine.ports().clock.now();
    let accounts = state.engine.store_accounts(&code).await?;
    Ok(Json(AccountListResponse::new(accounts.into_iter().map(|a| AccountJson::new(a, now)).collect())))
}

/// User statistics history
///
/// Daily account snapshots of the last `days` days, newest first.
#[api_v2_operation(tags(Statistics))]
async fn user_stats(
    _key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<DaysQuery>,
) -> Result<Json<UserStatsResponse>, ApiError> {
    let code = store_code(&path)?;
    let rows = state.engine.user_stats(&code, query.days.unwrap_or(DAYS.default)).await?;
    Ok(Json(UserStatsResponse::new(rows.into_iter().map(Into::into).collect())))
}

/// Video statistics history
///
/// Daily video snapshots of the last `days` days, newest day first, then most viewed.
#[api_v2_operation(tags(Statistics))]
async fn video_stats(
    _key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<DaysQuery>,
) -> Result<Json<VideoStatsResponse>, ApiError> {
    let code = store_code(&path)?;
    let rows = state.engine.video_stats(&code, query.days.unwrap_or(DAYS.default)).await?;
    Ok(Json(VideoStatsResponse::new(rows.into_iter().map(Into::into).collect())))
}

/// A store's sync logs
///
/// The newest `limit` sync-log lines of the store.
#[api_v2_operation(tags(Statistics))]
async fn store_sync_logs(
    _key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<LimitQuery>,
) -> Result<Json<SyncLogsResponse>, ApiError> {
    let code = store_code(&path)?;
    let rows = state.engine.sync_logs(Some(&code), i64::from(query.limit.unwrap_or(LIMIT.default))).await?;
    Ok(Json(SyncLogsResponse::new(rows.into_iter().map(Into::into).collect())))
}

/// Create a connect link
///
/// A single-use link, valid for the configured lifetime, for the store's staff to connect
/// its TikTok account. Audited (action `connect_link.create`). Anyone holding the link can
/// connect an account to the store: send it only to the store.
#[api_v2_operation(tags(Stores))]
async fn connect_link(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<Json<ConnectLinkResponse>, ApiError> {
    let AdminKey(actor) = key;
    let code = store_code(&path)?;
    match state.engine.issue_connect_link(&code, &actor).await {
        Ok(link) => Ok(Json(ConnectLinkResponse::new(ConnectLinkJson { url: link.url, expires_at: link.expires_at }))),
        Err(e) => {
            let err = connect_error(e);
            audit_failure(&state, &actor, "connect_link.create", Some(&code), &err).await;
            Err(err)
        }
    }
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/admin/stores").route(web::get().to(list_stores)).route(web::post().to(create_store)))
        .service(web::resource("/admin/stores/{store_code}").route(web::get().to(get_store)))
        .service(web::resource("/admin/stores/{store_code}/accounts").route(web::get().to(accounts)))
        .service(web::resource("/admin/stores/{store_code}/user-stats").route(web::get().to(user_stats)))
        .service(web::resource("/admin/stores/{store_code}/video-stats").route(web::get().to(video_stats)))
        .service(web::resource("/admin/stores/{store_code}/sync-logs").route(web::get().to(store_sync_logs)))
        .service(web::resource("/admin/stores/{store_code}/connect-link").route(web::post().to(connect_link)));
}
