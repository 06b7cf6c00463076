//! `StoreRepo`: stores and the store list (one query per page of stores).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Nullable, SmallInt, Text, Timestamptz};
use diesel_async::{AsyncConnection, RunQueryDsl};
use hub_domain::{
    AccountId, LatestUserStats, LatestVideoStats, NewAuditEntry, NewStore, RevokeReason, Store, StoreChange, StoreCode,
    StoreGroup, StoreOverview, StoreScope,
};
use hub_ports::{RepoError, RepoResult, StoreRepo};

use crate::Db;
use crate::error::{RepoResultExt, repo_err};
use crate::models::{NewAuditRow, StoreRow, status, store_code, store_group};
use crate::schema::{audit_logs, stores};

/// Every store with its TikTok account, its latest user snapshot and the totals of its latest
/// video day, in one statement. The two LATERAL subqueries walk the (store_code,
/// snapshot_date[, video_id]) unique indexes backwards, so each is an index probe per store.
pub(crate) const OVERVIEW_SELECT: &str = "\
SELECT s.store_code, s.store_name, s.pic_name, s.pic_contact, s.store_group, s.created_at, s.archived_at,
       a.id AS account_id, a.status, a.status_reason, a.revoke_reason, a.account_identifier,
       a.connected_at, a.last_sync_time, a.token_expires_at,
       u.snapshot_date AS user_date, u.follower_count, u.likes_count, u.video_count,
       v.snapshot_date AS video_date, v.total_videos, v.total_views
FROM stores s
LEFT JOIN store_accounts a ON a.store_code = s.store_code AND a.platform = 'tiktok'
LEFT JOIN LATERAL (
    SELECT ud.snapshot_date, ud.follower_count, ud.likes_count, ud.video_count
    FROM tiktok_user_daily ud
    WHERE ud.store_code = s.store_code
    ORDER BY ud.snapshot_date DESC
    LIMIT 1
) u ON true
LEFT JOIN LATERAL (
    SELECT d.snapshot_date,
           count(*) AS total_videos,
           coalesce(sum(vd.view_count), 0)::bigint AS total_views
    FROM (
        SELECT vl.snapshot_date
        FROM tiktok_video_daily vl
        WHERE vl.store_code = s.store_code
        ORDER BY vl.snapshot_date DESC
        LIMIT 1
    ) d
    JOIN tiktok_video_daily vd
      ON vd.store_code = s.store_code AND vd.snapshot_date = d.snapshot_date
    GROUP BY d.snapshot_date
) v ON true";

#[derive(QueryableByName)]
pub(crate) struct OverviewRow {
    #[diesel(sql_type = Text)]
    store_code: String,
    #[diesel(sql_type = Text)]
    store_name: String,
    #[diesel(sql_type = Text)]
    pic_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pic_contact: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    store_group: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    archived_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<BigInt>)]
    account_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    status_reason: Option<String>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    revoke_reason: Option<i16>,
    #[diesel(sql_type = Nullable<Text>)]
    account_identifier: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    connected_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_sync_time: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    token_expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Date>)]
    user_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<BigInt>)]
    follower_count: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    likes_count: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    video_count: Option<i64>,
    #[diesel(sql_type = Nullable<Date>)]
    video_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<BigInt>)]
    total_videos: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    total_views: Option<i64>,
}

impl TryFrom<OverviewRow> for StoreOverview {
    type Error = RepoError;
    fn try_from(r: OverviewRow) -> Result<Self, RepoError> {
        let connection_status = r.status.as_deref().map(|s| status(s, r.status_reason.as_deref())).transpose()?;
        Ok(StoreOverview {
            store: Store {
                code: store_code(r.store_code)?,
                name: r.store_name,
                pic_name: r.pic_name,
                pic_contact: r.pic_contact,
                group: store_group(r.store_group)?,
                created_at: r.created_at,
                archived_at: r.archived_at,
            },
            account_id: r.account_id.map(AccountId),
            connection_status,
            revoke_reason: r.revoke_reason.and_then(|c| RevokeReason::from_code(c.into())),
            account_identifier: r.account_identifier,
            connected_at: r.connected_at,
            last_sync_time: r.last_sync_time,
            token_expires_at: r.token_expires_at,
            latest_user_stats: r.user_date.map(|snapshot_date| LatestUserStats {
                snapshot_date,
                follower_count: r.follower_count.unwrap_or(0),
                likes_count: r.likes_count.unwrap_or(0),
                video_count: r.video_count.unwrap_or(0),
            }),
            latest_video_stats: r.video_date.map(|snapshot_date| LatestVideoStats {
                snapshot_date,
                total_videos: r.total_videos.unwrap_or(0),
                total_views: r.total_views.unwrap_or(0),
            }),
        })
    }
}

