//! Stores: the list (JSON and CSV), creating one, one store, its TikTok account and its
//! connect link.

use hub_domain::{NewStore, StoreChange, StoreGroup};
use paperclip::actix::web::{self, Json};
use paperclip::actix::{Apiv2Schema, CreatedJson, api_v2_operation};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{AdminKey, Fields, FromBody, JsonBody};
use crate::json::connect::{ConnectLinkJson, ConnectLinkResponse};
use crate::json::stores::{
    AccountJson, AccountListResponse, CreateStoreResponse, STORE_COLUMNS, StoreJson, StoreListResponse, StoreResponse,
    UpdatedStoreResponse,
};
use crate::params::{Format, store_code};
use crate::routes::reply::{self, reply};
use crate::state::AppState;

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
    /// Optional: the store's group (a region, for example), 1-50 letters, digits, `_` or `-`.
    /// A caller limited to store groups must name one of its groups.
    pub store_group: Option<String>,
}

impl FromBody for CreateStoreBody {
    const FIELDS: &'static [&'static str] = &["store_code", "store_name", "pic_name", "pic_contact", "store_group"];

    fn from_fields(f: &Fields) -> Result<Self, ApiError> {
        // A missing field reads as empty, so its message is the domain's rule for it.
        let text = |name| f.string(name).map(|s| s.unwrap_or_default().to_owned());
        Ok(Self {
            store_code: text("store_code")?,
            store_name: text("store_name")?,
            pic_name: text("pic_name")?,
            pic_contact: f.string("pic_contact")?.map(str::to_owned),
            store_group: f.string("store_group")?.map(str::to_owned),
        })
    }
}

impl CreateStoreBody {
    /// The store to create.
    pub(crate) fn validate(&self) -> Result<NewStore, ApiError> {
        let new = NewStore::parse(&self.store_code, &self.store_name, &self.pic_name, self.pic_contact.as_deref())?;
        Ok(new.with_group(self.store_group.as_deref().map(StoreGroup::parse).transpose()?))
    }
}

/// `PATCH /admin/stores/{store_code}` body: the fields to change (at least one).
// The public fields document the body (OpenAPI); the handler takes the parsed value.
#[allow(dead_code)]
#[derive(Debug, Default, Apiv2Schema, Deserialize)]
pub struct UpdateStoreBody {
    /// 1-255 characters.
    pub store_name: Option<String>,
    /// 1-255 characters.
    pub pic_name: Option<String>,
    /// At most 255 characters; null (or blank) removes it.
    pub pic_contact: Option<String>,
    /// 1-50 letters, digits, `_` or `-`; null takes the store out of its group. A caller limited
    /// to store groups can only move its stores between its own groups.
    pub store_group: Option<String>,
    #[serde(skip)]
    change: StoreChange,
}

impl FromBody for UpdateStoreBody {
    const FIELDS: &'static [&'static str] = &["store_name", "pic_name", "pic_contact", "store_group"];

    fn from_fields(f: &Fields) -> Result<Self, ApiError> {
        let change = StoreChange::parse(
            f.string("store_name")?,
            f.string("pic_name")?,
            f.nullable_string("pic_contact")?,
            f.nullable_string("store_group")?,
        )?;
        // A group must be a valid name (null removes it; an empty text is not a group).
        if let Some(Some(g)) = f.nullable_string("store_group")? {
            StoreGroup::parse(g)?;
        }
        if change.is_empty() {
            return Err(ApiError::invalid(
                "The body must change at least one of store_name, pic_name, pic_contact, store_group",
            ));
        }
        Ok(Self { change, ..Self::default() })
    }
}

/// `?format=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct ListQuery {
    /// `json` (default), `csv` (also with `Accept: text/csv`) or `xlsx`.
    pub format: Option<String>,
    /// `archived`: archived stores too.
    pub include: Option<String>,
}

reply!(
    /// The store list as JSON, CSV or XLSX.
    StoreListReply { 200 => StoreListResponse: "Every store (CSV with format=csv or Accept: text/csv, XLSX with format=xlsx)" }
);

