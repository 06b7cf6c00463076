//! `UserRepo` and `SessionRepo`: people and their sign-in sessions. The rule that the hub keeps
//! an active admin is checked with the active admins locked (`FOR UPDATE`), so two concurrent
//! demotions of the last two admins cannot both pass.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hub_domain::{
    Email, NewAuditEntry, NewSession, NewUser, Role, Secret, Session, User, UserChange, UserCredentials, UserId,
};
use hub_ports::{LAST_ADMIN, RepoError, RepoResult, SessionRepo, UserRepo};

use crate::Db;
use crate::error::{RepoResultExt, repo_err};
use crate::models::{NewAuditRow, convert_all};
use crate::people_rows::{SessionRow, UserRow};
use crate::schema::{audit_logs, sessions, users};

/// Why a user change rolled back, beyond a driver error.
enum Abort {
    Db(diesel::result::Error),
    LastAdmin,
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
    }
}

#[async_trait]
impl UserRepo for Db {
    async fn create(&self, user: &NewUser, audit: &NewAuditEntry) -> RepoResult<User> {
        let mut conn = self.repo_conn().await?;
        let row = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let row: UserRow = diesel::insert_into(users::table)
                    .values((
                        users::email.eq(user.email.as_str()),
                        users::display_name.eq(user.name.as_str()),
                        users::role.eq(user.role.as_str()),
                        users::store_groups.eq(user.scope.to_stored()),
                        users::password_hash.eq(user.password_hash.expose()),
                    ))
                    .returning(UserRow::as_returning())
                    .get_result(conn)
                    .await?;
                diesel::insert_into(audit_logs::table).values(NewAuditRow::from(audit)).execute(conn).await?;
                Ok(row)
            })
            .await
            .map_err(repo_err)?;
        row.try_into()
    }

    async fn get(&self, id: UserId) -> RepoResult<Option<User>> {
        let mut conn = self.repo_conn().await?;
        users::table
            .find(id.0)
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .repo()?
            .map(User::try_from)
            .transpose()
    }

    async fn credentials(&self, email: &Email) -> RepoResult<Option<UserCredentials>> {
        let mut conn = self.repo_conn().await?;
        users::table
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = ")
                    .bind::<diesel::sql_types::Text, _>(email.as_str()),
            )
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .repo()?
            .map(UserCredentials::try_from)
            .transpose()
    }

    async fn list(&self, only: Option<UserId>) -> RepoResult<Vec<User>> {
        let mut conn = self.repo_conn().await?;
        let mut query = users::table.select(UserRow::as_select()).order(users::id).into_boxed();
        if let Some(id) = only {
            query = query.filter(users::id.eq(id.0));
        }
        convert_all(query.load(&mut conn).await.repo()?)
    }

    async fn update(&self, id: UserId, change: &UserChange, audit: &NewAuditEntry) -> RepoResult<User> {
        let mut conn = self.repo_conn().await?;
        let outcome = conn
            .transaction::<_, Abort, _>(async |conn| {
                // The active admins, locked: a concurrent change of one of them waits for us.
                let admins: Vec<i64> = users::table
                    .filter(users::role.eq(Role::Admin.as_str()).and(users::active.eq(true)))
                    .select(users::id)
                    .order(users::id)
                    .for_update()
                    .load(conn)
                    .await?;
                let row: UserRow = diesel::update(users::table.find(id.0))
                    .set((
                        change.name.as_ref().map(|n| users::display_name.eq(n.as_str())),
                        change.role.map(|r| users::role.eq(r.as_str())),
                        change.scope.as_ref().map(|s| users::store_groups.eq(s.to_stored())),
                        change.active.map(|a| users::active.eq(a)),
                        change.password_hash.as_ref().map(|h| users::password_hash.eq(h.expose())),
                        users::updated_at.eq(diesel::dsl::now),
                    ))
                    .returning(UserRow::as_returning())
                    .get_result(conn)
                    .await?;
                let still_admin = row.role == Role::Admin.as_str() && row.active;
                if admins == [id.0] && !still_admin {
                    return Err(Abort::LastAdmin);
                }
                if change.ends_sessions() {
                    diesel::delete(sessions::table.filter(sessions::user_id.eq(id.0))).execute(conn).await?;
                }
                diesel::insert_into(audit_logs::table).values(NewAuditRow::from(audit)).execute(conn).await?;
                Ok(row)
            })
            .await;
        match outcome {
            Ok(row) => row.try_into(),
            Err(Abort::Db(e)) => Err(repo_err(e)),
            Err(Abort::LastAdmin) => Err(RepoError::Conflict(LAST_ADMIN.into())),
        }
    }

    async fn rehash(&self, id: UserId, password_hash: &Secret<String>) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        let n = diesel::update(users::table.find(id.0))
            .set(users::password_hash.eq(password_hash.expose()))
            .execute(&mut conn)
            .await
            .repo()?;
        if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }

    async fn record_login(&self, session: &NewSession, audit: &NewAuditEntry) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::update(users::table.find(session.user.0))
                .set(users::last_login_at.eq(session.created_at))
                .execute(conn)
                .await?;
            diesel::insert_into(sessions::table)
                .values((
                    sessions::token_hash.eq(&session.token_hash),
                    sessions::user_id.eq(session.user.0),
                    sessions::created_at.eq(session.created_at),
                    sessions::last_seen_at.eq(session.created_at),
                    sessions::expires_at.eq(session.expires_at),
                ))
                .execute(conn)
                .await?;
            diesel::insert_into(audit_logs::table).values(NewAuditRow::from(audit)).execute(conn).await?;
            Ok(())
        })
        .await
        .map_err(repo_err)
    }
}

#[async_trait]
impl SessionRepo for Db {
    async fn find(&self, token_hash: &str) -> RepoResult<Option<Session>> {
        let mut conn = self.repo_conn().await?;
        let found: Option<(SessionRow, UserRow)> = sessions::table
            .inner_join(users::table)
            .filter(sessions::token_hash.eq(token_hash))
            .select((SessionRow::as_select(), UserRow::as_select()))
            .first(&mut conn)
            .await
            .optional()
            .repo()?;
        found
            .map(|(s, u)| {
                Ok(Session {
                    id: s.id,
                    user: u.try_into()?,
                    created_at: s.created_at,
                    last_seen_at: s.last_seen_at,
                    expires_at: s.expires_at,
                })
            })
            .transpose()
    }

    async fn touch(&self, id: i64, at: DateTime<Utc>) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        diesel::update(sessions::table.find(id)).set(sessions::last_seen_at.eq(at)).execute(&mut conn).await.repo()?;
        Ok(())
    }

    async fn delete(&self, token_hash: &str, audit: &NewAuditEntry) -> RepoResult<bool> {
        let mut conn = self.repo_conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let n = diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash))).execute(conn).await?;
            if n > 0 {
                diesel::insert_into(audit_logs::table).values(NewAuditRow::from(audit)).execute(conn).await?;
            }
            Ok(n > 0)
        })
        .await
        .map_err(repo_err)
    }

    async fn purge(&self, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> RepoResult<u64> {
        let mut conn = self.repo_conn().await?;
        let n = diesel::delete(
            sessions::table.filter(sessions::expires_at.le(now).or(sessions::last_seen_at.lt(idle_before))),
        )
        .execute(&mut conn)
        .await
        .repo()?;
        Ok(n as u64)
    }
}
