//! `ReportRepo` and `StoreImportRepo`: cross-store reads of the snapshot tables, keyset pages
//! for streamed exports, and the one-transaction store import.
//!
//! Every report reads only the dates it needs: one day across stores through the
//! `(snapshot_date)` indexes, one store's days through the `(store_code, snapshot_date[,
//! video_id])` unique indexes. Sort keys are chosen from closed enums, never spliced from input.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, RunQueryDsl};
use hub_domain::{
    ConnectionStatus, DateRange, DayTotals, ImportPlan, NewAuditEntry, SortOrder, Store, StoreCode, StoreDays,
    StoreEnds, StoreGroup, StoreReportQuery, StoreScope, StoreSort, TopVideo, TopVideosQuery, UserSnapshotRow,
    VideoSnapshotRow, VideoSort,
};
use hub_ports::{RepoError, RepoResult, ReportRepo, StoreImportRepo, VideoCursor};

use crate::Db;
use crate::error::{RepoResultExt, repo_err};
use crate::models::{NewAuditRow, StoreRow, UserRow, VideoRow, convert_all, status, store_code, store_group, video_id};
use crate::schema::{audit_logs, stores, tiktok_user_daily as ud, tiktok_video_daily as vd};

#[derive(QueryableByName)]
struct StatusCount {
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    status_reason: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct DayRow {
    #[diesel(sql_type = BigInt)]
    user_stores: i64,
    #[diesel(sql_type = BigInt)]
    followers: i64,
    #[diesel(sql_type = BigInt)]
    likes: i64,
    #[diesel(sql_type = BigInt)]
    videos: i64,
    #[diesel(sql_type = BigInt)]
    video_stores: i64,
    #[diesel(sql_type = BigInt)]
    video_rows: i64,
    #[diesel(sql_type = BigInt)]
    views: i64,
}

/// `store_code` is one of the stores of the scope `${n}` (`text[]` of group names; NULL: every
/// store). Every cross-store query filters with it, so a scoped caller's counts and totals are
/// computed over its stores only.
fn in_scope(column: &str, n: u8) -> String {
    format!(
        "(${n}::text[] IS NULL OR {column} IN (SELECT sg.store_code FROM stores sg WHERE sg.store_group = ANY(${n})))"
    )
}

/// The totals of each date in `$1`, in its order, over the stores of scope `$2`. Each date is
/// two index scans of one day: the user rows, and the per-store video totals the triggers of
/// `tiktok_video_store_daily` keep (one row per store, not one per video).
fn day_totals_sql() -> String {
    let scope = in_scope("store_code", 2);
    format!(
        "SELECT u.user_stores, u.followers, u.likes, u.videos, v.video_stores, v.video_rows, v.views
FROM unnest($1::date[]) WITH ORDINALITY AS d(day, ord)
CROSS JOIN LATERAL (
    SELECT count(*) AS user_stores,
           coalesce(sum(follower_count), 0)::bigint AS followers,
           coalesce(sum(likes_count), 0)::bigint AS likes,
           coalesce(sum(video_count), 0)::bigint AS videos
    FROM tiktok_user_daily WHERE snapshot_date = d.day AND {scope}
) u
CROSS JOIN LATERAL (
    SELECT count(*) AS video_stores,
           coalesce(sum(video_rows), 0)::bigint AS video_rows,
           coalesce(sum(views), 0)::bigint AS views
    FROM tiktok_video_store_daily WHERE snapshot_date = d.day AND {scope}
) v
ORDER BY d.ord"
    )
}

#[derive(QueryableByName)]
struct EndsRow {
    #[diesel(sql_type = Text)]
    store_code: String,
    #[diesel(sql_type = Text)]
    store_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    store_group: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    followers_from: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    followers_to: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    views_from: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    views_to: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    interactions_to: Option<i64>,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// Every store of scope `$5` (group names; NULL: every store), archived ones left out, with
/// its numbers at `$1` (from) and `$2` (to); `{order}` is filled from [`store_order`]. Four
/// one-day reads.
const STORE_REPORT_SQL: &str = "\
WITH uf AS (SELECT store_code, follower_count FROM tiktok_user_daily WHERE snapshot_date = $1),
     ut AS (SELECT store_code, follower_count FROM tiktok_user_daily WHERE snapshot_date = $2),
     vf AS (SELECT store_code, sum(view_count)::bigint AS views
            FROM tiktok_video_daily WHERE snapshot_date = $1 GROUP BY store_code),
     vt AS (SELECT store_code, sum(view_count)::bigint AS views,
                   sum(coalesce(like_count, 0) + coalesce(comment_count, 0) + coalesce(share_count, 0))::bigint
                       AS interactions
            FROM tiktok_video_daily WHERE snapshot_date = $2 GROUP BY store_code)
SELECT s.store_code, s.store_name, s.store_group,
       uf.follower_count AS followers_from, ut.follower_count AS followers_to,
       vf.views AS views_from, vt.views AS views_to, vt.interactions AS interactions_to,
       count(*) OVER () AS total
FROM stores s
LEFT JOIN uf ON uf.store_code = s.store_code
LEFT JOIN ut ON ut.store_code = s.store_code
LEFT JOIN vf ON vf.store_code = s.store_code
LEFT JOIN vt ON vt.store_code = s.store_code
WHERE ($5::text[] IS NULL OR s.store_group = ANY($5)) AND s.archived_at IS NULL
ORDER BY {order} NULLS LAST, s.store_code COLLATE \"C\"
LIMIT $3 OFFSET $4";

fn store_order(sort: StoreSort, order: SortOrder) -> String {
    let key = match sort {
        StoreSort::Followers => "ut.follower_count",
        StoreSort::FollowerGrowth => "(ut.follower_count - uf.follower_count)",
        StoreSort::Views => "vt.views",
        StoreSort::ViewGrowth => "(vt.views - vf.views)",
        StoreSort::Engagement => "(vt.interactions::float8 / nullif(vt.views, 0))",
    };
    let dir = match order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    };
    format!("{key} {dir}")
}

#[derive(QueryableByName)]
struct TopRow {
    #[diesel(sql_type = Text)]
    store_code: String,
    #[diesel(sql_type = Text)]
    video_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    title: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    description: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    create_time: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    share_url: Option<String>,
    #[diesel(sql_type = BigInt)]
    views: i64,
    #[diesel(sql_type = BigInt)]
    likes: i64,
    #[diesel(sql_type = BigInt)]
    comments: i64,
    #[diesel(sql_type = BigInt)]
    shares: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    views_from: Option<i64>,
}

/// The videos at `$2` (to) of the stores of scope `$5` (of store `$3` when `one_store`), with
/// their views at `$1`.
/// The best `$4` are picked from the `(snapshot_date, store_code, video_id) INCLUDE (counts)`
/// index alone (for `views_gained`, merged with the `from` day the same way); only those
/// rows are then read from the table for their text columns.
fn top_videos_sql(sort: VideoSort, one_store: bool) -> String {
    let key = match sort {
        VideoSort::Views => "k.view_count",
        VideoSort::Likes => "k.like_count",
        VideoSort::Engagement => {
            "((coalesce(k.like_count, 0) + coalesce(k.comment_count, 0) + coalesce(k.share_count, 0))::float8
              / nullif(k.view_count, 0))"
        }
        VideoSort::ViewsGained => "(k.view_count - k.views_from)",
    };
    let order = format!(
        "{key} DESC NULLS LAST, k.view_count DESC NULLS LAST, k.store_code COLLATE \"C\", k.video_id COLLATE \"C\""
    );
    // `$3` is NULL then: a one-time filter, so the statement always binds four parameters.
    let store = if one_store { "AND d.store_code = $3" } else { "AND $3::text IS NULL" };
    let scope = in_scope("d.store_code", 5);
    let (from_col, from_join) = match sort {
        VideoSort::ViewsGained => (
            "f.view_count",
            "LEFT JOIN tiktok_video_daily f
               ON f.snapshot_date = $1 AND f.store_code = d.store_code AND f.video_id = d.video_id",
        ),
        _ => ("NULL::bigint", ""),
    };
    let late_from = match sort {
        VideoSort::ViewsGained => "k.views_from",
        _ => {
            "(SELECT f.view_count FROM tiktok_video_daily f
               WHERE f.snapshot_date = $1 AND f.store_code = k.store_code AND f.video_id = k.video_id)"
        }
    };
    format!(
        "SELECT k.store_code, k.video_id, t.title, t.description, t.create_time, t.share_url,
                coalesce(k.view_count, 0) AS views, coalesce(k.like_count, 0) AS likes,
                coalesce(k.comment_count, 0) AS comments, coalesce(k.share_count, 0) AS shares,
                {late_from} AS views_from
         FROM (SELECT * FROM (
                   SELECT d.store_code, d.video_id, d.view_count, d.like_count, d.comment_count, d.share_count,
                          {from_col} AS views_from
                   FROM tiktok_video_daily d {from_join}
                   WHERE d.snapshot_date = $2 {store} AND {scope}) k
               ORDER BY {order} LIMIT $4) k
         JOIN tiktok_video_daily t ON t.snapshot_date = $2 AND t.store_code = k.store_code AND t.video_id = k.video_id
         ORDER BY {order}"
    )
}

