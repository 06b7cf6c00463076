//! `ApiKeyRepo`: personal API keys, found by the SHA-256 of the key.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hub_domain::{ApiKey, ApiKeyId, NewApiKey, NewAuditEntry, UserId};
use hub_ports::{ApiKeyRepo, KeyWithOwner, RepoResult};

use crate::Db;
use crate::error::{RepoResultExt, repo_err};
use crate::models::{NewAuditRow, convert_all};
use crate::people_rows::{ApiKeyRow, UserRow};
use crate::schema::{api_keys, audit_logs, users};

#[async_trait]
impl ApiKeyRepo for Db {
    async fn create(&self, key: &NewApiKey, audit: &NewAuditEntry) -> RepoResult<ApiKey> {
        let mut conn = self.repo_conn().await?;
        let row = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let row: ApiKeyRow = diesel::insert_into(api_keys::table)
                    .values((
                        api_keys::key_hash.eq(&key.key_hash),
                        api_keys::fingerprint.eq(&key.fingerprint),
                        api_keys::name.eq(key.name.as_str()),
                        api_keys::role.eq(key.role.as_str()),
                        api_keys::store_groups.eq(key.scope.to_stored()),
                        api_keys::owner_id.eq(key.owner.map(|o| o.0)),
                        api_keys::created_by.eq(&key.created_by),
                        api_keys::expires_at.eq(key.expires_at),
                    ))
                    .returning(ApiKeyRow::as_returning())
                    .get_result(conn)
                    .await?;
                diesel::insert_into(audit_logs::table).values(NewAuditRow::from(audit)).execute(conn).await?;
                Ok(row)
            })
            .await
            .map_err(repo_err)?;
        row.try_into()
    }

    async fn find(&self, key_hash: &str) -> RepoResult<Option<KeyWithOwner>> {
        let mut conn = self.repo_conn().await?;
        let found: Option<(ApiKeyRow, Option<UserRow>)> = api_keys::table
            .left_join(users::table)
            .filter(api_keys::key_hash.eq(key_hash))
            .select((ApiKeyRow::as_select(), Option::<UserRow>::as_select()))
            .first(&mut conn)
            .await
            .optional()
            .repo()?;
        found
            .map(|(k, u)| Ok(KeyWithOwner { key: k.try_into()?, owner: u.map(TryInto::try_into).transpose()? }))
            .transpose()
    }

    async fn get(&self, id: ApiKeyId) -> RepoResult<Option<ApiKey>> {
        let mut conn = self.repo_conn().await?;
        api_keys::table
            .find(id.0)
            .select(ApiKeyRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .repo()?
            .map(ApiKey::try_from)
            .transpose()
    }

    async fn list(&self, owner: Option<UserId>) -> RepoResult<Vec<ApiKey>> {
        let mut conn = self.repo_conn().await?;
        let mut query = api_keys::table.select(ApiKeyRow::as_select()).order(api_keys::id.desc()).into_boxed();
        if let Some(o) = owner {
            query = query.filter(api_keys::owner_id.eq(o.0));
        }
        convert_all(query.load(&mut conn).await.repo()?)
    }

    async fn revoke(&self, id: ApiKeyId, at: DateTime<Utc>, audit: &NewAuditEntry) -> RepoResult<bool> {
        let mut conn = self.repo_conn().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let n = diesel::update(api_keys::table.find(id.0).filter(api_keys::revoked_at.is_null()))
                .set(api_keys::revoked_at.eq(at))
                .execute(conn)
                .await?;
            diesel::insert_into(audit_logs::table).values(NewAuditRow::from(audit)).execute(conn).await?;
            Ok(n > 0)
        })
        .await
        .map_err(repo_err)
    }

    async fn touch(&self, id: ApiKeyId, at: DateTime<Utc>) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        diesel::update(api_keys::table.find(id.0))
            .set(api_keys::last_used_at.eq(at))
            .execute(&mut conn)
            .await
            .repo()?;
        Ok(())
    }
}
