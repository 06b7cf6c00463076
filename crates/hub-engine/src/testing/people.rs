//! The people ports over the in-memory [`World`]: users (unique emails, the last active admin
//! kept), sessions and personal API keys, as the PostgreSQL adapter keeps them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_domain::*;
use hub_ports::*;

use crate::testing::memory::Memory;
use crate::testing::world::{World, t0};

impl World {
    fn user(&self, id: UserId) -> Option<&User> {
        self.users.iter().map(|(u, _)| u).find(|u| u.id == id)
    }

    fn active_admins(&self) -> usize {
        self.users.iter().filter(|(u, _)| u.role == Role::Admin && u.active).count()
    }
}

#[async_trait]
impl UserRepo for Memory {
    async fn create(&self, n: &NewUser, audit: &NewAuditEntry) -> RepoResult<User> {
        let mut w = self.0.lock().expect("world poisoned");
        if w.users.iter().any(|(u, _)| u.email == n.email) {
            return Err(RepoError::Conflict("users_email_key".into()));
        }
        let user = User {
            id: UserId(w.users.iter().map(|(u, _)| u.id.0).max().unwrap_or(0) + 1),
            email: n.email.clone(),
            name: n.name.as_str().to_owned(),
            role: n.role,
            scope: n.scope.clone(),
            active: true,
            created_at: t0(),
            last_login_at: None,
        };
        w.users.push((user.clone(), n.password_hash.clone()));
        w.audit.push(audit.clone());
        Ok(user)
    }

    async fn get(&self, id: UserId) -> RepoResult<Option<User>> {
        Ok(self.0.lock().expect("world poisoned").user(id).cloned())
    }

    async fn credentials(&self, email: &Email) -> RepoResult<Option<UserCredentials>> {
        let w = self.0.lock().expect("world poisoned");
        Ok(w.users
            .iter()
            .find(|(u, _)| &u.email == email)
            .map(|(user, hash)| UserCredentials { user: user.clone(), password_hash: hash.clone() }))
    }

    async fn list(&self, only: Option<UserId>) -> RepoResult<Vec<User>> {
        let w = self.0.lock().expect("world poisoned");
        let mut users: Vec<User> =
            w.users.iter().map(|(u, _)| u.clone()).filter(|u| only.is_none_or(|id| u.id == id)).collect();
        users.sort_by_key(|u| u.id);
        Ok(users)
    }

    async fn update(&self, id: UserId, change: &UserChange, audit: &NewAuditEntry) -> RepoResult<User> {
        let mut w = self.0.lock().expect("world poisoned");
        let before = w.active_admins();
        let (user, hash) = w.users.iter().find(|(u, _)| u.id == id).cloned().ok_or(RepoError::NotFound)?;
        let mut after = user.clone();
        if let Some(n) = &change.name {
            after.name = n.as_str().to_owned();
        }
        after.role = change.role.unwrap_or(after.role);
        after.scope = change.scope.clone().unwrap_or(after.scope);
        after.active = change.active.unwrap_or(after.active);
        let was_admin = user.role == Role::Admin && user.active;
        let is_admin = after.role == Role::Admin && after.active;
        if before > 0 && was_admin && !is_admin && before == 1 {
            return Err(RepoError::Conflict(LAST_ADMIN.into()));
        }
        let hash = change.password_hash.clone().unwrap_or(hash);
        if let Some(slot) = w.users.iter_mut().find(|(u, _)| u.id == id) {
            *slot = (after.clone(), hash);
        }
        if change.ends_sessions() {
            w.sessions.retain(|(_, s, _, _)| s.user != id);
        }
        w.audit.push(audit.clone());
        Ok(after)
    }

    async fn rehash(&self, id: UserId, password_hash: &Secret<String>) -> RepoResult<()> {
        let mut w = self.0.lock().expect("world poisoned");
        let slot = w.users.iter_mut().find(|(u, _)| u.id == id).ok_or(RepoError::NotFound)?;
        slot.1 = password_hash.clone();
        Ok(())
    }

    async fn record_login(&self, session: &NewSession, audit: &NewAuditEntry) -> RepoResult<()> {
        let mut w = self.0.lock().expect("world poisoned");
        let slot = w.users.iter_mut().find(|(u, _)| u.id == session.user).ok_or(RepoError::NotFound)?;
        slot.0.last_login_at = Some(session.created_at);
        let id = w.sessions.iter().map(|s| s.3).max().unwrap_or(0) + 1;
        w.sessions.push((session.token_hash.clone(), session.clone(), session.created_at, id));
        w.audit.push(audit.clone());
        Ok(())
    }
}