/// List all stores
///
/// Every store the caller may see (its store groups' stores, or every store) with its
/// connection status and latest statistics, by store code; archived stores only with
/// `include=archived`. `format=csv` or `xlsx`: the same rows as CSV or XLSX, streamed.
#[api_v2_operation(tags(Stores))]
async fn list_stores(
    key: AdminKey,
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<StoreListReply, ApiError> {
    let AdminKey(actor) = key;
    let format = Format::of(query.format.as_deref(), &req)?;
    let pages = match query.include.as_deref() {
        None => state.engine.admin().stores(&actor).await?,
        Some("archived") => state.engine.lifecycle().all_stores(&actor).await?,
        Some(_) => return Err(ApiError::invalid("include must be archived")),
    };
    let name = || format!("stores-{}", state.engine.reports().today());
    let json = |rows| actix_web::HttpResponse::Ok().json(StoreListResponse::new(rows));
    Ok(StoreListReply(reply::list(format, name, STORE_COLUMNS, pages, StoreJson::from, json).await?))
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
    let new = body.0.validate()?;
    let store = state.engine.admin().create_store(&actor, &new).await?;
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

/// Get a store
///
/// One store with its connection and latest statistics.
#[api_v2_operation(tags(Stores))]
async fn get_store(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<Json<StoreResponse>, ApiError> {
    let code = store_code(&path)?;
    Ok(Json(StoreResponse::new(state.engine.admin().store(&key.0, &code).await?.into())))
}

/// Change a store
///
/// Its name, person in charge, contact or group (at least one). Audited (action
/// `store.update`, naming the fields and the group before and after). A store outside the
/// caller's store groups answers 404 like one that does not exist.
#[api_v2_operation(tags(Stores))]
async fn update_store(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonBody<UpdateStoreBody>,
) -> Result<Json<UpdatedStoreResponse>, ApiError> {
    let code = store_code(&path)?;
    let store = state.engine.admin().update_store(&key.0, &code, &body.0.change).await?;
    Ok(Json(UpdatedStoreResponse::new(store.into())))
}

/// Get a store's TikTok accounts
///
/// Zero or one account; tokens never leave the server.
#[api_v2_operation(tags(Statistics))]
async fn accounts(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<Json<AccountListResponse>, ApiError> {
    let code = store_code(&path)?;
    let accounts = state.engine.admin().accounts(&key.0, &code).await?;
    Ok(Json(AccountListResponse::new(accounts.into_iter().map(AccountJson::from).collect())))
}

/// Create a connect link
///
/// A single-use link, valid for the configured lifetime, for the store's staff to connect
/// its TikTok account; the store's older unused links stop working. Audited (action `connect_link.create`). Anyone holding the link can
/// connect an account to the store: send it only to the store.
#[api_v2_operation(tags(Stores))]
async fn connect_link(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<Json<ConnectLinkResponse>, ApiError> {
    let code = store_code(&path)?;
    let link = state.engine.connect().issue_link(&key.0, &code).await?;
    Ok(Json(ConnectLinkResponse::new(ConnectLinkJson { url: link.url, expires_at: link.expires_at })))
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/admin/stores").route(web::get().to(list_stores)).route(web::post().to(create_store)));
    // `/admin/stores/import…` are static paths under `/admin/stores/{store_code}`: registered
    // first, here, so the code `import` can never shadow them.
    super::import::config(cfg);
    use super::lifecycle;
    cfg.service(
        web::resource("/admin/stores/{store_code}")
            .route(web::get().to(get_store))
            .route(web::patch().to(update_store))
            .route(web::delete().to(lifecycle::archive)),
    )
    .service(web::resource("/admin/stores/{store_code}/accounts").route(web::get().to(accounts)))
    .service(
        web::resource("/admin/stores/{store_code}/connect-link")
            .route(web::post().to(connect_link))
            .route(web::delete().to(lifecycle::revoke_links)),
    )
    .service(web::resource("/admin/stores/{store_code}/disconnect").route(web::post().to(lifecycle::disconnect)))
    .service(web::resource("/admin/stores/{store_code}/restore").route(web::post().to(lifecycle::restore)));
}
