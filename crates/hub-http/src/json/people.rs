//! People, sessions and API keys as the API shows them. Never a secret, except the one answer
//! that creates a key (and the session's CSRF token, which is useless without its cookie).

use chrono::{DateTime, Utc};
use hub_domain::{Actor, ApiKey, Principal, StoreScope, User};
use paperclip::actix::Apiv2Schema;
use serde::Serialize;

use crate::json::common::{envelope, opt_ts, ts};

/// The store groups of a scope: `null` for every store.
fn groups(scope: &StoreScope) -> Option<Vec<String>> {
    scope.names().map(|n| n.into_iter().map(str::to_owned).collect())
}

/// A person.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct UserJson {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// viewer, operator or admin.
    pub role: String,
    /// The store groups the user is limited to; null: every store.
    pub store_groups: Option<Vec<String>>,
    pub active: bool,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "opt_ts")]
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<User> for UserJson {
    fn from(u: User) -> Self {
        Self {
            id: u.id.0,
            email: u.email.to_string(),
            name: u.name,
            role: u.role.as_str().to_owned(),
            store_groups: groups(&u.scope),
            active: u.active,
            created_at: u.created_at,
            last_login_at: u.last_login_at,
        }
    }
}

envelope!(
    /// One user.
    UserResponse, UserJson
);
envelope!(
    /// Users.
    UsersResponse, list UserJson
);

/// A personal API key, without its secret.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyJson {
    pub id: i64,
    pub name: String,
    /// The first 12 hex digits of the key's SHA-256 (audit rows name the key by it).
    pub fingerprint: String,
    /// viewer, operator or admin (never more than its owner's role when used).
    pub role: String,
    /// The store groups the key is limited to; null: every store.
    pub store_groups: Option<Vec<String>>,
    /// The user it belongs to (its creator); null for keys made by the break-glass key or the CLI.
    pub owner_id: Option<i64>,
    /// Who created it, as the audit trail names actors.
    pub created_by: String,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "opt_ts")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_ts")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_ts")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyJson {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id.0,
            name: k.name,
            fingerprint: k.fingerprint,
            role: k.role.as_str().to_owned(),
            store_groups: groups(&k.scope),
            owner_id: k.owner.map(|o| o.0),
            created_by: k.created_by,
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

envelope!(
    /// One API key.
    ApiKeyResponse, ApiKeyJson
);
envelope!(
    /// API keys.
    ApiKeysResponse, list ApiKeyJson
);

/// A new key and its secret: shown this once, stored only as a hash.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedKeyJson {
    /// The key (`tth_…`): send it in the X-API-KEY header. It is never shown again.
    pub key: String,
    pub api_key: ApiKeyJson,
}

envelope!(
    /// A created API key.
    CreatedKeyResponse, CreatedKeyJson
);

/// A successful sign-in.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct LoginJson {
    pub user: UserJson,
    /// Send it back in the X-CSRF-Token header (or a csrf_token form field) with every
    /// POST, PATCH or DELETE made with the session cookie.
    pub csrf_token: String,
    /// When the session ends at the latest (it ends earlier when unused).
    #[serde(serialize_with = "ts")]
    pub expires_at: DateTime<Utc>,
}

envelope!(
    /// A successful sign-in (the session is in the `hub_session` cookie).
    LoginResponse, LoginJson
);

/// A personal API key as `/auth/me` shows it.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct MeKeyJson {
    pub id: i64,
    pub name: String,
    pub fingerprint: String,
}

/// Who the credentials of the request belong to, and what they may do.
#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct MeJson {
    /// user (a session), api_key (a personal key) or break_glass (an ADMIN_API_KEY).
    pub kind: String,
    /// The role the request acts with.
    pub role: String,
    /// The store groups the request is limited to; null: every store.
    pub store_groups: Option<Vec<String>>,
    /// The signed-in person, or the key's owner.
    pub user: Option<UserJson>,
    pub key: Option<MeKeyJson>,
    /// The session's CSRF token (sessions only).
    pub csrf_token: Option<String>,
}

impl MeJson {
    pub fn new(actor: &Actor, user: Option<User>, csrf_token: Option<String>) -> Self {
        let key = match &actor.principal {
            Principal::ApiKey { id, name, fingerprint, .. } => {
                Some(MeKeyJson { id: id.0, name: name.clone(), fingerprint: fingerprint.clone() })
            }
            _ => None,
        };
        Self {
            kind: actor.kind().as_str().to_owned(),
            role: actor.role.as_str().to_owned(),
            store_groups: groups(&actor.scope),
            user: user.map(Into::into),
            key,
            csrf_token,
        }
    }
}

envelope!(
    /// The caller.
    MeResponse, MeJson
);