#[derive(QueryableByName)]
struct DaysRow {
    #[diesel(sql_type = Text)]
    store_code: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Text>)]
    status_reason: Option<String>,
    #[diesel(sql_type = Date)]
    connected_on: NaiveDate,
    #[diesel(sql_type = Array<Date>)]
    present: Vec<NaiveDate>,
}

/// The page of `$5` connected-or-once-connected stores of scope `$6` after `$4` (by code), each
/// with the day it was connected on in time zone `$3` and its days in `[max($1, that day), $2]`
/// with a user snapshot (one index range scan per store). The gap rule itself is the domain's.
const STORE_DAYS_SQL: &str = "\
WITH page AS (
    SELECT a.store_code, a.status, a.status_reason, (a.connected_at AT TIME ZONE $3)::date AS connected_on
    FROM store_accounts a
    JOIN stores s ON s.store_code = a.store_code AND s.archived_at IS NULL
    WHERE a.platform = 'tiktok' AND a.connected_at IS NOT NULL
      AND ($4::text IS NULL OR a.store_code COLLATE \"C\" > $4)
      AND ($6::text[] IS NULL OR a.store_code IN (SELECT sg.store_code FROM stores sg WHERE sg.store_group = ANY($6)))
    ORDER BY a.store_code COLLATE \"C\"
    LIMIT $5
)
SELECT a.store_code, a.status, a.status_reason, a.connected_on,
       array(SELECT u.snapshot_date FROM tiktok_user_daily u
             WHERE u.store_code = a.store_code
               AND u.snapshot_date BETWEEN greatest($1::date, a.connected_on) AND $2
             ORDER BY u.snapshot_date) AS present