#[async_trait]
impl SessionRepo for Memory {
    async fn find(&self, token_hash: &str) -> RepoResult<Option<Session>> {
        let w = self.0.lock().expect("world poisoned");
        Ok(w.sessions.iter().find(|(h, _, _, _)| h == token_hash).and_then(|(_, s, seen, id)| {
            w.user(s.user).map(|user| Session {
                id: *id,
                user: user.clone(),
                created_at: s.created_at,
                last_seen_at: *seen,
                expires_at: s.expires_at,
            })
        }))
    }

    async fn touch(&self, id: i64, at: DateTime<Utc>) -> RepoResult<()> {
        let mut w = self.0.lock().expect("world poisoned");
        if let Some(s) = w.sessions.iter_mut().find(|s| s.3 == id) {
            s.2 = at;
        }
        Ok(())
    }

    async fn delete(&self, token_hash: &str, audit: &NewAuditEntry) -> RepoResult<bool> {
        let mut w = self.0.lock().expect("world poisoned");
        let before = w.sessions.len();
        w.sessions.retain(|(h, _, _, _)| h != token_hash);
        let deleted = w.sessions.len() < before;
        if deleted {
            w.audit.push(audit.clone());
        }
        Ok(deleted)
    }

    async fn purge(&self, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> RepoResult<u64> {
        let mut w = self.0.lock().expect("world poisoned");
        let before = w.sessions.len();
        w.sessions.retain(|(_, s, seen, _)| s.expires_at > now && *seen >= idle_before);
        Ok((before - w.sessions.len()) as u64)
    }
}

#[async_trait]
impl ApiKeyRepo for Memory {
    async fn create(&self, n: &NewApiKey, audit: &NewAuditEntry) -> RepoResult<ApiKey> {
        let mut w = self.0.lock().expect("world poisoned");
        let key = ApiKey {
            id: ApiKeyId(w.api_keys.iter().map(|(k, _)| k.id.0).max().unwrap_or(0) + 1),
            name: n.name.as_str().to_owned(),
            fingerprint: n.fingerprint.clone(),
            role: n.role,
            scope: n.scope.clone(),
            owner: n.owner,
            created_by: n.created_by.clone(),
            created_at: t0(),
            expires_at: n.expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        w.api_keys.push((key.clone(), n.key_hash.clone()));
        w.audit.push(audit.clone());
        Ok(key)
    }

    async fn find(&self, key_hash: &str) -> RepoResult<Option<KeyWithOwner>> {
        let w = self.0.lock().expect("world poisoned");
        Ok(w.api_keys
            .iter()
            .find(|(_, h)| h == key_hash)
            .map(|(key, _)| KeyWithOwner { owner: key.owner.and_then(|o| w.user(o).cloned()), key: key.clone() }))
    }

    async fn get(&self, id: ApiKeyId) -> RepoResult<Option<ApiKey>> {
        Ok(self.0.lock().expect("world poisoned").api_keys.iter().map(|(k, _)| k).find(|k| k.id == id).cloned())
    }

    async fn list(&self, owner: Option<UserId>) -> RepoResult<Vec<ApiKey>> {
        let w = self.0.lock().expect("world poisoned");
        let mut keys: Vec<ApiKey> =
            w.api_keys.iter().map(|(k, _)| k.clone()).filter(|k| owner.is_none() || k.owner == owner).collect();
        keys.sort_by_key(|k| std::cmp::Reverse(k.id));
        Ok(keys)
    }

    async fn revoke(&self, id: ApiKeyId, at: DateTime<Utc>, audit: &NewAuditEntry) -> RepoResult<bool> {
        let mut w = self.0.lock().expect("world poisoned");
        let key = w.api_keys.iter_mut().map(|(k, _)| k).find(|k| k.id == id).ok_or(RepoError::NotFound)?;
        let fresh = key.revoked_at.is_none();
        key.revoked_at.get_or_insert(at);
        w.audit.push(audit.clone());
        Ok(fresh)
    }

    async fn touch(&self, id: ApiKeyId, at: DateTime<Utc>) -> RepoResult<()> {
        let mut w = self.0.lock().expect("world poisoned");
        if let Some(k) = w.api_keys.iter_mut().map(|(k, _)| k).find(|k| k.id == id) {
            k.last_used_at = Some(at);
        }
        Ok(())
    }
}
