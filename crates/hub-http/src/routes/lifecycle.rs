//! A store's lifecycle: disconnect, archive (DELETE), restore, and revoking its connect
//! links. Registered on the store resources by `stores::config`.

use paperclip::actix::api_v2_operation;
use paperclip::actix::web::{self, Json};

use crate::error::ApiError;
use crate::extract::AdminKey;
use crate::json::lifecycle::{LifecycleResponse, LinksRevokedJson, LinksRevokedResponse};
use crate::params::store_code;
use crate::state::AppState;

/// Disconnect a store
///
/// Revokes the store's grant at TikTok, wipes its stored tokens and sets its status
/// DISCONNECTED; its history stays. When TikTok cannot be reached the tokens are still gone
/// from the store and the revoke is retried in the background (`revoke: pending`).
/// Idempotent; audited (action `store.disconnect`).
#[api_v2_operation(tags(Stores))]
pub(crate) async fn disconnect(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<Json<LifecycleResponse>, ApiError> {
    let code = store_code(&path)?;
    let change = state.engine.lifecycle().disconnect(&key.0, &code).await?;
    Ok(Json(LifecycleResponse::new(change.into())))
}

/// Archive a store
///
/// Disconnects the store (as `POST …/disconnect`), revokes its connect links, and takes it
/// out of lists, syncs and reports (`GET /admin/stores?include=archived` still shows it).
/// History stays; `POST …/restore` brings it back. Idempotent; audited (action `store.archive`).
#[api_v2_operation(tags(Stores))]
pub(crate) async fn archive(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<Json<LifecycleResponse>, ApiError> {
    let code = store_code(&path)?;
    let change = state.engine.lifecycle().archive(&key.0, &code).await?;
    Ok(Json(LifecycleResponse::new(change.into())))
}

/// Restore an archived store
///
/// Brings the store back into lists, syncs and reports. It stays disconnected until its
/// staff connect it again with a new connect link. Idempotent; audited (action `store.restore`).
#[api_v2_operation(tags(Stores))]
pub(crate) async fn restore(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<Json<LifecycleResponse>, ApiError> {
    let code = store_code(&path)?;
    let change = state.engine.lifecycle().restore(&key.0, &code).await?;
    Ok(Json(LifecycleResponse::new(change.into())))
}

/// Revoke a store's connect links
///
/// Every unused connect link of the store stops working. Issuing a new link also revokes
/// the older ones. Idempotent; audited (action `connect_link.revoke`).
#[api_v2_operation(tags(Stores))]
pub(crate) async fn revoke_links(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<Json<LinksRevokedResponse>, ApiError> {
    let code = store_code(&path)?;
    let revoked = state.engine.lifecycle().revoke_links(&key.0, &code).await?;
    Ok(Json(LinksRevokedResponse::new(LinksRevokedJson { revoked })))
}
