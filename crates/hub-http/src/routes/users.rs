//! People: `GET/POST /admin/users`, `PATCH/DELETE /admin/users/{id}` (delete = deactivate).

use hub_domain::{DisplayName, Email, Password, Role, StoreGroup, StoreScope, UserId};
use hub_engine::{AddUser, ChangeUser};
use paperclip::actix::web::{self, Json};
use paperclip::actix::{Apiv2Schema, CreatedJson, api_v2_operation};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{AdminKey, Fields, FromBody, JsonBody};
use crate::json::people::{UserResponse, UsersResponse};
use crate::params::IdParam;
use crate::state::AppState;

/// A store-group list of a body: `null` (or absent, where allowed) is every store.
pub(crate) fn scope(groups: Option<Vec<&str>>) -> Result<StoreScope, ApiError> {
    match groups {
        None => Ok(StoreScope::All),
        Some(list) if list.is_empty() => {
            Err(ApiError::invalid("store_groups must name at least one group, or be null for every store"))
        }
        Some(list) => Ok(StoreScope::groups(
            list.into_iter().map(|g| StoreGroup::parse_field(g, "store_groups")).collect::<Result<_, _>>()?,
        )),
    }
}

/// `POST /admin/users` body (no `Debug`: it holds a password).
// The public fields document the body (OpenAPI); the handler takes the parsed value.
#[allow(dead_code)]
#[derive(Apiv2Schema, Deserialize)]
pub struct CreateUserBody {
    /// The person's email (unique whatever its case).
    pub email: String,
    /// Display name, 1-255 characters (default: the email's local part).
    pub name: Option<String>,
    /// viewer, operator or admin (at most your own role).
    pub role: String,
    /// The store groups the user is limited to (existing groups, within your own); null or
    /// absent: every store.
    pub store_groups: Option<Vec<String>>,
    /// At least 12 characters, not a common password.
    pub password: String,
    #[serde(skip)]
    add: Option<AddUser>,
}

impl FromBody for CreateUserBody {
    const FIELDS: &'static [&'static str] = &["email", "name", "role", "store_groups", "password"];

    fn from_fields(f: &Fields) -> Result<Self, ApiError> {
        let required = |name: &str| f.string(name)?.ok_or_else(|| ApiError::invalid(format!("{name} is required")));
        let add = AddUser {
            email: Email::parse(required("email")?)?,
            name: f.string("name")?.map(DisplayName::parse).transpose()?,
            role: Role::parse(required("role")?)?,
            scope: scope(f.string_list("store_groups")?.flatten())?,
            password: Password::parse(required("password")?)?,
        };
        Ok(Self {
            email: String::new(),
            name: None,
            role: String::new(),
            store_groups: None,
            password: String::new(),
            add: Some(add),
        })
    }
}

/// `PATCH /admin/users/{id}` body: the fields to change (at least one; no `Debug`: it may hold
/// a password).
// The public fields document the body (OpenAPI); the handler takes the parsed value.
#[allow(dead_code)]
#[derive(Default, Apiv2Schema, Deserialize)]
pub struct UpdateUserBody {
    /// Display name, 1-255 characters.
    pub name: Option<String>,
    /// viewer, operator or admin (at most your own role).
    pub role: Option<String>,
    /// The store groups the user is limited to; null: every store (within your own).
    pub store_groups: Option<Vec<String>>,
    /// false disables the user (their sessions end at once; their keys stop working).
    pub active: Option<bool>,
    /// A new password (at least 12 characters, not a common one); ends their sessions.
    pub password: Option<String>,
    #[serde(skip)]
    change: ChangeUser,
}

impl FromBody for UpdateUserBody {
    const FIELDS: &'static [&'static str] = &["name", "role", "store_groups", "active", "password"];

    fn from_fields(f: &Fields) -> Result<Self, ApiError> {
        let change = ChangeUser {
            name: f.string("name")?.map(DisplayName::parse).transpose()?,
            role: f.string("role")?.map(Role::parse).transpose()?,
            scope: f.string_list("store_groups")?.map(scope).transpose()?,
            active: f.bool("active")?,
            password: f.string("password")?.map(Password::parse).transpose()?,
        };
        let empty = change.name.is_none()
            && change.role.is_none()
            && change.scope.is_none()
            && change.active.is_none()
            && change.password.is_none();
        if empty {
            return Err(ApiError::invalid(
                "The body must change at least one of name, role, store_groups, active, password",
            ));
        }
        Ok(Self { change, ..Self::default() })
    }
}

/// Users
///
/// Every user for an admin; anyone else sees only themselves (a key: its owner).
#[api_v2_operation(tags(People))]
async fn list(key: AdminKey, state: web::Data<AppState>) -> Result<Json<UsersResponse>, ApiError> {
    let users = state.engine.people().users(&key.0).await?;
    Ok(Json(UsersResponse::new(users.into_iter().map(Into::into).collect())))
}

/// Create a user
///
/// A person who signs in with their email and password (`POST /auth/login`). Their role and
/// store groups are at most your own; the groups must exist (a group exists while a store is
/// in it). A weak or common password is refused. Audited (action `user.create`).
#[api_v2_operation(tags(People))]
async fn create(
    key: AdminKey,
    state: web::Data<AppState>,
    body: JsonBody<CreateUserBody>,
) -> Result<CreatedJson<UserResponse>, ApiError> {
    let add = body.0.add.ok_or_else(|| ApiError::invalid("The body is not a user"))?;
    let user = state.engine.people().add_user(&key.0, add).await?;
    Ok(CreatedJson(UserResponse::new(user.into())))
}

/// Change a user
///
/// Name, role, store groups, active, password (at least one). A new password or `active:
/// false` ends the user's sessions at once. The hub always keeps one active admin: demoting
/// or disabling the last one is refused (409 `LAST_ADMIN`). Audited (action `user.update`, with the role before
/// and after).
#[api_v2_operation(tags(People))]
async fn update(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    body: JsonBody<UpdateUserBody>,
) -> Result<Json<UserResponse>, ApiError> {
    let id = UserId(path.into_inner().0);
    let user = state.engine.people().update_user(&key.0, id, body.0.change).await?;
    Ok(Json(UserResponse::new(user.into())))
}

/// Disable a user
///
/// Deactivates the user (history keeps their name): their sessions end and their API keys
/// stop working at once. The last active admin cannot be disabled (409 `LAST_ADMIN`). Audited (action
/// `user.disable`).
#[api_v2_operation(tags(People))]
async fn disable(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<Json<UserResponse>, ApiError> {
    let user = state.engine.people().disable_user(&key.0, UserId(path.into_inner().0)).await?;
    Ok(Json(UserResponse::new(user.into())))
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/admin/users").route(web::get().to(list)).route(web::post().to(create)))
        .service(web::resource("/admin/users/{id}").route(web::patch().to(update)).route(web::delete().to(disable)));
}