FROM page a
ORDER BY a.store_code COLLATE \"C\"";

#[async_trait]
impl ReportRepo for Db {
    async fn connection_counts_in(&self, scope: &StoreScope) -> RepoResult<Vec<(Option<ConnectionStatus>, i64)>> {
        let mut conn = self.repo_conn().await?;
        let rows: Vec<StatusCount> = diesel::sql_query(
            "SELECT a.status, a.status_reason, count(*) AS n
             FROM stores s
             LEFT JOIN store_accounts a ON a.store_code = s.store_code AND a.platform = 'tiktok'
             WHERE ($1::text[] IS NULL OR s.store_group = ANY($1)) AND s.archived_at IS NULL
             GROUP BY a.status, a.status_reason",
        )
        .bind::<Nullable<Array<Text>>, _>(scope.names())
        .load(&mut conn)
        .await
        .repo()?;
        rows.into_iter()
            .map(|r| Ok((r.status.as_deref().map(|s| status(s, r.status_reason.as_deref())).transpose()?, r.n)))
            .collect()
    }

    async fn day_totals_in(&self, scope: &StoreScope, dates: &[NaiveDate]) -> RepoResult<Vec<DayTotals>> {
        let mut conn = self.repo_conn().await?;
        let rows: Vec<DayRow> = diesel::sql_query(day_totals_sql())
            .bind::<Array<Date>, _>(dates)
            .bind::<Nullable<Array<Text>>, _>(scope.names())
            .load(&mut conn)
            .await
            .repo()?;
        Ok(rows
            .into_iter()
            .zip(dates)
            .map(|(r, d)| DayTotals {
                date: Some(*d),
                user_stores: r.user_stores,
                followers: r.followers,
                likes: r.likes,
                videos: r.videos,
                video_stores: r.video_stores,
                video_rows: r.video_rows,
                views: r.views,
            })
            .collect())
    }

