//! Row types of the people tables (users, sessions, API keys) and their conversions.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hub_domain::{ApiKey, ApiKeyId, Email, Role, Secret, StoreScope, User, UserCredentials, UserId};
use hub_ports::RepoError;

use crate::error::corrupt;
use crate::schema::{api_keys, sessions, users};

fn role(raw: &str) -> Result<Role, RepoError> {
    Role::parse(raw).map_err(|_| corrupt("role", raw))
}

fn scope(raw: Option<&str>) -> Result<StoreScope, RepoError> {
    StoreScope::from_stored(raw).map_err(|_| corrupt("store groups", raw.unwrap_or_default()))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub store_groups: Option<String>,
    pub active: bool,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl TryFrom<UserRow> for UserCredentials {
    type Error = RepoError;
    fn try_from(r: UserRow) -> Result<Self, RepoError> {
        Ok(UserCredentials {
            user: User {
                id: UserId(r.id),
                email: Email::parse(&r.email).map_err(|_| corrupt("email", &r.email))?,
                name: r.display_name,
                role: role(&r.role)?,
                scope: scope(r.store_groups.as_deref())?,
                active: r.active,
                created_at: r.created_at,
                last_login_at: r.last_login_at,
            },
            password_hash: Secret::new(r.password_hash),
        })
    }
}

impl TryFrom<UserRow> for User {
    type Error = RepoError;
    fn try_from(r: UserRow) -> Result<Self, RepoError> {
        UserCredentials::try_from(r).map(|c| c.user)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
pub(crate) struct SessionRow {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = api_keys, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ApiKeyRow {
    pub id: i64,
    pub fingerprint: String,
    pub name: String,
    pub role: String,
    pub store_groups: Option<String>,
    pub owner_id: Option<i64>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = RepoError;
    fn try_from(r: ApiKeyRow) -> Result<Self, RepoError> {
        Ok(ApiKey {
            id: ApiKeyId(r.id),
            name: r.name,
            fingerprint: r.fingerprint,
            role: role(&r.role)?,
            scope: scope(r.store_groups.as_deref())?,
            owner: r.owner_id.map(UserId),
            created_by: r.created_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
    }
}
