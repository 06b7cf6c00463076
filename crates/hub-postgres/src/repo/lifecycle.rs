//! `LifecycleRepo`: disconnect, archive and restore a store, revoke its connect links, and
//! the grants still to revoke at TikTok (`pending_revocations`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use hub_domain::{ConnectionStatus, EncryptedTokens, NewAuditEntry, Notification, PendingRevocation, StoreCode};
use hub_ports::{LifecycleRepo, RepoError, RepoResult, Retired};

use crate::Db;
use crate::error::{RepoResultExt, repo_err};
use crate::models::{NewAuditRow, store_code};
use crate::repo::notify::enqueue_in;
use crate::schema::{audit_logs, connect_invites as ci, pending_revocations as pr, store_accounts as sa, stores};

#[derive(Queryable, Selectable)]
#[diesel(table_name = pr, check_for_backend(diesel::pg::Pg))]
struct PendingRow {
    id: i64,
    store_code: String,
    open_id: Option<String>,
    encrypted_access_token: String,
    encrypted_refresh_token: Option<String>,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

impl TryFrom<PendingRow> for PendingRevocation {
    type Error = RepoError;
    fn try_from(r: PendingRow) -> Result<Self, RepoError> {
        Ok(PendingRevocation {
            id: r.id,
            store_code: store_code(r.store_code)?,
            open_id: r.open_id,
            tokens: EncryptedTokens {
                access: r.encrypted_access_token,
                refresh: r.encrypted_refresh_token.unwrap_or_default(),
            },
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            created_at: r.created_at,
        })
    }
}

/// Revokes the store's unused, unrevoked connect links at `now`.
async fn revoke_links(conn: &mut AsyncPgConnection, code: &str, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(
        ci::table.filter(ci::store_code.eq(code)).filter(ci::used_at.is_null()).filter(ci::revoked_at.is_null()),
    )
    .set(ci::revoked_at.eq(now))
    .execute(conn)
    .await
}

#[async_trait]
impl LifecycleRepo for Db {
    async fn retire(
        &self,
        code: &StoreCode,
        archive: bool,
        now: DateTime<Utc>,
        audit: &NewAuditEntry,
    ) -> RepoResult<Retired> {
        let mut conn = self.repo_conn().await?;
        let audit_row = NewAuditRow::from(audit);
        let (retired, pending) = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                // The store row is locked first, so two retirements of one store queue.
                let archived_at: Option<DateTime<Utc>> =
                    stores::table.find(code.as_str()).select(stores::archived_at).for_update().first(conn).await?;
                let account: Option<(i64, String, Option<String>, Option<String>, Option<String>)> = sa::table
                    .filter(sa::store_code.eq(code.as_str()))
                    .select((
                        sa::id,
                        sa::status,
                        sa::account_identifier,
                        sa::encrypted_access_token,
                        sa::encrypted_refresh_token,
                    ))
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?;
                let mut retired = Retired { pending: None, disconnected: false, archived: false, links_revoked: 0 };
                let mut pending = None;
                if let Some((id, status, open_id, access, refresh)) = account {
                    retired.disconnected = status != ConnectionStatus::Disconnected.as_str();
                    if let Some(access) = access {
                        let row: PendingRow = diesel::insert_into(pr::table)
                            .values((
                                pr::store_code.eq(code.as_str()),
                                pr::open_id.eq(&open_id),
                                pr::encrypted_access_token.eq(&access),
                                pr::encrypted_refresh_token.eq(&refresh),
                                pr::next_attempt_at.eq(now),
                            ))
                            .returning(PendingRow::as_returning())
                            .get_result(conn)
                            .await?;
                        pending = Some(row);
                    }
                    diesel::update(sa::table.find(id))
                        .set((
                            sa::encrypted_access_token.eq(None::<String>),
                            sa::encrypted_refresh_token.eq(None::<String>),
                            sa::status.eq(ConnectionStatus::Disconnected.as_str()),
                            sa::status_reason.eq(None::<String>),
                            sa::revoke_reason.eq(None::<i16>),
                            sa::refresh_lease_owner.eq(None::<String>),
                            sa::refresh_lease_until.eq(None::<DateTime<Utc>>),
                            sa::updated_at.eq(now),
                        ))
                        .execute(conn)
                        .await?;
                }
                if archive {
                    retired.archived = archived_at.is_none();
                    if retired.archived {
                        diesel::update(stores::table.find(code.as_str()))
                            .set((stores::archived_at.eq(now), stores::updated_at.eq(now)))
                            .execute(conn)
                            .await?;
                    }
                    retired.links_revoked = revoke_links(conn, code.as_str(), now).await? as u64;
                }
                diesel::insert_into(audit_logs::table).values(&audit_row).execute(conn).await?;
                if retired.disconnected || retired.archived {
                    enqueue_in(conn, &Notification::store_disconnected(code, archive, now), None).await?;
                }
                Ok((retired, pending))
            })
            .await
            .map_err(repo_err)?;
        Ok(Retired { pending: pending.map(PendingRevocation::try_from).transpose()?, ..retired })
    }

    async fn restore(&self, code: &StoreCode, audit: &NewAuditEntry) -> RepoResult<bool> {
        let mut conn = self.repo_conn().await?;
        let audit_row = NewAuditRow::from(audit);
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let archived_at: Option<DateTime<Utc>> =
                stores::table.find(code.as_str()).select(stores::archived_at).for_update().first(conn).await?;
            if archived_at.is_some() {
                diesel::update(stores::table.find(code.as_str()))
                    .set((stores::archived_at.eq(None::<DateTime<Utc>>), stores::updated_at.eq(diesel::dsl::now)))
                    .execute(conn)
                    .await?;
            }
            diesel::insert_into(audit_logs::table).values(&audit_row).execute(conn).await?;
            Ok(archived_at.is_some())
        })
        .await
        .map_err(repo_err)
    }

    async fn revoke_invites(&self, code: &StoreCode, now: DateTime<Utc>, audit: &NewAuditEntry) -> RepoResult<u64> {
        let mut conn = self.repo_conn().await?;
        let audit_row = NewAuditRow::from(audit);
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let n = revoke_links(conn, code.as_str(), now).await?;
            diesel::insert_into(audit_logs::table).values(&audit_row).execute(conn).await?;
            Ok(n as u64)
        })
        .await
        .map_err(repo_err)
    }

    async fn due_revocations(&self, now: DateTime<Utc>, limit: i64) -> RepoResult<Vec<PendingRevocation>> {
        let mut conn = self.repo_conn().await?;
        let rows: Vec<PendingRow> = pr::table
            .filter(pr::next_attempt_at.le(now))
            .order((pr::next_attempt_at, pr::id))
            .limit(limit)
            .select(PendingRow::as_select())
            .load(&mut conn)
            .await
            .repo()?;
        rows.into_iter().map(PendingRevocation::try_from).collect()
    }

    async fn revocation_done(&self, id: i64) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        diesel::delete(pr::table.find(id)).execute(&mut conn).await.repo()?;
        Ok(())
    }

    async fn revocation_failed(&self, id: i64, error: &str, next_attempt_at: DateTime<Utc>) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        let n = diesel::update(pr::table.find(id))
            .set((pr::attempts.eq(pr::attempts + 1), pr::last_error.eq(error), pr::next_attempt_at.eq(next_attempt_at)))
            .execute(&mut conn)
            .await
            .repo()?;
        if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }
}
