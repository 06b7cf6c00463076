//! `AccountRepo`: accounts, their encrypted tokens, status and refresh lease.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl::{now, sql};
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hub_domain::{
    Account, AccountId, ConnectionStatus, EncryptedTokens, NewAuditEntry, Notification, StoreCode, TokenMeta,
};
use hub_ports::{AccountRepo, ConnectedAccount, RepoError, RepoResult};

use crate::Db;
use crate::error::{RepoResultExt, repo_err};
use crate::models::{AccountRow, NewAuditRow, convert_all, join_scopes};
use crate::repo::notify::enqueue_in;
use crate::schema::{audit_logs, store_accounts as sa};

/// The only platform this hub connects.
const PLATFORM: &str = "tiktok";

/// Byte-wise order of store codes, the same as Rust's `str` order whatever the collation.
fn by_code() -> diesel::expression::SqlLiteral<Text> {
    sql::<Text>("store_accounts.store_code COLLATE \"C\"")
}

#[async_trait]
impl AccountRepo for Db {
    async fn for_store(&self, code: &StoreCode) -> RepoResult<Option<Account>> {
        let mut conn = self.repo_conn().await?;
        sa::table
            .filter(sa::store_code.eq(code.as_str()))
            .filter(sa::platform.eq(PLATFORM))
            .select(AccountRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .repo()?
            .map(Account::try_from)
            .transpose()
    }

    async fn get(&self, id: AccountId) -> RepoResult<Option<Account>> {
        let mut conn = self.repo_conn().await?;
        sa::table
            .find(id.0)
            .select(AccountRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .repo()?
            .map(Account::try_from)
            .transpose()
    }

    async fn save_connected(&self, account: &ConnectedAccount, audit: &[NewAuditEntry]) -> RepoResult<Account> {
        let mut conn = self.repo_conn().await?;
        let scopes = join_scopes(&account.meta.scopes);
        let audit_rows: Vec<NewAuditRow<'_>> = audit.iter().map(NewAuditRow::from).collect();
        let row = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let row: AccountRow = diesel::insert_into(sa::table)
                    .values((
                        sa::store_code.eq(account.store_code.as_str()),
                        sa::platform.eq(PLATFORM),
                        sa::account_identifier.eq(&account.open_id),
                        sa::encrypted_access_token.eq(&account.tokens.access),
                        sa::encrypted_refresh_token.eq(&account.tokens.refresh),
                        sa::token_expires_at.eq(account.meta.access_expires_at),
                        sa::refresh_token_expires_at.eq(account.meta.refresh_expires_at),
                        sa::scopes.eq(&scopes),
                        sa::status.eq(ConnectionStatus::Connected.as_str()),
                        sa::status_reason.eq(None::<&str>),
                        sa::connected_at.eq(account.connected_at),
                    ))
                    .on_conflict((sa::store_code, sa::platform))
                    .do_update()
                    .set((
                        sa::account_identifier.eq(excluded(sa::account_identifier)),
                        sa::encrypted_access_token.eq(excluded(sa::encrypted_access_token)),
                        sa::encrypted_refresh_token.eq(excluded(sa::encrypted_refresh_token)),
                        sa::token_expires_at.eq(excluded(sa::token_expires_at)),
                        sa::refresh_token_expires_at.eq(excluded(sa::refresh_token_expires_at)),
                        sa::scopes.eq(excluded(sa::scopes)),
                        sa::status.eq(excluded(sa::status)),
                        sa::status_reason.eq(None::<&str>),
                        sa::revoke_reason.eq(None::<i16>),
                        sa::connected_at.eq(excluded(sa::connected_at)),
                        sa::updated_at.eq(now),
                    ))
                    .returning(AccountRow::as_returning())
                    .get_result(conn)
                    .await?;
                if !audit_rows.is_empty() {
                    diesel::insert_into(audit_logs::table).values(&audit_rows).execute(conn).await?;
                }
                let n = Notification::store_connected(&account.store_code, account.connected_at);
                enqueue_in(conn, &n, None).await?;
                Ok(row)
            })
            .await
            .map_err(repo_err)?;
        row.try_into()
    }

    async fn save_refreshed(
        &self,
        id: AccountId,
        expected_refresh: &str,
        tokens: &EncryptedTokens,
        meta: &TokenMeta,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let mut conn = self.repo_conn().await?;
        let n =
            diesel::update(sa::table.filter(sa::id.eq(id.0)).filter(sa::encrypted_refresh_token.eq(expected_refresh)))
                .set((
                    sa::encrypted_access_token.eq(&tokens.access),
                    sa::encrypted_refresh_token.eq(&tokens.refresh),
                    sa::token_expires_at.eq(meta.access_expires_at),
                    sa::refresh_token_expires_at.eq(meta.refresh_expires_at),
                    sa::scopes.eq(join_scopes(&meta.scopes)),
                    sa::last_refresh_at.eq(at),
                    sa::updated_at.eq(now),
                ))
                .execute(&mut conn)
                .await
                .repo()?;
        Ok(n == 1)
    }