    async fn store_report_in(&self, scope: &StoreScope, q: &StoreReportQuery) -> RepoResult<(Vec<StoreEnds>, i64)> {
        let mut conn = self.repo_conn().await?;
        let sql = STORE_REPORT_SQL.replace("{order}", &store_order(q.sort, q.order));
        let rows: Vec<EndsRow> = diesel::sql_query(sql)
            .bind::<Date, _>(q.range.from)
            .bind::<Date, _>(q.range.to)
            .bind::<BigInt, _>(q.limit)
            .bind::<BigInt, _>(q.offset)
            .bind::<Nullable<Array<Text>>, _>(scope.names())
            .load(&mut conn)
            .await
            .repo()?;
        let total = match <[EndsRow]>::first(&rows) {
            Some(r) => r.total,
            // Past the last page: the total still answers.
            None if q.offset > 0 => {
                let mut count = stores::table.filter(stores::archived_at.is_null()).count().into_boxed();
                if let Some(groups) = scope.names() {
                    let groups: Vec<String> = groups.into_iter().map(str::to_owned).collect();
                    count = count.filter(stores::store_group.eq_any(groups));
                }
                count.get_result(&mut conn).await.repo()?
            }
            None => 0,
        };
        let rows = rows
            .into_iter()
            .map(|r| {
                Ok(StoreEnds {
                    store_code: store_code(r.store_code)?,
                    store_name: r.store_name,
                    store_group: store_group(r.store_group)?,
                    followers_from: r.followers_from,
                    followers_to: r.followers_to,
                    views_from: r.views_from,
                    views_to: r.views_to,
                    interactions_to: r.interactions_to,
                })
            })
            .collect::<RepoResult<_>>()?;
        Ok((rows, total))
    }

    async fn top_videos_in(&self, scope: &StoreScope, q: &TopVideosQuery) -> RepoResult<Vec<TopVideo>> {
        let mut conn = self.repo_conn().await?;
        let rows: Vec<TopRow> = diesel::sql_query(top_videos_sql(q.sort, q.store.is_some()))
            .bind::<Date, _>(q.range.from)
            .bind::<Date, _>(q.range.to)
            .bind::<Nullable<Text>, _>(q.store.as_ref().map(StoreCode::as_str))
            .bind::<BigInt, _>(q.limit)
            .bind::<Nullable<Array<Text>>, _>(scope.names())
            .load(&mut conn)
            .await
            .repo()?;
        rows.into_iter()
            .map(|r| {
                Ok(TopVideo {
                    store_code: store_code(r.store_code)?,
                    video_id: video_id(r.video_id)?,
                    title: r.title,
                    description: r.description,
                    create_time: r.create_time,
                    share_url: r.share_url,
                    views: r.views,
                    likes: r.likes,
                    comments: r.comments,
                    shares: r.shares,
                    views_from: r.views_from,
                })
            })
            .collect()
    }

    async fn store_days_in(
        &self,
        scope: &StoreScope,
        range: DateRange,
        tz: &str,
        after: Option<StoreCode>,
        limit: i64,
    ) -> RepoResult<Vec<StoreDays>> {
        let mut conn = self.repo_conn().await?;
        let rows: Vec<DaysRow> = diesel::sql_query(STORE_DAYS_SQL)
            .bind::<Date, _>(range.from)
            .bind::<Date, _>(range.to)
            .bind::<Text, _>(tz)
            .bind::<Nullable<Text>, _>(after.as_ref().map(StoreCode::as_str))
            .bind::<BigInt, _>(limit)
            .bind::<Nullable<Array<Text>>, _>(scope.names())
            .load(&mut conn)
            .await
            .repo()?;
        rows.into_iter()
            .map(|r| {
                Ok(StoreDays {
                    store_code: store_code(r.store_code)?,
                    status: status(&r.status, r.status_reason.as_deref())?,
                    connected_on: r.connected_on,
                    present: r.present,
                })
            })
            .collect()
    }

    async fn user_stats_page(
        &self,
        code: &StoreCode,
        range: DateRange,
        before: Option<NaiveDate>,
        limit: i64,
    ) -> RepoResult<Vec<UserSnapshotRow>> {
        let mut conn = self.repo_conn().await?;
        let mut query = ud::table
            .filter(ud::store_code.eq(code.as_str()))
            .filter(ud::snapshot_date.between(range.from, range.to))
            .order(ud::snapshot_date.desc())
            .limit(limit)
            .select(UserRow::as_select())
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(ud::snapshot_date.lt(before));
        }
        convert_all(query.load(&mut conn).await.repo()?)
    }

    async fn video_stats_page(
        &self,
        code: &StoreCode,
        range: DateRange,
        after: Option<VideoCursor>,
        limit: i64,
    ) -> RepoResult<Vec<VideoSnapshotRow>> {
        let mut conn = self.repo_conn().await?;
        // A missing count reads as 0 (as the domain's row does), so the sort key is never NULL.
        let views = || diesel::dsl::sql::<BigInt>("coalesce(tiktok_video_daily.view_count, 0)");
        let upper = after.as_ref().map_or(range.to, |c| c.date.min(range.to));
        let mut query = vd::table
            .filter(vd::store_code.eq(code.as_str()))
            .filter(vd::snapshot_date.between(range.from, upper))
            .order((vd::snapshot_date.desc(), views().desc(), vd::video_id.asc()))
            .limit(limit)
            .select(VideoRow::as_select())
            .into_boxed();
        if let Some(c) = after {
            let id = c.video_id.as_str().to_owned();
            query = query.filter(vd::snapshot_date.lt(c.date).or(
                vd::snapshot_date.eq(c.date).and(views().lt(c.views).or(views().eq(c.views).and(vd::video_id.gt(id)))),
            ));
        }
        convert_all(query.load(&mut conn).await.repo()?)
    }
}