#[async_trait]
impl StoreRepo for Db {
    async fn create(&self, store: &NewStore, audit: &NewAuditEntry) -> RepoResult<Store> {
        let mut conn = self.repo_conn().await?;
        let row = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let row: StoreRow = diesel::insert_into(stores::table)
                    .values((
                        stores::store_code.eq(store.code.as_str()),
                        stores::store_name.eq(store.name.as_str()),
                        stores::pic_name.eq(store.pic_name.as_str()),
                        stores::pic_contact.eq(store.pic_contact.as_ref().map(|c| c.as_str())),
                        stores::store_group.eq(store.group.as_ref().map(StoreGroup::as_str)),
                    ))
                    .returning(StoreRow::as_returning())
                    .get_result(conn)
                    .await?;
                diesel::insert_into(audit_logs::table).values(NewAuditRow::from(audit)).execute(conn).await?;
                Ok(row)
            })
            .await
            .map_err(|e| match repo_err(e) {
                RepoError::Conflict(_) => RepoError::Conflict(format!("store {} already exists", store.code)),
                other => other,
            })?;
        row.try_into()
    }

    async fn update(&self, code: &StoreCode, change: &StoreChange, audit: &NewAuditEntry) -> RepoResult<Store> {
        let mut conn = self.repo_conn().await?;
        let row = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let row: StoreRow = diesel::update(stores::table.find(code.as_str()))
                    .set((
                        change.name.as_ref().map(|n| stores::store_name.eq(n.as_str())),
                        change.pic_name.as_ref().map(|p| stores::pic_name.eq(p.as_str())),
                        change.pic_contact.as_ref().map(|c| stores::pic_contact.eq(c.as_ref().map(|c| c.as_str()))),
                        change.group.as_ref().map(|g| stores::store_group.eq(g.as_ref().map(StoreGroup::as_str))),
                        stores::updated_at.eq(diesel::dsl::now),
                    ))
                    .returning(StoreRow::as_returning())
                    .get_result(conn)
                    .await?;
                diesel::insert_into(audit_logs::table).values(NewAuditRow::from(audit)).execute(conn).await?;
                Ok(row)
            })
            .await
            .map_err(repo_err)?;
        row.try_into()
    }

    async fn groups_in(&self, scope: &StoreScope) -> RepoResult<Vec<StoreGroup>> {
        let mut conn = self.repo_conn().await?;
        let mut query = stores::table
            .filter(stores::archived_at.is_null())
            .filter(stores::store_group.is_not_null())
            .select(stores::store_group)
            .distinct()
            .order(stores::store_group)
            .into_boxed();
        if let Some(names) = scope.names() {
            query = query.filter(stores::store_group.eq_any(names));
        }
        let found: Vec<Option<String>> = query.load(&mut conn).await.repo()?;
        found.into_iter().filter_map(|g| crate::models::store_group(g).transpose()).collect()
    }

    async fn existing_groups(&self, groups: &[StoreGroup]) -> RepoResult<Vec<StoreGroup>> {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.repo_conn().await?;
        let names: Vec<&str> = groups.iter().map(StoreGroup::as_str).collect();
        let found: Vec<Option<String>> = stores::table
            .filter(stores::store_group.eq_any(names))
            .select(stores::store_group)
            .distinct()
            .load(&mut conn)
            .await
            .repo()?;
        Ok(groups.iter().filter(|g| found.iter().any(|f| f.as_deref() == Some(g.as_str()))).cloned().collect())
    }

    async fn get(&self, code: &StoreCode) -> RepoResult<Option<Store>> {
        let mut conn = self.repo_conn().await?;
        stores::table
            .find(code.as_str())
            .select(StoreRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .repo()?
            .map(Store::try_from)
            .transpose()
    }

    async fn overview(&self, code: &StoreCode) -> RepoResult<Option<StoreOverview>> {
        let mut conn = self.repo_conn().await?;
        let sql = format!("{OVERVIEW_SELECT}\nWHERE s.store_code = $1");
        diesel::sql_query(sql)
            .bind::<Text, _>(code.as_str())
            .get_result::<OverviewRow>(&mut conn)
            .await
            .optional()
            .repo()?
            .map(StoreOverview::try_from)
            .transpose()
    }

    async fn stores_page_in(
        &self,
        scope: &StoreScope,
        after: Option<StoreCode>,
        limit: i64,
    ) -> RepoResult<Vec<StoreOverview>> {
        self.overview_page(scope, after, limit, false).await
    }

    async fn all_stores_page_in(
        &self,
        scope: &StoreScope,
        after: Option<StoreCode>,
        limit: i64,
    ) -> RepoResult<Vec<StoreOverview>> {
        self.overview_page(scope, after, limit, true).await
    }
}

impl Db {
    async fn overview_page(
        &self,
        scope: &StoreScope,
        after: Option<StoreCode>,
        limit: i64,
        archived: bool,
    ) -> RepoResult<Vec<StoreOverview>> {
        let mut conn = self.repo_conn().await?;
        let sql = format!(
            "{OVERVIEW_SELECT}\nWHERE ($1::text IS NULL OR s.store_code COLLATE \"C\" > $1)\n\
             AND ($3::text[] IS NULL OR s.store_group = ANY($3))\n\
             AND ($4 OR s.archived_at IS NULL)\n\
             ORDER BY s.store_code COLLATE \"C\"\nLIMIT $2"
        );
        let rows: Vec<OverviewRow> = diesel::sql_query(sql)
            .bind::<Nullable<Text>, _>(after.as_ref().map(StoreCode::as_str))
            .bind::<BigInt, _>(limit)
            .bind::<Nullable<Array<Text>>, _>(scope.names())
            .bind::<Bool, _>(archived)
            .load(&mut conn)
            .await
            .repo()?;
        rows.into_iter().map(StoreOverview::try_from).collect()
    }
}
