//! `AuditRepo`: the audit trail.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use hub_domain::{AuditEntry, AuditFilter, NewAuditEntry};
use hub_ports::{AuditRepo, RepoResult};

use crate::Db;
use crate::error::RepoResultExt;
use crate::models::{AuditRow, NewAuditRow, convert_all};
use crate::repo::sync::effective_limit;
use crate::schema::{audit_logs as al, stores};

#[async_trait]
impl AuditRepo for Db {
    async fn insert(&self, entry: &NewAuditEntry) -> RepoResult<i64> {
        let mut conn = self.repo_conn().await?;
        diesel::insert_into(al::table)
            .values(NewAuditRow::from(entry))
            .returning(al::id)
            .get_result(&mut conn)
            .await
            .repo()
    }

    async fn list(&self, filter: &AuditFilter) -> RepoResult<Vec<AuditEntry>> {
        let mut conn = self.repo_conn().await?;
        let mut query = al::table
            .select(AuditRow::as_select())
            .order((al::created_at.desc(), al::id.desc()))
            .limit(effective_limit(filter.limit))
            .into_boxed();
        if let Some(action) = &filter.action {
            query = query.filter(al::action.eq(action.clone()));
        }
        if let Some(code) = &filter.store_code {
            query = query.filter(al::store_code.eq(code.as_str().to_owned()));
        }
        if let Some(actor) = &filter.actor {
            query = query.filter(al::actor.eq(actor.clone()));
        }
        match filter.stores_in.as_ref().map(hub_domain::StoreScope::names) {
            None => {}
            // Rows about any store.
            Some(None) => query = query.filter(al::store_code.is_not_null()),
            // Rows about the scope's stores.
            Some(Some(groups)) => {
                let groups: Vec<String> = groups.into_iter().map(str::to_owned).collect();
                let scoped = stores::table.filter(stores::store_group.eq_any(groups)).select(stores::store_code);
                query = query.filter(al::store_code.eq_any(scoped.nullable()));
            }
        }
        let rows = query.load(&mut conn).await.repo()?;
        convert_all(rows)
    }
}