/// Five parallel arrays (code, name, person, contact, group).
type Columns<'a> = (Vec<&'a str>, Vec<&'a str>, Vec<&'a str>, Vec<Option<&'a str>>, Vec<Option<&'a str>>);

/// The plan's stores as five parallel arrays for `unnest`.
fn columns(stores: &[hub_domain::NewStore]) -> Columns<'_> {
    let mut cols = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for s in stores {
        cols.0.push(s.code.as_str());
        cols.1.push(s.name.as_str());
        cols.2.push(s.pic_name.as_str());
        cols.3.push(s.pic_contact.as_ref().map(|c| c.as_str()));
        cols.4.push(s.group.as_ref().map(StoreGroup::as_str));
    }
    cols
}

#[async_trait]
impl StoreImportRepo for Db {
    async fn stores_by_code(&self, codes: &[StoreCode]) -> RepoResult<Vec<Store>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.repo_conn().await?;
        let codes: Vec<&str> = codes.iter().map(StoreCode::as_str).collect();
        let rows = stores::table
            .filter(stores::store_code.eq_any(codes))
            .select(StoreRow::as_select())
            .load(&mut conn)
            .await
            .repo()?;
        convert_all(rows)
    }

    async fn apply_import(&self, plan: &ImportPlan, audit: &NewAuditEntry) -> RepoResult<()> {
        /// Why the transaction rolled back, beyond a driver error.
        enum Abort {
            Db(diesel::result::Error),
            Exists(usize),
            Gone,
        }
        impl From<diesel::result::Error> for Abort {
            fn from(e: diesel::result::Error) -> Self {
                Self::Db(e)
            }
        }
        let mut conn = self.repo_conn().await?;
        let (create, update) = (columns(&plan.create), columns(&plan.update));
        let outcome = conn
            .transaction::<_, Abort, _>(async |conn| {
                if !plan.create.is_empty() {
                    let n = diesel::sql_query(
                        "INSERT INTO stores (store_code, store_name, pic_name, pic_contact, store_group)
                         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                         ON CONFLICT (store_code) DO NOTHING",
                    )
                    .bind::<Array<Text>, _>(&create.0)
                    .bind::<Array<Text>, _>(&create.1)
                    .bind::<Array<Text>, _>(&create.2)
                    .bind::<Array<Nullable<Text>>, _>(&create.3)
                    .bind::<Array<Nullable<Text>>, _>(&create.4)
                    .execute(conn)
                    .await?;
                    if n != plan.create.len() {
                        return Err(Abort::Exists(plan.create.len() - n));
                    }
                }
                if !plan.update.is_empty() {
                    let n = diesel::sql_query(
                        "UPDATE stores s
                         SET store_name = v.name, pic_name = v.pic, pic_contact = v.contact,
                             store_group = CASE WHEN $6 THEN v.grp ELSE s.store_group END, updated_at = now()
                         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                             AS v(code, name, pic, contact, grp)
                         WHERE s.store_code = v.code",
                    )
                    .bind::<Array<Text>, _>(&update.0)
                    .bind::<Array<Text>, _>(&update.1)
                    .bind::<Array<Text>, _>(&update.2)
                    .bind::<Array<Nullable<Text>>, _>(&update.3)
                    .bind::<Array<Nullable<Text>>, _>(&update.4)
                    .bind::<diesel::sql_types::Bool, _>(plan.set_group)
                    .execute(conn)
                    .await?;
                    if n != plan.update.len() {
                        return Err(Abort::Gone);
                    }
                }
                diesel::insert_into(audit_logs::table).values(NewAuditRow::from(audit)).execute(conn).await?;
                Ok(())
            })
            .await;
        match outcome {
            Ok(()) => Ok(()),
            Err(Abort::Db(e)) => Err(repo_err(e)),
            Err(Abort::Exists(n)) => Err(RepoError::Conflict(format!("{n} store(s) to create exist by now"))),
            Err(Abort::Gone) => Err(RepoError::NotFound),
        }
    }
}
