//! Personal API keys: `tth_` and 32 random bytes (base64url), shown once at creation; only
//! their SHA-256 is stored. A key acts with its own role and scope, never more than its owner
//! has now: a disabled or demoted owner takes its keys down with them at once.

use chrono::{DateTime, Duration, Utc};
use hub_domain::{Actor, ApiKey, ApiKeyId, AuditOutcome, KeyName, NewApiKey, Principal, Role, Secret, StoreScope};

use crate::access::Permission;
use crate::audit::Details;
use crate::people::service::{AuthError, People, PeopleError};
use crate::state::{random_token, sha256_hex};

/// The prefix of every personal API key, so secret scanners can find leaked ones.
pub const KEY_PREFIX: &str = "tth_";

/// The longest lifetime a key may be given, in days.
pub const MAX_KEY_DAYS: u32 = 3650;

/// A key to create.
#[derive(Debug, Clone)]
pub struct AddKey {
    pub name: KeyName,
    pub role: Role,
    pub scope: StoreScope,
    /// Days until it expires (1–3650); `None`: never.
    pub expires_in_days: Option<u32>,
}

/// A created key and its secret, shown this once.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: Secret<String>,
}

/// `apikey:<fingerprint>`, as audit rows name a key.
fn target(key: &ApiKey) -> Option<String> {
    Some(format!("apikey:{}", key.fingerprint))
}

/// How often a key's `last_used_at` is written (at most once a minute per key).
const TOUCH_EVERY: Duration = Duration::minutes(1);

impl People {
    /// Creates a personal API key (operator; role and scope at most the actor's, groups
    /// existing); audited (`api_key.create`). The key belongs to the person behind the actor.
    pub async fn create_key(&self, actor: &Actor, add: AddKey) -> Result<CreatedKey, PeopleError> {
        const ACTION: &str = "api_key.create";
        self.access.permit(actor, Permission::ManageKeys, ACTION).await?;
        let result = self.mint(actor, add).await;
        match &result {
            Ok(k) => tracing::info!(key.id = k.key.id.0, key.fingerprint = %k.key.fingerprint, "API key created"),
            Err(e) => self.refused(actor, ACTION, None, e).await,
        }
        result
    }

    async fn mint(&self, actor: &Actor, add: AddKey) -> Result<CreatedKey, PeopleError> {
        const ACTION: &str = "api_key.create";
        self.may_grant(actor, ACTION, add.role, &add.scope).await?;
        let now = self.clock.now();
        let expires_at = add.expires_in_days.map(|d| now + Duration::days(i64::from(d.clamp(1, MAX_KEY_DAYS))));
        let secret = format!("{KEY_PREFIX}{}", random_token(32));
        let key_hash = sha256_hex(secret.as_bytes());
        let fingerprint = key_hash[..12].to_owned();
        let mut details = Details::default()
            .text("name", add.name.as_str())
            .text("role", add.role.as_str())
            .text("storeGroups", &add.scope.to_stored().unwrap_or_else(|| "*".into()));
        if let Some(at) = expires_at {
            details = details.text("expiresAt", &at.to_rfc3339());
        }
        let audit = actor.audit(
            ACTION,
            None,
            Some(format!("apikey:{fingerprint}")),
            AuditOutcome::Success,
            Some(details.build()),
        );
        let new = NewApiKey {
            name: add.name,
            key_hash,
            fingerprint,
            role: add.role,
            scope: add.scope,
            owner: actor.person(),
            created_by: actor.who(),
            expires_at,
        };
        let key = self.keys.create(&new, &audit).await?;
        Ok(CreatedKey { key, secret: Secret::new(secret) })
    }

    /// The keys the actor may see (never their secrets): every key for an admin, else the
    /// person's own.
    pub async fn keys(&self, actor: &Actor) -> Result<Vec<ApiKey>, PeopleError> {
        self.access.permit(actor, Permission::Read, "api_key.list").await?;
        if Permission::ManageUsers.allows(actor) {
            return Ok(self.keys.list(None).await?);
        }
        match actor.person() {
            Some(me) => Ok(self.keys.list(Some(me)).await?),
            None => Ok(Vec::new()),
        }
    }

    /// Revokes a key at once (operator: its own keys; admin: any); audited (`api_key.revoke`).
    /// Someone else's key answers like a key that does not exist.
    pub async fn revoke_key(&self, actor: &Actor, id: ApiKeyId) -> Result<ApiKey, PeopleError> {
        const ACTION: &str = "api_key.revoke";
        self.access.permit(actor, Permission::ManageKeys, ACTION).await?;
        let result = self.revoke(actor, id).await;
        match &result {
            Ok(k) => tracing::info!(key.id = k.id.0, key.fingerprint = %k.fingerprint, "API key revoked"),
            Err(e) => self.refused(actor, ACTION, Some(format!("apikey-id:{}", id.0)), e).await,
        }
        result
    }

    async fn revoke(&self, actor: &Actor, id: ApiKeyId) -> Result<ApiKey, PeopleError> {
        const ACTION: &str = "api_key.revoke";
        let key = self.keys.get(id).await?.ok_or(PeopleError::KeyNotFound)?;
        let mine = key.owner.is_some() && key.owner == actor.person();
        if !mine && !Permission::ManageUsers.allows(actor) {
            return Err(PeopleError::KeyNotFound);
        }
        let now = self.clock.now();
        let details = Details::default().text("name", &key.name);
        let audit = actor.audit(ACTION, None, target(&key), AuditOutcome::Success, Some(details.build()));
        self.keys.revoke(id, now, &audit).await?;
        self.keys.get(id).await?.ok_or(PeopleError::KeyNotFound)
    }

    /// The actor of a presented personal API key, or [`AuthError::Invalid`]: unknown, revoked,
    /// expired, or its owner disabled. The key acts with the lower of its role and its owner's,
    /// on the stores both scopes cover.
    pub async fn authenticate_key(
        &self,
        presented: &str,
        request_id: Option<String>,
        ip: Option<String>,
    ) -> Result<Actor, AuthError> {
        if !presented.starts_with(KEY_PREFIX) || presented.len() > 128 {
            return Err(AuthError::Invalid);
        }
        let Some(found) = self.keys.find(&sha256_hex(presented.as_bytes())).await? else {
            return Err(AuthError::Invalid);
        };
        let now = self.clock.now();
        let key = found.key;
        let (role, scope) = match (&key.owner, &found.owner) {
            (None, _) => (key.role, key.scope.clone()),
            (Some(_), Some(owner)) if owner.active => (key.role.min(owner.role), key.scope.intersect(&owner.scope)),
            (Some(_), _) => {
                tracing::info!(key.fingerprint = %key.fingerprint, "API key of a disabled user refused");
                return Err(AuthError::Invalid);
            }
        };
        if !key.is_usable(now) {
            tracing::info!(key.fingerprint = %key.fingerprint, "revoked or expired API key refused");
            return Err(AuthError::Invalid);
        }
        if key.last_used_at.is_none_or(|t: DateTime<Utc>| now - t >= TOUCH_EVERY)
            && let Err(e) = self.keys.touch(key.id, now).await
        {
            tracing::warn!(error = %e, "could not record an API key's use");
        }
        Ok(Actor {
            principal: Principal::ApiKey { id: key.id, name: key.name, fingerprint: key.fingerprint, owner: key.owner },
            role,
            scope,
            request_id,
            ip,
        })
    }
}
