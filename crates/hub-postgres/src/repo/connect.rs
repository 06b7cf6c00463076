//! `ConnectRepo`: single-use connect invites and OAuth state nonces.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hub_domain::{ConnectInvite, NewAuditEntry, NewConnectInvite, NewOAuthState, OAuthState};
use hub_ports::{ConnectRepo, RepoResult};

use crate::Db;
use crate::error::{RepoResultExt, repo_err};
use crate::models::{InviteRow, NewAuditRow, StateRow};
use crate::schema::{audit_logs, connect_invites as ci, oauth_states as os};

#[async_trait]
impl ConnectRepo for Db {
    async fn create_invite(&self, invite: &NewConnectInvite, audit: &NewAuditEntry) -> RepoResult<ConnectInvite> {
        let mut conn = self.repo_conn().await?;
        let row = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                // Only the newest link works: the store's older unused ones are revoked.
                diesel::update(
                    ci::table
                        .filter(ci::store_code.eq(invite.store_code.as_str()))
                        .filter(ci::used_at.is_null())
                        .filter(ci::revoked_at.is_null()),
                )
                .set(ci::revoked_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?;
                let row: InviteRow = diesel::insert_into(ci::table)
                    .values((
                        ci::token_hash.eq(&invite.token_hash),
                        ci::store_code.eq(invite.store_code.as_str()),
                        ci::created_by.eq(&invite.created_by),
                        ci::expires_at.eq(invite.expires_at),
                    ))
                    .returning(InviteRow::as_returning())
                    .get_result(conn)
                    .await?;
                diesel::insert_into(audit_logs::table).values(NewAuditRow::from(audit)).execute(conn).await?;
                Ok(row)
            })
            .await
            .map_err(repo_err)?;
        row.try_into()
    }

    async fn find_invite(&self, token_hash: &str) -> RepoResult<Option<ConnectInvite>> {
        let mut conn = self.repo_conn().await?;
        ci::table
            .filter(ci::token_hash.eq(token_hash))
            .select(InviteRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .repo()?
            .map(ConnectInvite::try_from)
            .transpose()
    }

    async fn consume_invite(&self, id: i64, now: DateTime<Utc>) -> RepoResult<bool> {
        let mut conn = self.repo_conn().await?;
        let n = diesel::update(
            ci::table
                .filter(ci::id.eq(id))
                .filter(ci::used_at.is_null())
                .filter(ci::revoked_at.is_null())
                .filter(ci::expires_at.gt(now)),
        )
        .set(ci::used_at.eq(now))
        .execute(&mut conn)
        .await
        .repo()?;
        Ok(n == 1)
    }

    async fn insert_state(&self, state: &NewOAuthState) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        diesel::insert_into(os::table)
            .values((
                os::nonce_hash.eq(&state.nonce_hash),
                os::store_code.eq(state.store_code.as_str()),
                os::invite_id.eq(state.invite_id),
                os::browser_binding.eq(&state.browser_binding),
                os::pkce_verifier.eq(&state.pkce_verifier),
                os::expires_at.eq(state.expires_at),
            ))
            .execute(&mut conn)
            .await
            .repo()?;
        Ok(())
    }

    async fn consume_state(&self, nonce_hash: &str, now: DateTime<Utc>) -> RepoResult<Option<OAuthState>> {
        let mut conn = self.repo_conn().await?;
        diesel::update(
            os::table
                .filter(os::nonce_hash.eq(nonce_hash))
                .filter(os::used_at.is_null())
                .filter(os::expires_at.gt(now)),
        )
        .set(os::used_at.eq(now))
        .returning(StateRow::as_returning())
        .get_result(&mut conn)
        .await
        .optional()
        .repo()?
        .map(OAuthState::try_from)
        .transpose()
    }

    async fn purge_expired(&self, before: DateTime<Utc>) -> RepoResult<u64> {
        let mut conn = self.repo_conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let states = diesel::delete(os::table.filter(os::expires_at.lt(before))).execute(conn).await?;
            let invites = diesel::delete(ci::table.filter(ci::expires_at.lt(before))).execute(conn).await?;
            Ok((states + invites) as u64)
        })
        .await
        .map_err(repo_err)
    }
}