    async fn set_status_if(
        &self,
        id: AccountId,
        expected_refresh: &str,
        status: ConnectionStatus,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let mut conn = self.repo_conn().await?;
        // TikTok's revoke reason belongs to a REVOKED status only; any other status drops it.
        let keeps_revoke_reason = status.reason() == Some(hub_domain::ReconnectReason::Revoked);
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let filter = sa::table.filter(sa::id.eq(id.0)).filter(sa::encrypted_refresh_token.eq(expected_refresh));
            let old: Option<(String, String)> =
                filter.select((sa::store_code, sa::status)).for_update().first(conn).await.optional()?;
            let Some((code, old_status)) = old else { return Ok(false) };
            diesel::update(filter)
                .set((
                    sa::status.eq(status.as_str()),
                    sa::status_reason.eq(status.reason().map(|r| r.as_str())),
                    sa::revoke_reason.eq(sql::<diesel::sql_types::Nullable<diesel::sql_types::SmallInt>>(
                        if keeps_revoke_reason { "revoke_reason" } else { "NULL" },
                    )),
                    sa::updated_at.eq(at),
                ))
                .execute(conn)
                .await?;
            // A store that starts needing its staff is announced once, with the change.
            if let (Some(reason), ConnectionStatus::NeedReconnect(_)) = (status.reason(), status)
                && old_status != status.as_str()
                && let Ok(code) = StoreCode::parse(&code)
            {
                enqueue_in(conn, &Notification::store_needs_reconnect(&code, reason.as_str(), None, at), None).await?;
            }
            Ok(true)
        })
        .await
        .repo()
    }

    async fn list_connected(&self) -> RepoResult<Vec<Account>> {
        let mut conn = self.repo_conn().await?;
        let rows = sa::table
            .filter(sa::status.eq(ConnectionStatus::Connected.as_str()))
            .order(by_code())
            .select(AccountRow::as_select())
            .load(&mut conn)
            .await
            .repo()?;
        convert_all(rows)
    }

    async fn list_due_for_refresh(&self, before: DateTime<Utc>) -> RepoResult<Vec<Account>> {
        let mut conn = self.repo_conn().await?;
        // An account without an expiry is due (as `Account::refresh_due` says); one without a
        // refresh token cannot be refreshed at all.
        let rows = sa::table
            .filter(sa::status.eq(ConnectionStatus::Connected.as_str()))
            .filter(sa::encrypted_refresh_token.is_not_null())
            .filter(sa::token_expires_at.lt(before).or(sa::token_expires_at.is_null()))
            .order((sa::token_expires_at.asc().nulls_first(), sa::id.asc()))
            .select(AccountRow::as_select())
            .load(&mut conn)
            .await
            .repo()?;
        convert_all(rows)
    }

    async fn mark_synced(&self, id: AccountId, at: DateTime<Utc>) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        let n = diesel::update(sa::table.find(id.0))
            .set((sa::last_sync_time.eq(at), sa::updated_at.eq(now)))
            .execute(&mut conn)
            .await
            .repo()?;
        if n == 0 {
            return Err(RepoError::NotFound);
        }
        Ok(())
    }

    async fn try_lease_refresh(
        &self,
        id: AccountId,
        owner: &str,
        expected_refresh: &str,
        now_at: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let mut conn = self.repo_conn().await?;
        // One statement: the row lock PostgreSQL takes for the update makes the ciphertext
        // check and the lease one atomic step (a concurrent rotation commits before or after).
        let n = diesel::update(
            sa::table.filter(sa::id.eq(id.0)).filter(sa::encrypted_refresh_token.eq(expected_refresh)).filter(
                sa::refresh_lease_until
                    .is_null()
                    .or(sa::refresh_lease_until.le(now_at))
                    .or(sa::refresh_lease_owner.eq(owner)),
            ),
        )
        .set((sa::refresh_lease_owner.eq(owner), sa::refresh_lease_until.eq(until)))
        .execute(&mut conn)
        .await
        .repo()?;
        Ok(n == 1)
    }

    async fn release_refresh_lease(&self, id: AccountId, owner: &str) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        diesel::update(sa::table.filter(sa::id.eq(id.0)).filter(sa::refresh_lease_owner.eq(owner)))
            .set((sa::refresh_lease_owner.eq(None::<&str>), sa::refresh_lease_until.eq(None::<DateTime<Utc>>)))
            .execute(&mut conn)
            .await
            .repo()?;
        Ok(())
    }

    async fn release_refresh_leases_of(&self, owner: &str) -> RepoResult<u64> {
        let mut conn = self.repo_conn().await?;
        let n = diesel::update(sa::table.filter(sa::refresh_lease_owner.eq(owner)))
            .set((sa::refresh_lease_owner.eq(None::<&str>), sa::refresh_lease_until.eq(None::<DateTime<Utc>>)))
            .execute(&mut conn)
            .await
            .repo()?;
        Ok(n as u64)
    }

    async fn list_with_tokens_after(&self, after: AccountId, limit: i64) -> RepoResult<Vec<Account>> {
        let mut conn = self.repo_conn().await?;
        let rows = sa::table
            .filter(sa::id.gt(after.0))
            .filter(sa::encrypted_access_token.is_not_null().or(sa::encrypted_refresh_token.is_not_null()))
            .order(sa::id.asc())
            .limit(limit.max(0))
            .select(AccountRow::as_select())
            .load(&mut conn)
            .await
            .repo()?;
        convert_all(rows)
    }

    async fn replace_ciphertexts(
        &self,
        id: AccountId,
        expected: &EncryptedTokens,
        new: &EncryptedTokens,
    ) -> RepoResult<bool> {
        let mut conn = self.repo_conn().await?;
        let n = diesel::update(
            sa::table
                .filter(sa::id.eq(id.0))
                .filter(sa::encrypted_access_token.eq(&expected.access))
                .filter(sa::encrypted_refresh_token.eq(&expected.refresh)),
        )
        .set((
            sa::encrypted_access_token.eq(&new.access),
            sa::encrypted_refresh_token.eq(&new.refresh),
            sa::updated_at.eq(now),
        ))
        .execute(&mut conn)
        .await
        .repo()?;
        Ok(n == 1)
    }
}
